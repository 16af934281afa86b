package lockout

import (
	"context"

	"github.com/latchid/latch/internal/store"
)

// Storage is what lockout asks of the store: the methods of *store.Tx it
// calls, in a transaction (store.Store.InTx) or on their own
// (store.Store.Read). *store.Tx implements it. internal/store/storetest checks
// that this list is exactly what lockout calls (add a method here when lockout
// starts calling one) and holds the contract suites, run on SQLite and
// PostgreSQL.
type Storage interface {
	CountLoginFailure(ctx context.Context, subject string, now, windowStart int64) (int, error)
	DeleteStaleLoginFailures(ctx context.Context, before, now int64) (int64, error)
	LockSubject(ctx context.Context, subject string, until int64) error
	LockedUntil(ctx context.Context, subject string, now int64) (int64, error)
}

var _ Storage = (*store.Tx)(nil)
