package email

import (
	"context"

	"github.com/latchid/latch/internal/store"
)

// Storage is what email asks of the store: the methods of *store.Tx it calls,
// in a transaction (store.Store.InTx) or on their own (store.Store.Read).
// *store.Tx implements it. internal/store/storetest checks that this list is
// exactly what email calls (add a method here when email starts calling one)
// and holds the contract suites, run on SQLite and PostgreSQL.
type Storage interface {
	ClaimEmails(ctx context.Context, owner string, now, leaseUntil int64, limit int) ([]*store.QueuedEmail, error)
	DeleteEmailTemplate(ctx context.Context, id string) error
	DueEmails(ctx context.Context, now int64) (int, error)
	EmailTemplateByID(ctx context.Context, id string) (*store.EmailTemplateRow, error)
	FinishEmail(ctx context.Context, seq int64, owner string) error
	Holders(ctx context.Context, id string) ([]store.Holder, error)
	InsertEmailTemplate(ctx context.Context, r *store.EmailTemplateRow) error
	InsertQueuedEmail(ctx context.Context, tenantID, message string, now int64) error
	InsertSetting(ctx context.Context, name, value string) error
	LockEmailTemplate(ctx context.Context, id string) (bool, error)
	RetryEmail(ctx context.Context, seq int64, owner string, next int64) error
	SearchEmailTemplates(ctx context.Context, name string) ([]*store.EmailTemplateRow, error)
	Setting(ctx context.Context, name string) (value string, ok bool, err error)
	SoleTenantID(ctx context.Context) (string, error)
	UpdateEmailTemplate(ctx context.Context, r *store.EmailTemplateRow) error
}

var _ Storage = (*store.Tx)(nil)
