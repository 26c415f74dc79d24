package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/skyfence/skyfence"
)

// claim claims a place in the cell for the terminal in a transaction of
// its own.
func claim(t *testing.T, s skyfence.Store, cell, id string) (c skyfence.Claim) {
	t.Helper()
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) (err error) {
		c, err = tx.ClaimCell(ctx, cell, id)
		return err
	})
	return c
}

// release releases the terminal's place in the cell in a transaction of its
// own.
func release(t *testing.T, s skyfence.Store, cell, id string) (next string) {
	t.Helper()
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) (err error) {
		next, err = tx.ReleaseCell(ctx, cell, id)
		return err
	})
	return next
}

// setCapacity sets the cell's capacity in a transaction of its own.
func setCapacity(t *testing.T, s skyfence.Store, cell string, capacity int) {
	t.Helper()
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error { return tx.SetCellCapacity(ctx, cell, capacity) })
}

// cellStep is one step of a cell scenario: a claim and its outcome, a
// release and the next terminal it names, a check of the cell's counts, or
// a change of its capacity (wantCell.Capacity).
type cellStep struct {
	op, id   string // "claim", "release", "find" or "capacity"
	want     skyfence.Claim
	wantNext string
	wantCell skyfence.Cell
}

// granted and waiting are the outcomes of a claim.
var granted = skyfence.Claim{Granted: true}

func waiting(pos int) skyfence.Claim { return skyfence.Claim{Position: pos} }

// runCell runs the steps over one cell.
func runCell(t *testing.T, s skyfence.Store, cell string, steps []cellStep) {
	t.Helper()
	for i, st := range steps {
		switch st.op {
		case "claim":
			same(t, fmt.Sprintf("step %d: ClaimCell(%s)", i, st.id), claim(t, s, cell, st.id), st.want)
		case "release":
			same(t, fmt.Sprintf("step %d: ReleaseCell(%s)", i, st.id), release(t, s, cell, st.id), st.wantNext)
		case "find":
			got, err := s.FindCell(t.Context(), cell)
			if err != nil {
				t.Fatalf("step %d: FindCell: %v", i, err)
			}
			st.wantCell.ID = cell
			same(t, fmt.Sprintf("step %d: FindCell", i), got, &st.wantCell)
		case "capacity":
			setCapacity(t, s, cell, st.wantCell.Capacity)
		}
	}
}

func testCellFIFO(t *testing.T, s skyfence.Store) {
	terminals(t, s, "t1", "t2", "t3", "t4", "t5", "t6")
	setCapacity(t, s, "c555.728", 2)
	runCell(t, s, "c555.728", []cellStep{
		{op: "claim", id: "t1", want: granted},
		{op: "claim", id: "t2", want: granted},
		{op: "claim", id: "t3", want: waiting(1)},
		{op: "claim", id: "t4", want: waiting(2)},
		{op: "claim", id: "t5", want: waiting(3)},
		{op: "claim", id: "t4", want: waiting(2)}, // asking again keeps the place
		{op: "claim", id: "t1", want: granted},    // and an active one stays active
		{op: "find", wantCell: skyfence.Cell{Capacity: 2, Active: 2, Waiting: 3}},
		{op: "claim", id: "t6", want: waiting(4)}, // a newcomer goes to the end
		{op: "release", id: "t1", wantNext: "t3"}, // a place is free: the head may take it
		{op: "claim", id: "t5", want: waiting(3)}, // but no one behind the head
		{op: "claim", id: "t3", want: granted},
		{op: "find", wantCell: skyfence.Cell{Capacity: 2, Active: 2, Waiting: 3}},
		{op: "release", id: "t4", wantNext: ""}, // leaving the waitlist frees no place
		{op: "claim", id: "t5", want: waiting(1)},
		{op: "release", id: "t2", wantNext: "t5"},
		{op: "claim", id: "t5", want: granted},
		{op: "release", id: "t1", wantNext: ""}, // not in the cell: nothing changes
		{op: "release", id: "t3", wantNext: "t6"},
		{op: "find", wantCell: skyfence.Cell{Capacity: 2, Active: 1, Waiting: 1}},
	})
	same(t, "ReleaseCell(unknown cell)", release(t, s, "c0.0", "t1"), "")

	runCell(t, s, "c1.1", []cellStep{ // never given a capacity: unlimited
		{op: "claim", id: "t1", want: granted},
		{op: "claim", id: "t2", want: granted},
		{op: "claim", id: "t3", want: granted},
		{op: "claim", id: "t4", want: granted},
		{op: "claim", id: "t5", want: granted},
		{op: "find", wantCell: skyfence.Cell{Capacity: 0, Active: 5}},
	})
}

func testCellCapacityChange(t *testing.T, s skyfence.Store) {
	terminals(t, s, "t1", "t2", "t3", "t4")
	runCell(t, s, "c7.7", []cellStep{
		{op: "capacity", wantCell: skyfence.Cell{Capacity: 1}},
		{op: "claim", id: "t1", want: granted},
		{op: "claim", id: "t2", want: waiting(1)},
		{op: "claim", id: "t3", want: waiting(2)},
		{op: "capacity", wantCell: skyfence.Cell{Capacity: 3}},
		{op: "claim", id: "t4", want: waiting(3)}, // the two new places are the waiters'
		{op: "claim", id: "t3", want: granted},    // room for t2 and t3: t3 need not wait for t2
		{op: "claim", id: "t2", want: granted},
		{op: "claim", id: "t4", want: waiting(1)},
		{op: "capacity", wantCell: skyfence.Cell{Capacity: 1}},
		{op: "find", wantCell: skyfence.Cell{Capacity: 1, Active: 3, Waiting: 1}}, // no one evicted
		{op: "release", id: "t1", wantNext: ""},
		{op: "capacity", wantCell: skyfence.Cell{Capacity: 0}},
		{op: "release", id: "t1", wantNext: "t4"},
		{op: "claim", id: "t4", want: granted},
		{op: "find", wantCell: skyfence.Cell{Capacity: 0, Active: 3}},
	})
}

func testCellErrors(t *testing.T, s skyfence.Store) {
	terminals(t, s, "t1")
	_, err := s.FindCell(t.Context(), "c9.9")
	wantCode(t, "FindCell(never used)", err, skyfence.ENOTFOUND)
	for _, tc := range []struct {
		name, code string
		fn         func(ctx context.Context, tx skyfence.Tx) error
	}{
		{"SetCellCapacity(-1)", skyfence.EINVALID, func(ctx context.Context, tx skyfence.Tx) error {
			return tx.SetCellCapacity(ctx, "c9.9", -1)
		}},
		{"SetCellCapacity(no cell)", skyfence.EINVALID, func(ctx context.Context, tx skyfence.Tx) error {
			return tx.SetCellCapacity(ctx, "", 1)
		}},
		{"ClaimCell(unknown terminal)", skyfence.ENOTFOUND, func(ctx context.Context, tx skyfence.Tx) error {
			_, err := tx.ClaimCell(ctx, "c9.9", "nope")
			return err
		}},
		{"ClaimCell(no cell)", skyfence.EINVALID, func(ctx context.Context, tx skyfence.Tx) error {
			_, err := tx.ClaimCell(ctx, "", "t1")
			return err
		}},
	} {
		txCode(t, s, tc.name, tc.code, tc.fn)
	}
}
