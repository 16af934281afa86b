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
	Application kit.Object `json:"application"`
}

type applicationsResponse struct {
	Applications []kit.Object `json:"applications"`
}

type applicationSearchResponse struct {
	Applications []kit.Object `json:"applications"`
	Total        int          `json:"total"`
}

type roleResponse struct {
	Role *model.ApplicationRole `json:"role"`
}

func (s *Server) createApplication(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(w, r)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	a, err := s.svc.Tenancy.CreateApplication(r.Context(), PrincipalFrom(r.Context()).Actor(r), scopeOf(r), r.PathValue("id"), body)
	s.reply(w, r, applicationResponse{a}, err)
}

func (s *Server) retrieveApplication(w http.ResponseWriter, r *http.Request) {
	a, err := s.svc.Tenancy.Application(r.Context(), scopeOf(r), r.PathValue("id"))
	s.reply(w, r, applicationResponse{a}, err)
}

// retrieveApplications lists the active applications, or with ?inactive=true
// the deactivated ones.
func (s *Server) retrieveApplications(w http.ResponseWriter, r *http.Request) {
	as, err := s.svc.Tenancy.Applications(r.Context(), scopeOf(r), queryTrue(r, "inactive"))
	s.reply(w, r, applicationsResponse{as}, err)
}

// updateApplication replaces an application, or with ?reactivate=true (and no
// body) reactivates it.
func (s *Server) updateApplication(w http.ResponseWriter, r *http.Request) {
	actor := PrincipalFrom(r.Context()).Actor(r)
	if queryTrue(r, "reactivate") {
		a, err := s.svc.Tenancy.ReactivateApplication(r.Context(), actor, scopeOf(r), r.PathValue("id"))
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
	a, err := s.svc.Tenancy.UpdateApplication(r.Context(), actor, scopeOf(r), r.PathValue("id"), body)
	s.reply(w, r, applicationResponse{a}, err)
}

func (s *Server) patchApplication(w http.ResponseWriter, r *http.Request) {
	form, patch, err := readPatch(w, r)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	a, err := s.svc.Tenancy.PatchApplication(r.Context(), PrincipalFrom(r.Context()).Actor(r), scopeOf(r), r.PathValue("id"), form, patch)
	s.reply(w, r, applicationResponse{a}, err)
}

// deleteApplication deactivates, or with ?hardDelete=true deletes.
func (s *Server) deleteApplication(w http.ResponseWriter, r *http.Request) {
	actor := PrincipalFrom(r.Context()).Actor(r)
	var err error
	if queryTrue(r, "hardDelete") {
		err = s.svc.Tenancy.DeleteApplication(r.Context(), actor, scopeOf(r), r.PathValue("id"))
	} else {
		err = s.svc.Tenancy.DeactivateApplication(r.Context(), actor, scopeOf(r), r.PathValue("id"))
	}
	s.reply(w, r, nil, err)
}

func (s *Server) retrieveOAuthConfiguration(w http.ResponseWriter, r *http.Request) {
	c, err := s.svc.Tenancy.ApplicationOAuthConfiguration(r.Context(), scopeOf(r), r.PathValue("id"))
	s.reply(w, r, c, err)
}

// searchApplications answers both POST (criteria in the body) and GET (in the query).
func (s *Server) searchApplications(w http.ResponseWriter, r *http.Request) {
	q, err := searchCriteria(w, r, func(v url.Values, verrs *model.Errors) (q tenancy.ApplicationSearch) {
		q.Name, q.State, q.TenantID, q.OrderBy = v.Get("name"), v.Get("state"), v.Get("tenantId"), v.Get("orderBy")
		q.StartRow = searchQueryInt(verrs, v, "startRow")
		q.NumberOfResults = searchQueryInt(verrs, v, "numberOfResults")
		return q
	})
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	as, total, err := s.svc.Tenancy.SearchApplications(r.Context(), scopeOf(r), q)
	s.reply(w, r, applicationSearchResponse{Applications: as, Total: total}, err)
}

func (s *Server) createRole(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(w, r)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	role, err := s.svc.Tenancy.CreateRole(r.Context(), PrincipalFrom(r.Context()).Actor(r), scopeOf(r), r.PathValue("id"), r.PathValue("roleId"), body)
	s.reply(w, r, roleResponse{role}, err)
}

func (s *Server) updateRole(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(w, r)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	role, err := s.svc.Tenancy.UpdateRole(r.Context(), PrincipalFrom(r.Context()).Actor(r), scopeOf(r), r.PathValue("id"), r.PathValue("roleId"), body)
	s.reply(w, r, roleResponse{role}, err)
}

func (s *Server) patchRole(w http.ResponseWriter, r *http.Request) {
	form, patch, err := readPatch(w, r)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	role, err := s.svc.Tenancy.PatchRole(r.Context(), PrincipalFrom(r.Context()).Actor(r), scopeOf(r), r.PathValue("id"), r.PathValue("roleId"), form, patch)
	s.reply(w, r, roleResponse{role}, err)
}

// deleteRole deletes by id, or at /api/application/{id}/role?name= by name.
func (s *Server) deleteRole(w http.ResponseWriter, r *http.Request) {
	roleID, name := r.PathValue("roleId"), r.URL.Query().Get("name")
	if roleID == "" && name == "" {
		httpx.WriteError(w, r, s.log, model.FieldError("name", "blank", "A role id in the path or a name parameter is required."))
		return
	}
	s.reply(w, r, nil, s.svc.Tenancy.DeleteRole(r.Context(), PrincipalFrom(r.Context()).Actor(r), scopeOf(r), r.PathValue("id"), roleID, name))
}
