package main

// This file holds every coding decision worldgen makes: which code a feature
// gets when its ISO numeric id is missing or shared, which features are
// merged into another, which territories are split out of their sovereign's
// feature, and who the sovereign of each dependent territory is.
// docs/DATA.md explains them; keep the two in step.

// nameRule gives the code of a source feature by its name. It takes
// precedence over the feature's numeric id.
type nameRule struct {
	Name      string // properties.name in world-atlas
	Code      string // the region the feature becomes or joins
	Merge     bool   // join the region Code of another feature
	Sovereign string // for a region of its own: its sovereign (Code if none)
	Reason    string
}

var nameRules = []nameRule{
	{Name: "Kosovo", Code: "XK", Sovereign: "XK", Reason: "no ISO code; XK is the user-assigned code used by the EU and others"},
	{Name: "N. Cyprus", Code: "XC", Sovereign: "XC", Reason: "recognised only by Turkey; user-assigned so that policy can name it apart from CY"},
	{Name: "Somaliland", Code: "XS", Sovereign: "XS", Reason: "unrecognised; user-assigned so that policy can name it apart from SO"},
	{Name: "Siachen Glacier", Code: "XJ", Sovereign: "XJ", Reason: "disputed between India and Pakistan; user-assigned, neither"},
	{Name: "Spratly Is.", Code: "XP", Sovereign: "XP", Reason: "disputed by six states; user-assigned, none of them"},
	{Name: "Scarborough Reef", Code: "XR", Sovereign: "XR", Reason: "disputed between China and the Philippines; user-assigned, neither"},
	{Name: "USNB Guantanamo Bay", Code: "XG", Sovereign: "US", Reason: "US naval base leased on Cuban territory; US-run, so sovereign US as in Natural Earth"},
	{Name: "Ashmore and Cartier Is.", Code: "AU", Merge: true, Reason: "shares ISO numeric 036 with Australia; an Australian external territory with no code of its own"},
	{Name: "Coral Sea Is.", Code: "AU", Merge: true, Reason: "Australian external territory with no ISO code"},
	{Name: "Indian Ocean Ter.", Code: "AU", Merge: true, Reason: "Cocos (Keeling) and Christmas Islands together; split again into CC and CX by the territory table"},
	{Name: "Dhekelia", Code: "GB", Merge: true, Reason: "UK Sovereign Base Area on Cyprus; no ISO code"},
	{Name: "Akrotiri", Code: "GB", Merge: true, Reason: "UK Sovereign Base Area on Cyprus; no ISO code"},
	{Name: "Cyprus U.N. Buffer Zone", Code: "CY", Merge: true, Reason: "UN-patrolled strip inside the Republic of Cyprus; no ISO code"},
	{Name: "Baikonur", Code: "KZ", Merge: true, Reason: "Kazakh territory leased to Russia; no ISO code"},
	{Name: "Clipperton I.", Code: "FR", Merge: true, Reason: "French state property; ISO only reserves CP for it"},
	{Name: "Bajo Nuevo Bank", Code: "CO", Merge: true, Reason: "administered by Colombia (claimed by others); no ISO code"},
	{Name: "Serranilla Bank", Code: "CO", Merge: true, Reason: "administered by Colombia (claimed by others); no ISO code"},
}

// territory splits one ISO territory out of its sovereign's feature: every
// polygon of the sovereign whose exterior ring lies inside BBox (degrees:
// min lon, min lat, max lon, max lat) moves to region Code. A territory may
// take several rows, one per island group.
type territory struct {
	Sovereign string
	Code      string
	Name      string
	BBox      [4]float64
}

