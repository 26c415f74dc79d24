package main

import (
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// activateEmbargo drafts a change of the example policy that embargoes DE
// (Berlin loses service) and activates it through a as an emergency; it
// returns when the request was sent and how long a took to acknowledge it.
func activateEmbargo(t *testing.T, a *authorizer) (time.Time, time.Duration) {
	t.Helper()
	doc, err := os.ReadFile("../../examples/policy/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	zones, err := os.ReadFile("../../examples/policy/zones.geojson")
	if err != nil {
		t.Fatal(err)
	}
	const de = "  DE:\n    status: available\n    licence: {authority: BNetzA, reference: BNetzA/2021/12, valid_from: 2021-03-01}\n"
	embargo := strings.Replace(string(doc), de, "  DE:\n    status: embargoed\n", 1)
	if embargo == string(doc) {
		t.Fatal("the example policy no longer has DE as written here")
	}
	files, _ := json.Marshal([]map[string]string{{"name": "policy.yaml", "content": embargo}, {"name": "zones.geojson", "content": string(zones)}})
	var change struct{ ID string }
	_ = json.Unmarshal([]byte(a.must("POST", "/v1/changes", a.key, `{"title":"Embargo","justification":"test","requester":"internal","category":"other","files":`+string(files)+`}`)), &change)
	emergency := a.secret(a.key, "erin", "emergency")
	start := time.Now()
	a.must("POST", "/v1/changes/"+change.ID+"/emergency", emergency, `{"justification":"sanctions in force now"}`)
	return start, time.Since(start)
}

// A policy activated through one authorizer reaches another that cannot
// reach PostgreSQL: through the cluster's policy bucket, whose value the
// other compiles.
func TestClusterPolicyWithoutPostgres(t *testing.T) {
	c := newCluster(t, natsURL(t))
	u, err := url.Parse(c.db)
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, u.Host)
	u.Host = p.addr
	a1 := c.start(t, "a1", "")
	a2 := c.start(t, "a2", u.String())
	gw := setUp(t, a1, "t1")
	// a2 verifies the gateway's key with the store once, then trusts it
	// from memory.
	until(t, "a2 sees t1", func() bool { return allowed(a2.decide(gw, "t1", berlinLat, berlinLon)) })

	p.stop()
	start, acked := activateEmbargo(t, a1)
	for name, d := range reach(t, start, []*authorizer{a2}, func(a *authorizer) bool { return !allowed(a.decide(gw, "t1", berlinLat, berlinLon)) }) {
		t.Logf("policy activation with PostgreSQL away from %s: acknowledged by a1 in %v; %s denied under it %v after the request was sent", name, acked, name, d)
	}
	// a1 counts its put once NATS acknowledged it, which may be after a2
	// got the policy.
	until(t, "a1 counts its put into the bucket", func() bool {
		v := a1.metric(`skyfence_cluster_policy_total{what="put"}`)
		return v != "0" && v != ""
	})
}
