// Package authentication is the login API: Login and LoginPing, the
// failed-login lockout, two-factor login (and the enrolment of two-factor
// methods, which verifies codes under the same failure counting), the
// buffered recording of plain successful logins, and the reads a login
// answers with. Its outcomes are typed (Outcome); the HTTP surface maps
// them to status codes.
package authentication

import (
	"log/slog"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/groups"
	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/lockout"
	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/tenancy"
	"github.com/latchid/latch/internal/throttle"
	"github.com/latchid/latch/internal/tokens"
)

// Service logs users in.
type Service struct {
	store    *store.Store
	clock    kit.Clock
	master   *secrets.MasterKey
	log      *slog.Logger
	audit    *audit.Log
	tenancy  *tenancy.Service
	groups   *groups.Service
	tokens   *tokens.Service
	identity *identity.Service
	lockout  *lockout.Counter
	hasher   *password.Hasher
	throttle *throttle.Limiter
	// passwordlessMail mails passwordless codes (UsePasswordlessMail).
	passwordlessMail PasswordlessMail
	twoFactorMail    TwoFactorMail // mails two-factor codes (UseTwoFactorMail)
	// Logins buffers the writes of plain successful logins (loginbuffer.go).
	Logins *LoginRecorder
}

// New wires a Service and its login recorder.
func New(st *store.Store, clock kit.Clock, master *secrets.MasterKey, log *slog.Logger, audit *audit.Log,
	tenancy *tenancy.Service, groups *groups.Service, tokens *tokens.Service, identity *identity.Service, lockout *lockout.Counter, hasher *password.Hasher, throttle *throttle.Limiter) *Service {
	return &Service{store: st, clock: clock, master: master, log: log, audit: audit, tenancy: tenancy,
		groups: groups, tokens: tokens, identity: identity, lockout: lockout, hasher: hasher, throttle: throttle, Logins: newLoginRecorder(st, log)}
}

func (s *Service) now() int64 { return s.clock.Now().UnixMilli() }
