// Package tokens issues and validates access tokens (JWTs) and keeps refresh
// tokens: exchange and rotation, revocation (by the API, on logout, and when
// a password change, a lockout, a new two-factor method, a deactivation or a
// deletion calls for it), listing, and the sweep of expired rows.
package tokens

import (
	"log/slog"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/signing"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/tenancy"
)

// Service issues tokens with the keys of the signing cache, under the
// settings of the tenancy cache; a one-time refresh token's successor is
// sealed under the master key for the grace period's retries.
type Service struct {
	store       *store.Store
	clock       kit.Clock
	master      *secrets.MasterKey
	log         *slog.Logger
	audit       *audit.Log
	tenancy     *tenancy.Service
	signingKeys *signing.Cache
	metrics     kit.Metrics
	revoked     *revokedIDs // revoked access tokens (revoked.go)
}

// New wires a Service, and hooks its revoked access tokens to the store's
// commits.
func New(st *store.Store, clock kit.Clock, master *secrets.MasterKey, log *slog.Logger, audit *audit.Log, tenancy *tenancy.Service, signingKeys *signing.Cache) *Service {
	s := &Service{store: st, clock: clock, master: master, log: log, audit: audit, tenancy: tenancy, signingKeys: signingKeys,
		metrics: kit.NoMetrics{}, revoked: newRevokedIDs()}
	st.OnCacheBump(s.onRevocationBump)
	return s
}

// SetMetrics names where reuse detections are counted; call it at wiring,
// before the service is used.
func (s *Service) SetMetrics(m kit.Metrics) { s.metrics = m }

func (s *Service) now() int64 { return s.clock.Now().UnixMilli() }
