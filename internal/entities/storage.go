package entities

import (
	"context"

	"github.com/latchid/latch/internal/store"
)

// Storage is what entities asks of the store: the methods of *store.Tx it
// calls, in a transaction (store.Store.InTx) or on their own
// (store.Store.Read). *store.Tx implements it. internal/store/storetest checks
// that this list is exactly what entities calls (add a method here when
// entities starts calling one) and holds the contract suites, run on SQLite
// and PostgreSQL.
type Storage interface {
	ClientIDTaken(ctx context.Context, clientID, exceptID string) (bool, error)
	DeleteEntity(ctx context.Context, id string) error
	DeleteEntityType(ctx context.Context, id string) error
	DeleteGrant(ctx context.Context, id string) error
	DeletePermission(ctx context.Context, id string) error
	EntitiesByIDs(ctx context.Context, ids []string) (map[string]*store.EntityRow, error)
	EntityByID(ctx context.Context, id string) (*store.EntityRow, error)
	EntityClient(ctx context.Context, clientID string) (*store.EntityRow, string, error)
	EntityTenant(ctx context.Context, id string) (string, error)
	EntityTypeByID(ctx context.Context, id string) (*store.EntityTypeRow, error)
	EntityTypeNameTaken(ctx context.Context, name, exceptID string) (bool, error)
	EntityTypesByIDs(ctx context.Context, ids []string) (map[string]*store.EntityTypeRow, error)
	GrantOf(ctx context.Context, entityID, userID, recipientEntityID string) (*store.GrantRow, error)
	GrantedPermissions(ctx context.Context, recipientEntityID, tenantID string, targetIDs []string) (map[string][]string, error)
	InsertEntity(ctx context.Context, e *store.EntityRow) error
	InsertEntityType(ctx context.Context, r *store.EntityTypeRow) error
	InsertGrant(ctx context.Context, g *store.GrantRow) error
	InsertPermission(ctx context.Context, p *store.PermissionRow) error
	LockSigningKey(ctx context.Context, id string) (bool, error)
	PermissionNamesOfGrants(ctx context.Context, grantIDs []string) (map[string][]string, error)
	PermissionsOfTypes(ctx context.Context, typeIDs []string) (map[string][]*store.PermissionRow, error)
	SearchEntities(ctx context.Context, q store.EntityQuery, offset, limit int) ([]*store.EntityRow, int, error)
	SearchEntityTypes(ctx context.Context, q store.EntityTypeQuery, offset, limit int) ([]*store.EntityTypeRow, int, error)
	SearchGrants(ctx context.Context, q store.GrantQuery, offset, limit int) ([]*store.GrantRow, int, error)
	SetGrantPermissions(ctx context.Context, grantID string, permissionIDs []string) error
	SigningKeyByID(ctx context.Context, id string) (*store.SigningKeyRow, error)
	TouchEntityType(ctx context.Context, id string, now int64) error
	UpdateEntity(ctx context.Context, e *store.EntityRow) error
	UpdateEntityType(ctx context.Context, r *store.EntityTypeRow) error
	UpdateGrant(ctx context.Context, g *store.GrantRow) error
	UpdatePermission(ctx context.Context, p *store.PermissionRow) error
	UserTenantIDs(ctx context.Context, userIDs []string) (map[string]string, error)
}

var _ Storage = (*store.Tx)(nil)
