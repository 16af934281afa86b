package identity

import (
	"context"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/store"
)

// onto is row with the login ids, names and data of a prepared user: the
// user a create or an update asked for, as the duplicate events show it.
func (p *preparedUser) onto(row store.UserRow) *store.UserRow {
	row.Email, row.Username, row.FullName, row.FirstName, row.LastName = p.email, p.username, p.fullName, p.firstName, p.lastName
	row.Data, _ = kit.EncodeObject(p.data)
	return &row
}

// emitDuplicate writes user.loginId.duplicate.create or .update when err
// refused attempted for another user's login id (kit.DuplicateLoginIDEvent).
// The change was refused, so the event has a transaction of its own.
func (s *Service) emitDuplicate(ctx context.Context, actor kit.Actor, typ string, attempted *store.UserRow, err error) {
	if err == nil || !s.audit.Wants(typ, attempted.TenantID) {
		return
	}
	ev, werr := kit.DuplicateLoginIDEvent(ctx, s.store.Read(), s.UserObject, typ, attempted, err)
	if werr == nil && ev != nil {
		werr = s.audit.Emit(ctx, actor, *ev)
	}
	if werr != nil {
		s.log.WarnContext(ctx, "duplicate login id event not written", "event", typ, "err", werr)
	}
}
