package api_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

// Helpers of the key API tests; all prefixed "ak" because other tests of this
// package keep their own helpers. Fixtures the API cannot make (key-manager
// keys, tenants) are written straight into the server's database, the way
// kickstart or `latch recover` would.

// akEnv is a set-up server with a fake clock and its initial full-manager key.
type akEnv struct {
	*apiEnv
	rootID string
}

func akStart(t *testing.T, b testutil.Backend, opts ...testutil.Option) *akEnv {
	t.Helper()
	e := &akEnv{apiEnv: startEnv(t, b, opts...)}
	row, err := e.st.Read().APIKeyByHash(context.Background(), secrets.HashToken(e.root))
	if err != nil {
		t.Fatalf("find the initial key: %v", err)
	}
	e.rootID = row.ID
	return e
}

func (e *akEnv) now() int64 { return e.s.Clock.Now().UnixMilli() }

// akKeyBody is the {"apiKey":…} wrapper as the API answers it.
type akKeyBody struct {
	APIKey model.APIKey `json:"apiKey"`
}

type akKeysBody struct {
	APIKeys []model.APIKey `json:"apiKeys"`
	Total   int            `json:"total"`
}

// create makes a key through the API and fails the test unless it answers 200.
func (e *akEnv) create(key string, apiKey map[string]any) model.APIKey {
	e.t.Helper()
	r := e.do("POST", "/api/api-key", key, map[string]any{"apiKey": apiKey})
	if r.Status != 200 {
		e.t.Fatalf("create api key %v: %d %s", apiKey, r.Status, r.Body)
	}
	var b akKeyBody
	r.JSON(e.t, &b)
	if b.APIKey.Key == "" {
		e.t.Fatalf("create answered no key value: %s", r.Body)
	}
	return b.APIKey
}

// get retrieves a key with the root key and fails unless it answers 200.
func (e *akEnv) get(id string) model.APIKey {
	e.t.Helper()
	r := e.do("GET", "/api/api-key/"+id, e.root, nil)
	if r.Status != 200 {
		e.t.Fatalf("retrieve api key %s: %d %s", id, r.Status, r.Body)
	}
	var b akKeyBody
	r.JSON(e.t, &b)
	return b.APIKey
}

// insertKey stores k with a random value straight into the database and
// returns the value and id. It bumps the cache version as any change must.
func (e *akEnv) insertKey(k model.APIKey) (value, id string) {
	e.t.Helper()
	value = secrets.Token(32)
	if k.ID == "" {
		k.ID = uuid.NewString()
	}
	now := e.now()
	k.InsertInstant, k.LastUpdateInstant = now, now
	k.Permissions.Endpoints = model.NormalizePermissions(k.Permissions.Endpoints)
	row := &store.APIKeyRow{APIKey: k, KeyHash: secrets.HashToken(value)}
	ctx := context.Background()
	err := e.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.InsertAPIKey(ctx, row); err != nil {
			return err
		}
		return tx.BumpCacheVersion(ctx, store.CacheAPIKeys)
	})
	if err != nil {
		e.t.Fatalf("insert api key: %v", err)
	}
	return value, k.ID
}

// tenant stores a tenant and returns its id.
func (e *akEnv) tenant(name string) string {
	e.t.Helper()
	ctx := context.Background()
	tn := &model.Tenant{ID: uuid.NewString(), Name: name, InsertInstant: e.now(), LastUpdateInstant: e.now()}
	if err := e.st.InTx(ctx, func(tx *store.Tx) error { return tx.InsertTenant(ctx, tn, "{}") }); err != nil {
		e.t.Fatalf("insert tenant: %v", err)
	}
	return tn.ID
}

// defaultTenant is the tenant bootstrap made.
func (e *akEnv) defaultTenant() string {
	e.t.Helper()
	ids, err := e.st.Read().TenantIDs(context.Background())
	if err != nil || len(ids) != 1 {
		e.t.Fatalf("tenants: %v %v", ids, err)
	}
	return ids[0]
}

// acl stores an IP ACL that allows every address and returns its id.
func (e *akEnv) acl(name string) string {
	e.t.Helper()
	ctx := context.Background()
	a := &model.IPAccessControlList{ID: uuid.NewString(), Name: name, InsertInstant: e.now(), LastUpdateInstant: e.now(),
		Entries: []model.IPAccessControlEntry{{Action: model.ACLAllow, StartIPAddress: "*"}}}
	err := e.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.InsertIPACL(ctx, a); err != nil {
			return err
		}
		return tx.BumpCacheVersion(ctx, store.CacheAPIKeys)
	})
	if err != nil {
		e.t.Fatalf("insert ip acl: %v", err)
	}
	return a.ID
}
