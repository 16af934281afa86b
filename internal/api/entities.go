package api

import (
	"net/http"
	"net/url"

	"github.com/latchid/latch/internal/entities"
	"github.com/latchid/latch/internal/httpx"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
)

// /api/entity/type, /api/entity and /api/entity/{id}/grant: FusionAuth's
// Entity Management API. Entity types are global (written with global keys
// only, read by any); entities of tenants outside the request's scope are 404.

type entityTypeResponse struct {
	EntityType kit.Object `json:"entityType"`
}

type entityTypesResponse struct {
	EntityTypes []kit.Object `json:"entityTypes"`
}

type entityTypeSearchResponse struct {
	EntityTypes []kit.Object `json:"entityTypes"`
	Total       int          `json:"total"`
}

type permissionResponse struct {
	Permission kit.Object `json:"permission"`
}

type entityResponse struct {
	Entity kit.Object `json:"entity"`
}

type entitySearchResponse struct {
	Entities []kit.Object `json:"entities"`
	Total    int          `json:"total"`
}

type grantResponse struct {
	Grant kit.Object `json:"grant"`
}

type grantSearchResponse struct {
	Grants []kit.Object `json:"grants"`
	Total  int          `json:"total"`
}

func (s *Server) createEntityType(c Call, body kit.Object) (any, error) {
	t, err := s.entities.CreateType(c, c.Actor, c.Path("id"), body)
	return entityTypeResponse{t}, err
}

func (s *Server) retrieveEntityType(c Call, _ struct{}) (any, error) {
	t, err := s.entities.Type(c, c.Path("id"))
	return entityTypeResponse{t}, err
}

func (s *Server) retrieveEntityTypes(c Call, _ struct{}) (any, error) {
	ts, err := s.entities.Types(c)
	return entityTypesResponse{ts}, err
}

func (s *Server) updateEntityType(c Call, body kit.Object) (any, error) {
	t, err := s.entities.UpdateType(c, c.Actor, c.Path("id"), body)
	return entityTypeResponse{t}, err
}

func (s *Server) patchEntityType(c Call, p Patch) (any, error) {
	t, err := s.entities.PatchType(c, c.Actor, c.Path("id"), p.Form, p.Body)
	return entityTypeResponse{t}, err
}

func (s *Server) deleteEntityType(c Call, _ struct{}) (any, error) {
	return nil, s.entities.DeleteType(c, c.Actor, c.Path("id"))
}

// searchEntityTypes answers both POST (criteria in the body) and GET (in the query).
func (s *Server) searchEntityTypes(c Call, q entities.TypeSearch) (any, error) {
	ts, total, err := s.entities.SearchTypes(c, q)
	return entityTypeSearchResponse{EntityTypes: ts, Total: total}, err
}

// omitted drops the query parameters FusionAuth's TypeScript client sends
// for arguments left out: it writes them as "undefined" (or "null").
func omitted(v url.Values) url.Values {
	out := url.Values{}
	for k, vals := range v {
		for _, x := range vals {
			if x != "undefined" && x != "null" {
				out[k] = append(out[k], x)
			}
		}
	}
	return out
}

func entityTypeQuery(v url.Values, verrs *model.Errors) (q entities.TypeSearch) {
	v = omitted(v)
	q.Name, q.OrderBy = v.Get("name"), v.Get("orderBy")
	q.StartRow = searchQueryInt(verrs, v, "startRow")
	q.NumberOfResults = searchQueryInt(verrs, v, "numberOfResults")
	return q
}

func (s *Server) createEntityTypePermission(c Call, body kit.Object) (any, error) {
	p, err := s.entities.CreatePermission(c, c.Actor, c.Path("id"), c.Path("permissionId"), body)
	return permissionResponse{p}, err
}

func (s *Server) updateEntityTypePermission(c Call, body kit.Object) (any, error) {
	p, err := s.entities.UpdatePermission(c, c.Actor, c.Path("id"), c.Path("permissionId"), body)
	return permissionResponse{p}, err
}

