package admin

import (
	"cmp"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/latchid/latch/internal/entities"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/secrets"
)

// The entities pages: entity types with their permissions, and entities
// (machine clients of the client-credentials grant), through entities'
// rules (as /api/entity and /api/entity/type) with the admin as the actor.
// An entity's client secret is shown once, when it is made or rotated.

// plain unwraps {"entity": {...}} or {"entityType": {...}} and gives the
// object one JSON shape.
func plain(o kit.Object, wrapper string) kit.Object {
	if w, ok := o[wrapper].(kit.Object); ok {
		o = w
	}
	raw, _ := json.Marshal(o)
	var m kit.Object
	_ = json.Unmarshal(raw, &m)
	return m
}

type entityTypeView struct {
	ID, Name    string
	Permissions []permissionView
}

type permissionView struct {
	ID, Name, Description string
	Default               bool
}

func viewEntityType(o kit.Object) entityTypeView {
	m := plain(o, "entityType")
	v := entityTypeView{ID: str(m, "id"), Name: str(m, "name")}
	for _, p := range objects(m["permissions"]) {
		d, _ := p["isDefault"].(bool)
		v.Permissions = append(v.Permissions, permissionView{ID: str(p, "id"), Name: str(p, "name"), Description: str(p, "description"), Default: d})
	}
	return v
}

type entityView struct {
	ID, Name, ClientID, TypeID, Type, TenantID, Tenant string
}

func viewEntity(o kit.Object, tenants map[string]string) entityView {
	m := plain(o, "entity")
	v := entityView{ID: str(m, "id"), Name: str(m, "name"), ClientID: str(m, "clientId"), TenantID: str(m, "tenantId")}
	if t, ok := m["type"].(kit.Object); ok {
		v.TypeID, v.Type = str(t, "id"), str(t, "name")
	}
	v.Tenant = tenants[v.TenantID]
	return v
}

type entitiesPage struct {
	Entities  []entityView
	Types     []entityTypeView
	Tenants   []option
	Query     string
	CanManage bool
	// The create form, as entered, and its errors.
	Name, TypeID, TenantID string
	Errors                 []string
}

func (a *Admin) entitiesPage(w http.ResponseWriter, r *http.Request, s *session, status int, p entitiesPage) {
	types, err := a.Svc.Entities.Types(r.Context())
	if err != nil {
		a.fail(w, r, s, "list entity types", err)
		return
	}
	for _, t := range types {
		p.Types = append(p.Types, viewEntityType(t))
	}
	var names map[string]string
	if p.Tenants, names, err = a.tenantOptions(r); err != nil {
		a.fail(w, r, s, "list tenants", err)
		return
	}
	list, _, err := a.Svc.Entities.SearchEntities(r.Context(), kit.TenantScope{},
		entities.EntitySearch{QueryString: cmp.Or(p.Query, "*"), NumberOfResults: 200})
	if err != nil {
		msgs, _, ok := errorMessages(err)
		if !ok {
			a.fail(w, r, s, "search entities", err)
			return
		}
		p.Errors, status = append(p.Errors, msgs...), http.StatusBadRequest
	}
	for _, o := range list {
		p.Entities = append(p.Entities, viewEntity(o, names))
	}
	p.CanManage = Allowed(s.Roles, ManageEntities)
	a.render(w, r, s, status, "entities", "Entities", "entities", p)
}

func (a *Admin) entitiesList(w http.ResponseWriter, r *http.Request, s *session) {
	a.entitiesPage(w, r, s, http.StatusOK, entitiesPage{Query: strings.TrimSpace(r.URL.Query().Get("q"))})
}

type entityPage struct {
	Entity    entityView
	Secret    string // shown once: after creating or rotating
	Created   bool
	CanManage bool
	Errors    []string
}

// createEntity makes an entity and shows its client secret, once.
func (a *Admin) createEntity(w http.ResponseWriter, r *http.Request, s *session) {
	f := r.PostForm
	p := entitiesPage{Name: strings.TrimSpace(f.Get("name")), TypeID: f.Get("typeId"), TenantID: f.Get("tenantId")}
	e := kit.Object{"name": p.Name, "type": kit.Object{"id": p.TypeID}}
	if p.TenantID != "" {
		e["tenantId"] = p.TenantID
	}
	o, err := a.Svc.Entities.CreateEntity(r.Context(), a.actor(r, s), kit.TenantScope{}, "", kit.Object{"entity": e})
	if err != nil {
		msgs, _, ok := errorMessages(err)
		if !ok {
			a.fail(w, r, s, "create entity", err)
			return
		}
		p.Errors = msgs
		a.entitiesPage(w, r, s, http.StatusBadRequest, p)
		return
	}
	a.showEntity(w, r, s, str(plain(o, "entity"), "id"), entityPage{Secret: str(plain(o, "entity"), "clientSecret"), Created: true})
}

func (a *Admin) showEntity(w http.ResponseWriter, r *http.Request, s *session, id string, p entityPage) {
	o, err := a.Svc.Entities.Entity(r.Context(), kit.TenantScope{}, id)
	if errors.Is(err, model.ErrNotFound) {
		a.message(w, r, s, http.StatusNotFound, "No such entity", "This entity does not exist; it may have been deleted.")
		return
	}
	if err != nil {
		a.fail(w, r, s, "load entity", err)
		return
	}
	_, tenants, err := a.tenantOptions(r)
	if err != nil {
		a.fail(w, r, s, "list tenants", err)
		return
	}
	// viewEntity keeps no secret: the page shows only p.Secret, given once.
	p.Entity, p.CanManage = viewEntity(o, tenants), Allowed(s.Roles, ManageEntities)
	status := http.StatusOK
	if len(p.Errors) > 0 {
		status = http.StatusBadRequest
	}
	a.render(w, r, s, status, "entity", "Entity "+p.Entity.Name, "entities", p, "copy.js")
}

