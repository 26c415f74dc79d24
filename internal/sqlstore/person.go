package sqlstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/skyfence/skyfence"
)

// personColumns are what personRow scans, in its order.
const personColumns = `id, handle, name, created_at`

// personRow is a person as stored.
type personRow struct {
	p       skyfence.Person
	created NullNanos
}

func (r *personRow) dest() []any { return []any{&r.p.ID, &r.p.Handle, &r.p.Name, &r.created} }

// person returns the row as a person, or EINTERNAL if its handle is not
// in normal form: a row written around the stores (raw SQL) must not pass
// for another spelling of someone.
func (r *personRow) person(store string) (*skyfence.Person, error) {
	if err := skyfence.CheckHandle(r.p.Handle); err != nil {
		return nil, skyfence.Errorf(skyfence.EINTERNAL, "%s: person %q: %v", store, r.p.ID, skyfence.ErrorMessage(err))
	}
	p := r.p
	p.CreatedAt = r.created.Time()
	return &p, nil
}

// FindPersonByID returns the person, or ENOTFOUND.
func (r Reader) FindPersonByID(ctx context.Context, id string) (*skyfence.Person, error) {
	var row personRow
	if err := r.q.QueryRow(ctx, `SELECT `+personColumns+` FROM persons WHERE id = ?`, id).Scan(row.dest()...); err != nil {
		return nil, r.notFound(err, "person", id)
	}
	return row.person(r.d.Name)
}

// FindPersonByHandle returns the person whose handle is handle (in normal
// form: the caller normalizes), or ENOTFOUND.
func (r Reader) FindPersonByHandle(ctx context.Context, handle string) (*skyfence.Person, error) {
	var row personRow
	if err := r.q.QueryRow(ctx, `SELECT `+personColumns+` FROM persons WHERE handle = ?`, handle).Scan(row.dest()...); err != nil {
		return nil, r.notFound(err, "person with handle", handle)
	}
	return row.person(r.d.Name)
}

// FindPersons returns every person, in handle order.
func (r Reader) FindPersons(ctx context.Context) ([]*skyfence.Person, error) {
	return list(ctx, r, "find persons", `SELECT `+personColumns+` FROM persons ORDER BY handle`, nil,
		func(scan func(...any) error) (*skyfence.Person, error) {
			var row personRow
			if err := scan(row.dest()...); err != nil {
				return nil, err
			}
			return row.person(r.d.Name)
		})
}

// CreatePerson stores a new person: EINVALID without an id or with a
// handle not in normal form, ECONFLICT if the id or the handle exists.
func (t Tx) CreatePerson(ctx context.Context, p *skyfence.Person) error {
	if err := NeedID("person", p.ID); err != nil {
		return err
	}
	if err := skyfence.CheckHandle(p.Handle); err != nil {
		return err
	}
	if err := CheckTimes(p.CreatedAt); err != nil {
		return err
	}
	_, err := t.r.q.Try(ctx, `INSERT INTO persons (`+personColumns+`) VALUES (?, ?, ?, ?)`,
		p.ID, p.Handle, p.Name, Nanos(p.CreatedAt))
	switch {
	case isUnique(err):
		return skyfence.Errorf(skyfence.ECONFLICT, "person %q, or one with the handle %q, already exists", p.ID, p.Handle)
	case err != nil:
		return t.r.errorf("create person %q: %w", p.ID, err)
	}
	return nil
}

// adoptKeyPersons is the Go step of migration 0005: it gives every key
// without a person ID the person its name for a person normalizes to
// (skyfence.LegacyHandle; the key's name if that is empty), creating
// the persons as needed, so that keys whose persons were "Eve", "eve " and
// "E\u200bve" become keys of one person "eve".
func adoptKeyPersons(ctx context.Context, q Querier) error {
	type key struct{ id, name, person string }
	var keys []key
	cur, err := q.Query(ctx, `SELECT id, name, person FROM api_keys WHERE person_id = '' ORDER BY id`)
	if err != nil {
		return err
	}
	for cur.Next() {
		var k key
		if err := cur.Scan(&k.id, &k.name, &k.person); err != nil {
			cur.Close()
			return err
		}
		keys = append(keys, k)
	}
	cur.Close()
	if err := cur.Err(); err != nil {
		return err
	}
	persons := map[string]string{} // handle -> id
	now := time.Now().UnixNano()
	for _, k := range keys {
		h := skyfence.LegacyHandle(k.person)
		if h == "" {
			h = skyfence.LegacyHandle(k.name)
		}
		if h == "" {
			h = skyfence.LegacyHandle("key " + k.id)
		}
		id, ok := persons[h]
		if !ok {
			var b [8]byte
			if _, err := rand.Read(b[:]); err != nil {
				return err
			}
			id = "per-" + hex.EncodeToString(b[:])
			if _, err := q.Exec(ctx, `INSERT INTO persons (`+personColumns+`) VALUES (?, ?, ?, ?)`, id, h, h, now); err != nil {
				return err
			}
			persons[h] = id
		}
		if _, err := q.Exec(ctx, `UPDATE api_keys SET person_id = ?, person = ? WHERE id = ?`, id, h, k.id); err != nil {
			return err
		}
	}
	return nil
}
