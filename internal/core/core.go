// Package core holds Latch's business rules, one file per concept. Handlers and
// commands call it; it calls the store. It never reads the environment.
package core

import (
	"context"
	"log/slog"
	"time"

	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/store"
)

// Clock tells the time; tests inject a fake one for anything that expires.
type Clock interface{ Now() time.Time }

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }

// Service is the core, wired once in the app package.
type Service struct {
	store  *store.Store
	clock  Clock
	master *secrets.MasterKey
	log    *slog.Logger
	Keys   *KeyCache
	// SigningKeys holds the JWT signing keys (and the rendered JWKS) in memory.
	SigningKeys *SigningKeyCache
	// Configs holds decoded tenant and application settings for logins and
	// token exchanges (configcache.go).
	Configs *ConfigCache
	// Logins buffers the writes of plain successful logins (loginbuffer.go).
	Logins *LoginRecorder
}

// New wires a Service.
func New(st *store.Store, clock Clock, master *secrets.MasterKey, log *slog.Logger) *Service {
	s := &Service{store: st, clock: clock, master: master, log: log}
	s.Keys = newKeyCache(st, clock, log)
	s.SigningKeys = newSigningKeyCache(st, master, log)
	s.Configs = newConfigCache(st, log)
	st.OnCacheBump(s.Configs.onBump)
	s.Logins = newLoginRecorder(st, log)
	return s
}

// Store exposes the store for health checks and tools.
func (s *Service) Store() *store.Store { return s.store }

// Clock exposes the clock.
func (s *Service) Clock() Clock { return s.clock }

func (s *Service) now() int64 { return s.clock.Now().UnixMilli() }

// every runs fn every interval until ctx ends (the background loops: cache
// polls, flushes, the sweeper).
func every(ctx context.Context, interval time.Duration, fn func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}
