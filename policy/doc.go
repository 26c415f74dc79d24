// Package policy is the policy engine: the policy document (statuses,
// licences, plans, zones, rules, exemptions), its parser and validator, the
// compiled Snapshot that decides, and the tools of review: Diff (what a
// change says differently) and Impact (which terminals, at their last known
// positions, would get or lose service).
//
// Parse reads a document and reports every problem with its file and
// position; Validate checks it against an atlas; Compile turns
// a valid source into a Snapshot. A Snapshot is immutable and safe for any
// number of concurrent readers: DecideAt allocates nothing, and the same
// terminal, track, fix and location always give the same Decision, which
// says why (Reason, Rule, Region, the matched zones and the version). The
// zero Decision denies, and its Reason, Undecided, says no decision was
// made. Track is the per-terminal state decisions carry from one fix to the
// next (derived speed, days abroad, days in coastal waters); its owner keeps
// it and passes it in.
//
// policy is an engine: it builds on the domain (package skyfence) and the
// geometry (atlas, geoindex, zone), reads policy files from disk (Load) or
// through the function LoadWith is given, and never imports a store, HTTP
// or the bus.
// docs/POLICY.md is the format's reference.
package policy
