package tenancy

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// ConfigCache keeps the decoded settings of tenants and applications that
// logins, refresh token exchanges and two-factor logins read, so that those
// read no tenant or application row. Every writer of the tenants or
// applications tables bumps the identity_config cache version in its own
// transaction (internal/store/configversion.go); a node drops its whole
// cache when the version moves: at once after a local commit, within one
// poll for a change made on another node (or by the CLI).
//
// Entries are filled on first use, into the snapshot of the version read
// before the row: a row read after the snapshot was made is at least as new
// as its version, so that no entry outlives a change. The cached settings
// are shared by every request: callers must treat them as read-only (they
// are never written by the login, token or two-factor code).
type ConfigCache struct {
	store *store.Store
	log   *slog.Logger

	snap      atomic.Pointer[ConfigSnapshot]
	refreshMu sync.Mutex
}

// ConfigSnapshot is the cache at one version. A snapshot of version -1 (the
// version is not known yet: Refresh never ran, as in a CLI command) caches
// nothing.
type ConfigSnapshot struct {
	version int64

	mu         sync.RWMutex
	tenants    map[string]*model.TenantConfig
	apps       map[string]*model.ApplicationConfig
	defaultKey *string // the Default tenant's access token key id, once read
}

// maxCachedConfigs bounds each map of a snapshot; past it, settings are
// decoded per use until the next version.
const maxCachedConfigs = 4096

func newConfigCache(st *store.Store, log *slog.Logger) *ConfigCache {
	c := &ConfigCache{store: st, log: log}
	c.snap.Store(newSnapshot(-1))
	return c
}

func newSnapshot(version int64) *ConfigSnapshot {
	return &ConfigSnapshot{version: version, tenants: map[string]*model.TenantConfig{}, apps: map[string]*model.ApplicationConfig{}}
}

// Size is the number of tenant and application settings the current
// snapshot holds (a metric).
func (c *ConfigCache) Size() int {
	sn := c.snap.Load()
	sn.mu.RLock()
	defer sn.mu.RUnlock()
	return len(sn.tenants) + len(sn.apps)
}

// Current is the snapshot to fill and read. Load it before the reads whose
// rows go into it (see ConfigCache).
func (c *ConfigCache) Current() *ConfigSnapshot { return c.snap.Load() }

// Refresh starts a new, empty snapshot when the database's version moved.
// Errors are logged, and caching stops until the database answers: a cache
// that cannot see the version cannot tell when it is stale.
func (c *ConfigCache) Refresh(ctx context.Context) {
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()
	v, err := c.store.Read().CacheVersion(ctx, store.CacheIdentityConfig)
	if err != nil {
		if c.snap.Load().version != -1 {
			c.snap.Store(newSnapshot(-1))
		}
		c.log.WarnContext(ctx, "tenant and application cache refresh failed", "err", err)
		return
	}
	if v != c.snap.Load().version {
		c.snap.Store(newSnapshot(v))
	}
}

// Run keeps the cache current until ctx ends, checking the cache version
// every pollEvery (one indexed single-row read).
func (c *ConfigCache) Run(ctx context.Context, pollEvery time.Duration) {
	kit.Every(ctx, pollEvery, func() { c.Refresh(ctx) })
}

// OnBump is the store's after-commit hook: a local change of a tenant or an
// application is seen by the next request on this node.
func (c *ConfigCache) OnBump(ctx context.Context, names []string) {
	if slices.Contains(names, store.CacheIdentityConfig) {
		c.Refresh(context.WithoutCancel(ctx))
	}
}

func (sn *ConfigSnapshot) tenant(id string) *model.TenantConfig {
	sn.mu.RLock()
	defer sn.mu.RUnlock()
	return sn.tenants[id]
}

func (sn *ConfigSnapshot) app(id string) *model.ApplicationConfig {
	sn.mu.RLock()
	defer sn.mu.RUnlock()
	return sn.apps[id]
}

