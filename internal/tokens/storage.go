package tokens

import (
	"context"

	"github.com/latchid/latch/internal/store"
)

// Storage is what tokens asks of the store: the methods of *store.Tx it calls,
// in a transaction (store.Store.InTx) or on their own (store.Store.Read).
// *store.Tx implements it. internal/store/storetest checks that this list is
// exactly what tokens calls (add a method here when tokens starts calling one)
// and holds the contract suites, run on SQLite and PostgreSQL.
type Storage interface {
	RefreshTokenStorage
	SessionStorage
	CodeStorage
	RevocationStorage
	AfterCommit(fn func())
	ApplicationTenantID(ctx context.Context, id string) (string, error)
	ListApplications(ctx context.Context, q store.ApplicationQuery) ([]*store.ApplicationRow, error)
	UserActiveByID(ctx context.Context, id string) (exists, active bool, err error)
	UserRowByID(ctx context.Context, id string) (*store.UserRow, error)
}

// RefreshTokenStorage keeps refresh tokens and token cut-offs. Every use of
// a token is one conditional statement: of concurrent uses, rotations or
// revocations on any nodes exactly one wins, the others see ErrNoRows.
type RefreshTokenStorage interface {
	ActiveRefreshTokens(ctx context.Context, f store.RefreshTokenFilter, now int64) ([]*store.RefreshTokenRow, error)
	DeleteExpiredRefreshTokens(ctx context.Context, userID string, now int64) error
	InsertRefreshToken(ctx context.Context, r *store.RefreshTokenRow) error
	RefreshTokenByHash(ctx context.Context, hash string) (*store.RefreshTokenRow, error)
	RefreshTokenByID(ctx context.Context, id string) (*store.RefreshTokenRow, error)
	RefreshTokenApplications(ctx context.Context, userID string) ([]string, error)
	RevokeRefreshTokens(ctx context.Context, f store.RefreshTokenFilter) ([]*store.RefreshTokenRow, error)
	RotateRefreshToken(ctx context.Context, hash string, now int64, address, successorID string) (*store.RefreshTokenRow, error)
	SetTokenCutoff(ctx context.Context, userID, applicationID string, at int64) error
	SweepExpired(ctx context.Context, now int64, limit int) (int64, error)
	TokenCutoff(ctx context.Context, userID, applicationID string) (int64, error)
	UseRefreshToken(ctx context.Context, hash string, now, start, expires int64, address string) (*store.RefreshTokenRow, error)
}

// SessionStorage is what tokens reads and ends of SSO sessions (listed and
// revoked with a user's refresh tokens). Ending a session is one
// statement: of concurrent ends exactly one sees the row.
type SessionStorage interface {
	OAuthSessionsOfUser(ctx context.Context, userID string, now int64) ([]*store.OAuthSession, error)
	OAuthSessionByID(ctx context.Context, id string, now int64) (*store.OAuthSession, error)
	DeleteOAuthSession(ctx context.Context, id string) (string, error)
	DeleteUserOAuthSessions(ctx context.Context, userID string) (int64, error)
}

// CodeStorage uses an authorization code with the tokens its exchange
// issues: one conditional statement, so of concurrent uses of a code on
// any nodes exactly one gets true.
type CodeStorage interface {
	UseOAuthCode(ctx context.Context, hash, refreshTokenID string, now int64) (bool, error)
}

// RevocationStorage keeps the ids (sid or jti) of access tokens revoked
// before they expire. Recording an id is one INSERT that keeps the first
// row; a new one bumps the token_revocations cache version every node
// polls.
type RevocationStorage interface {
	RevokeAccessTokens(ctx context.Context, ids []string, expires int64) error
	TokenRevocations(ctx context.Context, now int64) (map[string]int64, error)
	CacheVersion(ctx context.Context, name string) (int64, error)
}

var _ Storage = (*store.Tx)(nil)
