package store

import "context"

// CacheIdentityConfig is the cache_versions row of tenant and application
// settings. Every writer of the tenants or applications tables bumps it in
// its own transaction (see bumpIdentityConfig), so that no caller can forget
// it: nodes keep those settings in memory for logins and token checks.
const CacheIdentityConfig = "identity_config"

// bumpIdentityConfig tells every node that a tenant or an application
// changed (once per transaction, however many rows).
func (tx *Tx) bumpIdentityConfig(ctx context.Context) error {
	return tx.BumpCacheVersion(ctx, CacheIdentityConfig)
}

// OnCacheBump makes fn hear, after each commit, the cache versions the
// transaction bumped, so that this node refreshes its caches at once rather
// than at the next poll. Call it while wiring, before the store is used.
func (s *Store) OnCacheBump(fn func(ctx context.Context, names []string)) {
	s.onBump = append(s.onBump, fn)
}
