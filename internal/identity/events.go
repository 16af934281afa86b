package identity

import (
	"context"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// userEvent is an event about a user: FusionAuth's BaseUserEvent carries the
// user object (never its secrets); more holds the type's other members.
func userEvent(typ string, row *store.UserRow, user kit.Object, more map[string]any) model.Event {
	body := map[string]any{"user": user}
	for k, v := range more {
		body[k] = v
	}
	return model.Event{Type: typ, TenantID: row.TenantID, UserID: row.ID, Body: body}
}

// registrationEvents is a registration event (applicationId, registration,
// the user, and original on update), built only when a webhook wants it.
func (s *Service) registrationEvents(ctx context.Context, tx *store.Tx, typ, userID, tenantID, appID string, reg, original kit.Object) ([]model.Event, error) {
	if !s.audit.Wants(typ, tenantID) {
		return nil, nil
	}
	row, err := tx.UserRowByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	user, err := s.UserObject(row, nil, nil)
	if err != nil {
		return nil, err
	}
	more := map[string]any{"applicationId": appID, "registration": reg}
	if original != nil {
		more["original"] = original
	}
	return []model.Event{userEvent(typ, row, user, more)}, nil
}

// userEvents is userEvent for each type a webhook wants (none built
// otherwise).
func (s *Service) userEvents(row *store.UserRow, types ...string) ([]model.Event, error) {
	var out []model.Event
	var user kit.Object
	for _, typ := range types {
		if !s.audit.Wants(typ, row.TenantID) {
			continue
		}
		if user == nil {
			var err error
			if user, err = s.UserObject(row, nil, nil); err != nil {
				return nil, err
			}
		}
		out = append(out, userEvent(typ, row, user, nil))
	}
	return out, nil
}
