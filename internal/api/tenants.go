package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/latchid/latch/internal/httpx"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/tenancy"
)

// /api/tenant: FusionAuth's tenant API.
//
// Tenant-scoped requests: a key limited to tenants (or a request naming one in
// X-FusionAuth-TenantId) sees and changes only its own tenants; others are 404,
// and "retrieve all" lists only its own. Creating a tenant and searching
// tenants are global operations, as in FusionAuth: a limited key or the header
// gets the not-permitted status (401 by default), like any other global route.

// scopeOf is the tenant scope of a request.
func scopeOf(r *http.Request) kit.TenantScope {
	return PrincipalFrom(r.Context()).Scope
}

// tenantRestricted refuses a global operation to a request that names a
// tenant in X-FusionAuth-TenantId. (Keys limited to tenants are refused by the
// route's GlobalOnly already.)
func (s *Server) tenantRestricted(w http.ResponseWriter, r *http.Request) bool {
	if PrincipalFrom(r.Context()).Scope.Tenants != nil || strings.TrimSpace(r.Header.Get("X-FusionAuth-TenantId")) != "" {
		httpx.WriteStatus(w, s.cfg.ForbiddenStatus)
		return true
	}
	return false
}

// decodeObject reads a request body that must be a JSON object, keeping
// every member (numbers exact) for objects stored whole.
func decodeObject(w http.ResponseWriter, r *http.Request) (kit.Object, error) {
	var raw json.RawMessage
	if err := httpx.DecodeJSON(w, r, &raw, false); err != nil {
		return nil, err
	}
	v, err := model.DecodeJSONValue(raw)
	if err != nil {
		return nil, model.GeneralError(model.CodeInvalidJSON, "Invalid JSON in the request body: "+err.Error())
	}
	o, ok := v.(kit.Object)
	if !ok {
		return nil, model.GeneralError(model.CodeInvalidJSON, "The request body must be a JSON object.")
	}
	return o, nil
}

// readPatch reads a PATCH body and the form its Content-Type selects.
func readPatch(w http.ResponseWriter, r *http.Request) (model.PatchForm, []byte, error) {
	var raw json.RawMessage
	if err := httpx.DecodeJSON(w, r, &raw, false); err != nil {
		return 0, nil, err
	}
	return model.PatchFormOf(r.Header.Get("Content-Type")), raw, nil
}

// queryTrue reads a boolean query parameter FusionAuth's clients send as "true".
func queryTrue(r *http.Request, name string) bool {
	return strings.EqualFold(strings.TrimSpace(r.URL.Query().Get(name)), "true")
}

type tenantResponse struct {
	Tenant *model.TenantConfig `json:"tenant"`
}

type tenantsResponse struct {
	Tenants []*model.TenantConfig `json:"tenants"`
}

type tenantSearchResponse struct {
	Tenants []*model.TenantConfig `json:"tenants"`
	Total   int                   `json:"total"`
}

func (s *Server) createTenant(w http.ResponseWriter, r *http.Request) {
	if s.tenantRestricted(w, r) {
		return
	}
	body, err := decodeObject(w, r)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	t, err := s.tenancy.CreateTenant(r.Context(), PrincipalFrom(r.Context()).Actor(r), r.PathValue("id"), body)
	s.reply(w, r, tenantResponse{t}, err)
}

func (s *Server) retrieveTenant(c Call, _ struct{}) (any, error) {
	t, err := s.tenancy.Tenant(c, c.Scope, c.Path("id"))
	return tenantResponse{t}, err
}

func (s *Server) retrieveTenants(c Call, _ struct{}) (any, error) {
	ts, err := s.tenancy.Tenants(c, c.Scope)
	return tenantsResponse{ts}, err
}

func (s *Server) updateTenant(c Call, body kit.Object) (any, error) {
	t, err := s.tenancy.UpdateTenant(c, c.Actor, c.Scope, c.Path("id"), body)
	return tenantResponse{t}, err
}

func (s *Server) patchTenant(c Call, p Patch) (any, error) {
	t, err := s.tenancy.PatchTenant(c, c.Actor, c.Scope, c.Path("id"), p.Form, p.Body)
	return tenantResponse{t}, err
}

// deleteTenant deletes at once, also when asked to work asynchronously
// (?async=true or {"async":true}); it then answers 202 as FusionAuth does.
// Deleting within the request keeps the deletion and its audit entry in one
// transaction and leaves no half-deleted tenant behind a crash.
func (s *Server) deleteTenant(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Async bool `json:"async"`
	}
	if err := httpx.DecodeJSON(w, r, &req, true); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	if err := s.tenancy.DeleteTenant(r.Context(), PrincipalFrom(r.Context()).Actor(r), scopeOf(r), r.PathValue("id")); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	if req.Async || queryTrue(r, "async") {
		httpx.WriteStatus(w, http.StatusAccepted)
		return
	}
	httpx.WriteStatus(w, http.StatusOK)
}

// searchTenants answers both POST (criteria in the body) and GET (in the query).
func (s *Server) searchTenants(w http.ResponseWriter, r *http.Request) {
	if s.tenantRestricted(w, r) {
		return
	}
	q, err := searchCriteria(w, r, func(v url.Values, verrs *model.Errors) (q tenancy.TenantSearch) {
		q.Name, q.OrderBy = v.Get("name"), v.Get("orderBy")
		q.StartRow = searchQueryInt(verrs, v, "startRow")
		q.NumberOfResults = searchQueryInt(verrs, v, "numberOfResults")
		return q
	})
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	ts, total, err := s.tenancy.SearchTenants(r.Context(), scopeOf(r), q)
	s.reply(w, r, tenantSearchResponse{Tenants: ts, Total: total}, err)
}
