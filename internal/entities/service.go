// Package entities owns FusionAuth's Entity Management: entity types and
// their permissions (/api/entity/type), entities, the OAuth clients of the
// client_credentials grant (/api/entity), and grants of permissions on an
// entity to users or other entities (/api/entity/{id}/grant). Entity types
// are global; entities and grants belong to the entity's tenant.
package entities

import (
	"fmt"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/signing"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/tenancy"
	"github.com/latchid/latch/internal/tokens"
)

// Service keeps entity types, entities and grants, and runs the
// client_credentials grant.
type Service struct {
	store       *store.Store
	clock       kit.Clock
	master      *secrets.MasterKey
	audit       *audit.Log
	tenancy     *tenancy.Service // tenants' token settings
	tokens      *tokens.Service  // the tenant's signing key and token lifetime
	signingKeys *signing.Cache   // entity types' signing keys; verification
	verified    verifiedTokens   // introspected tokens whose signature verified
}

// New wires a Service.
func New(st *store.Store, clock kit.Clock, master *secrets.MasterKey, audit *audit.Log, tenancy *tenancy.Service,
	tokens *tokens.Service, signingKeys *signing.Cache) *Service {
	return &Service{store: st, clock: clock, master: master, audit: audit, tenancy: tenancy, tokens: tokens, signingKeys: signingKeys}
}

func (s *Service) now() int64 { return s.clock.Now().UnixMilli() }

func label(name, id string) string { return fmt.Sprintf("[%s] (%s)", name, id) }
