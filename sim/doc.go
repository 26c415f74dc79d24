// Package sim makes up fleets of terminals and the fixes they send: a load
// generator for skyfence and a test bed for detection, since every
// terminal carries a label saying what it really is.
//
// Generate makes a fleet from a Config, deterministically from its seed:
// the same seed gives the same terminals and the same fixes, and no clock
// or global source of randomness is read. A terminal is a few numbers (60
// bytes, plus its id), and its fix at any time is computed from them, so a
// fleet of ten million fits in about 750 MB and fixes can be asked for in
// any order (FixAt) or in time order (AppendFixes). Each terminal reports
// every Config.Interval (15 s), at a phase of its own, with its true
// ground speed (spoofers excepted).
//
// Terminals are placed at the cities of the SimpleMaps World Cities
// Database (CC BY 4.0; see data/README.md), located with the policy's
// atlas (so Crimea's cities count as Russia's, as the boundaries say), and
// only where the policy gives a terminal of their kind service at
// Config.Start when the profile says so. Trips start and end at spots
// within 3 km of their cities, so that no two honest terminals report the
// same position exactly (spoof-clones do). Registered countries with a
// verifying authority (Config.Authorities: UA-MOD for Ukraine) give their
// terminals a verification, civil unless said otherwise.
//
// # Profiles
//
// Honest terminals go only where their terminal has service: an honest
// trip never ends in an embargoed country, a no-service zone or a country
// whose verification the terminal lacks (a straight road or a sea lane may
// still pass through one: the Black Sea lane from Odesa to Batumi crosses
// the scenario's restricted waters on purpose).
//
// Honest terminals:
//
//   - residential: fixed, within a few kilometres of a city drawn by
//     population (2 km for a town of 1,000, 14 km for a city of a million),
//     on a spot where a residential terminal registered in that country has
//     service; it never moves and reports 0 km/h.
//   - sponsored: as residential, in Config.SponsorCountry (Ukraine), on the
//     sponsored plan.
//   - roamer: a traveller on the roam plan driving between a town (20,000
//     inhabitants or more) with service at home and a town of a
//     neighbouring country 80-500 km away where its terminal has service,
//     along a straight road that runs on land, at 60-130 km/h, staying 30
//     minutes to 3 hours at each end (or staying at home if there is no
//     such town).
//   - vehicle: a land vehicle on the roam plan between two towns of one
//     country 10-150 km apart, both with service for it, at 30-130 km/h,
//     stopping 5-45 minutes at each end; a quarter of those registered in
//     Ukraine hold a military verification.
//   - ship: on the maritime plan, sailing one of a few sea lanes (waypoints
//     at sea: the North Atlantic, the Mediterranean, the Black Sea, the
//     Pacific, the Indian Ocean, the Gulf of Mexico, the Baltic) at 20-40
//     km/h, each ship up to 500 m off the lane's line, lying 2-12 hours at
//     anchor at each end.
//   - airliner: on the aviation plan, flying the great circle between a
//     city of a million with service and another city of a million
//     300-12,000 km away where it has service, at 850-950 km/h, cruising at 10-12 km and
//     climbing and descending over the 200 km nearest each airport, 45
//     minutes to 3 hours on the ground at each end.
//
// Bad actors behave like honest terminals until their bad behaviour starts,
// at a time drawn between a tenth and a half of Config.Duration after
// Start:
//
//   - smuggled: bought and registered in a third country
//     (Config.SmuggleFrom: Poland, Kazakhstan, the Emirates) and sitting in
//     one of its towns; off while it is carried (two hours, or half the
//     time before it turns bad if shorter), then switched on within 40 km
//     of the front line (Config.Front), on either side of it: in occupied
//     territory or just behind the front.
//   - drone: registered and verified in the front's country, sitting at a
//     base 10-60 km behind the front; then flown on sorties of 20-40
//     minutes, off for 10-30 minutes between them, at 80-250 km/h and 50 to
//     250 m up, turning sharply all the time within a few kilometres of its
//     base.
//   - spoof-jump: sits at home like a residential terminal (on the roam
//     plan), then reports, at its first fix from its start and then at
//     every other fix on average, the position of a city of a million
//     somewhere in the world: jumps no vehicle can make, each at a
//     reported 0 km/h.
//   - spoof-clone: groups of Config.CloneGroup (25) terminals registered
//     in a town with service 30-400 km from an embargoed country, each
//     sitting at home near it like a residential terminal; off while
//     carried across the border (as smuggled ones are), then all of a
//     group report that town's exact position, bit for bit, at 0 km/h.
//
// # Confounders
//
// Config.Confounders adds what the detectors meet in the real world, every
// parameter drawn from a range with the seed, so that a seed not tuned on
// is a fair test:
//
//   - GNSS interference events (Config.Interference, 6): at hotspots where
//     it has been reported since 2023 (Kaliningrad and the Gulf of Gdansk,
//     Odesa, the Gulf of Finland, the Eastern Mediterranean, Kharkiv and
//     Belgorod, off Crimea), 30-300 km in radius, 5-15 minutes long, in
//     the run's first three fifths. Three in five spoof: every receiver in
//     the area reports one of 1-3 fake positions (cities of a million
//     nearby: their airports), bit for bit or within 5 m; the others jam:
//     each receiver freezes where the event found it or jumps 5-300 km at
//     random at each fix. Then the true track again. Ships, aircraft, land
//     terminals and bad actors alike; labels do not change.
//   - train (honest, roam plan): 250-320 km/h between towns 150-700 km
//     apart with service, crossing borders, 10-40 minutes at each end.
//   - crowd (honest, residential): sites (Config.CrowdSize, 40, terminals
//     each; half in the sponsor country) where every terminal sits within
//     200 m of the site with GPS jitter of its own, up to 3-10 m.
//   - every land terminal reports an altitude: its ground's (20-180 m, in
//     waves 20-25 km long, so no road climbs more than about 4 %) with up
//     to 8 m of GPS noise, and a drone its height above it.
//   - drone-low (bad, roam plan): from a base behind the front, sorties of
//     15-30 minutes at 60-70 km/h (under the 75 km/h cap), 40-150 m above
//     the ground reached climbing at 4-8 m/s, straight or zig-zagging
//     20-45 degrees either side of a heading.
//   - smuggled-rare (bad): registered in a Config.SmuggleFrom country,
//     carried to a town of an embargoed country 30-400 km away, switched
//     on for 1-2.5 minutes every 10-30 minutes, walking at 0-5 km/h.
//   - spoof-track (bad): registered and verified in the front's country
//     and at home there, then really in a town of an embargoed country
//     80-300 km away, faking a drive of 5-20 km back and forth at 20-50
//     km/h from a town with service at home, away from where it is.
//
// Config.Cells gives every fix its serving cell, the capacity cell
// (skyfence.CellOf) of its true position: a spoofer's (spoof-jump,
// spoof-clone, spoof-track) or an interfered receiver's cell is where it
// really is, not where it claims to be.
//
// Labels (Label, WriteLabels) give each terminal's behaviour, whether it is
// a bad actor and when its bad behaviour starts, for scoring a detector.
//
// sim owns the fleets, their behaviours and labels. It imports only the
// domain and policy (its atlas, to place terminals, and its decisions, to
// keep honest terminals where they have service): never the service, a
// store, HTTP or the bus. Sending the fixes to skyfence is package
// sim/replay's job.
package sim
