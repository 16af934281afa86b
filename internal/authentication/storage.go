package authentication

import (
	"context"

	"github.com/latchid/latch/internal/store"
)

// Storage is what authentication asks of the store: the methods of *store.Tx
// it calls, in a transaction (store.Store.InTx) or on their own
// (store.Store.Read). *store.Tx implements it. internal/store/storetest checks
// that this list is exactly what authentication calls (add a method here when
// authentication starts calling one) and holds the contract suites, run on
// SQLite and PostgreSQL.
type Storage interface {
	CodeStorage
	FailureStorage
	DeleteExpiredRefreshTokens(ctx context.Context, userID string, now int64) error
	GroupRoleNames(ctx context.Context, userID, applicationID string) ([]string, error)
	InsertLoginRecord(ctx context.Context, r *store.LoginRecord) error
	InsertRefreshToken(ctx context.Context, r *store.RefreshTokenRow) error
	RecordLogins(ctx context.Context, recs []store.LoginRecord) error
	RegistrationsOfUsers(ctx context.Context, userIDs []string) (map[string][]*store.RegistrationRow, error)
	RehashUserPassword(ctx context.Context, userID, old, new string) (bool, error)
	SetLastLogin(ctx context.Context, userID, applicationID string, now int64) error
	UpdateUserTwoFactor(ctx context.Context, id, oldData, oldSealed, data, sealed string, now int64) (bool, error)
	UserRowByEmail(ctx context.Context, tenantID, email string) (*store.UserRow, error)
	UserRowByID(ctx context.Context, id string) (*store.UserRow, error)
	UserRowByLoginID(ctx context.Context, tenantID, loginID string) (*store.UserRow, error)
	UserRowByUsername(ctx context.Context, tenantID, username string) (*store.UserRow, error)
}

// CodeStorage keeps one-time codes (two-factor login ids, recovery codes,
// used TOTP codes …) by the SHA-256 of the code. A code is used by one
// DELETE … RETURNING and claimed by one conditional INSERT: of concurrent
// uses or claims on any nodes exactly one wins.
type CodeStorage interface {
	ClaimOneTimeCode(ctx context.Context, c *store.OneTimeCode) (bool, error)
	ConsumeOneTimeCode(ctx context.Context, hash string, kinds []string, now int64) (*store.OneTimeCode, error)
	CountUserCodes(ctx context.Context, userID, kind string, now int64) (int, error)
	DeleteExpiredUserCodes(ctx context.Context, userID, kind string, now int64) error
	DeleteUserCodes(ctx context.Context, userID string, kinds []string) error
	InsertOneTimeCode(ctx context.Context, c *store.OneTimeCode) error
	OneTimeCodeByHash(ctx context.Context, hash string, kinds []string, now int64) (*store.OneTimeCode, error)
}

// FailureStorage is authentication's side of the failed-login counts that
// lockout keeps: whether a subject is locked, and forgetting its failures
// after a successful login unless a lockout holds.
type FailureStorage interface {
	ClearLoginFailures(ctx context.Context, subject string, now int64) (bool, error)
	LockedUntil(ctx context.Context, subject string, now int64) (int64, error)
	LoginFailureState(ctx context.Context, subject string, now int64) (lockedUntil int64, exists bool, err error)
}

var _ Storage = (*store.Tx)(nil)
