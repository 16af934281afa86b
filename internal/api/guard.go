// Package api serves FusionAuth's /api/* surface. routes.go is the whole API on
// one screen; guard.go decides, before any handler runs, whether a request may
// reach it.
package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"path"
	"slices"
	"strings"

	"github.com/latchid/latch/internal/access"
	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/authentication"
	"github.com/latchid/latch/internal/config"
	"github.com/latchid/latch/internal/email"
	"github.com/latchid/latch/internal/entities"
	"github.com/latchid/latch/internal/events"
	"github.com/latchid/latch/internal/groups"
	"github.com/latchid/latch/internal/httpx"
	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/identity/userimport"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/mailflows"
	"github.com/latchid/latch/internal/metrics"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/services"
	"github.com/latchid/latch/internal/signing"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/sysconfig"
	"github.com/latchid/latch/internal/tenancy"
	"github.com/latchid/latch/internal/tokens"
)

// Access is what a route demands of the caller.
type Access int

const (
	// Anonymous routes need no key (a key, when sent and valid, is still noted).
	Anonymous Access = iota + 1
	// Endpoint routes need a key whose permissions admit the route's family and method.
	Endpoint
	// KeyManager routes (the key API) need a key-manager key; permissions do not apply.
	KeyManager
)

// Route is one entry of the route table.
type Route struct {
	Pattern string // ServeMux pattern, "METHOD /path/{id}"
	Access  Access
	// GlobalOnly refuses keys limited to tenants (system-wide objects).
	GlobalOnly bool
	Handler    http.HandlerFunc
	// Mux is the ServeMux pattern when it must differ from Pattern: ServeMux
	// refuses two patterns that overlap without one being more specific
	// (/api/entity/{id}/grant and /api/entity/type/{id}), so one is
	// registered more generally and its handler checks the rest.
	Mux string

	family string // the permission family: the path with {…} segments removed
}

// Family is the permission endpoint a key's permissions must list for this route.
func (r Route) Family() string { return r.family }

// Method is the route's HTTP method.
func (r Route) Method() string { m, _, _ := strings.Cut(r.Pattern, " "); return m }

// familyOf strips id segments: /api/application/{id}/role/{roleId} → /api/application/role.
func familyOf(pattern string) string {
	_, p, _ := strings.Cut(pattern, " ")
	var keep []string
	for _, seg := range strings.Split(p, "/") {
		if !strings.HasPrefix(seg, "{") {
			keep = append(keep, seg)
		}
	}
	return strings.Join(keep, "/")
}

// Principal is the authenticated caller of an /api request.
type Principal struct {
	Key *access.AuthKey // nil on anonymous routes without a key
	// Scope is the tenants the request may touch (nil Tenants: every
	// tenant). Narrowed by X-FusionAuth-TenantId, never widened by it.
	Scope kit.TenantScope
	IP    netip.Addr
}

type principalKey struct{}

// PrincipalFrom returns the request's principal.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	if p == nil {
		return &Principal{}
	}
	return p
}

// Actor turns the principal into the audit actor.
func (p *Principal) Actor(r *http.Request) kit.Actor {
	a := kit.Actor{Type: kit.ActorSystem, IP: p.IP.String(), Method: r.Method, Path: r.URL.Path}
	if p.Key != nil {
		a.Type, a.ID, a.Name = kit.ActorAPIKey, p.Key.ID, p.Key.Name
		// A kickstart replays its requests in-process with its first key; the
		// marker is a context value, which nothing sent over HTTP can set.
		if file, ok := access.KickstartFile(r.Context()); ok {
			a.Type, a.Name = kit.ActorKickstart, "kickstart "+file
		}
	}
	return a
}

// Server is the /api surface.
type Server struct {
	// The domain services the handlers call.
	audit          *audit.Log
	access         *access.Service
	signing        *signing.Service
	tenancy        *tenancy.Service
	groups         *groups.Service
	entities       *entities.Service
	tokens         *tokens.Service
	identity       *identity.Service
	userImport     *userimport.Service
	authentication *authentication.Service
	events         *events.Service
	email          *email.Service
	mailflows      *mailflows.Service
	system         *sysconfig.Service
	store          *store.Store // health and status only
	metrics        *metrics.Metrics

	cfg    *config.Config
	log    *slog.Logger
	mux    *http.ServeMux
	routes map[string]Route // by pattern
}

// New builds the /api handler from the route table. Each route's handler is
// wrapped in its guard; a catch-all answers unknown routes after authentication.
// m (nil: none) receives the guard's and handlers' counts and serves
// /api/prometheus/metrics.
func New(svc *services.Set, cfg *config.Config, log *slog.Logger, m *metrics.Metrics) *Server {
	s := &Server{cfg: cfg, log: log, mux: http.NewServeMux(), routes: map[string]Route{}, metrics: m}
	if svc != nil { // nil: a server only to read the route table
		s.audit, s.access, s.signing, s.tenancy = svc.Audit, svc.Access, svc.Signing, svc.Tenancy
		s.groups, s.entities, s.tokens, s.identity, s.authentication = svc.Groups, svc.Entities, svc.Tokens, svc.Identity, svc.Authentication
		s.events, s.email, s.mailflows, s.system = svc.Events, svc.Email, svc.MailFlows, svc.System
		s.userImport = svc.UserImport
		s.store = svc.Store()
	}
	for _, rt := range s.table() {
		rt.family = familyOf(rt.Pattern)
		if rt.Access == 0 || rt.Handler == nil {
			panic("route without access rule or handler: " + rt.Pattern)
		}
		s.routes[rt.Pattern] = rt
		pattern := rt.Pattern
		if rt.Mux != "" {
			pattern = rt.Mux
		}
		s.mux.Handle(pattern, s.guard(rt))
	}
	// Matches every method, so ServeMux never answers 405 before authentication.
	s.mux.HandleFunc("/api/", s.unknown)
	return s
}

