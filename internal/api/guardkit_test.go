package api_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

// Helpers for the guard, IP ACL and audit tests. Keys are inserted straight
// into the server's database (as `latch recover` would), so these tests do not
// depend on the key API.

// openServerStore opens the running server's database.
func openServerStore(t *testing.T, s *testutil.Server) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), s.Env["LATCH_DATABASE_URL"], filepath.Join(s.DataDir, "latch.db"))
	if err != nil {
		t.Fatalf("open the server's database: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// insertTestKey stores k with a fresh random value and returns the value and id.
// The server finds keys it has not cached yet by their hash, so the key works
// at once; the cache version is bumped all the same, as any key change must.
func insertTestKey(t *testing.T, s *testutil.Server, k model.APIKey) (value, id string) {
	t.Helper()
	value = secrets.Token(32)
	if k.ID == "" {
		k.ID = uuid.NewString()
	}
	now := s.Clock.Now().UnixMilli()
	k.InsertInstant, k.LastUpdateInstant = now, now
	k.Permissions.Endpoints = model.NormalizePermissions(k.Permissions.Endpoints)
	row := &store.APIKeyRow{APIKey: k, KeyHash: secrets.HashToken(value)}
	ctx := context.Background()
	err := openServerStore(t, s).InTx(ctx, func(tx *store.Tx) error {
		if err := tx.InsertAPIKey(ctx, row); err != nil {
			return err
		}
		return tx.BumpCacheVersion(ctx, store.CacheAPIKeys)
	})
	if err != nil {
		t.Fatalf("insert api key: %v", err)
	}
	return value, k.ID
}

// keyPerms builds a permission map from endpoint, methods... pairs.
func keyPerms(endpoint string, methods ...string) model.APIKeyPermissions {
	return model.APIKeyPermissions{Endpoints: map[string][]string{endpoint: methods}}
}

// bootTenantID is the tenant bootstrap made.
func bootTenantID(t *testing.T, s *testutil.Server) string {
	t.Helper()
	ids, err := openServerStore(t, s).Read().TenantIDs(context.Background())
	if err != nil || len(ids) == 0 {
		t.Fatalf("tenants: %v %v", ids, err)
	}
	return ids[0]
}

// startWithKey starts a server with a fake clock on b, runs setup and returns
// it with the initial (full key-manager) key.
func startWithKey(t *testing.T, b testutil.Backend, opts ...testutil.Option) (*testutil.Server, string) {
	t.Helper()
	opts = append([]testutil.Option{testutil.WithBackend(b), testutil.WithClock(testutil.NewFakeClock())}, opts...)
	s := testutil.StartServer(t, opts...)
	return s, s.Setup(t)
}
