// Package signing owns the JWT signing keys (FusionAuth's /api/key): their
// CRUD, the default key every instance starts with, and the in-memory Cache
// every node signs and publishes its JWKS from. The cryptography lives in
// internal/keys.
package signing

import (
	"log/slog"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/store"
)

// Service stores signing keys, private material sealed under the master key.
type Service struct {
	store  *store.Store
	clock  kit.Clock
	master *secrets.MasterKey
	log    *slog.Logger
	audit  *audit.Log
	// Cache holds every key in memory (and the rendered JWKS).
	Cache *Cache
}

// New wires a Service and its cache.
func New(st *store.Store, clock kit.Clock, master *secrets.MasterKey, log *slog.Logger, audit *audit.Log) *Service {
	return &Service{store: st, clock: clock, master: master, log: log, audit: audit,
		Cache: newCache(st, master, log)}
}

func (s *Service) now() int64 { return s.clock.Now().UnixMilli() }
