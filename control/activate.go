package control

import (
	"context"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/policy"
)

var timeZero time.Time

// Outcome of an activation.
const (
	Activated  = "activated"  // the terminal has service from now on
	Waitlisted = "waitlisted" // it waits for a licence or for room in its cell
	Refused    = "refused"    // the policy does not allow service there
)

// Activation is the answer to a request to activate a terminal.
type Activation struct {
	Outcome  string             `json:"outcome"`
	Terminal *skyfence.Terminal `json:"terminal"`
	Cell     string             `json:"cell"`
	Position int                `json:"position,omitempty"` // place on the cell's waitlist
	Reason   policy.Reason      `json:"reason"`
	Rule     string             `json:"rule,omitempty"`
	Message  string             `json:"message"`
}

// Activate gives an inactive terminal service at a position, if the policy
// allows service there and its capacity cell has room:
//
//   - where the policy denies service (embargo, no licence, no-service zone,
//     missing verification...), it is refused, naming the rule;
//   - where the region is coming soon or on a waitlist, it is waitlisted;
//   - outside its registered country, only if its plan may activate abroad;
//   - in a full cell, it joins the cell's waitlist in order.
//
// Every outcome but a refusal is recorded in the audit log.
func (s *Service) Activate(ctx context.Context, id string, lat, lon float64) (*Activation, error) {
	p, err := require(ctx, WriteTerminals)
	if err != nil {
		return nil, err
	}
	if !(lat >= -90 && lat <= 90) {
		return nil, skyfence.FieldErrorf(skyfence.EINVALID, "lat", "latitude %v out of range [-90, 90]", lat)
	}
	if !(lon >= -180 && lon <= 180) {
		return nil, skyfence.FieldErrorf(skyfence.EINVALID, "lon", "longitude %v out of range [-180, 180]", lon)
	}
	snap := s.auth.Snapshot()
	now := s.now().UTC()
	cell := skyfence.CellOf(lat, lon)
	var a *Activation
	err = s.store.Tx(ctx, func(tx skyfence.Tx) error {
		t, err := tx.FindTerminalByID(ctx, id)
		if err != nil {
			return err
		}
		if t.Status != skyfence.Inactive {
			return skyfence.Errorf(skyfence.ECONFLICT, "terminal %q is %s, not inactive", id, t.Status)
		}
		probe := *t
		probe.Status = skyfence.Active
		d := snap.Decide(&probe, nil, skyfence.Fix{TerminalID: id, Time: now, Lat: lat, Lon: lon})
		a = &Activation{Terminal: t, Cell: cell, Reason: d.Reason, Rule: d.Rule, Message: d.Message()}
		switch {
		case d.Reason == policy.RegionNotAvailable:
			a.Outcome = Waitlisted
			return audit(ctx, tx, p, "terminal.waitlist", id, d.Message(), map[string]any{"region": d.Country, "rule": d.Rule, "lat": lat, "lon": lon})
		case !d.Allow:
			a.Outcome = Refused
			return nil
		case d.Country != t.Country && !snap.ActivatesAbroad(t.Plan):
			a.Outcome, a.Reason, a.Rule = Refused, policy.PlanNotAllowed, "plan:"+t.Plan
			a.Message = "Your service plan cannot be activated outside " + t.Country + "."
			return nil
		}
		claim, err := tx.ClaimCell(ctx, cell, id)
		if err != nil {
			return err
		}
		if !claim.Granted {
			a.Outcome, a.Position = Waitlisted, claim.Position
			a.Message = "The service cell is full; the terminal waits in line for a place."
			return audit(ctx, tx, p, "terminal.waitlist", id, a.Message, map[string]any{"cell": cell, "position": claim.Position})
		}
		active := skyfence.Active
		if a.Terminal, err = tx.UpdateTerminal(ctx, id, skyfence.TerminalUpdate{Status: &active, Cell: &cell}, now); err != nil {
			return err
		}
		a.Outcome = Activated
		return audit(ctx, tx, p, "terminal.activate", id, "", map[string]any{"cell": cell, "lat": lat, "lon": lon, "policy": snap.Version})
	})
	if err != nil {
		return nil, err
	}
	if a.Outcome == Activated {
		s.publish(a.Terminal)
	}
	return a, nil
}

// SetCellCapacity sets how many active terminals a cell may hold (0:
// unlimited).
func (s *Service) SetCellCapacity(ctx context.Context, cell string, capacity int) error {
	p, err := require(ctx, ManageCapacity)
	if err != nil {
		return err
	}
	if err := skyfence.ValidID("id", cell); err != nil {
		return err
	}
	if capacity < 0 {
		return skyfence.FieldErrorf(skyfence.EINVALID, "capacity", "capacity must not be negative")
	}
	return s.store.Tx(ctx, func(tx skyfence.Tx) error {
		if err := tx.SetCellCapacity(ctx, cell, capacity); err != nil {
			return err
		}
		return audit(ctx, tx, p, "cell.capacity", cell, "", map[string]int{"capacity": capacity})
	})
}

// Cell returns a capacity cell's figures.
func (s *Service) Cell(ctx context.Context, id string) (*skyfence.Cell, error) {
	if _, err := require(ctx, ReadTerminals); err != nil {
		return nil, err
	}
	return s.store.FindCell(ctx, id)
}
