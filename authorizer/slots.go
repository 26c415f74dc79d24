package authorizer

import (
	"fmt"
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/skyfence/skyfence"
)

// The in-memory state of every terminal is kept compact, for ten million
// terminals in well under 2 GB: slots are fixed-size structs without
// pointers, in chunks the garbage collector does not scan, found through a
// hash table from the terminal's id (its bytes kept once, in an arena) to
// the slot's index. The strings a slot refers to (account, cell, plan,
// decision rule, policy version...) are interned: a slot holds their ids.
// Reading takes no lock but the slot's own; only adding a terminal or a new
// string takes a lock.

// Chunked tables: up to maxChunks chunks of chunkLen entries, allocated as
// they are first used and never moved, so a pointer to an entry stays
// valid and a reader needs no lock.
const (
	chunkBits = 12
	chunkLen  = 1 << chunkBits
	maxChunks = 1 << 14 // 67 million entries
)

// table is a chunked array of T indexed by uint32. Entries are written
// under their owner's lock; reading an entry handed out through that lock
// (or another happens-before edge) needs none.
type table[T any] struct {
	chunks [maxChunks]atomic.Pointer[[chunkLen]T]
}

// at returns entry i, which must have been made by grow.
func (t *table[T]) at(i uint32) *T {
	return &t.chunks[i>>chunkBits].Load()[i&(chunkLen-1)]
}

// grow makes entry i exist; the owner's lock held.
func (t *table[T]) grow(i uint32) {
	c := &t.chunks[i>>chunkBits]
	if c.Load() == nil {
		c.Store(new([chunkLen]T))
	}
}

// arena holds the bytes of terminal ids, appended and never moved, in
// chunks of 1 MiB; a reference is a uint32 (chunk << 20 | offset).
type arena struct {
	chunks [1 << 12]atomic.Pointer[[1 << 20]byte]
	next   uint32 // where the next string goes; the owner's lock held
}

// add copies s (at most 255 bytes) into the arena and returns its
// reference; the owner's lock held.
func (a *arena) add(s string) uint32 {
	const size = 1 << 20
	if int(a.next&(size-1))+len(s) > size {
		a.next = (a.next>>20 + 1) << 20
	}
	if a.next>>20 >= uint32(len(a.chunks)) {
		panic("authorizer: terminal id arena full (4 GiB)")
	}
	c := &a.chunks[a.next>>20]
	if c.Load() == nil {
		c.Store(new([size]byte))
	}
	ref := a.next
	copy(c.Load()[ref&(size-1):], s)
	a.next += uint32(len(s))
	return ref
}

// str returns the n bytes at ref as a string, without copying: arena
// bytes never change.
func (a *arena) str(ref uint32, n uint8) string {
	if n == 0 {
		return ""
	}
	return unsafe.String(&a.chunks[ref>>20].Load()[ref&(1<<20-1)], n)
}

// strTable interns strings: each distinct string gets an id, "" is 0.
type strTable struct {
	mu  sync.Mutex
	ids map[string]uint32
	n   uint32 // ids handed out, counting 0
	tab table[string]
}

