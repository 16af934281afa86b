package store_test

import (
	"context"
	"testing"

	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

// HitRateLimit counts within a window, starts again after it, and the
// sweeper deletes counters whose window ended.
func TestHitRateLimit(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		st := migrated(t, b)
		hit := func(bucket string, now, end int64) (int64, int64) {
			var hits, got int64
			inTx(t, st, func(tx *store.Tx) error {
				var err error
				hits, got, err = tx.HitRateLimit(ctx, bucket, now, end)
				return err
			})
			return hits, got
		}
		for i, want := range []int64{1, 2, 3} {
			if h, end := hit("address:a", 1000+int64(i), 60000); h != want || end != 60000 {
				t.Errorf("hit %d: %d (end %d), want %d", i, h, end, want)
			}
		}
		if h, _ := hit("address:b", 1000, 60000); h != 1 {
			t.Errorf("another bucket: %d", h)
		}
		if h, end := hit("address:a", 60000, 120000); h != 1 || end != 120000 {
			t.Errorf("next window: %d (end %d)", h, end)
		}
		var n int64
		inTx(t, st, func(tx *store.Tx) error {
			var err error
			n, err = tx.SweepExpired(ctx, 60000, 100)
			return err
		})
		if n != 1 { // address:b's window ended; address:a's has not
			t.Errorf("swept %d, want 1", n)
		}
	})
}
