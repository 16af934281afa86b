// Package services wires the rules packages together, once, in the order
// their imports allow: audit, then access, signing, tenancy and groups, then
// tokens, entities, the lockout counter, identity (and the user import
// beside it) and authentication. The app builds one Set per process
// and hands it to the HTTP surfaces and commands; no rules package sees it,
// each gets only the services it declares in its own New.
package services

import (
	"log/slog"

	"github.com/latchid/latch/internal/access"
	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/authentication"
	"github.com/latchid/latch/internal/email"
	"github.com/latchid/latch/internal/entities"
	"github.com/latchid/latch/internal/events"
	"github.com/latchid/latch/internal/groups"
	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/identity/userimport"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/lockout"
	"github.com/latchid/latch/internal/mailflows"
	"github.com/latchid/latch/internal/outbound"
	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/signing"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/sysconfig"
	"github.com/latchid/latch/internal/tenancy"
	"github.com/latchid/latch/internal/throttle"
	"github.com/latchid/latch/internal/tokens"
)

// Set is every domain service of one process, and the caches the app keeps
// current in the background.
type Set struct {
	store  *store.Store
	clock  kit.Clock
	master *secrets.MasterKey

	Audit          *audit.Log
	Access         *access.Service
	Signing        *signing.Service
	Tenancy        *tenancy.Service
	Groups         *groups.Service
	Entities       *entities.Service
	Tokens         *tokens.Service
	Identity       *identity.Service
	UserImport     *userimport.Service
	Authentication *authentication.Service
	Events         *events.Service
	Email          *email.Service
	MailFlows      *mailflows.Service
	// System is the system configuration; its CORS policy is kept in memory.
	System *sysconfig.Service
	// Hasher runs every password hash in one bounded pool.
	Hasher *password.Hasher
	// Throttle limits anonymous authentication requests per address and
	// tenant; surfaces such as /oauth2/* call it too.
	Throttle *throttle.Limiter

	// The in-memory caches, for the app's refresh and flush loops.
	Keys        *access.KeyCache
	SigningKeys *signing.Cache
	Configs     *tenancy.ConfigCache
	Logins      *authentication.LoginRecorder

	failures *lockout.Counter
}

// Options are the process-wide settings the services share.
type Options struct {
	// Hasher runs every password hash; nil: the default pool.
	Hasher *password.Hasher
	// Throttle limits anonymous authentication requests per address and
	// tenant; surfaces such as /oauth2/* call it too.
	Throttle *throttle.Limiter
	// RateLimits bound anonymous authentication requests; zero: none.
	RateLimits throttle.Limits
}

// New wires a Set.
func New(st *store.Store, clock kit.Clock, master *secrets.MasterKey, log *slog.Logger, opts Options) *Set {
	hasher := opts.Hasher
	if hasher == nil {
		hasher = password.NewHasher(password.DefaultPoolConfig())
	}
	s := &Set{store: st, clock: clock, master: master, Hasher: hasher, Throttle: throttle.New(st, clock, opts.RateLimits)}
	s.Audit = audit.New(st, clock, log)
	s.Access = access.New(st, clock, master, log, s.Audit, hasher)
	s.Signing = signing.New(st, clock, master, log, s.Audit)
	s.Tenancy = tenancy.New(st, clock, master, log, s.Audit, s.Access.Keys, hasher.Limits())
	// Events sit beside tenancy: every audited change below and above may
	// emit one through the audit log's outbox.
	s.Events = events.New(st, clock, master, log, s.Audit, s.Tenancy)
	s.Events.UseSender(outbound.NewSender(s.Signing.Cache.Current, clock))
	s.Audit.UseOutbox(s.Events)
	s.Email = email.New(st, clock, log, s.Audit, s.Tenancy)
	s.System = sysconfig.New(st, clock, log, s.Audit)
	s.Groups = groups.New(st, clock, s.Audit)
	s.Tokens = tokens.New(st, clock, master, log, s.Audit, s.Tenancy, s.Signing.Cache)
	s.Access.UseSessions(s.Tokens)
	s.Entities = entities.New(st, clock, master, s.Audit, s.Tenancy, s.Tokens, s.Signing.Cache)
	s.failures = lockout.New(st, clock, s.Tokens)
	s.Identity = identity.New(st, clock, master, log, s.Audit, s.Tenancy, s.Groups, s.Tokens, s.failures, hasher, s.Throttle)
	s.UserImport = userimport.New(st, clock, log, s.Audit, hasher, s.Identity)
	s.MailFlows = mailflows.New(st, clock, log, s.Audit, s.Tenancy, s.Email, s.Identity)
	s.Authentication = authentication.New(st, clock, master, log, s.Audit, s.Tenancy, s.Groups, s.Tokens, s.Identity, s.failures, hasher, s.Throttle)
	s.Authentication.UsePasswordlessMail(s.MailFlows)
	s.Authentication.UseTwoFactorMail(s.MailFlows)
	s.Keys, s.SigningKeys, s.Configs, s.Logins = s.Access.Keys, s.Signing.Cache, s.Tenancy.Configs, s.Authentication.Logins
	return s
}

// SetMetrics has the rules packages count into m (internal/metrics); call it
// before serving. Without it they count nothing.
func (s *Set) SetMetrics(m kit.Metrics) {
	s.Tokens.SetMetrics(m)
	s.failures.SetMetrics(m)
}

// Store exposes the store for health checks and tools.
func (s *Set) Store() *store.Store { return s.store }

// MAC is the master key's HMAC of value for purpose (values every node
// computes alike without storing them, such as DPoP nonces).
func (s *Set) MAC(purpose, value string) string { return s.master.MAC(purpose, value) }

// Clock exposes the clock.
func (s *Set) Clock() kit.Clock { return s.clock }
