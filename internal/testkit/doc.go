// Package testkit holds the harnesses of skyfence's tests, one package
// each: teststore opens real stores (SQLite always, PostgreSQL when a
// server is named), testnats runs NATS servers. Only tests import them:
// no command or library package does, and the layout test in the
// repository's root fails if the serving binary links one.
//
// This package itself holds no code; it is where the harnesses live.
package testkit
