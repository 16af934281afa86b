// Package access decides who may call the API: API keys (the in-memory
// KeyCache every request authenticates against, their CRUD and the
// permission endpoints), IP access control lists, first-run setup (the
// wizard and headless), recovery (`latch recover`) and the state of
// kickstart runs.
package access

import (
	"context"
	"log/slog"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/store"
)

// Service keeps API keys (values hashed, retrievable ones sealed under the
// master key), IP ACLs and the setup and kickstart state.
type Service struct {
	store  *store.Store
	clock  kit.Clock
	master *secrets.MasterKey
	log    *slog.Logger
	audit  *audit.Log
	hasher *password.Hasher
	// Keys holds every API key in memory, by hash.
	Keys *KeyCache
	// Denials records refused calls of valid keys (audit log, count).
	Denials *Denials
	// sessions ends a recovered admin's sessions (tokens.Service; UseSessions).
	sessions SessionEnder
}

// SessionEnder ends every session and token of a user in the caller's
// transaction (tokens.Service.RevokeUserTokens).
type SessionEnder interface {
	RevokeUserTokens(ctx context.Context, tx *store.Tx, actor kit.Actor, userID, label, why string) (int, error)
}

// UseSessions wires what ends sessions; tokens are made after access.
func (s *Service) UseSessions(e SessionEnder) { s.sessions = e }

// New wires a Service and its key cache.
func New(st *store.Store, clock kit.Clock, master *secrets.MasterKey, log *slog.Logger, audit *audit.Log, hasher *password.Hasher) *Service {
	return &Service{store: st, clock: clock, master: master, log: log, audit: audit, hasher: hasher, Keys: newKeyCache(st, clock, log),
		Denials: newDenials(st, clock, log, audit)}
}

func (s *Service) now() int64 { return s.clock.Now().UnixMilli() }
