package tenancy

import (
	"context"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// Storage is what tenancy asks of the store: the methods of *store.Tx it
// calls, in a transaction (store.Store.InTx) or on their own
// (store.Store.Read). *store.Tx implements it. internal/store/storetest checks
// that this list is exactly what tenancy calls (add a method here when tenancy
// starts calling one) and holds the contract suites, run on SQLite and
// PostgreSQL.
type Storage interface {
	APIKeysOfTenant(ctx context.Context, tenantID string) ([]*store.APIKeyRow, error)
	ApplicationByID(ctx context.Context, id string) (*store.ApplicationRow, error)
	ApplicationTenantID(ctx context.Context, id string) (string, error)
	BumpCacheVersion(ctx context.Context, name string) error
	CacheVersion(ctx context.Context, name string) (int64, error)
	DefaultTenantData(ctx context.Context, adminApplicationID string) (id, data string, err error)
	DeleteAPIKey(ctx context.Context, id string) error
	DeleteApplicationRole(ctx context.Context, appID, roleID string) error
	DeleteApplicationRow(ctx context.Context, id string) error
	DeleteTenantCascade(ctx context.Context, id string) error
	InsertApplication(ctx context.Context, a *model.Application, data string) error
	InsertApplicationRole(ctx context.Context, appID string, r *model.ApplicationRole) error
	InsertApplicationRow(ctx context.Context, a *store.ApplicationRow) error
	InsertSetting(ctx context.Context, name, value string) error
	InsertTenant(ctx context.Context, t *model.Tenant, data string) error
	InsertTenantRow(ctx context.Context, t *store.TenantRow) error
	ListApplications(ctx context.Context, q store.ApplicationQuery) ([]*store.ApplicationRow, error)
	ListTenants(ctx context.Context, ids []string) ([]*store.TenantRow, error)
	LockAPIKeys(ctx context.Context) error
	LockEmailTemplate(ctx context.Context, id string) (bool, error)
	LockSigningKey(ctx context.Context, id string) (bool, error)
	RegistrationsWithRole(ctx context.Context, applicationID, role string) ([]*store.RegistrationRow, error)
	RoleByID(ctx context.Context, appID, roleID string) (*model.ApplicationRole, error)
	RoleByName(ctx context.Context, appID, name string) (*model.ApplicationRole, error)
	RoleIDExists(ctx context.Context, roleID string) (bool, error)
	RolesOfApplications(ctx context.Context, appIDs []string) (map[string][]model.ApplicationRole, error)
	SearchApplications(ctx context.Context, q store.ApplicationQuery, offset, limit int) ([]*store.ApplicationRow, int, error)
	SearchTenants(ctx context.Context, q store.TenantQuery, offset, limit int) ([]*store.TenantRow, int, error)
	SetApplicationActive(ctx context.Context, id string, active bool, now int64) error
	SetRegistrationRoleNames(ctx context.Context, id string, roles []string) error
	Setting(ctx context.Context, name string) (value string, ok bool, err error)
	SigningKeyByID(ctx context.Context, id string) (*store.SigningKeyRow, error)
	TenantByID(ctx context.Context, id string) (*store.TenantRow, error)
	TenantExists(ctx context.Context, id string) (bool, error)
	TenantIDs(ctx context.Context) ([]string, error)
	TenantNameTaken(ctx context.Context, name, exceptID string) (bool, error)
	UpdateAPIKey(ctx context.Context, k *store.APIKeyRow) error
	UpdateApplicationRole(ctx context.Context, appID string, r *model.ApplicationRole) error
	UpdateApplicationRow(ctx context.Context, a *store.ApplicationRow) error
	UpdateTenantRow(ctx context.Context, t *store.TenantRow) error
}

var _ Storage = (*store.Tx)(nil)
