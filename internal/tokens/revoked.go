package tokens

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// Access tokens revoked before they expire, by the sid (a refresh token
// family) or jti they carry: what the first exchange of a replayed
// authorization code issued. The ids live in the database
// (token_revocations) and in memory on every node, where validation looks
// them up: with none revoked the check is one atomic load. A node reloads
// them when the token_revocations cache version moves: at once after its
// own commit, within one poll after another node's. An id is kept until
// the tokens it names have expired.

// revokedIDs is the in-memory copy of token_revocations.
type revokedIDs struct {
	ids       atomic.Pointer[map[string]int64] // id → until when (epoch ms)
	version   atomic.Int64
	refreshMu sync.Mutex
}

func newRevokedIDs() *revokedIDs {
	r := &revokedIDs{}
	r.ids.Store(&map[string]int64{})
	r.version.Store(-1)
	return r
}

// revocationSlackSeconds keeps a revocation a little past the tokens'
// expiry, for nodes whose clocks differ.
const revocationSlackSeconds = 60

// accessRevoked reports whether a token with this sid or jti (its raw
// claim, decoded only when some token is revoked) was revoked.
func (s *Service) accessRevoked(sid string, rawJTI json.RawMessage) bool {
	ids := *s.revoked.ids.Load()
	if len(ids) == 0 {
		return false
	}
	var jti string
	_ = json.Unmarshal(rawJTI, &jti)
	_, bySid := ids[sid]
	_, byJti := ids[jti]
	return (sid != "" && bySid) || (jti != "" && byJti)
}

// RefreshRevocations reloads the revoked ids. Errors are logged: the last
// set keeps serving until the database answers again.
func (s *Service) RefreshRevocations(ctx context.Context) {
	s.revoked.refreshMu.Lock()
	defer s.revoked.refreshMu.Unlock()
	rd := s.store.Read()
	// Version first: a revocation committed during the load bumps it again.
	version, err := rd.CacheVersion(ctx, store.CacheTokenRevocations)
	if err == nil {
		var ids map[string]int64
		if ids, err = rd.TokenRevocations(ctx, s.now()); err == nil {
			s.revoked.ids.Store(&ids)
			s.revoked.version.Store(version)
			return
		}
	}
	s.log.WarnContext(ctx, "access token revocations refresh failed", "err", err)
}

// RunRevocations keeps the revoked ids current until ctx ends, checking the
// cache version every pollEvery (one indexed single-row read), and letting
// go of ids whose tokens have expired.
func (s *Service) RunRevocations(ctx context.Context, pollEvery time.Duration) {
	kit.Every(ctx, pollEvery, func() {
		v, err := s.store.Read().CacheVersion(ctx, store.CacheTokenRevocations)
		if err == nil && v != s.revoked.version.Load() {
			s.RefreshRevocations(ctx)
			return
		}
		now := s.now()
		for _, until := range *s.revoked.ids.Load() {
			if until <= now {
				s.RefreshRevocations(ctx)
				return
			}
		}
	})
}

// onRevocationBump is the store's after-commit hook: a revocation made on
// this node holds on this node's next request.
func (s *Service) onRevocationBump(ctx context.Context, names []string) {
	if slices.Contains(names, store.CacheTokenRevocations) {
		s.RefreshRevocations(context.WithoutCancel(ctx))
	}
}

// codeTokenSpace names the UUIDs of codeTokenID.
var codeTokenSpace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("urn:latch:oauth:authorization-code"))

// codeTokenID is the jti of the access token an authorization code's
// exchange issues: a name-based UUID of the code's hash, so that a replay
// of the code names that token without its id being stored anywhere.
func codeTokenID(codeHash string) string {
	return uuid.NewSHA1(codeTokenSpace, []byte(codeHash)).String()
}

// RevokeCodeExchange revokes, on every node, what the exchange of an
// authorization code (by its hash) issued: the refresh token (its id, ""
// for none) with its family, the family's access tokens (sid: a code's
// refresh token starts its family, so its id is the family's) and the
// exchange's own access token (jti, codeTokenID). The revocation lasts as
// long as the application's access tokens do. A code spent by a refused
// exchange issued nothing: revoking its names changes nothing.
func (s *Service) RevokeCodeExchange(ctx context.Context, codeHash, applicationID, refreshTokenID string) error {
	ttl := int64(defaultAccessTTLSeconds) // of a deleted application's tokens
	app, err := s.tenancy.LoginApplicationConfig(ctx, applicationID)
	switch {
	case err == nil:
		tenant, err := s.tenancy.LoginTenantConfig(ctx, app.TenantID)
		if err != nil {
			return err
		}
		ttl = settingsOf(tenant, app).TTLSeconds
	case !errors.Is(err, model.ErrNotFound):
		return err
	}
	ids := []string{codeTokenID(codeHash)}
	if refreshTokenID != "" {
		ids = append(ids, refreshTokenID)
	}
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		if refreshTokenID != "" {
			if _, err := tx.RevokeRefreshTokens(ctx, store.RefreshTokenFilter{FamilyID: refreshTokenID}); err != nil {
				return err
			}
		}
		return tx.RevokeAccessTokens(ctx, ids, s.now()+(ttl+revocationSlackSeconds)*1000)
	})
}
