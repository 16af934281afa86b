package storetest_test

import (
	"testing"

	"github.com/latchid/latch/internal/store/storetest"
	"github.com/latchid/latch/internal/testutil"
)

// TestContracts runs every suite on SQLite and on PostgreSQL, each on a
// fresh database.
func TestContracts(t *testing.T) {
	for _, s := range storetest.Suites() {
		t.Run(s.Name, func(t *testing.T) {
			testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
				s.Run(t, testutil.OpenStore(t, b))
			})
		})
	}
}
