package events

import (
	"context"

	"github.com/latchid/latch/internal/store"
)

// Storage is what events asks of the store: the methods of *store.Tx it calls,
// in a transaction (store.Store.InTx) or on their own (store.Store.Read).
// *store.Tx implements it. internal/store/storetest checks that this list is
// exactly what events calls (add a method here when events starts calling one)
// and holds the contract suites, run on SQLite and PostgreSQL.
type Storage interface {
	AfterCommit(fn func())
	AttemptByID(ctx context.Context, id string) (*store.AttemptRow, string, error)
	AttemptsOfEvent(ctx context.Context, eventSeq int64) ([]*store.AttemptRow, error)
	CacheVersion(ctx context.Context, name string) (int64, error)
	ClaimDeliveries(ctx context.Context, owner string, now, leaseUntil int64, limit int) ([]*store.Delivery, error)
	ClaimFollowers(ctx context.Context, owner string, head *store.Delivery, now, leaseUntil int64, limit int) ([]*store.Delivery, error)
	DeleteEventLogsBefore(ctx context.Context, before int64) (int64, error)
	DeleteWebhook(ctx context.Context, id string) error
	DueDeliveries(ctx context.Context, now int64) (int, error)
	EventLogByID(ctx context.Context, id int64) (*store.EventLogRow, error)
	FinishDelivered(ctx context.Context, owner string, ds []*store.Delivery, attempts []*store.AttemptRow) error
	FinishDelivery(ctx context.Context, d *store.Delivery, owner string, failed bool, now int64) (bool, error)
	InsertWebhook(ctx context.Context, w *store.WebhookRow) error
	InsertWebhookEvent(ctx context.Context, e *store.WebhookEventRow, webhookIDs []string, orderKey string) error
	LockSigningKey(ctx context.Context, id string) (bool, error)
	RecordAttempt(ctx context.Context, a *store.AttemptRow) error
	ReleaseDelivery(ctx context.Context, d *store.Delivery, owner string) error
	RetryDelivery(ctx context.Context, d *store.Delivery, owner string, next int64) error
	SearchEventLogs(ctx context.Context, f store.EventLogFilter, offset, limit int) ([]*store.EventLogRow, int, error)
	SearchWebhookEvents(ctx context.Context, f store.WebhookEventFilter, offset, limit int) ([]*store.WebhookEventRow, int, error)
	SearchWebhooks(ctx context.Context, description, url string) ([]*store.WebhookRow, error)
	SigningKeyByID(ctx context.Context, id string) (*store.SigningKeyRow, error)
	TenantByID(ctx context.Context, id string) (*store.TenantRow, error)
	UpdateWebhook(ctx context.Context, w *store.WebhookRow) error
	WebhookByID(ctx context.Context, id string) (*store.WebhookRow, error)
	WebhookEventByID(ctx context.Context, id string) (*store.WebhookEventRow, error)
	Webhooks(ctx context.Context) ([]*store.WebhookRow, error)
}

var _ Storage = (*store.Tx)(nil)
