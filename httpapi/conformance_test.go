package httpapi_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/audit"
	"github.com/skyfence/skyfence/detect"
	"github.com/skyfence/skyfence/httpapi"
	"github.com/skyfence/skyfence/sqlite"
)

// spec is the OpenAPI document as generic JSON, to walk and to point into.
type spec map[string]any

func (s spec) at(ptr string) any {
	var v any = map[string]any(s)
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, _ := v.(map[string]any)
		v = m[tok]
	}
	return v
}

// resolve follows a {"$ref": "#/..."} to what it names, and returns it with
// its pointer.
func (s spec) resolve(ptr string) (map[string]any, string) {
	m, _ := s.at(ptr).(map[string]any)
	for m != nil && m["$ref"] != nil {
		ptr = strings.TrimPrefix(m["$ref"].(string), "#")
		m, _ = s.at(ptr).(map[string]any)
	}
	return m, ptr
}

func escapePtr(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// generator makes inputs from the document's schemas: mostly values the
// server could take (the fixture's ids, enums, plausible numbers), some
// that it must refuse (hostile strings, wrong lengths), reproducibly.
type generator struct {
	doc   spec
	rnd   *rand.Rand
	hints map[string][]string // by property or parameter name
}

// hostile are strings that no field should take without a clear error.
var hostile = []string{"", "ut\a1", "x\u200by", "\xff\xfe", strings.Repeat("z", 200), `"}]`, "ut 1", "\u202eUA"}

func (g *generator) str(name string) string {
	if g.rnd.IntN(6) == 0 {
		return hostile[g.rnd.IntN(len(hostile))]
	}
	if h := g.hints[name]; len(h) > 0 {
		return h[g.rnd.IntN(len(h))]
	}
	return fmt.Sprintf("gen-%d", g.rnd.IntN(1000))
}

func (g *generator) value(name string, schema map[string]any, depth int) any {
	if ref, ok := schema["$ref"].(string); ok {
		schema, _ = g.doc.resolve(strings.TrimPrefix(ref, "#"))
	}
	if enum, ok := schema["enum"].([]any); ok && len(enum) > 0 && g.rnd.IntN(8) != 0 {
		return enum[g.rnd.IntN(len(enum))]
	}
	switch schema["type"] {
	case "object":
		out := map[string]any{}
		props, _ := schema["properties"].(map[string]any)
		required, _ := schema["required"].([]any)
		names := make([]string, 0, len(props))
		for k := range props {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			if depth > 3 || (!slices.Contains(required, any(k)) && g.rnd.IntN(2) == 0) {
				continue
			}
			p, _ := props[k].(map[string]any)
			out[k] = g.value(k, p, depth+1)
		}
		return out
	case "array":
		items, _ := schema["items"].(map[string]any)
		n := g.rnd.IntN(3)
		out := make([]any, n)
		for i := range out {
			out[i] = g.value(strings.TrimSuffix(name, "s"), items, depth+1)
		}
		return out
	case "integer":
		return g.rnd.IntN(12) - 1
	case "number":
		switch name {
		case "lat":
			return 44 + g.rnd.Float64()*8
		case "lon":
			return 22 + g.rnd.Float64()*18
		}
		return g.rnd.Float64() * 100
	case "boolean":
		return g.rnd.IntN(2) == 0
	case "string":
		if schema["format"] == "date-time" && g.rnd.IntN(6) != 0 {
			return testNow.Add(time.Duration(g.rnd.IntN(600)-60) * time.Second).Format(time.RFC3339)
		}
		return g.str(name)
	}
	return g.str(name)
}

// operation is one method of one path of the document.
type operation struct {
	method, path string
	op           map[string]any
	ptr          string // of the operation in the document
}

func operations(doc spec) []operation {
	var out []operation
	paths, _ := doc["paths"].(map[string]any)
	for p, item := range paths {
		for m, op := range item.(map[string]any) {
			out = append(out, operation{strings.ToUpper(m), p, op.(map[string]any), "/paths/" + escapePtr(p) + "/" + m})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path+out[i].method < out[j].path+out[j].method })
	return out
}

// sealedStore is a fresh SQLite store whose audit log is a signed tree,
// as `skyfence serve` makes it, so that the audit routes have checkpoints,
// proofs and tiles to serve.
func sealedStore(t *testing.T) skyfence.Store {
	t.Helper()
	store, err := sqlite.Open(t.Context(), t.TempDir()+"/skyfence.db", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	signer := audit.NewSigner(priv)
	store.SetAuditSealer(&audit.Sealer{Signer: signer, Origin: "conformance.skyfence.test/audit"})
	if err := audit.Register(t.Context(), store, signer); err != nil {
		t.Fatal(err)
	}
	return store
}

// TestOpenAPIConformance drives every operation of openapi.json with
// inputs generated from its request schema, as each role it lists (and
// without a key), against a real server over SQLite, and checks every
// answer against the response the document declares for its status: the
// status is declared (or the default), the Content-Type is one declared,
// and a JSON body validates against the schema.
func TestOpenAPIConformance(t *testing.T) {
	e := newEnvOn(t, sealedStore(t))
	doc, validate := loadSpec(t)
	ids := conformanceFixture(e)
	g := &generator{doc: doc, rnd: rand.New(rand.NewPCG(14, 2026)), hints: map[string][]string{
		"id":          {ids["terminal"], "ut-gen-1", "ut-gen-2", "acct-gen-1"},
		"terminal_id": {ids["terminal"], ids["inactive"], "ut-nope"},
		"account_id":  {"acct-ut-1", "acct-gen-1"},
		"plan":        {"residential", "roam", "maritime", "gold"},
		"country":     {"UA", "PL", "DE", "QQ"},
		"region":      {"UA", "PL"},
		"authority":   {"UA-MOD", "PL-MOD"},
		"class":       {"civil", "military"},
		"zone":        {"occupied", "nowhere"},
		"alert_id":    {"al-nope"},
		"assignee":    {"ines"},
		"grace":       {"24h", "soon"},
		"status":      {"active", "suspended", "deactivated", "inactive"},
		"state":       {"open", "draft", "approved"},
		"limit":       {"1", "5", "0", "5000", "x"},
		"cursor":      {"", "bogus"},
		"from":        {"2026-06-01T00:00:00Z", "yesterday"},
		"to":          {"2026-07-01T00:00:00Z"},
	}}
	pathIDs := map[string][]string{
		"/v1/terminals/":     {ids["terminal"], ids["inactive"], "ut-nope", "ut\a1"},
		"/v1/cases/":         {ids["case"], "case-nope"},
		"/v1/changes/":       {ids["change"], ids["draft"], ids["draft"], "chg-nope"},
		"/v1/cells/":         {ids["cell"], skyfence.CellOf(52.52, 13.40), "cell\x01"},
		"/v1/keys/":          {ids["key"], "key-nope"},
		"/v1/persons/":       {ids["person"], "per-nope"},
		"/v1/verifications/": {ids["verification"], "ver-nope"},
		"/v1/incidents/":     {ids["incident"], "in-nope"},
	}
	seen := map[string]map[int]bool{}
	for _, op := range operations(doc) {
		if op.path == "/v1/events" {
			continue // a stream that does not end; its errors are the Error schema's (TestStatesAndLiveFeed reads it)
		}
		roles := []string{""}
		if rs, ok := op.op["x-roles"].([]any); ok {
			for _, r := range rs {
				if r == "partner" {
					r = "partner-UA"
				}
				roles = append(roles, r.(string))
			}
		}
		name := op.method + " " + op.path
		seen[name] = map[int]bool{}
		for round := range 24 {
			role := roles[round%len(roles)]
			path := op.path
			if i := strings.Index(path, "{id}"); i >= 0 {
				pool := pathIDs[path[:i]]
				path = path[:i] + url.PathEscape(pool[g.rnd.IntN(len(pool))]) + path[i+len("{id}"):]
			}
			q := url.Values{}
			params, _ := op.op["parameters"].([]any)
			for _, p := range params {
				pm := p.(map[string]any)
				if pm["in"] == "query" && g.rnd.IntN(2) == 0 {
					s, _ := pm["schema"].(map[string]any)
					q.Set(pm["name"].(string), fmt.Sprint(g.value(pm["name"].(string), s, 0)))
				}
			}
			if len(q) > 0 {
				path += "?" + q.Encode()
			}
			var body []byte
			reqCT := "application/json"
			if _, ptr := doc.resolve(op.ptr + "/requestBody"); ptr != "" {
				if s, ok := doc.at(ptr + "/content/application~1json/schema").(map[string]any); ok {
					body, _ = json.Marshal(g.value("", s, 0))
				}
				// A stream of lines, where the operation takes one: a
				// line of its schema's values each, and one that is not.
				if s, ok := doc.at(ptr + "/content/application~1x-ndjson/schema").(map[string]any); ok && round%3 == 2 {
					reqCT, body = "application/x-ndjson", nil
					for range 3 {
						line, _ := json.Marshal(g.value("", s, 0))
						body = append(append(body, line...), '\n')
					}
					body = append(body, "{not json\n"...)
				}
			}
			status, ct, got := conformanceDo(e, role, op.method, path, reqCT, body)
			seen[name][status] = true
			what := fmt.Sprintf("%s %s as %q with %s", op.method, path, role, body)
			respPtr := op.ptr + "/responses/" + strconv.Itoa(status)
			if doc.at(respPtr) == nil {
				respPtr = op.ptr + "/responses/default"
			}
			resp, respPtr := doc.resolve(respPtr)
			if resp == nil {
				t.Errorf("%s: status %d is not declared: %.300s", what, status, got)
				continue
			}
			content, _ := resp["content"].(map[string]any)
			if len(content) == 0 {
				continue // a status without a body (304)
			}
			mt, _, _ := mime.ParseMediaType(ct)
			if _, ok := content[mt]; !ok {
				t.Errorf("%s: status %d with Content-Type %q, not one declared (%v)", what, status, ct, slices.Sorted(mapKeys(content)))
				continue
			}
			schemaPtr := respPtr + "/content/" + escapePtr(mt) + "/schema"
			if doc.at(schemaPtr) == nil || !strings.Contains(mt, "json") {
				continue
			}
			docs := [][]byte{got}
			if mt == "application/x-ndjson" {
				docs = bytes.Split(bytes.TrimSuffix(got, []byte("\n")), []byte("\n"))
			}
			for _, d := range docs {
				v, err := jsonschema.UnmarshalJSON(bytes.NewReader(d))
				if err != nil {
					t.Errorf("%s: status %d: not JSON: %v: %.300s", what, status, err, d)
					continue
				}
				if err := validate(schemaPtr, v); err != nil {
					t.Errorf("%s: status %d does not match %s: %v\n%.600s", what, status, schemaPtr, err, d)
				}
			}
		}
	}
	// The generator reaches past the errors: most operations answer a
	// success to some of their inputs.
	var only []string
	for name, statuses := range seen {
		ok := false
		for s := range statuses {
			ok = ok || s < 300
		}
		if !ok {
			only = append(only, name)
		}
	}
	sort.Strings(only)
	t.Logf("operations answered only with errors: %d of %d: %s", len(only), len(seen), strings.Join(only, ", "))
	if len(only) > len(seen)/2 {
		t.Errorf("%d of %d operations never succeeded: the generator tests errors only", len(only), len(seen))
	}
}

func mapKeys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// loadSpec returns the document and a validator of a value against the
// schema at a pointer into it (OpenAPI 3.0's schemas, as this document
// writes them, are JSON Schema).
func loadSpec(t *testing.T) (spec, func(ptr string, v any) error) {
	t.Helper()
	loadOpenAPI(t) // the file is the embedded document
	var doc spec
	if err := json.Unmarshal(httpapi.OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	raw, err := jsonschema.UnmarshalJSON(bytes.NewReader(httpapi.OpenAPI))
	if err != nil {
		t.Fatal(err)
	}
	closeObjects(raw)
	const base = "https://skyfence.invalid/openapi.json"
	c := jsonschema.NewCompiler()
	if err := c.AddResource(base, raw); err != nil {
		t.Fatal(err)
	}
	schemas := map[string]*jsonschema.Schema{}
	return doc, func(ptr string, v any) error {
		s, ok := schemas[ptr]
		if !ok {
			var err error
			if s, err = c.Compile(base + "#" + ptr); err != nil {
				t.Fatalf("compile %s: %v", ptr, err)
			}
			schemas[ptr] = s
		}
		return s.Validate(v)
	}
}

// closeObjects makes every object schema that lists its properties and
// says nothing of others refuse others: an answer's field that the
// document does not describe is a mismatch, as a request's is an error.
func closeObjects(v any) {
	switch v := v.(type) {
	case map[string]any:
		if _, ok := v["properties"].(map[string]any); ok && v["type"] == "object" {
			if _, set := v["additionalProperties"]; !set {
				v["additionalProperties"] = false
			}
		}
		for k, x := range v {
			if k != "properties" {
				closeObjects(x)
				continue
			}
			for _, p := range x.(map[string]any) {
				closeObjects(p)
			}
		}
	case []any:
		for _, x := range v {
			closeObjects(x)
		}
	}
}

// conformanceFixture gives the server something to answer about: a
// terminal with fixes, a verification, a case, a cell, a throwaway key.
func conformanceFixture(e *env) map[string]string {
	ids := map[string]string{"terminal": "ut-1", "cell": skyfence.CellOf(50.45, 30.52)}
	e.register("ut-1", "residential", "UA", false)
	e.register("ut-2", "roam", "UA", false)
	ids["inactive"] = "ut-2"
	var v struct{ ID string }
	e.must("partner-UA", "POST", "/v1/verifications", map[string]any{"terminal_id": "ut-1", "region": "UA", "authority": "UA-MOD", "class": "civil"}, 201, &v)
	ids["verification"] = v.ID
	e.must("operator", "POST", "/v1/terminals/ut-1/activate", map[string]float64{"lat": 50.45, "lon": 30.52}, 200, nil)
	e.send(fix("ut-1", testNow.Add(time.Second), 50.45, 30.52, 0), fix("ut-1", testNow.Add(2*time.Second), 48.0, 37.8, 0))
	var c struct{ ID string }
	e.must("investigator", "POST", "/v1/cases", map[string]any{"terminal_id": "ut-1", "title": "conformance"}, 201, &c)
	ids["case"] = c.ID
	var page struct{ Changes []struct{ ID string } }
	e.must("admin", "GET", "/v1/changes", nil, 200, &page)
	ids["change"] = page.Changes[0].ID
	// A draft of the example policy, to propose, review, activate...
	var files []map[string]string
	for _, name := range []string{"policy.yaml", "zones.geojson"} {
		b, err := os.ReadFile("../examples/policy/" + name)
		if err != nil {
			e.t.Fatal(err)
		}
		files = append(files, map[string]string{"name": name, "content": string(b)})
	}
	var draft struct{ ID string }
	e.must("policy_author", "POST", "/v1/changes", map[string]any{"title": "conformance", "justification": "j", "requester": "r", "category": "other", "files": files}, 201, &draft)
	ids["draft"] = draft.ID
	var k struct{ Key struct{ ID, PersonID string } }
	e.must("admin", "POST", "/v1/keys", map[string]string{"name": "throwaway", "role": "viewer"}, 201, &k)
	ids["key"], ids["person"] = k.Key.ID, k.Key.PersonID
	ids["incident"] = "in_conformance"
	e.svc.RecordIncident(detect.Incident{ID: ids["incident"], Kind: detect.IncidentKind, Start: testNow, End: testNow.Add(time.Minute),
		Opened: testNow.Add(30 * time.Second), Open: true, MinLat: 50, MinLon: 30, MaxLat: 51, MaxLon: 31, Cells: 1, Terminals: 9})
	return ids
}

// conformanceDo sends a request as role ("" for none) and returns the
// status, the Content-Type and the body.
func conformanceDo(e *env, role, method, path, ct string, body []byte) (int, string, []byte) {
	e.t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+e.keys[role])
	}
	if body != nil {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// TestOpenAPIListsEveryRole: the roles a key may be made with are the
// document's KeyInput.role, all of them.
func TestOpenAPIListsEveryRole(t *testing.T) {
	doc, _ := loadSpec(t)
	enum, _ := doc.at("/components/schemas/KeyInput/properties/role/enum").([]any)
	var documented, roles []string
	for _, r := range enum {
		documented = append(documented, r.(string))
	}
	for _, r := range skyfence.Roles {
		roles = append(roles, string(r))
	}
	slices.Sort(documented)
	slices.Sort(roles)
	if !slices.Equal(documented, roles) {
		t.Errorf("KeyInput.role lists %v, the roles are %v", documented, roles)
	}
}
