package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
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

// cellPages pages through f with f.Limit, following each page's next
// cursor until there is none (f.Limit 0: 100; over 1000: 1000). It fails
// the test on an error, a page over the limit, a short page followed by a
// cursor, or a cursor that is not the page's last id.
func cellPages(t *testing.T, r skyfence.Reader, f skyfence.CellFilter) (all []*skyfence.Cell, sizes []int) {
	t.Helper()
	limit := f.Limit
	switch {
	case limit == 0:
		limit = 100
	case limit > 1000:
		limit = 1000
	}
	for {
		page, next, err := r.FindCells(t.Context(), f)
		if err != nil {
			t.Fatalf("FindCells(%+v): %v", f, err)
		}
		if len(page) > limit {
			t.Fatalf("FindCells(%+v): %d cells, over the limit %d", f, len(page), limit)
		}
		all, sizes = append(all, page...), append(sizes, len(page))
		if next == "" {
			return all, sizes
		}
		if len(page) < limit || next != page[len(page)-1].ID {
			t.Fatalf("FindCells(%+v): cursor %q after a page of %d ending %v", f, next, len(page), show(page))
		}
		if len(sizes) > 1000 {
			t.Fatalf("FindCells(%+v): no end after 1000 pages", f)
		}
		f.After = next
	}
}

func testFindCells(t *testing.T, s skyfence.Store) {
	terminals(t, s, "t1", "t2", "t3", "t4")
	got, _, err := s.FindCells(t.Context(), skyfence.CellFilter{})
	if err != nil || len(got) != 0 {
		t.Fatalf("FindCells in an empty store: got %v, %v; want none", show(got), err)
	}

	// Set up in an order other than the ids'. Ids sort as bytes: "c10.1"
	// before "c2.2".
	setCapacity(t, s, "c2.2", 2) // exactly full
	claim(t, s, "c2.2", "t1")
	claim(t, s, "c2.2", "t2")

	setCapacity(t, s, "c10.1", 1) // full, and some waiting
	claim(t, s, "c10.1", "t1")
	claim(t, s, "c10.1", "t2")
	claim(t, s, "c10.1", "t3")

	setCapacity(t, s, "c3.3", 1) // waiting, but room since the capacity rose
	claim(t, s, "c3.3", "t1")
	claim(t, s, "c3.3", "t2")
	claim(t, s, "c3.3", "t3")
	setCapacity(t, s, "c3.3", 3)

	for _, id := range []string{"t1", "t2", "t3", "t4"} { // never given a capacity: unlimited
		claim(t, s, "c1.1", id)
	}
	setCapacity(t, s, "c1.2", 0) // unlimited and empty: never full

	setCapacity(t, s, "c4.4", 3) // over capacity since it was lowered: full
	claim(t, s, "c4.4", "t1")
	claim(t, s, "c4.4", "t2")
	claim(t, s, "c4.4", "t3")
	setCapacity(t, s, "c4.4", 1)

	setCapacity(t, s, "c5.5", 2) // was full, one released: room again
	claim(t, s, "c5.5", "t1")
	claim(t, s, "c5.5", "t2")
	release(t, s, "c5.5", "t1")

	setCapacity(t, s, "c6.6", 5) // a capacity, no one in it

	cells := []*skyfence.Cell{
		{ID: "c1.1", Capacity: 0, Active: 4},
		{ID: "c1.2", Capacity: 0},
		{ID: "c10.1", Capacity: 1, Active: 1, Waiting: 2},
		{ID: "c2.2", Capacity: 2, Active: 2},
		{ID: "c3.3", Capacity: 3, Active: 1, Waiting: 2},
		{ID: "c4.4", Capacity: 1, Active: 3},
		{ID: "c5.5", Capacity: 2, Active: 1},
		{ID: "c6.6", Capacity: 5},
	}
	full := []*skyfence.Cell{cells[2], cells[3], cells[5]}

	got, _, err = s.FindCells(t.Context(), skyfence.CellFilter{})
	if err != nil {
		t.Fatalf("FindCells: %v", err)
	}
	same(t, "FindCells(all)", got, cells)
	got, _, err = s.FindCells(t.Context(), skyfence.CellFilter{Full: true})
	if err != nil {
		t.Fatalf("FindCells(full): %v", err)
	}
	same(t, "FindCells(full)", got, full)

	for _, f := range []skyfence.CellFilter{
		{Limit: 1},
		{Limit: 3},
		{Limit: 7}, // exactly one full page: no cursor after it
		{Limit: 8},
		{After: "c10.1", Limit: 2},
		{After: "c", Limit: 2},
		{After: "c6.6"},
		{After: "d"},
		{Full: true, Limit: 1},
		{Full: true, Limit: 2},
		{Full: true, After: "c10.1", Limit: 1},
		{Full: true, After: "c2.2"},
		{Full: true, After: "c4.4"},
	} {
		var want []*skyfence.Cell
		for _, c := range cells {
			isFull := c.Capacity > 0 && c.Active >= c.Capacity
			if c.ID > f.After && (!f.Full || isFull) {
				want = append(want, c)
			}
		}
		got, _ := cellPages(t, s, f)
		same(t, fmt.Sprintf("FindCells(%+v) by pages", f), got, want)
	}

	_, _, err = s.FindCells(t.Context(), skyfence.CellFilter{Limit: -1})
	wantCode(t, "FindCells(limit -1)", err, skyfence.EINVALID)

	// Inside a transaction, FindCells sees the transaction's writes: a
	// claim that fills c5.5.
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error {
		if _, err := tx.ClaimCell(ctx, "c5.5", "t4"); err != nil {
			return err
		}
		got, _, err := tx.FindCells(ctx, skyfence.CellFilter{Full: true, After: "c4.4"})
		if err != nil {
			return err
		}
		same(t, "FindCells(full, after c4.4) in a transaction", got, []*skyfence.Cell{{ID: "c5.5", Capacity: 2, Active: 2}})
		return nil
	})
}

