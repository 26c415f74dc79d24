// Package examples embeds the example policy, so that `skyfence serve`
// starts with it from any directory.
//
// examples owns the example files only. It imports nothing of skyfence:
// policy parses what it embeds.
package examples

import (
	"embed"
	"io/fs"
)

// Policy holds policy/policy.yaml and the zone files it names.
//
//go:embed policy/policy.yaml policy/zones.geojson
var Policy embed.FS

// PolicyFile is the example policy's name in Policy.
const PolicyFile = "policy/policy.yaml"

// ReadPolicyFile reads a file of Policy (for policy.LoadWith).
func ReadPolicyFile(name string) ([]byte, error) { return fs.ReadFile(Policy, name) }
