package authentication

import (
	"context"
	"strings"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/tokens"
)

// revokeOnLockout revokes the refresh tokens of a user a failed-login
// lockout just locked, when the tenant's onLoginPrevented says so. Subjects
// of unknown login ids hold no tokens.
func (s *Service) revokeOnLockout(ctx context.Context, tx *store.Tx, cfg *model.TenantConfig, subject string) error {
	if strings.HasPrefix(subject, failedLoginSubjectPrefix) || !cfg.JWTConfiguration.RefreshTokenRevocationPolicy.OnLoginPrevented {
		return nil
	}
	_, err := s.tokens.RevokeUserTokens(ctx, tx, kit.Actor{Type: kit.ActorSystem, Name: "failed login lockout"}, subject, subject, tokens.RevokedLockout)
	return err
}
