package tokens

import (
	"context"
	"fmt"
	"time"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// When a user's refresh tokens are revoked besides logout and the refresh
// token API, as FusionAuth does: on a password change when
// jwtConfiguration.refreshTokenRevocationPolicy.onPasswordChanged says so
// (default true); on a lockout by failed logins when onLoginPrevented says so
// (default true); on enabling a two-factor method when onMultiFactorEnable
// says so (default false), each application's tokens under the policy in
// force for it (its own when its jwtConfiguration is enabled, the tenant's
// otherwise: see RevokeByPolicy); and always when the user is deactivated or
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
// how many (no entry when there were none). It returns the count. On a
// deactivation, deletion or password change it also ends, for good, the
// access tokens issued before (see EndSessions).
func (s *Service) RevokeUserTokens(ctx context.Context, tx *store.Tx, actor kit.Actor, userID, label, why string) (int, error) {
	switch why {
	case RevokedDeactivated, RevokedDeleted, RevokedPasswordChanged:
		if err := s.EndSessions(ctx, tx, userID, ""); err != nil {
			return 0, err
		}
	}
	return s.revokeAll(ctx, tx, actor, userID, label, why)
}

// revokeAll revokes every refresh token of a user in tx and audits how many.
func (s *Service) revokeAll(ctx context.Context, tx *store.Tx, actor kit.Actor, userID, label, why string) (int, error) {
	revoked, err := tx.RevokeRefreshTokens(ctx, store.RefreshTokenFilter{UserID: userID})
	if err != nil {
		return 0, fmt.Errorf("revoke refresh tokens: %w", err)
	}
	n := len(revoked)
	if n == 0 {
		return 0, nil
	}
	return n, s.audit.Write(ctx, tx, actor, audit.Change{Message: fmt.Sprintf("Revoked %d refresh tokens of user %s: %s", n, label, why),
		TargetID: userID, Data: map[string]any{"count": n, "reason": why}, Events: revokeEvents(revoked, "")})
}

// RevokeOnPasswordChange revokes a user's refresh tokens after a password
// change where the policy in force says so (RevokeByPolicy).
func (s *Service) RevokeOnPasswordChange(ctx context.Context, tx *store.Tx, cfg *model.TenantConfig, actor kit.Actor, row *store.UserRow) error {
	_, err := s.RevokeByPolicy(ctx, tx, cfg, actor, row.ID, kit.UserLabel(row), RevokedPasswordChanged)
	return err
}

// EndSessions records in tx that the user's tokens (for one application,
// all when applicationID is "", or those of no application when it is
// store.NoApplication) issued until now are ended. Validation and
// refresh read the cut-off from the database, so it holds on every node and
// survives reactivation or a new registration. Access tokens carry iat in
// whole seconds: one issued in the same second as the cut-off is ended too.
// So the change answers only once that second is over (after commit, never
// holding the transaction): whatever its caller does next, such as signing
// in with the new password, gets tokens that live.
func (s *Service) EndSessions(ctx context.Context, tx *store.Tx, userID, applicationID string) error {
	now := s.now()
	if err := tx.SetTokenCutoff(ctx, userID, applicationID, now); err != nil {
		return fmt.Errorf("end sessions: %w", err)
	}
	tx.AfterCommit(func() { kit.SleepUntil(s.clock, time.UnixMilli((now/1000+1)*1000)) })
	return nil
}

// EndRegistrationSessions ends the access and refresh tokens of a user for
// one application: its registration was deleted.
func (s *Service) EndRegistrationSessions(ctx context.Context, tx *store.Tx, actor kit.Actor, userID, label, applicationID string) error {
	if err := s.EndSessions(ctx, tx, userID, applicationID); err != nil {
		return err
	}
	revoked, err := tx.RevokeRefreshTokens(ctx, store.RefreshTokenFilter{UserID: userID, ApplicationID: applicationID})
	n := len(revoked)
	if err != nil {
		return fmt.Errorf("revoke refresh tokens: %w", err)
	}
	if n == 0 {
		return nil
	}
	return s.audit.Write(ctx, tx, actor, audit.Change{Message: fmt.Sprintf("Revoked %d refresh tokens of user %s for application %s: registration deleted", n, label, applicationID),
		TargetID: userID, Data: map[string]any{"count": n, "reason": "registration deleted", "applicationId": applicationID}})
}

// endedBefore reports whether a token issued at issuedMillis is ended by
// the cut-off at cutoffMillis. Access tokens know their issue time to the
// second only (iatSeconds): the cut-off is rounded up to a whole second.
func endedBefore(issuedMillis, cutoffMillis int64, iatSeconds bool) bool {
	if cutoffMillis == 0 {
		return false
	}
	if iatSeconds {
		cutoffMillis = (cutoffMillis + 999) / 1000 * 1000
	}
	return issuedMillis < cutoffMillis
}
