package identity

import (
	"context"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// liftLockoutOnReset forgets a user's failed logins after a password reset
// (a change-password id): the count always, a lockout in force only when
// the tenant's failedAuthenticationConfiguration.actionCancelPolicy.onPasswordReset
// says so (FusionAuth's setting, default false). A lifted lockout is audited.
func (s *Service) liftLockoutOnReset(ctx context.Context, tx *store.Tx, cfg *model.TenantConfig, actor kit.Actor, row *store.UserRow, now int64) error {
	if !cfg.FailedAuthenticationConfiguration.ActionCancelPolicy.OnPasswordReset {
		_, err := tx.ClearLoginFailures(ctx, row.ID, now) // false while locked: the lockout stays
		return err
	}
	lifted, err := tx.ForgetLoginFailures(ctx, row.ID, now)
	if err != nil || !lifted {
		return err
	}
	return s.audit.Write(ctx, tx, actor, audit.Change{Message: "Lifted the failed login lockout of user " + kit.UserLabel(row) + ": password reset",
		TargetID: row.ID, Data: map[string]any{"reason": "password reset"}})
}
