package throttle

import (
	"context"

	"github.com/latchid/latch/internal/store"
)

// Storage is what throttle asks of the store: the methods of *store.Tx it
// calls, in a transaction (store.Store.InTx) or on their own
// (store.Store.Read). *store.Tx implements it. internal/store/storetest checks
// that this list is exactly what throttle calls (add a method here when
// throttle starts calling one) and holds the contract suites, run on SQLite
// and PostgreSQL.
type Storage interface {
	HitRateLimit(ctx context.Context, bucket string, now, windowEnd int64) (hits, end int64, err error)
}

var _ Storage = (*store.Tx)(nil)
