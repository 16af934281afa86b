// Package identity owns users: their registrations, search, passwords
// (forgot, change, history) and the secrets they hold. Groups, tenants and
// tokens are other packages it calls: memberships through groups, settings
// through tenancy, revocation through tokens. The user import is a package of
// its own (userimport) that checks users with identity's checks.
package identity

import (
	"context"
	"log/slog"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/groups"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/lockout"
	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/tenancy"
	"github.com/latchid/latch/internal/throttle"
	"github.com/latchid/latch/internal/tokens"
)

// Service keeps users, their secrets sealed under the master key.
type Service struct {
	store    *store.Store
	clock    kit.Clock
	master   *secrets.MasterKey
	log      *slog.Logger
	audit    *audit.Log
	tenancy  *tenancy.Service
	groups   *groups.Service
	tokens   *tokens.Service
	lockout  *lockout.Counter
	hasher   *password.Hasher
	throttle *throttle.Limiter
	mail     Mail
}

// Mail queues the mail of user flows in the change's transaction
// (internal/mailflows); without one no mail is sent. A mail that cannot be
// built is a *model.MailNotBuilt.
type Mail interface {
	UserCreated(ctx context.Context, tx *store.Tx, row *store.UserRow, sendSetPasswordEmail bool) error
	// EmailChanged sends a new verification email to a user whose address
	// changed and is no longer verified (verifyEmailWhenChanged).
	EmailChanged(ctx context.Context, tx *store.Tx, row *store.UserRow) error
	// ForgotPassword renders the forgot-password email before the flow's
	// transaction; the flow queues it there.
	ForgotPassword(ctx context.Context, row *store.UserRow, changePasswordID, applicationID string, state map[string]any) (QueuedMail, error)
	RegistrationCreated(ctx context.Context, tx *store.Tx, app *store.ApplicationRow, reg *store.RegistrationRow) error // unverified ones only
}

// QueuedMail queues a rendered email in the transaction of the change that
// sends it, with its audit entry and events (after the change's own).
type QueuedMail func(ctx context.Context, tx *store.Tx, actor kit.Actor) error

// UseMail sets what sends the flows' mail; call it before serving.
func (s *Service) UseMail(m Mail) { s.mail = m }

// New wires a Service.
func New(st *store.Store, clock kit.Clock, master *secrets.MasterKey, log *slog.Logger, audit *audit.Log,
	tenancy *tenancy.Service, groups *groups.Service, tokens *tokens.Service, lockout *lockout.Counter, hasher *password.Hasher, throttle *throttle.Limiter) *Service {
	return &Service{store: st, clock: clock, master: master, log: log, audit: audit, tenancy: tenancy, groups: groups, tokens: tokens, lockout: lockout, hasher: hasher, throttle: throttle}
}

func (s *Service) now() int64 { return s.clock.Now().UnixMilli() }
