package access

import (
	"context"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// Storage is what access asks of the store: the methods of *store.Tx it calls,
// in a transaction (store.Store.InTx) or on their own (store.Store.Read).
// *store.Tx implements it. internal/store/storetest checks that this list is
// exactly what access calls (add a method here when access starts calling one)
// and holds the contract suites, run on SQLite and PostgreSQL.
type Storage interface {
	KeyStorage
	IPACLStorage
	AllSigningKeys(ctx context.Context) ([]*store.SigningKeyRow, error)
	ApplicationTenantID(ctx context.Context, id string) (string, error)
	BumpCacheVersion(ctx context.Context, name string) error
	CacheVersion(ctx context.Context, name string) (int64, error)
	ChangeTenantID(ctx context.Context, oldID, newID, resealed string, now int64) error
	ClaimKickstartRun(ctx context.Context, id, owner string, now, leaseUntil int64) (bool, error)
	CountTenants(ctx context.Context) (int, error)
	CountUsers(ctx context.Context) (int, error)
	DeleteSetupTokens(ctx context.Context) error
	InsertKickstartRun(ctx context.Context, r *store.KickstartRunRow) error
	InsertKickstartStep(ctx context.Context, runID string, s *store.KickstartStepRow) error
	InsertRegistration(ctx context.Context, r *model.UserRegistration) error
	InsertSetting(ctx context.Context, name, value string) error
	InsertSetupToken(ctx context.Context, hash string, now, expires int64) error
	InsertUser(ctx context.Context, u *model.UserRecord, passwordHash string) error
	KickstartRun(ctx context.Context) (*store.KickstartRunRow, error)
	KickstartSteps(ctx context.Context, runID string) ([]*store.KickstartStepRow, error)
	RegistrationRoles(ctx context.Context, userID, applicationID string) (roles []string, ok bool, err error)
	SetRegistrationRoles(ctx context.Context, userID, applicationID string, roles []string, now int64) error
	SetUserPassword(ctx context.Context, userID, hash string, changeRequired bool, now int64) error
	Setting(ctx context.Context, name string) (value string, ok bool, err error)
	SetupTokenExists(ctx context.Context, hash string, now int64) (bool, error)
	TenantByID(ctx context.Context, id string) (*store.TenantRow, error)
	TenantExists(ctx context.Context, id string) (bool, error)
	UpdateKickstartRun(ctx context.Context, r *store.KickstartRunRow, owner string) error
	UserByEmail(ctx context.Context, tenantID, email string) (*model.UserRecord, string, error)
}

// KeyStorage keeps API keys (by the SHA-256 of their value). LockAPIKeys,
// first in a transaction, serialises the transactions that decide a change
// on what they read (the last-key guard).
type KeyStorage interface {
	APIKeyByHash(ctx context.Context, hash string) (*store.APIKeyRow, error)
	APIKeyByID(ctx context.Context, id string) (*store.APIKeyRow, error)
	AddAPIKeyUsage(ctx context.Context, u store.KeyUsage) error
	AllAPIKeys(ctx context.Context) ([]*store.APIKeyRow, error)
	CountAPIKeys(ctx context.Context) (int, error)
	DeleteAPIKey(ctx context.Context, id string) error
	InsertAPIKey(ctx context.Context, k *store.APIKeyRow) error
	ListAPIKeys(ctx context.Context, f store.APIKeyFilter, offset, limit int) ([]*store.APIKeyRow, int, error)
	LockAPIKeys(ctx context.Context) error
	UpdateAPIKey(ctx context.Context, k *store.APIKeyRow) error
}

// IPACLStorage keeps IP access control lists; a list a key uses cannot be
// deleted (a foreign-key error).
type IPACLStorage interface {
	AllIPACLs(ctx context.Context) ([]*model.IPAccessControlList, error)
	APIKeysUsingIPACL(ctx context.Context, id string, limit int) ([]string, error)
	DeleteIPACL(ctx context.Context, id string) error
	IPACLByID(ctx context.Context, id string) (*model.IPAccessControlList, error)
	IPACLNameTaken(ctx context.Context, name, exceptID string) (bool, error)
	InsertIPACL(ctx context.Context, a *model.IPAccessControlList) error
	SearchIPACLsOrdered(ctx context.Context, q store.IPACLQuery, offset, limit int) ([]*model.IPAccessControlList, int, error)
	UpdateIPACL(ctx context.Context, a *model.IPAccessControlList) error
}

var _ Storage = (*store.Tx)(nil)
