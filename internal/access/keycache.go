package access

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/store"
)

// AuthKey is an authenticated key as the cache holds it: an immutable snapshot
// of the stored key (without its value) and its IP ACL.
type AuthKey struct {
	model.APIKey
	ACL   *model.IPAccessControlList // nil when the key has none
	hash  [sha256.Size]byte
	usage *keyUsage
}

type keyUsage struct {
	count atomic.Int64
	last  atomic.Int64
}

type keySnapshot struct {
	version int64
	byHash  map[[sha256.Size]byte]*AuthKey
}

// KeyCache answers "which key is this?" from memory. It holds every key, is
// rebuilt when the database's api_keys cache version moves (so a change made on
// any node reaches every node within one poll), and batches usage counts.
type KeyCache struct {
	store *store.Store
	clock kit.Clock
	log   *slog.Logger

	snap      atomic.Pointer[keySnapshot]
	refreshMu sync.Mutex
	usage     sync.Map // key id → *keyUsage, survives rebuilds

	// Keys found in the database between rebuilds (made by another node or the
	// CLI), and hashes known to match nothing; both are dropped on rebuild.
	extraMu sync.Mutex
	extra   map[[sha256.Size]byte]*AuthKey
	missing map[[sha256.Size]byte]struct{}
}

// maxMissing bounds the memory spent remembering unknown keys.
const maxMissing = 10_000

func newKeyCache(st *store.Store, clock kit.Clock, log *slog.Logger) *KeyCache {
	c := &KeyCache{store: st, clock: clock, log: log}
	c.snap.Store(&keySnapshot{version: -1, byHash: map[[sha256.Size]byte]*AuthKey{}})
	c.extra = map[[sha256.Size]byte]*AuthKey{}
	c.missing = map[[sha256.Size]byte]struct{}{}
	return c
}

// maxKeyLength bounds the work an attacker can make us hash.
const maxKeyLength = 1024

// Authenticate finds the key whose value is raw. Unknown, empty and expired
// keys all fail with model.ErrUnauthorized; the caller decides what else the
// key may do. Usage is counted in memory and flushed in batches.
func (c *KeyCache) Authenticate(ctx context.Context, raw string) (*AuthKey, error) {
	// No key holds white space (the key API refuses it), so "Bearer <jwt>"
	// and the like are refused without a database lookup.
	if raw == "" || len(raw) > maxKeyLength || strings.ContainsAny(raw, " \t") {
		return nil, model.ErrUnauthorized
	}
	h := sha256.Sum256([]byte(raw))
	k := c.snap.Load().byHash[h]
	if k == nil {
		var err error
		if k, err = c.lookup(ctx, h); err != nil {
			return nil, err
		}
	}
	// The map matched on the hash already; the explicit constant-time compare
	// keeps the rule visible should the lookup ever change.
	if subtle.ConstantTimeCompare(k.hash[:], h[:]) != 1 {
		return nil, model.ErrUnauthorized
	}
	now := c.clock.Now().UnixMilli()
	if k.Expired(now) {
		return nil, model.ErrUnauthorized
	}
	k.usage.count.Add(1)
	if k.usage.last.Load() < now {
		k.usage.last.Store(now)
	}
	return k, nil
}

// lookup asks the database for a key the snapshot does not know.
func (c *KeyCache) lookup(ctx context.Context, h [sha256.Size]byte) (*AuthKey, error) {
	c.extraMu.Lock()
	k, found := c.extra[h]
	_, missing := c.missing[h]
	c.extraMu.Unlock()
	if found {
		return k, nil
	}
	if missing {
		return nil, model.ErrUnauthorized
	}
	row, err := c.store.Read().APIKeyByHash(ctx, hexHash(h))
	if errors.Is(err, store.ErrNoRows) {
		c.extraMu.Lock()
		if len(c.missing) >= maxMissing {
			clear(c.missing)
		}
		c.missing[h] = struct{}{}
		c.extraMu.Unlock()
		return nil, model.ErrUnauthorized
	}
	if err != nil {
		return nil, err
	}
	var acl *model.IPAccessControlList
	if row.IPAccessControlListID != "" {
		if acl, err = c.store.Read().IPACLByID(ctx, row.IPAccessControlListID); err != nil {
			return nil, err
		}
	}
	k = c.newAuthKey(row, acl)
	c.extraMu.Lock()
	c.extra[h] = k
	c.extraMu.Unlock()
	return k, nil
}