var territories = []territory{
	{"FR", "GF", "French Guiana", [4]float64{-54.7, 2.0, -51.5, 5.9}},
	{"FR", "GP", "Guadeloupe", [4]float64{-61.9, 15.8, -60.9, 16.6}},
	{"FR", "MQ", "Martinique", [4]float64{-61.3, 14.3, -60.8, 14.9}},
	{"FR", "RE", "Réunion", [4]float64{55.2, -21.4, 55.9, -20.8}},
	{"FR", "YT", "Mayotte", [4]float64{45.0, -13.1, 45.35, -12.6}},
	{"NO", "SJ", "Svalbard and Jan Mayen", [4]float64{0, 74, 40, 81.5}},
	{"NO", "SJ", "Svalbard and Jan Mayen", [4]float64{-9.3, 70.7, -7.8, 71.3}},
	{"NO", "BV", "Bouvet Island", [4]float64{3.3, -54.5, 3.5, -54.35}},
	{"NL", "BQ", "Caribbean Netherlands", [4]float64{-68.45, 12.0, -68.15, 12.35}},
	{"NL", "BQ", "Caribbean Netherlands", [4]float64{-63.0, 17.46, -62.94, 17.53}},
	{"NL", "BQ", "Caribbean Netherlands", [4]float64{-63.26, 17.6, -63.21, 17.66}},
	{"NZ", "TK", "Tokelau", [4]float64{-172.6, -9.6, -171.0, -8.4}},
	{"AU", "CC", "Cocos (Keeling) Islands", [4]float64{96.7, -12.3, 97.0, -11.8}},
	{"AU", "CX", "Christmas Island", [4]float64{105.5, -10.6, 105.75, -10.4}},
}

// dependencies names the sovereign of each territory that has a feature and
// an ISO code of its own (ISO 3166-1 "independent: no"). Regions not listed
// here, in nameRules or in territories are their own sovereign.
var dependencies = map[string]string{
	"AS": "US", // American Samoa
	"GU": "US", // Guam
	"MP": "US", // Northern Mariana Islands
	"PR": "US", // Puerto Rico
	"UM": "US", // United States Minor Outlying Islands
	"VI": "US", // US Virgin Islands
	"AI": "GB", // Anguilla
	"BM": "GB", // Bermuda
	"FK": "GB", // Falkland Islands (claimed by Argentina)
	"GG": "GB", // Guernsey, a Crown Dependency
	"GI": "GB", // Gibraltar
	"GS": "GB", // South Georgia and the South Sandwich Islands
	"IM": "GB", // Isle of Man, a Crown Dependency
	"IO": "GB", // British Indian Ocean Territory (claimed by Mauritius)
	"JE": "GB", // Jersey, a Crown Dependency
	"KY": "GB", // Cayman Islands
	"MS": "GB", // Montserrat
	"PN": "GB", // Pitcairn
	"SH": "GB", // Saint Helena, Ascension and Tristan da Cunha
	"TC": "GB", // Turks and Caicos Islands
	"VG": "GB", // British Virgin Islands
	"BL": "FR", // Saint Barthélemy
	"MF": "FR", // Saint Martin (French part)
	"NC": "FR", // New Caledonia
	"PF": "FR", // French Polynesia
	"PM": "FR", // Saint Pierre and Miquelon
	"TF": "FR", // French Southern Territories
	"WF": "FR", // Wallis and Futuna
	"AW": "NL", // Aruba
	"CW": "NL", // Curaçao
	"SX": "NL", // Sint Maarten (Dutch part)
	"FO": "DK", // Faroe Islands
	"GL": "DK", // Greenland
	"AX": "FI", // Åland Islands
	"HM": "AU", // Heard Island and McDonald Islands
	"NF": "AU", // Norfolk Island
	"CK": "NZ", // Cook Islands, in free association
	"NU": "NZ", // Niue, in free association
	"HK": "CN", // Hong Kong
	"MO": "CN", // Macao
}

// widen names the features whose collapsed rings (fewer than three distinct
// vertices, or no area) are widened into a box instead of dropped: the box
// of the ring's vertices, grown by one quantum each way where it has no
// extent. A feature whose every ring collapses would otherwise vanish.
var widen = map[string]string{
	"Vatican": "1:10m reduces it to a 2-vertex north-south spike at 12.454E; widened it covers 12.451-12.458E, 41.9026-41.9043N, inside the real Vatican",
	"Italy":   "its hole for the Vatican collapses the same way and is widened to the same box, so the two do not overlap",
}
