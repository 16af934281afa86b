package api_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

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
	t      *testing.T
	s      *testutil.Server
	b      testutil.Backend
	root   string // the initial key's value
	rootID string
	st     *store.Store
}

func akStart(t *testing.T, b testutil.Backend, opts ...testutil.Option) *akEnv {
	t.Helper()
	opts = append([]testutil.Option{testutil.WithBackend(b), testutil.WithClock(testutil.NewFakeClock())}, opts...)
	s := testutil.StartServer(t, opts...)
	e := &akEnv{t: t, s: s, b: b, root: s.Setup(t)}
	st, err := store.Open(context.Background(), s.Env["LATCH_DATABASE_URL"], filepath.Join(s.DataDir, "latch.db"))
	if err != nil {
		t.Fatalf("open the server's database: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	e.st = st
	row, err := st.Read().APIKeyByHash(context.Background(), secrets.HashToken(e.root))
	if err != nil {
		t.Fatalf("find the initial key: %v", err)
	}
	e.rootID = row.ID
	return e
}

func (e *akEnv) now() int64 { return e.s.Clock.Now().UnixMilli() }

func (e *akEnv) do(method, path, key string, body any, headers ...string) *testutil.Response {
	e.t.Helper()
	return e.s.Do(e.t, method, path, key, body, headers...)
}

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

// audits returns the audit entries about target, oldest first.
func (e *akEnv) audits(target string) []*model.AuditLog {
	e.t.Helper()
	all, _, err := e.st.Read().SearchAudit(context.Background(), store.AuditFilter{}, 0, 100000)
	if err != nil {
		e.t.Fatalf("read audit log: %v", err)
	}
	var out []*model.AuditLog
	for _, a := range all {
		if a.TargetID == target {
			out = append(out, a)
		}
	}
	return out
}

// akCodes lists every code of a FusionAuth Errors body, sorted.
func akCodes(t *testing.T, r *testutil.Response) []string {
	t.Helper()
	var errs model.Errors
	r.JSON(t, &errs)
	var codes []string
	for _, items := range errs.FieldErrors {
		for _, it := range items {
			codes = append(codes, it.Code)
		}
	}
	for _, it := range errs.GeneralErrors {
		codes = append(codes, it.Code)
	}
	sort.Strings(codes)
	return codes
}

// akWant400 fails unless r is a 400 whose errors include code.
func akWant400(t *testing.T, what string, r *testutil.Response, code string) {
	t.Helper()
	if r.Status != 400 {
		t.Errorf("%s: status %d, want 400 %s; body %s", what, r.Status, code, r.Body)
		return
	}
	if codes := akCodes(t, r); !slices.Contains(codes, code) {
		t.Errorf("%s: codes %v, want %s", what, codes, code)
	}
}

// akEmpty fails unless r has status and an empty body.
func akEmpty(t *testing.T, what string, r *testutil.Response, status int) {
	t.Helper()
	if r.Status != status || len(r.Body) != 0 {
		t.Errorf("%s: got %d %q, want %d with an empty body", what, r.Status, r.Body, status)
	}
}

func akPerms(endpoint string, methods ...string) map[string]any {
	return map[string]any{"endpoints": map[string][]string{endpoint: methods}}
}

func akMillis(d time.Duration) int64 { return d.Milliseconds() }

// akRaw decodes a body into generic JSON, to check which fields are present.
func akRaw(t *testing.T, r *testutil.Response) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
	return m
}
