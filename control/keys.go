package control

import (
	"context"
	"fmt"
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
	Name string `json:"name"`
	// Person is who will hold it, by name (the key's name if empty and
	// PersonID is empty): the person whose handle the name normalizes to,
	// registered now if there is none.
	Person string `json:"person"`
	// PersonID is who will hold it, by the ID of a registered person.
	PersonID string        `json:"person_id"`
	Role     skyfence.Role `json:"role"`
	// Region and Authority are, for partner keys, the region they act for
	// and the authority of the policy whose verifications they record.
	Region    string `json:"region"`
	Authority string `json:"authority"`
}

// CreateKey creates an API key and returns it with its secret, which is not
// stored and cannot be shown again. A partner key needs the region it acts
// for and its authority, one of the policy's authorities for that region.
// A key of a role that takes part in a two-person rule
// (skyfence.Role.GrantNeedsApproval) is created pending: it works once a
// second admin, another person than its maker and its holder, approves it
// (ApproveKey).
func (s *Service) CreateKey(ctx context.Context, in KeyInput) (*skyfence.APIKey, string, error) {
	p, err := require(ctx, ManageKeys)
	if err != nil {
		return nil, "", err
	}
	return s.createKey(ctx, p, in)
}

func (s *Service) createKey(ctx context.Context, p *Principal, in KeyInput) (*skyfence.APIKey, string, error) {
	name, role, region := in.Name, in.Role, in.Region
	if err := skyfence.CheckLabel("name", name); err != nil {
		return nil, "", err
	}
	switch {
	case !role.Valid():
		return nil, "", skyfence.FieldErrorf(skyfence.EINVALID, "role", "unknown role %q", role)
	case name == "":
		return nil, "", skyfence.FieldErrorf(skyfence.EINVALID, "name", "a key needs a name")
	case role == skyfence.RolePartner && region == "":
		return nil, "", skyfence.FieldErrorf(skyfence.EINVALID, "region", "a partner key needs the region it acts for")
	case role == skyfence.RolePartner && in.Authority == "":
		return nil, "", skyfence.FieldErrorf(skyfence.EINVALID, "authority", "a partner key needs the authority whose verifications it records")
	case role != skyfence.RolePartner && region != "":
		return nil, "", skyfence.FieldErrorf(skyfence.EINVALID, "region", "only partner keys have a region")
	case role != skyfence.RolePartner && in.Authority != "":
		return nil, "", skyfence.FieldErrorf(skyfence.EINVALID, "authority", "only partner keys have an authority")
	}
	if region != "" {
		if _, ok := s.atlas.Lookup(region); !ok {
			return nil, "", skyfence.FieldErrorf(skyfence.EINVALID, "region", "unknown region %q", region)
		}
	}
	if in.Authority != "" {
		if err := s.checkAuthority(in.Authority, region); err != nil {
			return nil, "", err
		}
	}
	k := &skyfence.APIKey{ID: newID("key-"), Name: name, Role: role, Region: region, Authority: in.Authority,
		GrantedBy: p.PersonID, Pending: role.GrantNeedsApproval() && p != System, CreatedAt: s.now().UTC()}
	secret, hash, err := skyfence.NewKeySecret(k.ID)
	if err != nil {
		return nil, "", err
	}
	k.Hash = hash
	personName, field := in.Person, "person"
	if personName == "" && in.PersonID == "" {
		personName, field = name, "name"
	}
	err = s.store.Tx(ctx, func(tx skyfence.Tx) error {
		person, err := s.personOf(ctx, tx, p, in.PersonID, personName, field)
		if err != nil {
			return err
		}
		k.PersonID, k.Person = person.ID, person.Handle
		if err := tx.CreateKey(ctx, k); err != nil {
			return err
		}
		return audit(ctx, tx, p, "key.create", k.ID, "", map[string]any{"name": name, "person_id": k.PersonID, "person": k.Person,
			"role": string(role), "region": region, "authority": k.Authority, "pending": k.Pending})
	})
	if err != nil {
		return nil, "", err
	}
	return k, secret, nil
}

// checkAuthority says whether authority is one of the policy's
// authorities, for region.
func (s *Service) checkAuthority(authority, region string) error {
	a := s.auth.Snapshot().Source.Doc.Authority(authority)
	switch {
	case a == nil:
		return skyfence.FieldErrorf(skyfence.EINVALID, "authority", "authority %q is not one of the policy's authorities", authority)
	case a.Region != region:
		return skyfence.FieldErrorf(skyfence.EINVALID, "authority", "authority %s verifies for %s, not %s", authority, a.Region, region)
	}
	return nil
}

