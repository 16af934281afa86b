// Package userimport is the user import, FusionAuth's POST /api/user/import
// (ImportRequest). Users come with their existing password hashes
// (encryptionScheme, factor, salt, password), registrations and memberships,
// and are written all or nothing in one transaction with one audit entry.
// Hashes are stored as given (after a check that they can be hashes of their
// scheme), so that login verifies them with password.Check; a password
// without encryptionScheme is plaintext and is hashed here, as FusionAuth
// does.
//
// Validation errors name the user by its index: users[3].email,
// users[3].registrations[0].applicationId. In-batch duplicates are always
// found. Duplicates of stored rows are looked up first when
// validateDbConstraints is true; otherwise the insert runs straight away and,
// if a unique index refuses it, the same lookup explains why (FusionAuth
// answers that case with a generic error; Latch never answers it with a 500).
//
// A user object and a registration are checked as the User and Registration
// APIs check theirs (internal/identity); what else the import needs of
// identity is the Users interface.
package userimport

import (
	"context"
	"log/slog"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/store"
)

// Users is what the import needs of the users' service (*identity.Service).
type Users interface {
	// FillUserRow puts a prepared user's data and sealed secrets into row.
	FillUserRow(row *store.UserRow, u *identity.PreparedUser) error
	// HashingOf is the scheme and factor a tenant hashes new passwords with.
	HashingOf(ctx context.Context, tenantID string) (string, int, error)
	// UserObject is the user as the API answers it (the events' payload).
	UserObject(row *store.UserRow, regs []*store.RegistrationRow, members []model.GroupMember) (*model.User, error)
}

var _ Users = (*identity.Service)(nil)

// The prefixes identity's checks give their errors (user.email,
// registration.applicationId), renamed under the import's path.
const (
	userField         = "user"
	registrationField = "registration"
)

// Service imports users.
type Service struct {
	store  *store.Store
	clock  kit.Clock
	log    *slog.Logger
	audit  *audit.Log
	hasher *password.Hasher
	users  Users
}

// New wires a Service.
func New(st *store.Store, clock kit.Clock, log *slog.Logger, audit *audit.Log, hasher *password.Hasher, users Users) *Service {
	return &Service{store: st, clock: clock, log: log, audit: audit, hasher: hasher, users: users}
}

func (s *Service) now() int64 { return s.clock.Now().UnixMilli() }