// id returns the id of s, interning it if it is new.
func (t *strTable) id(s string) uint32 {
	if s == "" {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if id, ok := t.ids[s]; ok {
		return id
	}
	if t.ids == nil {
		t.ids, t.n = make(map[string]uint32), 1
	}
	id := t.n
	t.tab.grow(id)
	s = strings.Clone(s) // not the caller's buffer
	*t.tab.at(id) = s
	t.ids[s] = id
	t.n++
	return id
}

// idIfRoom is id, but a new string is interned only while the table holds
// fewer than limit; past it, a new string gets 0 ("") and ok false.
func (t *strTable) idIfRoom(s string, limit uint32) (id uint32, ok bool) {
	if s == "" {
		return 0, true
	}
	t.mu.Lock()
	if id, ok := t.ids[s]; ok {
		t.mu.Unlock()
		return id, true
	}
	full := t.n >= limit
	t.mu.Unlock()
	if full {
		return 0, false
	}
	return t.id(s), true
}

// str returns the string of id.
func (t *strTable) str(id uint32) string {
	if id == 0 {
		return ""
	}
	return *t.tab.at(id)
}

// indexShards splits the id index so that growing it copies one shard at
// a time.
const indexShards = 64

// idTable is one shard's open-addressing table: an entry is the top 32
// bits of the id's hash and the slot's index + 1 (0: empty); linear
// probing from the hash's low bits. Entries are only added, and a full
// table is replaced by one twice its size.
type idTable struct {
	mask uint32
	e    []atomic.Uint64
}

// slotStore holds the slots and finds them by terminal id.
type slotStore struct {
	mu    sync.Mutex // adding a slot
	n     atomic.Uint32
	slots table[slot]
	ids   arena
	seed  maphash.Seed
	index [indexShards]struct {
		tab atomic.Pointer[idTable]
		n   uint32 // entries; mu held
	}

	// The tables behind the slots' records and decisions: interned
	// strings, shared profiles (from 1), and the terminals'
	// verifications (from 1).
	strs     strTable
	rmu      sync.Mutex
	profIDs  map[profileKey]uint32
	profiles table[profile]
	nver     uint32 // the last verification entry in use
	vers     table[verif]

	// cellsNotKept counts serving cells not kept in a last state because
	// maxInterned strings were interned already.
	cellsNotKept atomic.Uint64
}

// maxInterned bounds the interned strings a fix's serving cell may add to:
// a million distinct cells and beams is far beyond a real constellation's.
const maxInterned = 1 << 20

// CellsNotKept returns how many fixes' serving cells were not kept in the
// terminals' last states because the bound on distinct cells was reached.
func (c *Core) CellsNotKept() uint64 { return c.slots.cellsNotKept.Load() }

// get returns the slot of id, or nil.
func (st *slotStore) get(id string) *slot {
	h := maphash.String(st.seed, id)
	tab := st.index[h%indexShards].tab.Load()
	if tab == nil {
		return nil
	}
	tag := uint32(h >> 32)
	for i := tag & tab.mask; ; i = (i + 1) & tab.mask {
		e := tab.e[i].Load()
		if e == 0 {
			return nil
		}
		if uint32(e>>32) == tag {
			if sl := st.slots.at(uint32(e) - 1); st.ids.str(sl.id, sl.idLen) == id {
				return sl
			}
		}
	}
}

// getBatch sets out[i] to the slot of fixes[i]'s terminal, or nil: get
// for up to locateChunk fixes at once, in passes over them all so that
// their loads from memory (the index entry, the slot, the id's bytes: each
// likely a cache miss with millions of terminals) overlap instead of
// following one another.
func (st *slotStore) getBatch(fixes []skyfence.Fix, out []*slot) {
	var tags, entries [locateChunk]uint32
	for i := range fixes {
		h := maphash.String(st.seed, fixes[i].TerminalID)
		tags[i], entries[i] = uint32(h>>32), 0
		if tab := st.index[h%indexShards].tab.Load(); tab != nil {
			if e := tab.e[tags[i]&tab.mask].Load(); uint32(e>>32) == tags[i] {
				entries[i] = uint32(e)
			}
		}
	}
	var refs [locateChunk]uint32
	var lens [locateChunk]uint8
	for i := range fixes {
		out[i] = nil
		if entries[i] != 0 {
			out[i] = st.slots.at(entries[i] - 1)
			refs[i], lens[i] = out[i].id, out[i].idLen
		}
	}
	for i := range fixes {
		if out[i] == nil || st.ids.str(refs[i], lens[i]) != fixes[i].TerminalID {
			// Not found at the first place probed: the long way.
			out[i] = st.get(fixes[i].TerminalID)
		}
	}
}

// add returns the slot of id, making it if there is none. id is at most
// 255 bytes (terminal ids are checked for 128 when they are made).
func (st *slotStore) add(id string) *slot {
	if len(id) > 255 {
		panic(fmt.Sprintf("authorizer: terminal id of %d bytes, more than a slot holds", len(id)))
	}
	if sl := st.get(id); sl != nil {
		return sl
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if sl := st.get(id); sl != nil {
		return sl
	}
	i := st.n.Load()
	if i == maxChunks*chunkLen {
		panic("authorizer: too many terminals")
	}
	st.slots.grow(i)
	sl := st.slots.at(i)
	*sl = slot{id: st.ids.add(id), idLen: uint8(len(id)), at: noTime, decided: noTime}
	st.n.Store(i + 1)
	h := maphash.String(st.seed, id)
	sh := &st.index[h%indexShards]
	tab := sh.tab.Load()
	if tab == nil || (sh.n+1)*8 > uint32(len(tab.e))*7 {
		tab = grown(tab)
		sh.tab.Store(tab)
	}
	tag := uint32(h >> 32)
	entry := uint64(tag)<<32 | uint64(i+1)
	for j := tag & tab.mask; ; j = (j + 1) & tab.mask {
		if tab.e[j].Load() == 0 {
			tab.e[j].Store(entry)
			break
		}
	}
	sh.n++
	return sl
}

// grown returns a table twice the size of old (64 entries if nil) with
// its entries.
func grown(old *idTable) *idTable {
	size := 64
	if old != nil {
		size = 2 * len(old.e)
	}
	t := &idTable{mask: uint32(size - 1), e: make([]atomic.Uint64, size)}
	if old == nil {
		return t
	}
	for k := range old.e {
		e := old.e[k].Load()
		if e == 0 {
			continue
		}
		for j := uint32(e>>32) & t.mask; ; j = (j + 1) & t.mask {
			if t.e[j].Load() == 0 {
				t.e[j].Store(e)
				break
			}
		}
	}
	return t
}

// each calls fn with every slot, in the order they were made, until fn
// returns false.
func (st *slotStore) each(fn func(sl *slot) bool) {
	n := st.n.Load()
	for i := uint32(0); i < n; i++ {
		if !fn(st.slots.at(i)) {
			return
		}
	}
}
