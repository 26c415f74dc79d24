package atlas

// seaOwner returns the country whose territorial sea holds the position, or
// None. Until the data carries a territorial-sea raster, that is None.
func (a *Atlas) seaOwner(lon, lat float64) int { return None }
