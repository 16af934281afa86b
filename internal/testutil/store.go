package testutil

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/services"
	"github.com/latchid/latch/internal/store"
)

// OpenStore is a fresh, migrated database of the backend, closed when the
// test ends.
func OpenStore(t testing.TB, b Backend) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, b.DatabaseURL, filepath.Join(t.TempDir(), "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}

// Services is the rules packages on a fresh, migrated and bootstrapped
// database of the backend, with a fake clock, the test master key and a
// silent logger.
func Services(t testing.TB, b Backend) *services.Set {
	t.Helper()
	return ServicesOn(t, OpenStore(t, b), NewFakeClock())
}

// ServicesOn is Services on a store and clock the test also uses directly.
func ServicesOn(t testing.TB, st *store.Store, clock *FakeClock) *services.Set {
	t.Helper()
	mk, err := secrets.ParseMasterKey(TestMasterKey)
	if err != nil {
		t.Fatal(err)
	}
	svc := services.New(st, clock, mk, slog.New(slog.NewTextHandler(io.Discard, nil)), services.Options{})
	if err := svc.Tenancy.Bootstrap(context.Background()); err != nil {
		t.Fatal(err)
	}
	return svc
}
