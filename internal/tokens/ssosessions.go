package tokens

import (
	"context"
	"errors"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/store"
)

// The OAuth provider's SSO sessions (the hosted pages' sign-ins) show in the
// refresh token API as FusionAuth shows its own: refresh tokens without an
// applicationId, listed with the user's tokens, retrieved and revoked by id,
// and ended with every token of the user.

// ssoSessionView is an SSO session as a RefreshToken.
func ssoSessionView(s *store.OAuthSession) *RefreshToken {
	return &RefreshToken{ID: s.ID, TenantID: s.TenantID, UserID: s.UserID, InsertInstant: s.InsertInstant,
		StartInstant: s.AuthInstant, MetaData: kit.Object{"data": kit.Object{"sso": true, "authenticationType": s.AuthType,
			"keepSignedIn": s.KeepSignedIn, "expirationInstant": s.ExpiresInstant}}}
}

// ssoSessionsOfUser are a user's live SSO sessions as RefreshTokens.
func (s *Service) ssoSessionsOfUser(ctx context.Context, userID string) ([]*RefreshToken, error) {
	rows, err := s.store.Read().OAuthSessionsOfUser(ctx, userID, s.now())
	if err != nil {
		return nil, err
	}
	out := make([]*RefreshToken, 0, len(rows))
	for _, r := range rows {
		out = append(out, ssoSessionView(r))
	}
	return out, nil
}

// ssoSessionByID is a live SSO session visible in scope; nil when none.
func (s *Service) ssoSessionByID(ctx context.Context, scope kit.TenantScope, id string) (*store.OAuthSession, error) {
	row, err := s.store.Read().OAuthSessionByID(ctx, id, s.now())
	if errors.Is(err, store.ErrNoRows) || (err == nil && !scope.CanSee(row.TenantID)) {
		return nil, nil
	}
	return row, err
}
