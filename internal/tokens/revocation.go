package tokens

import (
	"context"
	"fmt"

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
	RevokedPasswordChanged = "password changed"
	RevokedDeactivated     = "user deactivated"
	RevokedDeleted         = "user deleted"
	RevokedLockout         = "login prevented by too many failed attempts"
	RevokedTwoFactorEnable = "two-factor method enabled"
)

// RevokeUserTokens revokes every refresh token of a user in tx and audits
// how many (no entry when there were none). It returns the count.
func (s *Service) RevokeUserTokens(ctx context.Context, tx *store.Tx, actor kit.Actor, userID, label, why string) (int, error) {
	n, err := s.RevokeUserRefreshTokens(ctx, tx, userID)
	if err != nil {
		return 0, fmt.Errorf("revoke refresh tokens: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	return n, s.audit.Write(ctx, tx, actor, audit.Change{Message: fmt.Sprintf("Revoked %d refresh tokens of user %s: %s", n, label, why),
		TargetID: userID, Data: map[string]any{"count": n, "reason": why}})
}

// RevokeOnPasswordChange revokes a user's refresh tokens after a password
// change when its tenant's policy says so.
func (s *Service) RevokeOnPasswordChange(ctx context.Context, tx *store.Tx, cfg *model.TenantConfig, actor kit.Actor, row *store.UserRow) error {
	if !cfg.JWTConfiguration.RefreshTokenRevocationPolicy.OnPasswordChanged {
		return nil
	}
	_, err := s.RevokeUserTokens(ctx, tx, actor, row.ID, kit.UserLabel(row), RevokedPasswordChanged)
	return err
}
