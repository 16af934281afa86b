package groups

import (
	"context"

	"github.com/latchid/latch/internal/store"
)

// Storage is what groups asks of the store: the methods of *store.Tx it calls,
// in a transaction (store.Store.InTx) or on their own (store.Store.Read).
// *store.Tx implements it. internal/store/storetest checks that this list is
// exactly what groups calls (add a method here when groups starts calling one)
// and holds the contract suites, run on SQLite and PostgreSQL.
type Storage interface {
	DeleteGroupMembers(ctx context.Context, ids []string) error
	DeleteGroupRow(ctx context.Context, id string) error
	GroupByID(ctx context.Context, id string) (*store.GroupRow, error)
	GroupNameTaken(ctx context.Context, tenantID, name, exceptID string) (bool, error)
	GroupsByIDs(ctx context.Context, ids []string) (map[string]*store.GroupRow, error)
	InsertGroupMember(ctx context.Context, m *store.GroupMemberRow) error
	InsertGroupRow(ctx context.Context, g *store.GroupRow) error
	ListGroups(ctx context.Context, q store.GroupQuery) ([]*store.GroupRow, error)
	MembersByIDs(ctx context.Context, ids []string) (map[string]*store.GroupMemberRow, error)
	MembersOfGroup(ctx context.Context, groupID string) ([]*store.GroupMemberRow, error)
	MembershipsOfUsers(ctx context.Context, userIDs []string) (map[string][]*store.GroupMemberRow, error)
	RolesInTenant(ctx context.Context, tenantID string, roleIDs []string) (map[string]store.GroupRole, error)
	RolesOfGroups(ctx context.Context, groupIDs []string) (map[string][]store.GroupRole, error)
	SearchGroupMembers(ctx context.Context, q store.MemberQuery, offset, limit int) ([]*store.GroupMemberRow, int, error)
	SearchGroups(ctx context.Context, q store.GroupQuery, offset, limit int) ([]*store.GroupRow, int, error)
	SetGroupRoles(ctx context.Context, groupID string, roleIDs []string) error
	UpdateGroupRow(ctx context.Context, g *store.GroupRow) error
	UserTenantIDs(ctx context.Context, userIDs []string) (map[string]string, error)
}

var _ Storage = (*store.Tx)(nil)
