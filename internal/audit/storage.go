package audit

import (
	"context"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// Storage is what audit asks of the store: the methods of *store.Tx it calls,
// in a transaction (store.Store.InTx) or on their own (store.Store.Read).
// *store.Tx implements it. internal/store/storetest checks that this list is
// exactly what audit calls (add a method here when audit starts calling one)
// and holds the contract suites, run on SQLite and PostgreSQL.
type Storage interface {
	AuditByID(ctx context.Context, id int64) (*model.AuditLog, error)
	InsertAudit(ctx context.Context, a *model.AuditLog) (int64, error)
	InsertEventLog(ctx context.Context, e *store.EventLogRow) error
	SearchAudit(ctx context.Context, f store.AuditFilter, offset, limit int) ([]*model.AuditLog, int, error)
}

var _ Storage = (*store.Tx)(nil)