func (a *Admin) entity(w http.ResponseWriter, r *http.Request, s *session) {
	a.showEntity(w, r, s, r.PathValue("id"), entityPage{})
}

// rotateEntitySecret gives the entity a new client secret and shows it once.
func (a *Admin) rotateEntitySecret(w http.ResponseWriter, r *http.Request, s *session) {
	secret := secrets.Token(32)
	patch, err := json.Marshal(kit.Object{"entity": kit.Object{"clientSecret": secret}})
	if err == nil {
		_, err = a.Svc.Entities.PatchEntity(r.Context(), a.actor(r, s), kit.TenantScope{}, r.PathValue("id"), model.PatchMerge, patch)
	}
	if err != nil {
		a.entityFailed(w, r, s, "rotate entity secret", err)
		return
	}
	a.showEntity(w, r, s, r.PathValue("id"), entityPage{Secret: secret})
}

func (a *Admin) entityFailed(w http.ResponseWriter, r *http.Request, s *session, what string, err error) {
	if errors.Is(err, model.ErrNotFound) {
		a.message(w, r, s, http.StatusNotFound, "Not found", "It does not exist; it may have been deleted.")
		return
	}
	msgs, _, ok := errorMessages(err)
	if !ok {
		a.fail(w, r, s, what, err)
		return
	}
	a.message(w, r, s, http.StatusBadRequest, "Nothing was changed", msgs...)
}

func (a *Admin) deleteEntity(w http.ResponseWriter, r *http.Request, s *session) {
	if err := a.Svc.Entities.DeleteEntity(r.Context(), a.actor(r, s), kit.TenantScope{}, r.PathValue("id")); err != nil {
		a.entityFailed(w, r, s, "delete entity", err)
		return
	}
	http.Redirect(w, r, "/admin/entities", http.StatusSeeOther)
}

func (a *Admin) createEntityType(w http.ResponseWriter, r *http.Request, s *session) {
	name := strings.TrimSpace(r.PostForm.Get("name"))
	o, err := a.Svc.Entities.CreateType(r.Context(), a.actor(r, s), "", kit.Object{"entityType": kit.Object{"name": name}})
	if err != nil {
		msgs, _, ok := errorMessages(err)
		if !ok {
			a.fail(w, r, s, "create entity type", err)
			return
		}
		a.entitiesPage(w, r, s, http.StatusBadRequest, entitiesPage{Errors: msgs})
		return
	}
	http.Redirect(w, r, "/admin/entity-types/"+viewEntityType(o).ID, http.StatusSeeOther)
}

func (a *Admin) entityType(w http.ResponseWriter, r *http.Request, s *session) {
	o, err := a.Svc.Entities.Type(r.Context(), r.PathValue("id"))
	if err != nil {
		a.entityFailed(w, r, s, "load entity type", err)
		return
	}
	t := viewEntityType(o)
	a.render(w, r, s, http.StatusOK, "entitytype", "Entity type "+t.Name, "entities", struct {
		Type      entityTypeView
		CanManage bool
	}{t, Allowed(s.Roles, ManageEntities)})
}

func (a *Admin) addPermission(w http.ResponseWriter, r *http.Request, s *session) {
	perm := kit.Object{"name": strings.TrimSpace(r.PostForm.Get("name"))}
	if d := strings.TrimSpace(r.PostForm.Get("description")); d != "" {
		perm["description"] = d
	}
	if r.PostForm.Get("isDefault") == "on" {
		perm["isDefault"] = true
	}
	if _, err := a.Svc.Entities.CreatePermission(r.Context(), a.actor(r, s), r.PathValue("id"), "", kit.Object{"permission": perm}); err != nil {
		a.entityFailed(w, r, s, "add permission", err)
		return
	}
	http.Redirect(w, r, "/admin/entity-types/"+r.PathValue("id"), http.StatusSeeOther)
}

func (a *Admin) deletePermission(w http.ResponseWriter, r *http.Request, s *session) {
	if err := a.Svc.Entities.DeletePermission(r.Context(), a.actor(r, s), r.PathValue("id"), r.PathValue("permId")); err != nil {
		a.entityFailed(w, r, s, "delete permission", err)
		return
	}
	http.Redirect(w, r, "/admin/entity-types/"+r.PathValue("id"), http.StatusSeeOther)
}

// deleteEntityType deletes a type, with its entities, only when the admin
// typed its name.
func (a *Admin) deleteEntityType(w http.ResponseWriter, r *http.Request, s *session) {
	o, err := a.Svc.Entities.Type(r.Context(), r.PathValue("id"))
	if err != nil {
		a.entityFailed(w, r, s, "load entity type", err)
		return
	}
	if name := viewEntityType(o).Name; strings.TrimSpace(r.PostForm.Get("confirm")) != name {
		a.message(w, r, s, http.StatusBadRequest, "Nothing was deleted", "Type "+name+" exactly to confirm deleting the type and its entities.")
		return
	}
	if err := a.Svc.Entities.DeleteType(r.Context(), a.actor(r, s), r.PathValue("id")); err != nil {
		a.entityFailed(w, r, s, "delete entity type", err)
		return
	}
	http.Redirect(w, r, "/admin/entities", http.StatusSeeOther)
}
