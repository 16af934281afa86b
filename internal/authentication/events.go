package authentication

import (
	"context"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// emitLogin writes user.login.success or user.login.failed for a known user
// when a webhook wants it.
func (s *Service) emitLogin(ctx context.Context, typ string, lt *loginTarget, row *store.UserRow, ud *loginUserData, ip, authType string) {
	more := map[string]any{}
	if authType != "" {
		more["authenticationType"] = authType
	}
	s.emitUser(ctx, typ, lt.appID(), row, ud, ip, more)
}

// emitUser writes a user event of a login step (a login, a two-factor
// challenge, a second factor right or wrong) when a webhook wants it: the
// user, applicationId when the login names an application the user may
// use, and more. A login step writes no audit entry, so the event has a
// transaction of its own; it cannot veto the step, and a failure to write
// it is logged, not answered. The user carries its registrations and
// memberships, as FusionAuth's do: those the login read (ud), else read now.
func (s *Service) emitUser(ctx context.Context, typ, appID string, row *store.UserRow, ud *loginUserData, ip string, more map[string]any) {
	if row == nil || !s.audit.Wants(typ, row.TenantID) {
		return
	}
	var user *model.User
	var err error
	if ud != nil {
		user, err = s.identity.UserObject(row, ud.regs, ud.members)
	} else {
		user, err = s.identity.FullUserObject(ctx, s.store.Read(), row)
	}
	if err != nil {
		s.log.WarnContext(ctx, "login event not written", "event", typ, "err", err)
		return
	}
	body := withApplication(appID)
	body["user"] = user
	for k, v := range more {
		body[k] = v
	}
	ev := model.Event{Type: typ, TenantID: row.TenantID, UserID: row.ID, Body: body}
	if err := s.audit.Emit(ctx, kit.Actor{IP: ip}, ev); err != nil {
		s.log.WarnContext(ctx, "login event not written", "event", typ, "err", err)
	}
}

// emitSecondFactor writes user.two-factor.success or .failed-attempt: the
// method that verified ("" when unknown: a wrong code names none, nor does
// the code of /api/two-factor/start, which its caller sent out of band).
func (s *Service) emitSecondFactor(ctx context.Context, typ, appID string, row *store.UserRow, ip, method string) {
	more := map[string]any{}
	if method != "" {
		more["method"] = method
	}
	s.emitUser(ctx, typ, appID, row, nil, ip, more)
}

// withApplication is the members of a login step's event beside the user:
// applicationId, when there is one.
func withApplication(appID string) map[string]any {
	if appID == "" {
		return map[string]any{}
	}
	return map[string]any{"applicationId": appID}
}
