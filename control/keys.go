package control

import (
	"context"
	"sync"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/bus"
)

// keyCacheTTL bounds how long a verified key is trusted without asking the
// store again, unless the store cannot be reached. A revocation in another
// process reaches this one by its KeyRevoked event at once, and by this
// expiry if the event is lost.
const keyCacheTTL = 5 * time.Second

type cachedKey struct {
	p       *Principal
	expires time.Time
}

// keyCache remembers verified keys by hash.
type keyCache struct {
	mu   sync.Mutex
	keys map[string]cachedKey
}

// KeyInput describes a key to create.
type KeyInput struct {
	Name   string        `json:"name"`
	Person string        `json:"person"` // who will hold it; the name if empty
	Role   skyfence.Role `json:"role"`
	Region string        `json:"region"` // partner keys: the region they act for
}

// CreateKey creates an API key and returns it with its secret, which is not
// stored and cannot be shown again. A partner key needs the region it acts
// for.
func (s *Service) CreateKey(ctx context.Context, in KeyInput) (*skyfence.APIKey, string, error) {
	p, err := require(ctx, ManageKeys)
	if err != nil {
		return nil, "", err
	}
	return s.createKey(ctx, p, in)
}

func (s *Service) createKey(ctx context.Context, p *Principal, in KeyInput) (*skyfence.APIKey, string, error) {
	name, role, region := in.Name, in.Role, in.Region
	if in.Person == "" {
		in.Person = in.Name
	}
	switch {
	case !role.Valid():
		return nil, "", skyfence.FieldErrorf(skyfence.EINVALID, "role", "unknown role %q", role)
	case name == "":
		return nil, "", skyfence.FieldErrorf(skyfence.EINVALID, "name", "a key needs a name")
	case role == skyfence.RolePartner && region == "":
		return nil, "", skyfence.FieldErrorf(skyfence.EINVALID, "region", "a partner key needs the region it acts for")
	case role != skyfence.RolePartner && region != "":
		return nil, "", skyfence.FieldErrorf(skyfence.EINVALID, "region", "only partner keys have a region")
	}
	if region != "" {
		if _, ok := s.atlas.Lookup(region); !ok {
			return nil, "", skyfence.FieldErrorf(skyfence.EINVALID, "region", "unknown region %q", region)
		}
	}
	k := &skyfence.APIKey{ID: newID("key-"), Name: name, Person: in.Person, Role: role, Region: region, CreatedAt: s.now().UTC()}
	secret, hash, err := skyfence.NewKeySecret(k.ID)
	if err != nil {
		return nil, "", err
	}
	k.Hash = hash
	err = s.store.Tx(ctx, func(tx skyfence.Tx) error {
		if err := tx.CreateKey(ctx, k); err != nil {
			return err
		}
		return audit(ctx, tx, p, "key.create", k.ID, "", map[string]string{"name": name, "person": in.Person, "role": string(role), "region": region})
	})
	if err != nil {
		return nil, "", err
	}
	return k, secret, nil
}

// RevokeKey revokes an API key at once in this process, and in the
// others of a cluster by the KeyRevoked event it publishes.
func (s *Service) RevokeKey(ctx context.Context, id, reason string) (*skyfence.APIKey, error) {
	p, err := require(ctx, ManageKeys)
	if err != nil {
		return nil, err
	}
	var k *skyfence.APIKey
	err = s.store.Tx(ctx, func(tx skyfence.Tx) error {
		if k, err = tx.RevokeKey(ctx, id, s.now().UTC()); err != nil {
			return err
		}
		return audit(ctx, tx, p, "key.revoke", id, reason, map[string]string{"role": string(k.Role)})
	})
	if err != nil {
		return nil, err
	}
	s.forgetKey(k.ID)
	s.emit(bus.KeyRevoked, k.ID, k) // the hash is not in its JSON
	return k, nil
}

// forgetKey drops a key from the cache of verified keys: its next use asks
// the store.
func (s *Service) forgetKey(id string) {
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	for hash, c := range s.keys.keys {
		if c.p.KeyID == id {
			delete(s.keys.keys, hash)
		}
	}
}

// Keys lists the API keys (without secrets).
func (s *Service) Keys(ctx context.Context) ([]*skyfence.APIKey, error) {
	if _, err := require(ctx, ManageKeys); err != nil {
		return nil, err
	}
	return s.store.FindKeys(ctx)
}

// Authenticate returns the principal of an API key secret, or
// EUNAUTHORIZED for an unknown or revoked one.
func (s *Service) Authenticate(ctx context.Context, secret string) (*Principal, error) {
	hash := skyfence.HashKeySecret(secret)
	now := s.now()
	s.keys.mu.Lock()
	c, ok := s.keys.keys[string(hash)]
	s.keys.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.p, nil
	}
	k, err := s.store.FindKeyByHash(ctx, hash)
	switch {
	case skyfence.ErrorCode(err) == skyfence.ENOTFOUND || (err == nil && k.Revoked()):
		return nil, skyfence.Errorf(skyfence.EUNAUTHORIZED, "unknown or revoked API key")
	case ok && skyfence.ErrorCode(err) == skyfence.EUNAVAILABLE:
		// The store cannot be reached: a key verified before stays
		// trusted until it can be asked again, so that gateways keep
		// getting decisions (no key can be revoked meanwhile either).
		return c.p, nil
	case err != nil:
		return nil, err
	}
	p := &Principal{KeyID: k.ID, Person: k.Person, Role: k.Role, Region: k.Region}
	s.keys.mu.Lock()
	if s.keys.keys == nil {
		s.keys.keys = map[string]cachedKey{}
	}
	s.keys.keys[string(hash)] = cachedKey{p, now.Add(keyCacheTTL)}
	s.keys.mu.Unlock()
	return p, nil
}

// Bootstrap creates an admin key if the store has no key at all, and
// returns its secret ("" if keys exist).
func (s *Service) Bootstrap(ctx context.Context) (string, error) {
	keys, err := s.store.FindKeys(ctx)
	if err != nil || len(keys) > 0 {
		return "", err
	}
	_, secret, err := s.createKey(ctx, System, KeyInput{Name: "bootstrap admin", Person: "admin", Role: skyfence.RoleAdmin})
	return secret, err
}
