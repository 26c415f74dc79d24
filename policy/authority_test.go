package policy

import (
	"slices"
	"strings"
	"testing"

	"github.com/skyfence/skyfence"
)

// TestAuthorities: the authorities section parses into what each may
// grant, and every mistake in it is named with its place.
func TestAuthorities(t *testing.T) {
	src, got := checkText(t, `skyfence: policy/v1
plans: {roam: {}}
regions:
  UA: {status: not_licensed}
authorities:
  UA-MOD: {region: UA, classes: [civil, military], description: Defence ministry}
rules:
  - {id: whitelist, region: UA, require_verification: {authority: UA-MOD}}
`, "")
	if len(got) != 0 || src == nil {
		t.Fatalf("problems %q", got)
	}
	a := src.Doc.Authority("UA-MOD")
	if a == nil || a.Region != "UA" || !a.Grants(skyfence.Military) || a.Grants(skyfence.Government) {
		t.Errorf("UA-MOD = %+v", a)
	}
	if src.Doc.Authority("US-DOD") != nil {
		t.Error("an authority the policy does not list")
	}

	for _, tc := range []struct {
		name, authorities string
		want              []string
	}{
		{"unknown region", "  X-MOD: {region: XQ, classes: [civil]}\n",
			[]string{`policy.yaml:5:3: error: authorities.X-MOD: unknown region "XQ" (want the ISO 3166-1 alpha-2 code of a country of the built-in boundaries)`}},
		{"no classes", "  UA-MOD: {region: UA}\n",
			[]string{`policy.yaml:5:11: error: authorities.UA-MOD: missing classes (which of civil, government, military it may grant)`}},
		{"unknown class", "  UA-MOD: {region: UA, classes: [army]}\n",
			[]string{`policy.yaml:5:33: error: authorities.UA-MOD.classes: unknown verification class "army" (want civil, government or military)`}},
		{"empty classes", "  UA-MOD: {region: UA, classes: []}\n",
			[]string{`policy.yaml:5:33: error: authorities.UA-MOD.classes: an authority grants at least one class`}},
		{"no region", "  UA-MOD: {classes: [civil]}\n",
			[]string{`policy.yaml:5:11: error: authorities.UA-MOD: missing region (the country it verifies for)`}},
		{"unknown key", "  UA-MOD: {region: UA, classes: [civil], grants: [military]}\n",
			[]string{`policy.yaml:5:42: error: authorities.UA-MOD: unknown key "grants" (known: region, classes, description)`}},
		{"given twice", "  UA-MOD: {region: UA, classes: [civil]}\n  UA-MOD: {region: UA, classes: [military]}\n",
			[]string{`policy.yaml:6:3: error: authorities: "UA-MOD" given twice`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, got := checkText(t, "skyfence: policy/v1\nplans: {roam: {}}\nregions: {UA: {status: not_licensed}}\nauthorities:\n"+tc.authorities, "")
			if !slices.Equal(got, tc.want) {
				t.Errorf("got\n%q\nwant\n%q", got, tc.want)
			}
		})
	}

	_, got = checkText(t, `skyfence: policy/v1
plans: {roam: {}}
regions: {UA: {status: not_licensed}}
authorities:
  UA-MOD: {region: UA, classes: [civil]}
rules:
  - {id: mil, region: UA, require_verification: {authority: UA-MOD, classes: [military]}}
  - {id: other, region: UA, require_verification: {authority: US-DOD}}
`, "")
	want := []string{
		`policy.yaml:7:5: warning: rule "mil": authority "UA-MOD" may grant none of the classes the rule accepts`,
		`policy.yaml:8:5: warning: rule "other": authority "US-DOD" is not in authorities, so no partner key can record the verifications it requires`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

// TestDiffAuthorities: a reviewer sees an authority added, removed, or
// allowed another class, as a line of the diff.
func TestDiffAuthorities(t *testing.T) {
	base := "skyfence: policy/v1\nplans: {roam: {}}\nregions: {UA: {status: not_licensed}, PL: {status: not_licensed}}\nauthorities:\n"
	old := compileText(t, base+"  UA-MOD: {region: UA, classes: [civil]}\n  PL-MOD: {region: PL, classes: [civil]}\n", "")
	new := compileText(t, base+"  UA-MOD: {region: UA, classes: [civil, military]}\n  US-DOD: {region: UA, classes: [military]}\n", "")
	got := Diff(old, new, date("2026-06-15T12:00:00Z")).Text()
	for _, want := range []string{
		"authorities:\n",
		"  - PL-MOD: verifies for PL, may grant civil\n",
		"  ~ UA-MOD: classes +class military\n",
		"  + US-DOD: verifies for UA, may grant military\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("diff lacks %q:\n%s", want, got)
		}
	}
	if Diff(old, old, date("2026-06-15T12:00:00Z")).Empty() != true {
		t.Error("a policy differs from itself")
	}
}

// TestForgedVerificationsDoNotCount: a verification by an authority the
// policy does not list, for another country than its authority's, or of a
// class its authority may not grant, lifts neither the defence ministry's
// whitelist nor the speed cap, however it got into the store; a policy
// without authorities counts every verification, as before.
func TestForgedVerificationsDoNotCount(t *testing.T) {
	s := fixture(t, "authorities")
	kyiv90 := fix(50.45, 30.52, 90)
	for _, tc := range []struct {
		name   string
		v      skyfence.Verification
		reason Reason
	}{
		{"UA-MOD military", verifiedBy("UA-MOD", "UA", skyfence.Military), Ok},
		{"UA-MOD civil", verifiedBy("UA-MOD", "UA", skyfence.Civil), SpeedLimit},
		{"US-DOD military", verifiedBy("US-DOD", "UA", skyfence.Military), VerificationRequired},
		{"PL-MOD military for UA", verifiedBy("PL-MOD", "UA", skyfence.Military), VerificationRequired},
		{"UA-MOD military for PL", verifiedBy("UA-MOD", "PL", skyfence.Military), VerificationRequired},
	} {
		d := s.Decide(terminal("ut-x", "roam", "UA", tc.v), nil, kyiv90)
		if d.Reason != tc.reason {
			t.Errorf("%s at 90 km/h in Kyiv: %s (rule %s), want %s", tc.name, d.Reason, d.Rule, tc.reason)
		}
	}
	// An exemption by class counts only a class the authority grants.
	pl := compileText(t, `skyfence: policy/v1
plans: {roam: {}}
regions:
  PL: {status: available, licence: {authority: UKE, valid_from: 2021-06-01}}
authorities:
  PL-MOD: {region: PL, classes: [civil]}
rules:
  - {id: pl-cap, region: PL, speed_cap_kmh: 75, exempt: {classes: [military]}}
`, "")
	warsaw90 := fix(52.23, 21.01, 90)
	if d := pl.Decide(terminal("ut-p", "roam", "PL", verifiedBy("PL-MOD", "PL", skyfence.Military)), nil, warsaw90); d.Reason != SpeedLimit {
		t.Errorf("PL-MOD military, which PL-MOD may not grant: %s, want speed_limit", d.Reason)
	}
	legacy := compileText(t, `skyfence: policy/v1
plans: {roam: {}}
regions:
  PL: {status: available, licence: {authority: UKE, valid_from: 2021-06-01}}
rules:
  - {id: pl-cap, region: PL, speed_cap_kmh: 75, exempt: {classes: [military]}}
`, "")
	if d := legacy.Decide(terminal("ut-p", "roam", "PL", verifiedBy("ANY", "PL", skyfence.Military)), nil, warsaw90); d.Reason != Ok {
		t.Errorf("a policy without authorities: %s, want ok (every verification counts)", d.Reason)
	}
}