func (c *KeyCache) newAuthKey(row *store.APIKeyRow, acl *model.IPAccessControlList) *AuthKey {
	k := &AuthKey{APIKey: row.APIKey, ACL: acl}
	k.Key = ""
	copy(k.hash[:], mustHex(row.KeyHash))
	u, _ := c.usage.LoadOrStore(row.ID, &keyUsage{})
	k.usage = u.(*keyUsage)
	return k
}

// Refresh rebuilds the snapshot from the database. Errors are logged: the old
// snapshot keeps serving until the database answers again.
func (c *KeyCache) Refresh(ctx context.Context) {
	if err := c.refresh(ctx); err != nil {
		c.log.WarnContext(ctx, "api key cache refresh failed", "err", err)
	}
}

func (c *KeyCache) refresh(ctx context.Context) error {
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()
	rd := c.store.Read()
	// Read the version first: a change committed during the load bumps it
	// again, and the next poll rebuilds once more.
	version, err := rd.CacheVersion(ctx, store.CacheAPIKeys)
	if err != nil {
		return err
	}
	rows, err := rd.AllAPIKeys(ctx)
	if err != nil {
		return err
	}
	acls, err := rd.AllIPACLs(ctx)
	if err != nil {
		return err
	}
	byID := make(map[string]*model.IPAccessControlList, len(acls))
	for _, a := range acls {
		byID[a.ID] = a
	}
	snap := &keySnapshot{version: version, byHash: make(map[[sha256.Size]byte]*AuthKey, len(rows))}
	for _, row := range rows {
		var acl *model.IPAccessControlList
		if row.IPAccessControlListID != "" {
			acl = byID[row.IPAccessControlListID]
			if acl == nil { // dangling reference: refuse rather than skip the ACL
				acl = &model.IPAccessControlList{}
			}
		}
		k := c.newAuthKey(row, acl)
		snap.byHash[k.hash] = k
	}
	c.extraMu.Lock()
	c.snap.Store(snap)
	clear(c.extra)
	clear(c.missing)
	c.extraMu.Unlock()
	return nil
}

// Run keeps the cache current until ctx ends: it polls the cache version every
// pollEvery and flushes usage every flushEvery. It flushes once more on exit.
func (c *KeyCache) Run(ctx context.Context, pollEvery, flushEvery time.Duration) {
	poll := time.NewTicker(pollEvery)
	flush := time.NewTicker(flushEvery)
	defer poll.Stop()
	defer flush.Stop()
	for {
		select {
		case <-ctx.Done():
			// The request context is gone; give the last flush its own deadline.
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			c.FlushUsage(fctx)
			cancel()
			return
		case <-poll.C:
			v, err := c.store.Read().CacheVersion(ctx, store.CacheAPIKeys)
			if err != nil {
				continue // database away; keep serving the last snapshot
			}
			if v != c.snap.Load().version {
				c.Refresh(ctx)
			}
		case <-flush.C:
			c.FlushUsage(ctx)
		}
	}
}

// FlushUsage writes the counted uses to the database, one row per used key.
func (c *KeyCache) FlushUsage(ctx context.Context) {
	c.usage.Range(func(id, v any) bool {
		u := v.(*keyUsage)
		n := u.count.Swap(0)
		if n == 0 {
			return true
		}
		err := c.store.Read().AddAPIKeyUsage(ctx, store.KeyUsage{ID: id.(string), Count: n, LastUsed: u.last.Load()})
		if err != nil {
			u.count.Add(n) // try again next time
			c.log.WarnContext(ctx, "api key usage flush failed", "err", err)
			return false
		}
		return true
	})
}

// hashKey is the stored form of a key value.
func hashKey(value string) string { return secrets.HashToken(value) }

func hexHash(h [sha256.Size]byte) string { return hex.EncodeToString(h[:]) }

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic("api key hash is not hex: " + err.Error())
	}
	return b
}
