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
