package kit

import (
	"context"

	"github.com/latchid/latch/internal/store"
)

// Storage is what kit asks of the store: the methods of *store.Tx it calls, in
// a transaction (store.Store.InTx) or on their own (store.Store.Read).
// *store.Tx implements it. internal/store/storetest checks that this list is
// exactly what kit calls (add a method here when kit starts calling one) and
// holds the contract suites, run on SQLite and PostgreSQL.
type Storage interface {
	GroupRoleNames(ctx context.Context, userID, applicationID string) ([]string, error)
	RegistrationOf(ctx context.Context, userID, applicationID string) (*store.RegistrationRow, error)
	UserRowByID(ctx context.Context, id string) (*store.UserRow, error)
	UserRowByLoginID(ctx context.Context, tenantID, loginID string) (*store.UserRow, error)
}

var _ Storage = (*store.Tx)(nil)