// Routes lists the table, for tests and docs.
func (s *Server) Routes() []Route {
	out := make([]Route, 0, len(s.routes))
	for _, r := range s.routes {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Route) int { return strings.Compare(a.Pattern, b.Pattern) })
	return out
}

// canonical reports whether the path is in the one spelling routes match:
// no "//", ".", "..", trailing slash or percent-encoding.
func canonical(r *http.Request) bool {
	p := r.URL.Path
	rawPath, _, _ := strings.Cut(r.RequestURI, "?")
	return r.URL.RawPath == "" && !strings.Contains(rawPath, "%") && p == path.Clean(p)
}

// ServeHTTP dispatches canonical paths through the route table; any other
// spelling of a path is an unknown route. Deny by default: a handler runs only
// behind the guard of its own route.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The root handler also sends other spellings such as /API/ here; New's
	// /api/ catch-all is case-sensitive, so they must not fall through to
	// ServeMux's unauthenticated 404.
	if !canonical(r) || !strings.HasPrefix(r.URL.Path, "/api/") {
		s.unknown(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// unknown answers 404, but only to an authenticated caller: without a valid
// key, every /api path looks the same (401).
func (s *Server) unknown(w http.ResponseWriter, r *http.Request) {
	httpx.NoteRoute(r, "/api/")
	if _, ok := s.authenticate(w, r, false); !ok {
		return
	}
	httpx.WriteStatus(w, http.StatusNotFound)
}

// guard wraps one route's handler with its access rule.
func (s *Server) guard(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpx.NoteRoute(r, rt.Pattern)
		p, ok := s.authenticate(w, r, rt.Access == Anonymous)
		if !ok {
			return
		}
		if !s.permitted(rt, r, p) {
			s.metrics.Denied(rt.Pattern)
			s.denied(r, p, r.Method+" "+r.URL.Path, "lacks permission")
			httpx.WriteStatus(w, s.cfg.ForbiddenStatus)
			return
		}
		rt.Handler(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

// authenticate identifies the caller by the Authorization header and applies
// the key's IP ACL. When optional, a missing or bad key means anonymous; else
// it writes 401 and returns false.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, optional bool) (*Principal, bool) {
	p := &Principal{IP: httpx.ClientIP(r, s.cfg.TrustedProxies)}
	raw := r.Header.Get("Authorization")
	if optional && raw == "" {
		return p, true
	}
	key, err := s.access.Keys.Authenticate(r.Context(), raw)
	unknown := raw != "" && errors.Is(err, model.ErrUnauthorized) // a key was presented that is none
	if err == nil && key.ACL != nil && !key.ACL.Allows(p.IP) {
		s.denied(r, &Principal{Key: key, IP: p.IP}, r.Method+" "+r.URL.Path, "address not allowed by the key's IP access control list")
		err = model.ErrUnauthorized
	}
	if err != nil {
		if optional {
			// Anonymous routes (status, health) must answer even when the
			// database cannot look up an unknown key.
			return p, true
		}
		if errors.Is(err, model.ErrUnauthorized) {
			s.metrics.KeyAuthFailure()
			if unknown && s.access.Denials != nil {
				s.access.Denials.RecordUnknownKey(r.Context(), p.Actor(r), r.Method+" "+r.URL.Path, p.IP.String())
			}
		}
		httpx.WriteError(w, r, s.log, err)
		return nil, false
	}
	p.Key = key
	return p, true
}

// denied is where every refusal of a valid key passes: it goes to the audit
// log (rate-limited per key and route) and to the denial count
// (access.Denials.Total, the hook for a metric). A call without a valid key
// is not a denial of anyone: those are the authentication failures.
func (s *Server) denied(r *http.Request, p *Principal, route, reason string) {
	if p.Key == nil || s.access == nil || s.access.Denials == nil {
		return
	}
	s.access.Denials.Record(r.Context(), p.Actor(r), access.Denial{KeyID: p.Key.ID, KeyName: p.Key.Name,
		Route: route, Address: p.IP.String(), Reason: reason})
}

// permitted applies the route's rule and the tenant header to the principal.
func (s *Server) permitted(rt Route, r *http.Request, p *Principal) bool {
	if rt.Access == Anonymous {
		return true
	}
	k := p.Key
	if k == nil {
		return false
	}
	switch rt.Access {
	case KeyManager:
		if !k.KeyManager {
			return false
		}
	case Endpoint:
		if !k.Allows(rt.family, r.Method) {
			return false
		}
	default:
		return false
	}
	p.Scope.Tenants = k.Tenants()
	if rt.GlobalOnly && p.Scope.Tenants != nil {
		return false
	}
	if h := strings.TrimSpace(r.Header.Get("X-FusionAuth-TenantId")); h != "" {
		if p.Scope.Tenants != nil && !slices.Contains(p.Scope.Tenants, h) {
			return false // the header can narrow a scoped key, never widen it
		}
		p.Scope.Tenants = []string{h}
	}
	return true
}

// reply ends a handler: v as a 200 JSON body, or err rendered the /api way.
func (s *Server) reply(w http.ResponseWriter, r *http.Request, v any, err error) {
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	if v == nil { // a 200 without a body (deletes, revocations)
		httpx.WriteStatus(w, http.StatusOK)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, v)
}
