package api

import (
	"net/http"
	"net/url"

	"github.com/latchid/latch/internal/httpx"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/tenancy"
)

// /api/application: FusionAuth's application API, with roles and the OAuth
// configuration. Applications of tenants outside the request's scope are 404.

type applicationResponse struct {
	Application *model.ApplicationConfig `json:"application"`
}

type applicationsResponse struct {
	Applications []*model.ApplicationConfig `json:"applications"`
}

type applicationSearchResponse struct {
	Applications []*model.ApplicationConfig `json:"applications"`
	Total        int                        `json:"total"`
}

type roleResponse struct {
	Role *model.ApplicationRole `json:"role"`
}

func (s *Server) createApplication(c Call, body kit.Object) (any, error) {
	a, err := s.tenancy.CreateApplication(c, c.Actor, c.Scope, c.Path("id"), body)
	return applicationResponse{a}, err
}

func (s *Server) retrieveApplication(c Call, _ struct{}) (any, error) {
	a, err := s.tenancy.Application(c, c.Scope, c.Path("id"))
	return applicationResponse{a}, err
}

// retrieveApplications lists the active applications, or with ?inactive=true
// the deactivated ones.
func (s *Server) retrieveApplications(c Call, _ struct{}) (any, error) {
	as, err := s.tenancy.Applications(c, c.Scope, c.QueryTrue("inactive"))
	return applicationsResponse{as}, err
}

// updateApplication replaces an application, or with ?reactivate=true (and no
// body) reactivates it.
func (s *Server) updateApplication(w http.ResponseWriter, r *http.Request) {
	actor := PrincipalFrom(r.Context()).Actor(r)
	if queryTrue(r, "reactivate") {
		a, err := s.tenancy.ReactivateApplication(r.Context(), actor, scopeOf(r), r.PathValue("id"))
		if err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
		httpx.WriteJSON(w, http.StatusOK, applicationResponse{a})
		return
	}
	body, err := decodeObject(w, r)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	a, err := s.tenancy.UpdateApplication(r.Context(), actor, scopeOf(r), r.PathValue("id"), body)
	s.reply(w, r, applicationResponse{a}, err)
}

func (s *Server) patchApplication(c Call, p Patch) (any, error) {
	a, err := s.tenancy.PatchApplication(c, c.Actor, c.Scope, c.Path("id"), p.Form, p.Body)
	return applicationResponse{a}, err
}

// deleteApplication deactivates, or with ?hardDelete=true deletes.
func (s *Server) deleteApplication(c Call, _ struct{}) (any, error) {
	if c.QueryTrue("hardDelete") {
		return nil, s.tenancy.DeleteApplication(c, c.Actor, c.Scope, c.Path("id"))
	}
	return nil, s.tenancy.DeactivateApplication(c, c.Actor, c.Scope, c.Path("id"))
}

func (s *Server) retrieveOAuthConfiguration(c Call, _ struct{}) (any, error) {
	return s.tenancy.ApplicationOAuthConfiguration(c, c.Scope, c.Path("id"))
}

// searchApplications answers both POST (criteria in the body) and GET (in the query).
func (s *Server) searchApplications(c Call, q tenancy.ApplicationSearch) (any, error) {
	as, total, err := s.tenancy.SearchApplications(c, c.Scope, q)
	return applicationSearchResponse{Applications: as, Total: total}, err
}

func applicationQuery(v url.Values, verrs *model.Errors) (q tenancy.ApplicationSearch) {
	q.Name, q.State, q.TenantID, q.OrderBy = v.Get("name"), v.Get("state"), v.Get("tenantId"), v.Get("orderBy")
	q.StartRow = searchQueryInt(verrs, v, "startRow")
	q.NumberOfResults = searchQueryInt(verrs, v, "numberOfResults")
	return q
}

func (s *Server) createRole(c Call, body kit.Object) (any, error) {
	role, err := s.tenancy.CreateRole(c, c.Actor, c.Scope, c.Path("id"), c.Path("roleId"), body)
	return roleResponse{role}, err
}

func (s *Server) updateRole(c Call, body kit.Object) (any, error) {
	role, err := s.tenancy.UpdateRole(c, c.Actor, c.Scope, c.Path("id"), c.Path("roleId"), body)
	return roleResponse{role}, err
}

func (s *Server) patchRole(c Call, p Patch) (any, error) {
	role, err := s.tenancy.PatchRole(c, c.Actor, c.Scope, c.Path("id"), c.Path("roleId"), p.Form, p.Body)
	return roleResponse{role}, err
}

// deleteRole deletes by id, or at /api/application/{id}/role?name= by name.
func (s *Server) deleteRole(c Call, _ struct{}) (any, error) {
	roleID, name := c.Path("roleId"), c.Query().Get("name")
	if roleID == "" && name == "" {
		return nil, model.FieldError("name", "blank", "A role id in the path or a name parameter is required.")
	}
	return nil, s.tenancy.DeleteRole(c, c.Actor, c.Scope, c.Path("id"), roleID, name)
}
