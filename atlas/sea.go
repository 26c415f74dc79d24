package atlas

// seaOwner returns the country whose territorial sea holds the position, or
// None (the data's Sea, which a nil Sea answers with None).
func (a *Atlas) seaOwner(lon, lat float64) int { return a.data.Sea.Owner(lon, lat) }
