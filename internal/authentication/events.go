package authentication

import (
	"context"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// emitLogin writes user.login.success or user.login.failed for a known user
// when a webhook wants it. A login writes no audit entry, so the event has a
// transaction of its own; it cannot veto the login, and a failure to write
// it is logged, not answered.
func (s *Service) emitLogin(ctx context.Context, typ string, lt *loginTarget, row *store.UserRow, ip, authType string) {
	if row == nil || !s.audit.Wants(typ, row.TenantID) {
		return
	}
	user, err := s.identity.UserObject(row, nil, nil)
	if err != nil {
		s.log.WarnContext(ctx, "login event not written", "event", typ, "err", err)
		return
	}
	body := map[string]any{"user": user}
	if id := lt.appID(); id != "" {
		body["applicationId"] = id
	}
	if authType != "" {
		body["authenticationType"] = authType
	}
	ev := model.Event{Type: typ, TenantID: row.TenantID, UserID: row.ID, Body: body}
	if err := s.audit.Emit(ctx, kit.Actor{IP: ip}, ev); err != nil {
		s.log.WarnContext(ctx, "login event not written", "event", typ, "err", err)
	}
}
