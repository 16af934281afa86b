// Package groups owns groups, their application roles and their members
// (FusionAuth's /api/group and /api/group/member). Users' memberships are
// read and written here; the identity package calls in for them.
package groups

import (
	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/store"
)

// Service keeps groups and members.
type Service struct {
	store *store.Store
	clock kit.Clock
	audit *audit.Log
}

// New wires a Service.
func New(st *store.Store, clock kit.Clock, audit *audit.Log) *Service {
	return &Service{store: st, clock: clock, audit: audit}
}

func (s *Service) now() int64 { return s.clock.Now().UnixMilli() }
