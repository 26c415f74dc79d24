package skyfence

import (
	"context"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// Account is a customer: whoever pays for a terminal's service (for a
// sponsored plan, the sponsor).
type Account struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// TerminalFilter selects terminals. Zero fields match everything. Results
// are ordered by id; After is the cursor (the previous page's next cursor).
type TerminalFilter struct {
	AccountID string
	Country   string
	Plan      string
	Status    *TerminalStatus
	After     string
	Limit     int // 0 means 100; at most 1000
}

// TerminalUpdate changes a terminal; nil fields stay as they are.
type TerminalUpdate struct {
	Status *TerminalStatus
	Plan   *string
	Groups *[]string
	Cell   *string
	// IfStatus, if set, makes the update a compare-and-set: it fails with
	// ECONFLICT unless the terminal's status is still *IfStatus. (PostgreSQL
	// runs transactions at READ COMMITTED, so a read-check-update in a Tx
	// needs this to be safe from a concurrent change.)
	IfStatus *TerminalStatus
}

// CellFilter selects capacity cells. Results are ordered by id; After is
// the cursor (the previous page's next cursor).
type CellFilter struct {
	// Full selects only cells with a capacity that hold as many active
	// terminals as it allows (sold out).
	Full  bool
	After string
	Limit int // 0 means 100; at most 1000
}

// AlertRecord is an alert raised by detection, as stored: the fields to
// select by, and the whole alert as JSON (package detect's Alert).
type AlertRecord struct {
	ID         string
	TerminalID string
	Detector   string
	Severity   int
	Score      float64
	FirstSeen  time.Time
	LastSeen   time.Time
	Region     string // where the last firing fix was, if known
	Incident   string // the GNSS interference incident it carries, if any
	Explained  bool   // whether that incident explains it (detect.Alert.Explained)
	Data       []byte // the alert as JSON, stored byte for byte
}

// CursorAfter is the cursor of the listing of alerts after a: alerts come
// most recently seen first (Cursor.At is LastSeen). An alert that fires
// again while a listing is paged moves to its top, as an updated case does.
func (a *AlertRecord) CursorAfter() Cursor { return Cursor{At: a.LastSeen, ID: a.ID} }

// AlertFilter selects alerts; zero fields match everything. Results come
// most recently seen first (LastSeen descending, then ID descending).
type AlertFilter struct {
	TerminalID string
	Detector   string
	// Severities selects alerts of any of these severities (package
	// detect's: 0 low, 1 medium, 2 high); empty: every severity.
	Severities []int
	Region     string
	Incident   string
	// Explained, if set, selects the alerts an incident explains (true)
	// or those none explains (false), as AlertRecord.Explained says: an
	// alert can carry the incident whose area it was raised in and still
	// not be explained by it.
	Explained *bool
	// From and To select the alerts seen at some time of [From, To):
	// LastSeen at or after From and FirstSeen (LastSeen if it has none)
	// before To. Zero: no bound.
	From, To time.Time
	After    Cursor
	Limit    int // 0 means 100; at most 1000
}

// ChangeFilter selects policy changes; the zero value selects all.
// Results come newest first (by CreatedAt, then by id).
type ChangeFilter struct {
	State ChangeState
	// After continues a listing after the change it names, the last of the
	// page before; the zero value starts at the newest.
	After Cursor
	Limit int // 0 means 100; at most 1000
}

// VerificationFilter selects verifications; zero fields match everything.
type VerificationFilter struct {
	TerminalID string
	Region     string
}

// TerminalState is the last thing known about a terminal's movement and the
// last decision for it, kept so that decisions survive a restart and the
// impact of a policy change can be previewed over every terminal.
type TerminalState struct {
	TerminalID string    `json:"terminal_id"`
	Fix        Fix       `json:"fix"`
	Allow      bool      `json:"allow"`
	Reason     string    `json:"reason"`
	Rule       string    `json:"rule"`
	Country    string    `json:"country"`
	Policy     string    `json:"policy_version"`
	DecidedAt  time.Time `json:"decided_at"`
	// Track is the decision engine's memory (policy.Track), opaque here.
	Track []byte `json:"-"`
}

// Cell is one cell of the capacity grid (see CellOf) with how many
// terminals it may hold active and how many it holds.
type Cell struct {
	ID       string `json:"id"`
	Capacity int    `json:"capacity"` // 0: unlimited
	Active   int    `json:"active"`
	Waiting  int    `json:"waiting"`
}

// Claim is the outcome of asking for a place in a cell.
type Claim struct {
	Granted  bool // the terminal now counts against the cell
	Position int  // if not granted: 1-based place on the cell's waitlist
}

// Reader reads the store. Every method is safe outside a transaction and
// returns *Error with ENOTFOUND for a missing object.
//
// Every listing that grows with the fleet or with time pages one way: its
// filter's After and Limit in, the page and the next page's cursor out,
// the zero cursor after the last page. The cursor is the listing's order:
// the last id for listings in id order (terminals, cells), a Cursor for
// those newest first (alerts, incidents, cases, changes). The audit log is
// read by sequence number instead (FindAudit, QueryAudit), and the short
// lists an admin reads whole (keys, persons, a terminal's verifications)
// are not paged.
type Reader interface {
	FindAccountByID(ctx context.Context, id string) (*Account, error)
	FindTerminalByID(ctx context.Context, id string) (*Terminal, error)
	// FindTerminals returns a page of terminals and the cursor of the next
	// page ("" at the end).
	FindTerminals(ctx context.Context, f TerminalFilter) ([]*Terminal, string, error)
	// ForEachTerminal calls fn for every terminal, verifications included,
	// in id order; it stops at fn's first error.
	ForEachTerminal(ctx context.Context, fn func(*Terminal) error) error
	FindVerifications(ctx context.Context, f VerificationFilter) ([]*Verification, error)
	FindVerificationByID(ctx context.Context, id string) (*Verification, error)
	FindKeyByHash(ctx context.Context, hash []byte) (*APIKey, error)
	FindKeyByID(ctx context.Context, id string) (*APIKey, error)
	FindKeys(ctx context.Context) ([]*APIKey, error)
	// FindPersonByID and FindPersonByHandle (a handle in normal form,
	// NormalizeHandle) return a person; both, and FindPersons (every
	// person, in handle order), return EINTERNAL for a stored person whose
	// handle is not in normal form (written around the store).
	FindPersonByID(ctx context.Context, id string) (*Person, error)
	FindPersonByHandle(ctx context.Context, handle string) (*Person, error)
	FindPersons(ctx context.Context) ([]*Person, error)
	FindCell(ctx context.Context, id string) (*Cell, error)
	// FindCells returns a page of cells that have a row (a capacity set,
	// or a terminal counted or waiting), ordered by id, and the cursor of
	// the next page ("" at the end).
	FindCells(ctx context.Context, f CellFilter) ([]*Cell, string, error)
	// ForEachState calls fn for every terminal's last state.
	ForEachState(ctx context.Context, fn func(*TerminalState) error) error
	FindState(ctx context.Context, terminalID string) (*TerminalState, error)
	// FindAudit returns audit entries with Seq >= from, in order, at most
	// limit (0: all).
	FindAudit(ctx context.Context, from int64, limit int) ([]*AuditEntry, error)
	// QueryAudit streams the audit entries q selects, in q's order, to fn;
	// it stops at fn's first error and returns it. The stores index what
	// q selects by, so a query reads what it selects, not the whole log.
	QueryAudit(ctx context.Context, q AuditQuery, fn func(*AuditEntry) error) error
	// AuditHead returns the last entry's Seq and Hash (0 and 32 zero bytes
	// for an empty log).
	AuditHead(ctx context.Context) (int64, []byte, error)
	// ReadAuditHashes returns the audit tree's stored hashes at the
	// indexes (tlog.StoredHashIndex): a tlog.HashReader. ENOTFOUND for an
	// index the tree does not have yet.
	ReadAuditHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error)
	// FindAuditCheckpoint returns the checkpoint of the tree of size
	// entries, or the latest if size is 0 (ENOTFOUND if there is none).
	FindAuditCheckpoint(ctx context.Context, size int64) (*AuditCheckpoint, error)
	// ForEachAuditCheckpoint calls fn for every checkpoint with Size >=
	// from, in order of size; it stops at fn's first error.
	ForEachAuditCheckpoint(ctx context.Context, from int64, fn func(*AuditCheckpoint) error) error
	// FindAuditCosignatures returns the cosignatures of the checkpoint of
	// size entries, or of the latest cosigned checkpoint for size 0 (none:
	// an empty list).
	FindAuditCosignatures(ctx context.Context, size int64) ([]*AuditCosignature, error)
	// FindAlerts returns a page of stored alerts, most recently seen
	// first, and where the next page starts (the zero cursor after the
	// last page).
	FindAlerts(ctx context.Context, f AlertFilter) ([]*AlertRecord, Cursor, error)
	// FindIncidents returns a page of stored GNSS interference incidents,
	// newest (by Start, then id) first, and where the next page starts.
	FindIncidents(ctx context.Context, f IncidentFilter) ([]*Incident, Cursor, error)
	// FindIncidentByID returns the incident, or ENOTFOUND.
	FindIncidentByID(ctx context.Context, id string) (*Incident, error)
	FindChangeByID(ctx context.Context, id string) (*PolicyChange, error)
	FindCaseByID(ctx context.Context, id string) (*Case, error)
	// FindCases returns a page of cases, most recently updated first, and
	// where the next page starts (the zero cursor after the last page).
	FindCases(ctx context.Context, f CaseFilter) ([]*Case, Cursor, error)
	// FindChanges returns a page of policy changes, newest (by CreatedAt,
	// then id) first, and where the next page starts (the zero cursor after
	// the last page).
	FindChanges(ctx context.Context, f ChangeFilter) ([]*PolicyChange, Cursor, error)
}

