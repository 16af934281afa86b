// Package tenancy owns tenants, applications and their roles, the cache of
// their decoded settings (ConfigCache) that logins and token exchanges
// read, and the bootstrap of the Default tenant and the admin application.
package tenancy

import (
	"context"
	"log/slog"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/store"
)

// KeyRefresher reloads this node's API key cache; deleting a tenant narrows
// or deletes the API keys limited to it.
type KeyRefresher interface{ Refresh(ctx context.Context) }

// Service keeps tenants and applications, their secrets sealed under the
// master key.
type Service struct {
	store   *store.Store
	clock   kit.Clock
	master  *secrets.MasterKey
	log     *slog.Logger
	audit   *audit.Log
	apiKeys KeyRefresher
	limits  password.Limits
	// Configs holds decoded tenant and application settings (configcache.go).
	Configs *ConfigCache
}

// New wires a Service and its settings cache, and hooks the cache to the
// store's commits.
func New(st *store.Store, clock kit.Clock, master *secrets.MasterKey, log *slog.Logger, audit *audit.Log, apiKeys KeyRefresher, limits password.Limits) *Service {
	s := &Service{store: st, clock: clock, master: master, log: log, audit: audit, apiKeys: apiKeys, limits: limits,
		Configs: newConfigCache(st, log)}
	st.OnCacheBump(s.Configs.OnBump)
	return s
}

func (s *Service) now() int64 { return s.clock.Now().UnixMilli() }
