package control

import (
	"context"
	"strings"

	"github.com/skyfence/skyfence"
)

// PersonInput describes a person to register.
type PersonInput struct {
	// Name is the person's name; its normal form
	// (skyfence.NormalizeHandle) is the person's handle.
	Name string `json:"name"`
}

// CreatePerson registers a person: EINVALID for a name that has no
// normal form (empty, too long, with control or invisible characters),
// ECONFLICT if a person of the same handle exists ("Eve" when "eve " is
// registered: they are one person).
func (s *Service) CreatePerson(ctx context.Context, in PersonInput) (*skyfence.Person, error) {
	p, err := require(ctx, ManageKeys)
	if err != nil {
		return nil, err
	}
	var person *skyfence.Person
	err = s.store.Tx(ctx, func(tx skyfence.Tx) error {
		handle, err := handleOf(in.Name, "name")
		if err != nil {
			return err
		}
		if old, err := tx.FindPersonByHandle(ctx, handle); err == nil {
			return skyfence.FieldErrorf(skyfence.ECONFLICT, "name", "%q is the person %s (handle %q) already", in.Name, old.ID, old.Handle)
		} else if skyfence.ErrorCode(err) != skyfence.ENOTFOUND {
			return err
		}
		person, err = s.createPerson(ctx, tx, p, in.Name, handle)
		return err
	})
	if err != nil {
		return nil, err
	}
	return person, nil
}

// handleOf returns the handle of a person's name, its errors naming field.
func handleOf(name, field string) (string, error) {
	h, err := skyfence.NormalizeHandle(name)
	if err != nil {
		return "", skyfence.FieldErrorf(skyfence.EINVALID, field, "%s", skyfence.ErrorMessage(err))
	}
	if h == skyfence.SystemPerson {
		return "", skyfence.FieldErrorf(skyfence.EINVALID, field, "%q is skyfence's own name for its actions, not a person's", name)
	}
	return h, nil
}

// createPerson stores and audits a person of the handle, named name.
func (s *Service) createPerson(ctx context.Context, tx skyfence.Tx, p *Principal, name, handle string) (*skyfence.Person, error) {
	person := &skyfence.Person{ID: newID("per-"), Handle: handle, Name: strings.TrimSpace(name), CreatedAt: s.now().UTC()}
	if err := tx.CreatePerson(ctx, person); err != nil {
		return nil, err
	}
	return person, audit(ctx, tx, p, "person.create", person.ID, "", person)
}

// personOf returns the person a key is for: the one of personID if given
// (whose handle name, if also given, must be), else the one whose handle
// name normalizes to, registered now if there is none.
func (s *Service) personOf(ctx context.Context, tx skyfence.Tx, p *Principal, personID, name, field string) (*skyfence.Person, error) {
	if personID != "" {
		person, err := tx.FindPersonByID(ctx, personID)
		if skyfence.ErrorCode(err) == skyfence.ENOTFOUND {
			return nil, skyfence.FieldErrorf(skyfence.EINVALID, "person_id", "no person %q", personID)
		} else if err != nil {
			return nil, err
		}
		if name != "" {
			if h, err := handleOf(name, field); err != nil {
				return nil, err
			} else if h != person.Handle {
				return nil, skyfence.FieldErrorf(skyfence.EINVALID, field, "person %s is %q, not %q", person.ID, person.Handle, h)
			}
		}
		return person, nil
	}
	handle, err := handleOf(name, field)
	if err != nil {
		return nil, err
	}
	person, err := tx.FindPersonByHandle(ctx, handle)
	if skyfence.ErrorCode(err) == skyfence.ENOTFOUND {
		return s.createPerson(ctx, tx, p, name, handle)
	}
	return person, err
}

// Persons lists the registered persons, in handle order.
func (s *Service) Persons(ctx context.Context) ([]*skyfence.Person, error) {
	if _, err := require(ctx, ManageKeys); err != nil {
		return nil, err
	}
	return s.store.FindPersons(ctx)
}

// Person returns a registered person and the keys it holds.
func (s *Service) Person(ctx context.Context, id string) (*skyfence.Person, []*skyfence.APIKey, error) {
	if _, err := require(ctx, ManageKeys); err != nil {
		return nil, nil, err
	}
	person, err := s.store.FindPersonByID(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	keys, err := s.store.FindKeys(ctx)
	if err != nil {
		return nil, nil, err
	}
	var held []*skyfence.APIKey
	for _, k := range keys {
		if k.PersonID == person.ID {
			held = append(held, k)
		}
	}
	return person, held, nil
}
