// Package core holds Latch's business rules, one file per concept. Handlers and
// commands call it; it calls the store. It never reads the environment.
package core

import (
	"log/slog"

	"github.com/latchid/latch/internal/access"
	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/groups"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/signing"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/tenancy"
	"github.com/latchid/latch/internal/tokens"
)

// Service is the core, wired once in the app package.
type Service struct {
	store  *store.Store
	clock  kit.Clock
	master *secrets.MasterKey
	log    *slog.Logger
	// Audit writes and reads the audit log.
	Audit *audit.Log
	Keys  *access.KeyCache
	// Access keeps API keys, IP ACLs, setup and recovery.
	Access *access.Service
	// SigningKeys holds the JWT signing keys (and the rendered JWKS) in memory.
	SigningKeys *signing.Cache
	// Signing stores the signing keys.
	Signing *signing.Service
	// Configs holds decoded tenant and application settings for logins and
	// token exchanges (configcache.go).
	Configs *tenancy.ConfigCache
	// Tenancy keeps tenants, applications and roles.
	Tenancy *tenancy.Service
	// Groups keeps groups and their members.
	Groups *groups.Service
	// Tokens issues access tokens and keeps refresh tokens.
	Tokens *tokens.Service
	// Logins buffers the writes of plain successful logins (loginbuffer.go).
	Logins *LoginRecorder
}

// New wires a Service.
func New(st *store.Store, clock kit.Clock, master *secrets.MasterKey, log *slog.Logger) *Service {
	s := &Service{store: st, clock: clock, master: master, log: log}
	s.Audit = audit.New(st, clock, log)
	s.Access = access.New(st, clock, master, log, s.Audit)
	s.Keys = s.Access.Keys
	s.Signing = signing.New(st, clock, master, log, s.Audit)
	s.SigningKeys = s.Signing.Cache
	s.Tenancy = tenancy.New(st, clock, master, log, s.Audit, s.Keys)
	s.Configs = s.Tenancy.Configs
	s.Groups = groups.New(st, clock, s.Audit)
	s.Tokens = tokens.New(st, clock, log, s.Audit, s.Tenancy, s.SigningKeys)
	s.Logins = newLoginRecorder(st, log)
	return s
}

// Store exposes the store for health checks and tools.
func (s *Service) Store() *store.Store { return s.store }

// Clock exposes the clock.
func (s *Service) Clock() kit.Clock { return s.clock }

func (s *Service) now() int64 { return s.clock.Now().UnixMilli() }
