package core

import (
	"context"
	"fmt"
	"strings"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// When a user's refresh tokens are revoked besides logout and the refresh
// token API, as FusionAuth does: on a password change when the tenant's
// jwtConfiguration.refreshTokenRevocationPolicy.onPasswordChanged says so
// (default true); on a lockout by failed logins when onLoginPrevented says so
// (default true); on enabling a two-factor method when onMultiFactorEnable
// says so (default false); and always when the user is deactivated or
// deleted. Each revocation happens in the transaction of its cause and is
// audited with its count. Refresh tokens are never cached (every exchange
// reads its row), so a revoked token fails on every node at once.

// Why refresh tokens are revoked, for the audit entry.
const (
	revokedPasswordChanged = "password changed"
	revokedDeactivated     = "user deactivated"
	revokedDeleted         = "user deleted"
	revokedLockout         = "login prevented by too many failed attempts"
	revokedTwoFactorEnable = "two-factor method enabled"
)

// revokeUserTokens revokes every refresh token of a user in tx and audits
// how many (no entry when there were none). It returns the count.
func (s *Service) revokeUserTokens(ctx context.Context, tx *store.Tx, actor kit.Actor, userID, label, why string) (int, error) {
	n, err := s.RevokeUserRefreshTokens(ctx, tx, userID)
	if err != nil {
		return 0, fmt.Errorf("revoke refresh tokens: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	return n, s.Audit.Write(ctx, tx, actor, audit.Change{Message: fmt.Sprintf("Revoked %d refresh tokens of user %s: %s", n, label, why),
		TargetID: userID, Data: map[string]any{"count": n, "reason": why}})
}

// revokeOnPasswordChange revokes a user's refresh tokens after a password
// change when its tenant's policy says so.
func (s *Service) revokeOnPasswordChange(ctx context.Context, tx *store.Tx, cfg *model.TenantConfig, actor kit.Actor, row *store.UserRow) error {
	if !cfg.JWTConfiguration.RefreshTokenRevocationPolicy.OnPasswordChanged {
		return nil
	}
	_, err := s.revokeUserTokens(ctx, tx, actor, row.ID, userLabel(row), revokedPasswordChanged)
	return err
}

// revokeOnLockout revokes the refresh tokens of a user a failed-login
// lockout just locked, when the tenant's onLoginPrevented says so. Subjects
// of unknown login ids hold no tokens.
func (s *Service) revokeOnLockout(ctx context.Context, tx *store.Tx, cfg *model.TenantConfig, subject string) error {
	if strings.HasPrefix(subject, failedLoginSubjectPrefix) || !cfg.JWTConfiguration.RefreshTokenRevocationPolicy.OnLoginPrevented {
		return nil
	}
	_, err := s.revokeUserTokens(ctx, tx, kit.Actor{Type: kit.ActorSystem, Name: "failed login lockout"}, subject, subject, revokedLockout)
	return err
}

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
	return s.Audit.Write(ctx, tx, actor, audit.Change{Message: "Lifted the failed login lockout of user " + userLabel(row) + ": password reset",
		TargetID: row.ID, Data: map[string]any{"reason": "password reset"}})
}
