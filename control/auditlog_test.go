package control_test

import (
	"crypto/ed25519"
	"encoding/json"
	"testing"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/audit"
	"github.com/skyfence/skyfence/bus"
	"github.com/skyfence/skyfence/control"
)

// TestCutoffNoticeCarriesProof: the cut-off event that carries the
// account holder's notice carries the audit entry of the action, a signed
// checkpoint and the entry's inclusion proof, which check with the log's
// key alone; the transparency report names the checkpoint it was made at.
func TestCutoffNoticeCarriesProof(t *testing.T) {
	forEachStore(t, func(t *testing.T, store skyfence.Store) {
		k := audit.NewSigner(ed25519.NewKeyFromSeed(make([]byte, 32)))
		store.SetAuditSealer(&audit.Sealer{Signer: k, Origin: "skyfence.test/audit"})
		if err := audit.Register(t.Context(), store, k); err != nil {
			t.Fatal(err)
		}
		e := newCaseEnv(t, store)
		e.terminal("t1", 52.52, 13.40)
		ana := as("ana", skyfence.RoleInvestigator)
		c, err := e.svc.OpenCase(ana, control.CaseInput{TerminalID: "t1", Title: "seen far from home"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.ActOnCase(ana, c.ID, control.ActionInput{Action: skyfence.ActionSuspend, Grounds: skyfence.GroundsSmuggling,
			Reason: "used in an embargoed region", Notice: "Your terminal was used where our licence does not allow service."}); err != nil {
			t.Fatal(err)
		}
		cut := e.events(bus.Cutoff)
		if len(cut) != 1 {
			t.Fatalf("cut-off events: %+v", cut)
		}
		b, _ := json.Marshal(cut[0].Data)
		var ev struct {
			Receipt *control.AuditReceipt `json:"audit_receipt"`
		}
		if err := json.Unmarshal(b, &ev); err != nil || ev.Receipt == nil {
			t.Fatalf("the cut-off event has no audit receipt: %v\n%s", err, b)
		}
		r := ev.Receipt
		cp, err := audit.OpenCheckpoint([]byte(r.Checkpoint), k.PublicKey())
		if err != nil {
			t.Fatal(err)
		}
		if r.Entry.Subject != c.ID || r.Entry.Action != "case.action" {
			t.Errorf("the receipt's entry: %+v, want the case's action", r.Entry)
		}
		if err := audit.CheckInclusion(r.Proof, cp, r.Entry); err != nil {
			t.Errorf("the receipt does not prove its entry: %v", err)
		}
		changed := *r.Entry
		changed.Reason = "routine check"
		if audit.CheckInclusion(r.Proof, cp, &changed) == nil {
			t.Error("the receipt proves an entry with another reason")
		}

		rep, err := e.svc.Transparency(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		at, err := audit.OpenCheckpoint([]byte(rep.AuditCheckpoint), k.PublicKey())
		if err != nil || at.Size < cp.Size {
			t.Errorf("the report's checkpoint: %+v, %v; want one at or after the cut-off's %d", at, err, cp.Size)
		}
	})
}