func testFindCellsPaging(t *testing.T, s skyfence.Store) {
	// 1100 cells, every third full (capacity 1, one active), set up in a
	// shuffled order.
	const n = 1100
	terminals(t, s, "t1")
	var ids []string
	for i := range n {
		ids = append(ids, fmt.Sprintf("c%d.%d", i/40, i%40))
	}
	shuffled := slices.Clone(ids)
	rand.New(rand.NewPCG(3, 4)).Shuffle(n, func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error {
		for i, id := range shuffled {
			if err := tx.SetCellCapacity(ctx, id, 1+i%3); err != nil {
				return err
			}
		}
		return nil
	})
	var cells, full []*skyfence.Cell
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error {
		for i, id := range shuffled {
			c := &skyfence.Cell{ID: id, Capacity: 1 + i%3}
			if i%3 == 0 {
				if _, err := tx.ClaimCell(ctx, id, "t1"); err != nil {
					return err
				}
				c.Active = 1
			}
			cells = append(cells, c)
		}
		return nil
	})
	slices.SortFunc(cells, func(a, b *skyfence.Cell) int { return strings.Compare(a.ID, b.ID) })
	for _, c := range cells {
		if c.Active == c.Capacity {
			full = append(full, c)
		}
	}

	all, sizes := cellPages(t, s, skyfence.CellFilter{})
	same(t, "page sizes with the default limit", sizes, []int{100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100})
	same(t, "every cell, paged by 100", all, cells)
	all, sizes = cellPages(t, s, skyfence.CellFilter{Limit: 5000})
	same(t, "page sizes with limit 5000 (taken as 1000)", sizes, []int{1000, 100})
	same(t, "every cell, paged by 1000", all, cells)
	all, sizes = cellPages(t, s, skyfence.CellFilter{Limit: 1000})
	same(t, "page sizes with limit 1000", sizes, []int{1000, 100})
	all, sizes = cellPages(t, s, skyfence.CellFilter{Full: true, Limit: 150})
	same(t, "full cells, page sizes with limit 150", sizes, []int{150, 150, 67})
	same(t, "full cells, paged by 150", all, full)
}
