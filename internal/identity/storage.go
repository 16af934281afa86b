package identity

import (
	"context"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// Storage is what identity asks of the store: the methods of *store.Tx it
// calls, in a transaction (store.Store.InTx) or on their own
// (store.Store.Read). *store.Tx implements it. internal/store/storetest checks
// that this list is exactly what identity calls (add a method here when
// identity starts calling one) and holds the contract suites, run on SQLite
// and PostgreSQL.
type Storage interface {
	AddPasswordHistory(ctx context.Context, userID, hash string, now int64, keep int) error
	ApplicationByID(ctx context.Context, id string) (*store.ApplicationRow, error)
	ApplicationTenantID(ctx context.Context, id string) (string, error)
	ClearLoginFailures(ctx context.Context, subject string, now int64) (bool, error)
	ConsumeOneTimeCode(ctx context.Context, hash string, kinds []string, now int64) (*store.OneTimeCode, error)
	DeleteExpiredCodes(ctx context.Context, now int64) (int64, error)
	DeleteRegistrationRow(ctx context.Context, userID, applicationID string) error
	DeleteUserCodes(ctx context.Context, userID string, kinds []string) error
	DeleteUserRow(ctx context.Context, id string) error
	ForgetLoginFailures(ctx context.Context, subject string, now int64) (bool, error)
	InsertOneTimeCode(ctx context.Context, c *store.OneTimeCode) error
	InsertRegistrationRow(ctx context.Context, r *store.RegistrationRow) error
	InsertUserRow(ctx context.Context, u *store.UserRow) error
	LockedUntil(ctx context.Context, subject string, now int64) (int64, error)
	OneTimeCodeByHash(ctx context.Context, hash string, kinds []string, now int64) (*store.OneTimeCode, error)
	PasswordHistory(ctx context.Context, userID string, n int) ([]string, error)
	RegistrationIDTaken(ctx context.Context, id string) (bool, error)
	RegistrationOf(ctx context.Context, userID, applicationID string) (*store.RegistrationRow, error)
	RegistrationsOfUsers(ctx context.Context, userIDs []string) (map[string][]*store.RegistrationRow, error)
	RolesOfApplications(ctx context.Context, appIDs []string) (map[string][]model.ApplicationRole, error)
	SearchUsers(ctx context.Context, q store.UserQuery, offset, limit, countCap int) ([]*store.UserRow, int, error)
	SetUserActive(ctx context.Context, id string, active bool, now int64) error
	SetUserPasswordHash(ctx context.Context, id, hash string, changeRequired bool, now int64) error
	TenantExists(ctx context.Context, id string) (bool, error)
	UpdateRegistrationRow(ctx context.Context, r *store.RegistrationRow) error
	UpdateUserRow(ctx context.Context, u *store.UserRow) error
	UserEmailTaken(ctx context.Context, tenantID, email, exceptID string) (bool, error)
	UserLookalikeTaken(ctx context.Context, tenantID, loginID, exceptID string) (bool, error)
	UserRowByEmail(ctx context.Context, tenantID, email string) (*store.UserRow, error)
	UserRowByID(ctx context.Context, id string) (*store.UserRow, error)
	UserRowByLoginID(ctx context.Context, tenantID, loginID string) (*store.UserRow, error)
	UserRowByUsername(ctx context.Context, tenantID, username string) (*store.UserRow, error)
	UserRowsByIDs(ctx context.Context, ids, tenantIDs []string) ([]*store.UserRow, error)
	UserTenantIDs(ctx context.Context, userIDs []string) (map[string]string, error)
	UserUsernameTaken(ctx context.Context, tenantID, username, exceptID string) (bool, error)
}

var _ Storage = (*store.Tx)(nil)
