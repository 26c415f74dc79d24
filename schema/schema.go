// Package schema holds the JSON Schema (draft 2020-12) of the skyfence
// policy document, for editors and tools that check a policy as it is
// written. policy.Parse is the authority on the format; the tests here
// keep the schema in step with it, key by key and on examples both must
// accept or refuse. `skyfence policy schema` prints it.
//
// schema owns the schema file only. It imports nothing of skyfence; its
// tests import policy to check the two agree.
package schema

import _ "embed"

// Policy is the JSON Schema of a policy document of format policy/v1.
//
//go:embed policy.schema.json
var Policy []byte
