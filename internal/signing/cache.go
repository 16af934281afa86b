package signing

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/latchid/latch/internal/keys"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/store"
)

// Cache holds every signing key in memory as a keys.Set: the
// rendered JWKS, the public keys and the signers login uses. It is rebuilt
// whole when the database's signing_keys cache version moves, so a key made,
// renamed or deleted on any node reaches every node within one poll.
type Cache struct {
	store  *store.Store
	master *secrets.MasterKey
	log    *slog.Logger

	set       atomic.Pointer[keys.Set]
	version   atomic.Int64
	refreshMu sync.Mutex
}

func newCache(st *store.Store, master *secrets.MasterKey, log *slog.Logger) *Cache {
	c := &Cache{store: st, master: master, log: log}
	c.set.Store(keys.EmptySet())
	c.version.Store(-1)
	return c
}

// Current is the set every request reads; it never blocks.
func (c *Cache) Current() *keys.Set { return c.set.Load() }

// Refresh rebuilds the set from the database. Errors are logged: the old set
// keeps serving until the database answers again.
func (c *Cache) Refresh(ctx context.Context) {
	if err := c.refresh(ctx); err != nil {
		c.log.WarnContext(ctx, "signing key cache refresh failed", "err", err)
	}
}

func (c *Cache) refresh(ctx context.Context) error {
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()
	rd := c.store.Read()
	// Version first: a change committed during the load bumps it again and
	// the next poll rebuilds once more.
	version, err := rd.CacheVersion(ctx, store.CacheSigningKeys)
	if err != nil {
		return err
	}
	rows, err := rd.AllSigningKeys(ctx)
	if err != nil {
		return err
	}
	entries := make([]keys.Entry, 0, len(rows))
	for _, r := range rows {
		e := keys.Entry{ID: r.ID, Name: r.Name, Algorithm: r.Algorithm, Kid: r.Kid, PublicKey: r.PublicKey, Certificate: r.Certificate}
		if r.PrivateSealed != "" {
			if e.Private, err = c.master.Open(r.PrivateSealed, signingKeyAD(r.ID)); err != nil {
				// Left out rather than served without its private half: a
				// key Latch cannot sign with must not look usable.
				c.log.ErrorContext(ctx, "signing key cannot be opened under this master key; left out", "keyId", r.ID, "err", err)
				continue
			}
		}
		entries = append(entries, e)
	}
	set, errs := keys.NewSet(entries)
	for _, err := range errs {
		c.log.ErrorContext(ctx, "signing key left out of the key set", "err", err)
	}
	c.set.Store(set)
	c.version.Store(version)
	return nil
}

// Run keeps the set current until ctx ends, checking the cache version every
// pollEvery (one indexed single-row read).
func (c *Cache) Run(ctx context.Context, pollEvery time.Duration) {
	kit.Every(ctx, pollEvery, func() {
		v, err := c.store.Read().CacheVersion(ctx, store.CacheSigningKeys)
		if err == nil && v != c.version.Load() { // on error (database away) keep serving the last set
			c.Refresh(ctx)
		}
	})
}

// signingKeyAD binds a sealed private key to its row, and to this table: a
// sealed value moved to another key, or from another table, does not open.
func signingKeyAD(id string) string { return "signing_key:" + id }
