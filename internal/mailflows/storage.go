package mailflows

import (
	"context"

	"github.com/latchid/latch/internal/store"
)

// Storage is what mailflows asks of the store: the methods of *store.Tx it
// calls, in a transaction (store.Store.InTx). *store.Tx implements it;
// internal/store/storetest checks that this list is exactly what mailflows
// calls and holds the contract suites, run on SQLite and PostgreSQL.
type Storage interface {
	ApplicationByID(ctx context.Context, id string) (*store.ApplicationRow, error)
	ConsumeOneTimeCode(ctx context.Context, hash string, kinds []string, now int64) (*store.OneTimeCode, error)
	DeleteUserCodes(ctx context.Context, userID string, kinds []string) error
	InsertOneTimeCode(ctx context.Context, c *store.OneTimeCode) error
	ListTenants(ctx context.Context, ids []string) ([]*store.TenantRow, error)
	MarkRegistrationVerified(ctx context.Context, id string, at int64) error
	OneTimeCodeByHash(ctx context.Context, hash string, kinds []string, now int64) (*store.OneTimeCode, error)
	RegistrationOf(ctx context.Context, userID, applicationID string) (*store.RegistrationRow, error)
	UpdateUserRow(ctx context.Context, u *store.UserRow) error
	UserRowByEmail(ctx context.Context, tenantID, email string) (*store.UserRow, error)
	UserRowByID(ctx context.Context, id string) (*store.UserRow, error)
}

var _ Storage = (*store.Tx)(nil)
