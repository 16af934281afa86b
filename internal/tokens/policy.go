package tokens

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/tenancy"
)

// Which refreshTokenRevocationPolicy governs a refresh token, as FusionAuth
// decides: its application's when the application's jwtConfiguration is
// enabled (an application's JWT configuration is in force only then), its
// tenant's otherwise. A user's tokens of several applications may so fare
// differently on one password change, lockout or new two-factor method.

// revocationPolicy is the policy in force for the tokens of app (nil: none,
// the tenant's).
func revocationPolicy(tenant *model.TenantConfig, app *model.ApplicationConfig) model.RefreshTokenRevocationPolicy {
	if app != nil && app.JWTConfiguration.Enabled {
		return app.JWTConfiguration.RefreshTokenRevocationPolicy
	}
	return tenant.JWTConfiguration.RefreshTokenRevocationPolicy
}

// revokes reports whether policy p revokes refresh tokens for why; the
// causes no policy names (deactivation, deletion) always do.
func revokes(p model.RefreshTokenRevocationPolicy, why string) bool {
	switch why {
	case RevokedPasswordChanged:
		return p.OnPasswordChanged
	case RevokedLockout:
		return p.OnLoginPrevented
	case RevokedTwoFactorEnable:
		return p.OnMultiFactorEnable
	}
	return true
}

// RevokeByPolicy revokes in tx the user's refresh tokens of each
// application whose policy in force revokes them for why (a password
// change, a lockout, a new two-factor method), audited with the count, and
// returns the count. The applications are those of the user's tokens (one
// indexed read), their settings from the settings cache; the tokens go in
// one statement that names only the applications that differ from the
// tenant, so a token issued meanwhile for another application follows the
// tenant's policy. A password change also ends access tokens where it
// revokes refresh tokens (endAccessTokens).
func (s *Service) RevokeByPolicy(ctx context.Context, tx *store.Tx, tenant *model.TenantConfig, actor kit.Actor, userID, label, why string) (int, error) {
	sn := s.tenancy.Configs.Current() // before the reads that may fill it
	apps, err := tx.RefreshTokenApplications(ctx, userID)
	if err != nil {
		return 0, fmt.Errorf("applications of refresh tokens: %w", err)
	}
	byTenant := revokes(tenant.JWTConfiguration.RefreshTokenRevocationPolicy, why)
	differ, err := s.differing(ctx, tx, sn, tenant, apps, why, byTenant)
	if err != nil {
		return 0, err
	}
	if why == RevokedPasswordChanged {
		if err := s.endAccessTokens(ctx, tx, sn, tenant, userID, byTenant); err != nil {
			return 0, err
		}
	}
	switch {
	case byTenant && len(differ) == 0:
		return s.revokeAll(ctx, tx, actor, userID, label, why)
	case byTenant:
		return s.revokeApplications(ctx, tx, actor, store.RefreshTokenFilter{UserID: userID, ExcludeApplicationIDs: differ}, label, why)
	case len(differ) == 0:
		return 0, nil
	default:
		return s.revokeApplications(ctx, tx, actor, store.RefreshTokenFilter{UserID: userID, ApplicationIDs: differ}, label, why)
	}
}

// endAccessTokens ends, on a password change, the user's access tokens
// wherever the change revokes refresh tokens: of every application of the
// tenant whose policy in force says so, and of no application when the
// tenant's does; all at once (one cut-off) when that is everywhere. Every
// application of the tenant counts, not only those of the user's refresh
// tokens: an access token needs no refresh token.
func (s *Service) endAccessTokens(ctx context.Context, tx *store.Tx, sn *tenancy.ConfigSnapshot, tenant *model.TenantConfig, userID string, byTenant bool) error {
	rows, err := tx.ListApplications(ctx, store.ApplicationQuery{TenantIDs: []string{tenant.ID}, OrderBy: "id"})
	if err != nil {
		return fmt.Errorf("applications of tenant: %w", err)
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	kept, err := s.differing(ctx, tx, sn, tenant, ids, RevokedPasswordChanged, true)
	if err != nil {
		return err
	}
	if byTenant && len(kept) == 0 {
		return s.EndSessions(ctx, tx, userID, "")
	}
	ended := slices.DeleteFunc(ids, func(id string) bool { return slices.Contains(kept, id) })
	if byTenant {
		ended = append(ended, store.NoApplication)
	}
	for _, id := range ended {
		if err := s.EndSessions(ctx, tx, userID, id); err != nil {
			return err
		}
	}
	return nil
}

// differing is those of apps whose policy in force decides, for why, other
// than the verdict than (the tenant's, say). An application deleted
// meanwhile (its tokens go with it) counts as the tenant's.
func (s *Service) differing(ctx context.Context, tx *store.Tx, sn *tenancy.ConfigSnapshot, tenant *model.TenantConfig, apps []string, why string, than bool) ([]string, error) {
	var differ []string
	for _, id := range apps {
		app, err := s.tenancy.LoginApplicationConfigIn(ctx, tx, sn, id)
		if err != nil && !errors.Is(err, model.ErrNotFound) {
			return nil, err
		}
		if revokes(revocationPolicy(tenant, app), why) != than {
			differ = append(differ, id)
		}
	}
	return differ, nil
}

// revokeApplications revokes the user's refresh tokens f selects and
// audits them, by application.
func (s *Service) revokeApplications(ctx context.Context, tx *store.Tx, actor kit.Actor, f store.RefreshTokenFilter, label, why string) (int, error) {
	revoked, err := tx.RevokeRefreshTokens(ctx, f)
	if err != nil {
		return 0, fmt.Errorf("revoke refresh tokens: %w", err)
	}
	n := len(revoked)
	if n == 0 {
		return 0, nil
	}
	byApp := map[string][]*store.RefreshTokenRow{}
	var ids []string
	for _, r := range revoked {
		if byApp[r.ApplicationID] == nil {
			ids = append(ids, r.ApplicationID)
		}
		byApp[r.ApplicationID] = append(byApp[r.ApplicationID], r)
	}
	slices.Sort(ids)
	var events []model.Event
	for _, id := range ids {
		events = append(events, revokeEvents(byApp[id], id)...)
	}
	return n, s.audit.Write(ctx, tx, actor, audit.Change{
		Message:  fmt.Sprintf("Revoked %d refresh tokens of user %s for applications %v: %s", n, label, ids, why),
		TargetID: f.UserID, Data: map[string]any{"count": n, "reason": why, "applicationIds": ids}, Events: events})
}