func (sn *ConfigSnapshot) putTenant(cfg *model.TenantConfig) {
	if sn.version < 0 {
		return
	}
	sn.mu.Lock()
	if len(sn.tenants) < maxCachedConfigs {
		sn.tenants[cfg.ID] = cfg
	}
	sn.mu.Unlock()
}

func (sn *ConfigSnapshot) putApp(cfg *model.ApplicationConfig) {
	if sn.version < 0 {
		return
	}
	sn.mu.Lock()
	if len(sn.apps) < maxCachedConfigs {
		sn.apps[cfg.ID] = cfg
	}
	sn.mu.Unlock()
}

// LoginTenantConfig is TenantConfig without the tenant's secrets (a login
// needs none), from the cache.
func (s *Service) LoginTenantConfig(ctx context.Context, id string) (*model.TenantConfig, error) {
	return s.LoginTenantConfigIn(ctx, s.store.Read(), s.Configs.Current(), id)
}

// LoginTenantConfigIn is LoginTenantConfig reading through rd on a miss,
// into sn (loaded before rd read anything).
func (s *Service) LoginTenantConfigIn(ctx context.Context, rd *store.Tx, sn *ConfigSnapshot, id string) (*model.TenantConfig, error) {
	if cfg := sn.tenant(id); cfg != nil {
		return cfg, nil
	}
	row, err := rd.TenantByID(ctx, id)
	if errors.Is(err, store.ErrNoRows) {
		return nil, model.NotFoundf("tenant %s", id)
	}
	if err != nil {
		return nil, err
	}
	cfg, err := s.tenantObject(row, false)
	if err != nil {
		return nil, err
	}
	sn.putTenant(cfg)
	return cfg, nil
}

// LoginApplicationConfig is ApplicationConfig without the client secret and
// roles (a login needs neither), from the cache.
func (s *Service) LoginApplicationConfig(ctx context.Context, id string) (*model.ApplicationConfig, error) {
	return s.LoginApplicationConfigIn(ctx, s.store.Read(), s.Configs.Current(), id)
}

// LoginApplicationConfigIn is LoginApplicationConfig reading through rd on
// a miss, into sn (loaded before rd read anything).
func (s *Service) LoginApplicationConfigIn(ctx context.Context, rd *store.Tx, sn *ConfigSnapshot, id string) (*model.ApplicationConfig, error) {
	if cfg := sn.app(id); cfg != nil {
		return cfg, nil
	}
	row, err := rd.ApplicationByID(ctx, id)
	if errors.Is(err, store.ErrNoRows) {
		return nil, model.NotFoundf("application %s", id)
	}
	if err != nil {
		return nil, err
	}
	cfg, err := s.applicationObject(row, nil, false)
	if err != nil {
		return nil, err
	}
	sn.putApp(cfg)
	return cfg, nil
}

// DefaultAccessTokenKeyIn is the access token key id of the Default tenant
// (the one of the admin application), "" when it names none or cannot be
// read, from the cache.
func (s *Service) DefaultAccessTokenKeyIn(ctx context.Context, rd *store.Tx, sn *ConfigSnapshot) string {
	sn.mu.RLock()
	k := sn.defaultKey
	sn.mu.RUnlock()
	if k != nil {
		return *k
	}
	_, data, err := rd.DefaultTenantData(ctx, model.AdminApplicationID)
	if err != nil {
		return "" // signing fails later with a clear error; not cached
	}
	var d struct {
		JWT struct {
			AccessTokenKeyID string `json:"accessTokenKeyId"`
		} `json:"jwtConfiguration"`
	}
	if kit.DecodeStored(data, TenantFields, &d) != nil {
		return ""
	}
	if sn.version >= 0 {
		sn.mu.Lock()
		sn.defaultKey = &d.JWT.AccessTokenKeyID
		sn.mu.Unlock()
	}
	return d.JWT.AccessTokenKeyID
}
