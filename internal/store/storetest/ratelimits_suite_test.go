package storetest

import (
	"context"
	"slices"
	"testing"

	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/throttle"
)

// RateLimits is the contract of throttle.Storage.
func RateLimits(t *testing.T, st *store.Store) {
	type S = throttle.Storage
	ctx := context.Background()
	for i, c := range []struct {
		bucket             string
		now, windowEnd     int64
		wantHits, wantEnds int64
	}{
		{"a", 0, 100, 1, 100},
		{"a", 50, 150, 2, 100}, // same window: its end stays
		{"b", 50, 150, 1, 150}, // buckets are apart
		{"a", 99, 199, 3, 100},
		{"a", 100, 200, 1, 200}, // the window ended: again at 1
	} {
		var hits, end int64
		mustWrite(t, st, func(s S) (err error) { hits, end, err = s.HitRateLimit(ctx, c.bucket, c.now, c.windowEnd); return err })
		if hits != c.wantHits || end != c.wantEnds {
			t.Errorf("hit %d: %d in the window ending %d, want %d ending %d", i, hits, end, c.wantHits, c.wantEnds)
		}
	}

	// Concurrent hits on one bucket are each counted once.
	const n = 6
	hits := make([]int64, n)
	for _, err := range race(st, n, func(i int, g *gate, s S) error {
		g.wait()
		var err error
		hits[i], _, err = s.HitRateLimit(ctx, "raced", 0, 100)
		return err
	}) {
		ok(t, "raced hit", err)
	}
	slices.Sort(hits)
	if !slices.Equal(hits, []int64{1, 2, 3, 4, 5, 6}) {
		t.Errorf("concurrent hits %v, want 1…%d", hits, n)
	}
}