// ApproveKey approves a pending grant (a key of a role in a two-person
// rule): the approving admin must be another person than the admin who
// made the key and than its holder (EFORBIDDEN), and the key still pending
// (ECONFLICT). The key works from then on.
func (s *Service) ApproveKey(ctx context.Context, id, comment string) (*skyfence.APIKey, error) {
	p, err := require(ctx, ManageKeys)
	if err != nil {
		return nil, err
	}
	var k *skyfence.APIKey
	err = s.store.Tx(ctx, func(tx skyfence.Tx) error {
		old, err := tx.FindKeyByID(ctx, id)
		switch {
		case err != nil:
			return err
		case !old.Pending:
			return skyfence.Errorf(skyfence.ECONFLICT, "key %s is not waiting for approval", id)
		case old.GrantedBy == p.PersonID:
			return skyfence.Errorf(skyfence.EFORBIDDEN, "%s made key %s and may not approve it: another admin must (two-person rule)", p.Person, id)
		case old.PersonID == p.PersonID:
			return skyfence.Errorf(skyfence.EFORBIDDEN, "key %s is %s's own and %s may not approve it: another admin must (two-person rule)", id, p.Person, p.Person)
		}
		if k, err = tx.UpdateKey(ctx, id, skyfence.KeyUpdate{ApprovedBy: p.PersonID, ApprovedAt: s.now().UTC()}); err != nil {
			return err
		}
		return audit(ctx, tx, p, "key.approve", id, comment, map[string]string{"role": string(k.Role), "person_id": k.PersonID, "granted_by": k.GrantedBy})
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}

// BindKey binds a partner key made before partner keys had an authority
// to one of the policy's authorities for its region: it may record
// verifications from then on. A key bound already is not bound again
// (ECONFLICT): revoke it and make another.
func (s *Service) BindKey(ctx context.Context, id, authority string) (*skyfence.APIKey, error) {
	p, err := require(ctx, ManageKeys)
	if err != nil {
		return nil, err
	}
	var k *skyfence.APIKey
	err = s.store.Tx(ctx, func(tx skyfence.Tx) error {
		old, err := tx.FindKeyByID(ctx, id)
		switch {
		case err != nil:
			return err
		case old.Role != skyfence.RolePartner:
			return skyfence.Errorf(skyfence.EINVALID, "key %s is a %s key; only partner keys have an authority", id, old.Role)
		case old.Revoked():
			return skyfence.Errorf(skyfence.ECONFLICT, "key %s is revoked", id)
		case old.Authority != "":
			return skyfence.Errorf(skyfence.ECONFLICT, "key %s is bound to %s already; revoke it and make another to change its authority", id, old.Authority)
		}
		if err := s.checkAuthority(authority, old.Region); err != nil {
			return err
		}
		if k, err = tx.UpdateKey(ctx, id, skyfence.KeyUpdate{Authority: &authority}); err != nil {
			return err
		}
		return audit(ctx, tx, p, "key.bind", id, "", map[string]string{"region": k.Region, "authority": authority})
	})
	if err != nil {
		return nil, err
	}
	s.forgetKey(id)
	return k, nil
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
	if k.Pending {
		return nil, skyfence.Errorf(skyfence.EFORBIDDEN, "key %s is a grant of role %s waiting for a second admin's approval (POST /v1/keys/%s/approve)", k.ID, k.Role, k.ID)
	}
	// The person is read by the key's person ID, never by the name on the
	// key: a key row written around the service, without a person or
	// with another spelling of one, is not someone.
	person, err := s.store.FindPersonByID(ctx, k.PersonID)
	switch code := skyfence.ErrorCode(err); {
	case k.PersonID == "" || code == skyfence.ENOTFOUND || code == skyfence.EINTERNAL:
		s.log.Warn("refused a key without a valid person", "key", k.ID, "person_id", k.PersonID, "err", err)
		return nil, skyfence.Errorf(skyfence.EUNAUTHORIZED, "key %s belongs to no valid person", k.ID)
	case err != nil:
		return nil, err
	}
	p := &Principal{KeyID: k.ID, PersonID: person.ID, Person: person.Handle, Role: k.Role, Region: k.Region, Authority: k.Authority}
	s.keys.mu.Lock()
	if s.keys.keys == nil {
		s.keys.keys = map[string]cachedKey{}
	}
	s.keys.keys[string(hash)] = cachedKey{p, now.Add(keyCacheTTL)}
	s.keys.mu.Unlock()
	return p, nil
}

// Bootstrap makes the admins of a new installation and returns their
// secrets (none if it has made admins before). Granting an admin key takes
// a second admin's approval, so an installation starts with two admins,
// two persons ("admin 1" and "admin 2"), made by skyfence itself: the one
// exception to that rule. On a store upgraded from before persons were
// first-class, whose keys were all made then, it makes as many as it
// takes for two admin persons to hold working keys. It does this once,
// and never on a store where a key was made, or revoked, since persons
// began: otherwise an admin could revoke the other and have a restart
// make them a second self.
func (s *Service) Bootstrap(ctx context.Context) ([]string, error) {
	keys, err := s.store.FindKeys(ctx)
	if err != nil {
		return nil, err
	}
	persons, err := s.store.FindPersons(ctx)
	if err != nil {
		return nil, err
	}
	var since time.Time // when persons began: migration 0005 made the first
	for i, p := range persons {
		if i == 0 || p.CreatedAt.Before(since) {
			since = p.CreatedAt
		}
	}
	admins := map[string]bool{} // person IDs
	for _, k := range keys {
		if k.GrantedBy != "" || k.RevokedAt.After(since) {
			return nil, nil
		}
		if k.Role == skyfence.RoleAdmin && !k.Revoked() && !k.Pending {
			admins[k.PersonID] = true
		}
	}
	var secrets []string
	for i := 1; len(admins) < 2; i++ {
		name := fmt.Sprintf("admin %d", i)
		if p, err := s.store.FindPersonByHandle(ctx, name); err == nil && admins[p.ID] {
			continue
		}
		k, secret, err := s.createKey(ctx, System, KeyInput{Name: "bootstrap " + name, Person: name, Role: skyfence.RoleAdmin})
		if err != nil {
			return secrets, err
		}
		admins[k.PersonID] = true
		secrets = append(secrets, secret)
	}
	return secrets, nil
}
