package schema_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/skyfence/skyfence/policy"
	"github.com/skyfence/skyfence/schema"
)

func compile(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema.Policy))
	if err != nil {
		t.Fatalf("the schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("policy.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	// Compiling validates the schema against the draft 2020-12
	// metaschema.
	s, err := c.Compile("policy.schema.json")
	if err != nil {
		t.Fatalf("the schema does not compile: %v", err)
	}
	return s
}

// yamlToJSON reads YAML as policy.Parse sees it: scalars keep their text
// (a date stays "2026-01-01"), numbers and booleans their type.
func yamlToJSON(t *testing.T, text string) any {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(text), &n); err != nil {
		t.Fatal(err)
	}
	v, err := nodeValue(&n)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func nodeValue(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		return nodeValue(n.Content[0])
	case yaml.AliasNode:
		return nodeValue(n.Alias)
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := nodeValue(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		l := []any{}
		for _, c := range n.Content {
			v, err := nodeValue(c)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	}
	switch n.Tag {
	case "!!null":
		return nil, nil
	case "!!bool":
		return n.Value == "true", nil
	case "!!int", "!!float":
		if _, err := strconv.ParseFloat(n.Value, 64); err != nil {
			return nil, fmt.Errorf("line %d: %q is not a JSON number", n.Line, n.Value)
		}
		return json.Number(n.Value), nil
	}
	return n.Value, nil
}

func TestExamplePolicyValidates(t *testing.T) {
	s := compile(t)
	data, err := os.ReadFile("../examples/policy/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(yamlToJSON(t, string(data))); err != nil {
		t.Errorf("examples/policy/policy.yaml: %v", err)
	}
}

// TestSchemaAgreesWithParse gives documents to both the schema and
// policy.Parse: each must accept or refuse each one alike.
func TestSchemaAgreesWithParse(t *testing.T) {
	s := compile(t)
	const head = "skyfence: policy/v1\nplans: {roam: {max_kmh: {land: 100}}}\n"
	rule := func(body string) string { return head + "rules:\n  - {id: r, region: UA, " + body + "}\n" }
	tests := []struct {
		name string
		doc  string
		ok   bool
	}{
		{"minimal", "skyfence: policy/v1\n", true},
		{"every kind of rule", head + `regions:
  UA: {status: available, priority: 5, licence: {authority: NCEC, valid_from: 2022-03-01, valid_until: "2030-03-01T00:00:00Z"}}
  zone:x: {priority: -3, note: n}
rules:
  - {id: a, region: UA, no_service: true, from: 2026-01-01, until: 2026-02-01}
  - {id: b, region: UA, require_verification: {authority: UA-MOD, classes: [military, civil]}}
  - {id: c, region: UA, speed_cap_kmh: 75.5, exempt: {classes: [military], plans: [roam], terminals: [UT-1, 42], groups: [g]}}
  - {id: d, region: "*", allowed_plans: []}
  - {id: 7, region: international, roaming: {plans: [roam], max_days_abroad: 60}}
  - {id: f, region: UA, coastal: {max_days_per_year: 60}}
`, true},
		{"plan that activates abroad", "skyfence: policy/v1\nplans: {roam: {activate_abroad: true}}\n", true},
		{"missing format", "plans: {}\n", false},
		{"other format", "skyfence: policy/v2\n", false},
		{"unknown key", head + "colour: blue\n", false},
		{"unknown plan key", "skyfence: policy/v1\nplans: {roam: {max_speed: 3}}\n", false},
		{"unknown status", head + "regions: {UA: {status: open}}\n", false},
		{"licence without authority", head + "regions: {UA: {status: available, licence: {valid_from: 2022-03-01}}}\n", false},
		{"priority not whole", head + "regions: {UA: {priority: high}}\n", false},
		{"unknown terminals allowed", head + "regions: {UA: {status: available, licence: {authority: A, valid_from: 2022-03-01}, unknown_terminal: allow}}\n", true},
		{"network position", head + "regions: {UA: {status: available, licence: {authority: A, valid_from: 2022-03-01}, position: both, without_cell: deny}, PL: {status: embargoed, position: network}, FR: {status: embargoed, position: claimed, without_cell: claimed}}\n", true},
		{"position of another kind", head + "regions: {UA: {status: embargoed, position: gps}}\n", false},
		{"position as a list", head + "regions: {UA: {status: embargoed, position: [network]}}\n", false},
		{"without_cell neither claimed nor denied", head + "regions: {UA: {status: embargoed, position: network, without_cell: allow}}\n", false},
		{"unknown terminals neither allowed nor denied", head + "regions: {UA: {unknown_terminal: maybe}}\n", false},
		{"date in another form", rule("no_service: true, from: 01/02/2026"), false},
		{"time without zone", rule(`no_service: true, from: "2026-01-01T10:00:00"`), false},
		{"two aspects", rule("no_service: true, speed_cap_kmh: 75"), false},
		{"no aspect", rule("description: nothing"), false},
		{"no_service false", rule("no_service: false"), false},
		{"negative speed cap", rule("speed_cap_kmh: -1"), false},
		{"speed cap as text", rule(`speed_cap_kmh: "75"`), false},
		{"unknown class", rule("require_verification: {authority: A, classes: [police]}"), false},
		{"verification without authority", rule("require_verification: {classes: [civil]}"), false},
		{"roaming without days", rule("roaming: {plans: [roam]}"), false},
		{"roaming for zero days", rule("roaming: {max_days_abroad: 0}"), false},
		{"coastal without limits", rule("coastal: {plans: [roam]}"), false},
		{"unknown exemption", rule("no_service: true, exempt: {countries: [PL]}"), false},
		{"rule without id", head + "rules: [{region: UA, no_service: true}]\n", false},
		{"zones entry without file", head + "zones: [{}]\n", false},
		{"null name", "skyfence: policy/v1\nname:\n", false},
		{"authorities", head + "authorities: {UA-MOD: {region: UA, classes: [civil, military], description: d}}\n", true},
		{"authority without classes", head + "authorities: {UA-MOD: {region: UA}}\n", false},
		{"authority granting no class", head + "authorities: {UA-MOD: {region: UA, classes: []}}\n", false},
		{"authority without region", head + "authorities: {UA-MOD: {classes: [civil]}}\n", false},
		{"authority of an unknown class", head + "authorities: {UA-MOD: {region: UA, classes: [army]}}\n", false},
		{"authority with an unknown key", head + "authorities: {UA-MOD: {region: UA, classes: [civil], grants: [military]}}\n", false},
		{"authorities as a list", head + "authorities: [UA-MOD]\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, perr := policy.Parse([]byte(tt.doc), "test.yaml")
			serr := s.Validate(yamlToJSON(t, tt.doc))
			if (perr == nil) != tt.ok {
				t.Errorf("policy.Parse: got %v, want ok %v", perr, tt.ok)
			}
			if (serr == nil) != tt.ok {
				t.Errorf("schema: got %v, want ok %v", serr, tt.ok)
			}
		})
	}
}

// TestSchemaKeysMatchParse checks that every key policy.Parse knows is a
// property in the schema and the other way round, by reading the key
// lists out of parse.go.
func TestSchemaKeysMatchParse(t *testing.T) {
	parseKeys := keysInParser(t, "../policy/parse.go")
	var doc any
	if err := json.Unmarshal(schema.Policy, &doc); err != nil {
		t.Fatal(err)
	}
	schemaKeys := map[string]bool{}
	properties(doc, schemaKeys)
	var missing, extra []string
	for k := range parseKeys {
		if !schemaKeys[k] {
			missing = append(missing, k)
		}
	}
	for k := range schemaKeys {
		if !parseKeys[k] {
			extra = append(extra, k)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	if len(missing) > 0 || len(extra) > 0 {
		t.Errorf("keys policy.Parse reads but the schema lacks: %v; keys in the schema Parse does not read: %v", missing, extra)
	}
	if len(parseKeys) < 40 {
		t.Errorf("found only %d keys in parse.go: has the way it lists them changed?", len(parseKeys))
	}
}

// keysInParser returns the strings of every []string literal that is an
// argument of a call to fields or the value of ruleKeys in a parser's
// source.
func keysInParser(t *testing.T, file string) map[string]bool {
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	collect := func(e ast.Expr) {
		lit, ok := e.(*ast.CompositeLit)
		if !ok {
			return
		}
		if at, ok := lit.Type.(*ast.ArrayType); !ok || identName(at.Elt) != "string" {
			return
		}
		for _, el := range lit.Elts {
			if s, ok := el.(*ast.BasicLit); ok && s.Kind == token.STRING {
				v, _ := strconv.Unquote(s.Value)
				keys[v] = true
			}
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "fields" {
				for _, a := range n.Args {
					collect(a)
				}
			}
		case *ast.ValueSpec:
			for i, name := range n.Names {
				if name.Name == "ruleKeys" && i < len(n.Values) {
					collect(n.Values[i])
				}
			}
		}
		return true
	})
	return keys
}

func identName(e ast.Expr) string {
	if id, ok := e.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

// properties collects the names under every "properties" of a schema.
func properties(v any, into map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, sub := range v {
			if k == "properties" {
				if props, ok := sub.(map[string]any); ok {
					for name := range props {
						into[name] = true
					}
				}
			}
			properties(sub, into)
		}
	case []any:
		for _, sub := range v {
			properties(sub, into)
		}
	}
}