// Tx is a transaction: its changes and its audit entries are committed
// together or not at all. Create methods return ECONFLICT for an existing
// id (or key hash), ENOTFOUND for a missing reference (a terminal's
// account, a verification's terminal) and EINVALID for invalid input.
// Stored times must lie in 1678-2262 (nanoseconds in 64 bits); "never" is
// the zero time.
//
// Isolation: SQLite runs transactions one at a time; PostgreSQL at READ
// COMMITTED. Guard read-check-update sequences with the compare-and-set
// fields (TerminalUpdate.IfStatus, PolicyChange.Revision). Append audit
// entries last in a transaction: the append takes the chain's lock, and
// taking other locks after it invites deadlocks. Callbacks of ForEach
// methods must not call back into the store.
type Tx interface {
	Reader
	CreateAccount(ctx context.Context, a *Account) error
	CreateTerminal(ctx context.Context, t *Terminal) error
	UpdateTerminal(ctx context.Context, id string, u TerminalUpdate, at time.Time) (*Terminal, error)
	CreateVerification(ctx context.Context, v *Verification) error
	RevokeVerification(ctx context.Context, id string, at time.Time) (*Verification, error)
	// CreateKey stores a key of an existing person (APIKey.PersonID).
	CreateKey(ctx context.Context, k *APIKey) error
	RevokeKey(ctx context.Context, id string, at time.Time) (*APIKey, error)
	// UpdateKey binds a partner key to its authority or approves a pending
	// grant (see KeyUpdate) and returns the key.
	UpdateKey(ctx context.Context, id string, u KeyUpdate) (*APIKey, error)
	// CreatePerson stores a person: EINVALID for a handle not in normal
	// form, ECONFLICT for an existing id or handle.
	CreatePerson(ctx context.Context, p *Person) error
	SetCellCapacity(ctx context.Context, cell string, capacity int) error
	// ClaimCell counts the terminal against the cell if it has room, else
	// puts it on the cell's waitlist (once; asking again returns its place).
	// A newcomer has room if active + waiting < capacity; a waiting
	// terminal if active + those ahead of it < capacity. Lowering the
	// capacity evicts no one. A cell without a capacity is unlimited.
	ClaimCell(ctx context.Context, cell, terminalID string) (Claim, error)
	// ReleaseCell stops counting the terminal against the cell (or takes it
	// off the waitlist) and returns the terminal first on the waitlist if
	// there is now room for it (ClaimCell will grant it), else "".
	ReleaseCell(ctx context.Context, cell, terminalID string) (next string, err error)
	// AppendAudit appends e to the audit chain: it sets e.Seq, e.PrevHash
	// and e.Hash (AuditEntry.Digest) from the chain's head.
	// It adds the entry's leaf to the audit tree (its stored hashes); if
	// the store has an AuditSealer, the transaction's last step, before
	// it commits, is to sign the tree head (an AuditCheckpoint).
	AppendAudit(ctx context.Context, e *AuditEntry) error
	// AddAuditCosignature stores a witness's cosignature (a second one of
	// the same checkpoint by the same key is ignored); the caller checks
	// it.
	AddAuditCosignature(ctx context.Context, c *AuditCosignature) error
	CreateChange(ctx context.Context, c *PolicyChange) error
	// UpdateChange stores c if the stored revision is still c.Revision
	// (else ECONFLICT: someone changed it meanwhile) and increments
	// c.Revision.
	UpdateChange(ctx context.Context, c *PolicyChange) error
	CreateCase(ctx context.Context, c *Case) error
	// UpdateCase stores c if the stored revision is still c.Revision (else
	// ECONFLICT) and increments c.Revision.
	UpdateCase(ctx context.Context, c *Case) error
}

// Store is skyfence's durable state. Implementations: package sqlite (the
// embedded default) and package postgres.
type Store interface {
	Reader
	// Tx runs fn in one transaction, committing if it returns nil.
	Tx(ctx context.Context, fn func(Tx) error) error
	// SaveStates writes terminals' last states (upserts), outside the
	// audited transactions: this is the high-volume write-behind of ingest.
	SaveStates(ctx context.Context, states []*TerminalState) error
	// SaveAlerts writes alerts (upserts by ID: the latest version of an
	// alert replaces the one stored), outside the audited transactions.
	SaveAlerts(ctx context.Context, alerts []*AlertRecord) error
	// SaveIncidents writes GNSS interference incidents (upserts by ID),
	// outside the audited transactions, as SaveAlerts.
	SaveIncidents(ctx context.Context, incidents []*Incident) error
	// SetAuditSealer has every later transaction that appends audit
	// entries sign the tree head with s before it commits (nil: none).
	SetAuditSealer(s AuditSealer)
	Close() error
}
