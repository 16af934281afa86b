package signing

import (
	"context"

	"github.com/latchid/latch/internal/store"
)

// Storage is what signing asks of the store: the methods of *store.Tx it
// calls, in a transaction (store.Store.InTx) or on their own
// (store.Store.Read). *store.Tx implements it. internal/store/storetest checks
// that this list is exactly what signing calls (add a method here when signing
// starts calling one) and holds the contract suites, run on SQLite and
// PostgreSQL.
type Storage interface {
	KeyStorage
	ApplicationAndTenantData(ctx context.Context, applicationID string) (appData, tenantData string, err error)
	ApplicationTenantID(ctx context.Context, id string) (string, error)
	BumpCacheVersion(ctx context.Context, name string) error
	CacheVersion(ctx context.Context, name string) (int64, error)
	DefaultTenantData(ctx context.Context, adminApplicationID string) (id, data string, err error)
	InsertSetting(ctx context.Context, name, value string) error
	ListApplications(ctx context.Context, q store.ApplicationQuery) ([]*store.ApplicationRow, error)
	SetTenantData(ctx context.Context, id, data string, now int64) error
	Setting(ctx context.Context, name string) (value string, ok bool, err error)
}

// KeyStorage keeps signing keys. LockSigningKey, taken by whatever names a
// key and by its deletion, makes one of the two see the other.
type KeyStorage interface {
	AllSigningKeys(ctx context.Context) ([]*store.SigningKeyRow, error)
	DeleteSigningKey(ctx context.Context, id string) error
	InsertSigningKey(ctx context.Context, k *store.SigningKeyRow) error
	LockSigningKey(ctx context.Context, id string) (bool, error)
	RenameSigningKey(ctx context.Context, id, name string, now int64) error
	SearchSigningKeys(ctx context.Context, q store.SigningKeyQuery, offset, limit int) ([]*store.SigningKeyRow, int, error)
	SigningKeyByID(ctx context.Context, id string) (*store.SigningKeyRow, error)
	Holders(ctx context.Context, id string) ([]store.Holder, error)
	SigningKeyKidTaken(ctx context.Context, kid string) (bool, error)
	SigningKeyNameTaken(ctx context.Context, name, exceptID string) (bool, error)
}

var _ Storage = (*store.Tx)(nil)
