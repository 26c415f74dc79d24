package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/skyfence/skyfence"
)

// RunShared checks what must hold across several handles on one database,
// as several processes would hold them (each handle its own connections):
// appends from all of them form one gapless chain, claims from all of them
// never grant more places than a cell has, and of concurrent
// compare-and-set updates (of a terminal's status, of a policy change's
// revision) exactly one succeeds. The database must be empty.
func RunShared(t *testing.T, stores []skyfence.Store) {
	t.Run("AuditChain", func(t *testing.T) {
		appendConcurrently(t, stores, 4*len(stores), 200)
		CheckChain(t, stores[len(stores)-1], 200)
	})
	t.Run("CellCapacity", func(t *testing.T) {
		const claimants, capacity = 40, 7
		ids := make([]string, claimants)
		for i := range ids {
			ids[i] = fmt.Sprintf("t%02d", i)
		}
		terminals(t, stores[0], ids...)
		setCapacity(t, stores[0], "c3.3", capacity)
		claims := make([]skyfence.Claim, claimants)
		errs := make([]error, claimants)
		var wg sync.WaitGroup
		for i, id := range ids {
			s := stores[i%len(stores)]
			wg.Go(func() {
				errs[i] = s.Tx(t.Context(), func(tx skyfence.Tx) (err error) {
					claims[i], err = tx.ClaimCell(t.Context(), "c3.3", id)
					return err
				})
			})
		}
		wg.Wait()
		positions := map[int]bool{}
		grants := 0
		for i, c := range claims {
			switch {
			case errs[i] != nil:
				t.Fatalf("ClaimCell(%s): %v", ids[i], errs[i])
			case c.Granted:
				grants++
			default:
				positions[c.Position] = true
			}
		}
		if grants != capacity {
			t.Errorf("%d claims granted, want the capacity, %d", grants, capacity)
		}
		for p := 1; p <= claimants-capacity; p++ {
			if !positions[p] {
				t.Errorf("no claimant has waitlist position %d; positions: %v", p, positions)
			}
		}
		c, err := stores[1%len(stores)].FindCell(t.Context(), "c3.3")
		if err != nil {
			t.Fatalf("FindCell: %v", err)
		}
		same(t, "FindCell", c, &skyfence.Cell{ID: "c3.3", Capacity: capacity, Active: capacity, Waiting: claimants - capacity})
	})
	t.Run("TerminalIfStatus", func(t *testing.T) {
		// Every goroutine activates the inactive terminal if it is still
		// inactive: one does, the others conflict.
		mustTx(t, stores[0], func(ctx context.Context, tx skyfence.Tx) error {
			if err := tx.CreateAccount(ctx, &skyfence.Account{ID: "acct-cas"}); err != nil {
				return err
			}
			return tx.CreateTerminal(ctx, &skyfence.Terminal{ID: "ut-cas", AccountID: "acct-cas"})
		})
		inactive, active := skyfence.Inactive, skyfence.Active
		n := 4 * len(stores)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			s := stores[i%len(stores)]
			cell := fmt.Sprint("c", i)
			wg.Go(func() {
				errs[i] = s.Tx(t.Context(), func(tx skyfence.Tx) error {
					_, err := tx.UpdateTerminal(t.Context(), "ut-cas", skyfence.TerminalUpdate{Status: &active, Cell: &cell, IfStatus: &inactive}, t0)
					return err
				})
			})
		}
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch skyfence.ErrorCode(err) {
			case "":
				if winner >= 0 {
					t.Errorf("activations %d and %d of the inactive terminal both succeeded", winner, i)
				}
				winner = i
			case skyfence.ECONFLICT:
			default:
				t.Errorf("activation %d: %v, want success or code %q", i, err, skyfence.ECONFLICT)
			}
		}
		got, err := stores[1%len(stores)].FindTerminalByID(t.Context(), "ut-cas")
		switch {
		case err != nil:
			t.Fatalf("FindTerminalByID: %v", err)
		case winner < 0:
			t.Errorf("no activation succeeded")
		case got.Status != active || got.Cell != fmt.Sprint("c", winner):
			t.Errorf("terminal after the activations: %s in cell %q, want active in the winner's, c%d", got.Status, got.Cell, winner)
		}
	})
	t.Run("ChangeRevision", func(t *testing.T) { changeRace(t, stores) })
}
