package userimport

import (
	"context"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// Storage is what the import asks of the store: the methods of *store.Tx it
// calls, in its one transaction (store.Store.InTx) or on their own
// (store.Store.Read). *store.Tx implements it. internal/store/storetest
// checks that this list is exactly what the package calls, and its Users
// suite holds the contract, run on SQLite and PostgreSQL.
type Storage interface {
	ApplicationByID(ctx context.Context, id string) (*store.ApplicationRow, error)
	GroupsByIDs(ctx context.Context, ids []string) (map[string]*store.GroupRow, error)
	ImportUserRows(ctx context.Context, users []*store.UserRow) error
	InsertGroupMember(ctx context.Context, m *store.GroupMemberRow) error
	InsertRegistrationRows(ctx context.Context, regs []*store.RegistrationRow) error
	MemberIDsTaken(ctx context.Context, ids []string) (map[string]bool, error)
	RolesOfApplications(ctx context.Context, appIDs []string) (map[string][]model.ApplicationRole, error)
	TakenLookalikes(ctx context.Context, tenantID string, loginIDs []string) (map[string]bool, error)
	TakenRegistrationIDs(ctx context.Context, ids []string) (map[string]bool, error)
	TakenUserEmails(ctx context.Context, tenantID string, emails []string) (map[string]bool, error)
	TakenUserIDs(ctx context.Context, ids []string) (map[string]bool, error)
	TakenUsernames(ctx context.Context, tenantID string, usernames []string) (map[string]bool, error)
	TenantIDs(ctx context.Context) ([]string, error)
}

var _ Storage = (*store.Tx)(nil)