func (s *Server) patchEntityTypePermission(c Call, p Patch) (any, error) {
	perm, err := s.entities.PatchPermission(c, c.Actor, c.Path("id"), c.Path("permissionId"), p.Form, p.Body)
	return permissionResponse{perm}, err
}

func (s *Server) deleteEntityTypePermission(c Call, _ struct{}) (any, error) {
	return nil, s.entities.DeletePermission(c, c.Actor, c.Path("id"), c.Path("permissionId"))
}

func (s *Server) createEntity(c Call, body kit.Object) (any, error) {
	e, err := s.entities.CreateEntity(c, c.Actor, c.Scope, c.Path("id"), body)
	return entityResponse{e}, err
}

func (s *Server) retrieveEntity(c Call, _ struct{}) (any, error) {
	e, err := s.entities.Entity(c, c.Scope, c.Path("id"))
	return entityResponse{e}, err
}

func (s *Server) updateEntity(c Call, body kit.Object) (any, error) {
	e, err := s.entities.UpdateEntity(c, c.Actor, c.Scope, c.Path("id"), body)
	return entityResponse{e}, err
}

func (s *Server) patchEntity(c Call, p Patch) (any, error) {
	e, err := s.entities.PatchEntity(c, c.Actor, c.Scope, c.Path("id"), p.Form, p.Body)
	return entityResponse{e}, err
}

func (s *Server) deleteEntity(c Call, _ struct{}) (any, error) {
	return nil, s.entities.DeleteEntity(c, c.Actor, c.Scope, c.Path("id"))
}

// searchEntities answers POST (criteria in the body) and GET (?ids=…).
func (s *Server) searchEntities(c Call, q entities.EntitySearch) (any, error) {
	es, total, err := s.entities.SearchEntities(c, c.Scope, q)
	return entitySearchResponse{Entities: es, Total: total}, err
}

func entityQuery(v url.Values, verrs *model.Errors) (q entities.EntitySearch) {
	q.IDs = v["ids"]
	if q.IDs == nil {
		q.IDs = []string{}
	}
	return q
}

// refreshEntitySearchIndex is PUT /api/entity/search: searches read the
// database, so the index is always current.
func (s *Server) refreshEntitySearchIndex(Call, struct{}) (any, error) { return nil, nil }

// grantRoute serves /api/entity/{id}/grant; it is registered as
// /api/entity/{id}/{sub} (see Route.Mux), so any other sub is unknown.
func (s *Server) grantRoute(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("sub") != "grant" {
			httpx.WriteStatus(w, http.StatusNotFound)
			return
		}
		h(w, r)
	}
}

func (s *Server) upsertEntityGrant(c Call, body kit.Object) (any, error) {
	return nil, s.entities.UpsertGrant(c, c.Actor, c.Scope, c.Path("id"), body)
}

func (s *Server) retrieveEntityGrant(c Call, _ struct{}) (any, error) {
	q := omitted(c.Query())
	g, err := s.entities.Grant(c, c.Scope, c.Path("id"), q.Get("userId"), q.Get("recipientEntityId"))
	return grantResponse{g}, err
}

func (s *Server) deleteEntityGrant(c Call, _ struct{}) (any, error) {
	q := omitted(c.Query())
	return nil, s.entities.DeleteGrant(c, c.Actor, c.Scope, c.Path("id"), q.Get("userId"), q.Get("recipientEntityId"))
}

// searchEntityGrants answers both POST (criteria in the body) and GET (in the query).
func (s *Server) searchEntityGrants(c Call, q entities.GrantSearch) (any, error) {
	gs, total, err := s.entities.SearchGrants(c, c.Scope, q)
	return grantSearchResponse{Grants: gs, Total: total}, err
}

func entityGrantQuery(v url.Values, verrs *model.Errors) (q entities.GrantSearch) {
	v = omitted(v)
	q.EntityID, q.Name, q.UserID, q.OrderBy = v.Get("entityId"), v.Get("name"), v.Get("userId"), v.Get("orderBy")
	q.StartRow = searchQueryInt(verrs, v, "startRow")
	q.NumberOfResults = searchQueryInt(verrs, v, "numberOfResults")
	return q
}
