// Package detect finds unauthorized use in the stream of decided fixes: a
// terminal used where it is not verified or not allowed, moved faster than
// its plan can, flown on a drone, reporting positions that cannot be true,
// or gathered with others in a restricted area. It is a pure engine: no
// storage, no HTTP, no goroutine of its own unless Queue.Run is called.
//
// An Engine takes one Observation at a time (Process): a terminal's
// registry record, its fix and the decision made for it. It keeps a small,
// fixed-size state per terminal (the last moves, the last denied attempts,
// how long it has been in a restricted region) for at most
// Config.MaxTerminals terminals, forgetting the least recently seen, and
// two bounded tables shared by all terminals (exact positions reported by
// more than one terminal; restricted grid cells). Each detector that fires
// raises an Alert for the terminal, or updates the alert already open for
// that terminal and detector: one open alert per pair, with a count, a
// score in [0, 1], a severity and the evidence (the last fixes and the
// decisions, the rule, the region).
//
// Many unrelated terminals of one area jumping where they cannot be at the
// same time are GNSS interference, not as many bad actors: the engine opens
// one Incident for the area (Engine.Incidents), and the alerts it explains
// stay low and name it (Alert.Incident, Alert.Explained).
//
// An Engine is not safe for concurrent use. A Queue puts one behind a
// bounded buffer that any number of goroutines can Offer to without ever
// blocking: when the buffer is full the observation is dropped and counted.
// The same observations in the same order always give the same alerts.
//
// Score measures precision and recall per detector against labelled
// terminals, for simulations with known bad actors.
//
// detect owns the detectors, their state and their alerts and incidents. It
// imports only the domain (package skyfence) and policy (the decisions it
// reads): never a store, HTTP, NATS or the service, which hands it the
// observations and keeps what it raises.
//
// docs/DETECTION.md describes each detector, its thresholds and defaults,
// its evidence and what it cannot see.
package detect
