package storetest_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/store/storetest"
	"github.com/latchid/latch/internal/testutil"
)

// TestContracts runs every suite on SQLite and on PostgreSQL, each on a
// fresh database.
func TestContracts(t *testing.T) {
	for _, s := range storetest.Suites() {
		t.Run(s.Name, func(t *testing.T) {
			testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
				ctx := context.Background()
				st, err := store.Open(ctx, b.DatabaseURL, filepath.Join(t.TempDir(), "latch.db"))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				if _, err := st.Migrate(ctx); err != nil {
					t.Fatal(err)
				}
				s.Run(t, st)
			})
		})
	}
}
