package admin

import (
	"cmp"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/latchid/latch/internal/admin/pagekit"
	"github.com/latchid/latch/internal/entities"
	"github.com/latchid/latch/internal/identity"
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
	v := entityTypeView{ID: pagekit.Str(m, "id"), Name: pagekit.Str(m, "name")}
	for _, p := range pagekit.Objects(m["permissions"]) {
		d, _ := p["isDefault"].(bool)
		v.Permissions = append(v.Permissions, permissionView{ID: pagekit.Str(p, "id"), Name: pagekit.Str(p, "name"), Description: pagekit.Str(p, "description"), Default: d})
	}
	return v
}

type entityView struct {
	ID, Name, ClientID, TypeID, Type, TenantID, Tenant string
}

func viewEntity(o kit.Object, tenants map[string]string) entityView {
	m := plain(o, "entity")
	v := entityView{ID: pagekit.Str(m, "id"), Name: pagekit.Str(m, "name"), ClientID: pagekit.Str(m, "clientId"), TenantID: pagekit.Str(m, "tenantId")}
	if t, ok := m["type"].(kit.Object); ok {
		v.TypeID, v.Type = pagekit.Str(t, "id"), pagekit.Str(t, "name")
	}
	v.Tenant = tenants[v.TenantID]
	return v
}

type entitiesPage struct {
	Entities  []entityView
	Types     []entityTypeView
	Tenants   []pagekit.Option
	Query     string
	CanManage bool
	// The create form, as entered, and its errors.
	Name, TypeID, TenantID string
	Errors                 []string
}

func (a *Admin) entitiesPage(w http.ResponseWriter, r *http.Request, s *pagekit.Session, status int, p entitiesPage) {
	types, err := a.Svc.Entities.Types(r.Context())
	if err != nil {
		a.Fail(w, r, s, "list entity types", err)
		return
	}
	for _, t := range types {
		p.Types = append(p.Types, viewEntityType(t))
	}
	var names map[string]string
	if p.Tenants, names, err = a.TenantOptions(r); err != nil {
		a.Fail(w, r, s, "list tenants", err)
		return
	}
	list, _, err := a.Svc.Entities.SearchEntities(r.Context(), kit.TenantScope{},
		entities.EntitySearch{QueryString: cmp.Or(p.Query, "*"), NumberOfResults: 200})
	if err != nil {
		msgs, ok := a.Refusal(w, r, s, "search entities", err)
		if !ok {
			return
		}
		p.Errors, status = append(p.Errors, msgs...), http.StatusBadRequest
	}
	for _, o := range list {
		p.Entities = append(p.Entities, viewEntity(o, names))
	}
	p.CanManage = pagekit.Allowed(s.Roles, pagekit.ManageEntities)
	a.Render(w, r, s, status, "entities", "Entities", "entities", p)
}

func (a *Admin) entitiesList(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	a.entitiesPage(w, r, s, http.StatusOK, entitiesPage{Query: strings.TrimSpace(r.URL.Query().Get("q"))})
}

type entityPage struct {
	Entity    entityView
	Secret    string // shown once: after creating or rotating
	Created   bool
	CanManage bool
	Notice    string
	Errors    []string
	// Grants on the entity; the grant form offers the type's permissions
	// and the other entities of the tenant as recipients.
	Grants      []grantView
	Permissions []permOption
	Recipients  []pagekit.Option
	// The grant form as entered.
	LoginID, RecipientID string
	Checked              []string
	// Data is the entity's data as JSON text: as stored, or as entered when
	// it was refused (DataInvalid).
	Data        string
	DataInvalid bool
}

type permOption struct {
	permissionView
	Checked bool
}

// grantView is one grant on the entity: to a user or to another entity.
type grantView struct {
	UserID, RecipientID, Grantee string
	Permissions                  []string
}

// createEntity makes an entity and shows its client secret, once.
func (a *Admin) createEntity(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	f := r.PostForm
	p := entitiesPage{Name: strings.TrimSpace(f.Get("name")), TypeID: f.Get("typeId"), TenantID: f.Get("tenantId")}
	e := pagekit.InTenant(p.Name, p.TenantID)
	e["type"] = kit.Object{"id": p.TypeID}
	o, err := a.Svc.Entities.CreateEntity(r.Context(), a.Actor(r, s), kit.TenantScope{}, "", kit.Object{"entity": e})
	if err != nil {
		msgs, ok := a.Refusal(w, r, s, "create entity", err)
		if !ok {
			return
		}
		p.Errors = msgs
		a.entitiesPage(w, r, s, http.StatusBadRequest, p)
		return
	}
	a.showEntity(w, r, s, pagekit.Str(plain(o, "entity"), "id"), entityPage{Secret: pagekit.Str(plain(o, "entity"), "clientSecret"), Created: true})
}

func (a *Admin) showEntity(w http.ResponseWriter, r *http.Request, s *pagekit.Session, id string, p entityPage) {
	o, err := a.Svc.Entities.Entity(r.Context(), kit.TenantScope{}, id)
	if !a.Loaded(w, r, s, "entity", err) {
		return
	}
	_, tenants, ok := a.Tenants(w, r, s)
	if !ok {
		return
	}
	// viewEntity keeps no secret: the page shows only p.Secret, given once.
	p.Entity, p.CanManage = viewEntity(o, tenants), pagekit.Allowed(s.Roles, pagekit.ManageEntities)
	if !p.DataInvalid {
		p.Data = entityDataText(o)
	}
	if err := a.entityGrants(r, &p); err != nil {
		a.Fail(w, r, s, "list entity grants", err)
		return
	}
	status := http.StatusOK
	if len(p.Errors) > 0 {
		status = http.StatusBadRequest
	}
	a.Render(w, r, s, status, "entity", "Entity "+p.Entity.Name, "entities", p, "copy.js")
}

func (a *Admin) entity(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	notice := map[string]string{"granted": "The grant was saved.", "revoked": "The grant was removed.", "data": "The data was saved."}[r.URL.Query().Get("done")]
	a.showEntity(w, r, s, r.PathValue("id"), entityPage{Notice: notice})
}

// rotateEntitySecret gives the entity a new client secret and shows it once.
func (a *Admin) rotateEntitySecret(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	secret := secrets.Token(32)
	patch, err := json.Marshal(kit.Object{"entity": kit.Object{"clientSecret": secret}})
	if err == nil {
		_, err = a.Svc.Entities.PatchEntity(r.Context(), a.Actor(r, s), kit.TenantScope{}, r.PathValue("id"), model.PatchMerge, patch)
	}
	if err != nil {
		a.entityFailed(w, r, s, "rotate entity secret", err)
		return
	}
	a.showEntity(w, r, s, r.PathValue("id"), entityPage{Secret: secret})
}

func (a *Admin) entityFailed(w http.ResponseWriter, r *http.Request, s *pagekit.Session, what string, err error) {
	if errors.Is(err, model.ErrNotFound) {
		a.Message(w, r, s, http.StatusNotFound, "Not found", "It does not exist; it may have been deleted.")
		return
	}
	msgs, ok := a.Refusal(w, r, s, what, err)
	if !ok {
		return
	}
	a.Message(w, r, s, http.StatusBadRequest, "Nothing was changed", msgs...)
}

func (a *Admin) deleteEntity(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	if err := a.Svc.Entities.DeleteEntity(r.Context(), a.Actor(r, s), kit.TenantScope{}, r.PathValue("id")); err != nil {
		a.entityFailed(w, r, s, "delete entity", err)
		return
	}
	http.Redirect(w, r, "/admin/entities", http.StatusSeeOther)
}

func (a *Admin) createEntityType(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	name := strings.TrimSpace(r.PostForm.Get("name"))
	o, err := a.Svc.Entities.CreateType(r.Context(), a.Actor(r, s), "", kit.Object{"entityType": kit.Object{"name": name}})
	if err != nil {
		msgs, ok := a.Refusal(w, r, s, "create entity type", err)
		if !ok {
			return
		}
		a.entitiesPage(w, r, s, http.StatusBadRequest, entitiesPage{Errors: msgs})
		return
	}
	http.Redirect(w, r, "/admin/entity-types/"+viewEntityType(o).ID, http.StatusSeeOther)
}

func (a *Admin) entityType(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	a.showEntityType(w, r, s, http.StatusOK, entityTypePage{})
}

// entityTypePage is the type's page; after a refused permission, the
// reasons and what was typed, to correct.
type entityTypePage struct {
	Type                  entityTypeView
	CanManage             bool
	Errors                []string
	PermName, Description string
	IsDefault             bool
}

func (a *Admin) showEntityType(w http.ResponseWriter, r *http.Request, s *pagekit.Session, status int, p entityTypePage) {
	o, err := a.Svc.Entities.Type(r.Context(), r.PathValue("id"))
	if err != nil {
		a.entityFailed(w, r, s, "load entity type", err)
		return
	}
	p.Type, p.CanManage = viewEntityType(o), pagekit.Allowed(s.Roles, pagekit.ManageEntities)
	a.Render(w, r, s, status, "entitytype", "Entity type "+p.Type.Name, "entities", p)
}

func (a *Admin) addPermission(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	perm := kit.Object{"name": strings.TrimSpace(r.PostForm.Get("name"))}
	if d := strings.TrimSpace(r.PostForm.Get("description")); d != "" {
		perm["description"] = d
	}
	if r.PostForm.Get("isDefault") == "on" {
		perm["isDefault"] = true
	}
	if _, err := a.Svc.Entities.CreatePermission(r.Context(), a.Actor(r, s), r.PathValue("id"), "", kit.Object{"permission": perm}); err != nil {
		if errors.Is(err, model.ErrNotFound) {
			a.entityFailed(w, r, s, "add permission", err)
			return
		}
		msgs, ok := a.Refusal(w, r, s, "add permission", err)
		if !ok {
			return
		}
		a.showEntityType(w, r, s, http.StatusBadRequest, entityTypePage{Errors: msgs, PermName: strings.TrimSpace(r.PostForm.Get("name")),
			Description: strings.TrimSpace(r.PostForm.Get("description")), IsDefault: r.PostForm.Get("isDefault") == "on"})
		return
	}
	http.Redirect(w, r, "/admin/entity-types/"+r.PathValue("id"), http.StatusSeeOther)
}

func (a *Admin) deletePermission(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	if err := a.Svc.Entities.DeletePermission(r.Context(), a.Actor(r, s), r.PathValue("id"), r.PathValue("permId")); err != nil {
		a.entityFailed(w, r, s, "delete permission", err)
		return
	}
	http.Redirect(w, r, "/admin/entity-types/"+r.PathValue("id"), http.StatusSeeOther)
}

// deleteEntityType deletes a type, with its entities, only when the admin
// typed its name.
func (a *Admin) deleteEntityType(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	o, err := a.Svc.Entities.Type(r.Context(), r.PathValue("id"))
	if err != nil {
		a.entityFailed(w, r, s, "load entity type", err)
		return
	}
	if name := viewEntityType(o).Name; strings.TrimSpace(r.PostForm.Get("confirm")) != name {
		a.Message(w, r, s, http.StatusBadRequest, "Nothing was deleted", "Type "+name+" exactly to confirm deleting the type and its entities.")
		return
	}
	if err := a.Svc.Entities.DeleteType(r.Context(), a.Actor(r, s), r.PathValue("id")); err != nil {
		a.entityFailed(w, r, s, "delete entity type", err)
		return
	}
	http.Redirect(w, r, "/admin/entities", http.StatusSeeOther)
}

// entityGrants fills the page's grants, and the grant form's choices.
func (a *Admin) entityGrants(r *http.Request, p *entityPage) error {
	ctx := r.Context()
	list, _, err := a.Svc.Entities.SearchGrants(ctx, kit.TenantScope{}, entities.GrantSearch{EntityID: p.Entity.ID, NumberOfResults: 500})
	if err != nil {
		return err
	}
	for _, o := range list {
		g := grantView{UserID: pagekit.Str(o, "userId"), RecipientID: pagekit.Str(o, "recipientEntityId"), Permissions: pagekit.StringList(o["permissions"])}
		if g.UserID != "" {
			g.Grantee = "user " + g.UserID
			if u, err := a.Svc.Identity.User(ctx, kit.TenantScope{}, g.UserID); err == nil {
				g.Grantee = "user " + cmp.Or(u.Email, u.Username, u.ID)
			}
		} else {
			g.Grantee = "entity " + g.RecipientID
			if e, err := a.Svc.Entities.Entity(ctx, kit.TenantScope{}, g.RecipientID); err == nil {
				g.Grantee = "entity " + viewEntity(e, nil).Name
			}
		}
		p.Grants = append(p.Grants, g)
	}
	if p.Entity.TypeID != "" {
		t, err := a.Svc.Entities.Type(ctx, p.Entity.TypeID)
		if err != nil && !errors.Is(err, model.ErrNotFound) {
			return err
		}
		if err == nil {
			for _, pv := range viewEntityType(t).Permissions {
				p.Permissions = append(p.Permissions, permOption{pv, slices.Contains(p.Checked, pv.Name)})
			}
		}
	}
	others, _, err := a.Svc.Entities.SearchEntities(ctx, kit.TenantScope{Tenants: []string{p.Entity.TenantID}},
		entities.EntitySearch{QueryString: "*", NumberOfResults: 200})
	if err != nil {
		return err
	}
	for _, o := range others {
		if e := viewEntity(o, nil); e.ID != p.Entity.ID {
			p.Recipients = append(p.Recipients, pagekit.Option{Value: e.ID, Label: e.Name})
		}
	}
	return nil
}

// grantEntity grants permissions on the entity to a user (by email or
// username, in the entity's tenant) or to another entity, as
// POST /api/entity/{id}/grant does: a grant to the same recipient is
// replaced. No permission checked means the type's default permissions.
func (a *Admin) grantEntity(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	id, f := r.PathValue("id"), r.PostForm
	p := entityPage{LoginID: strings.TrimSpace(f.Get("loginId")), RecipientID: f.Get("recipientEntityId"), Checked: f["permission"]}
	grant := kit.Object{}
	if len(p.Checked) > 0 {
		perms := make([]any, len(p.Checked))
		for i, name := range p.Checked {
			perms[i] = name
		}
		grant["permissions"] = perms
	}
	err := func() error {
		switch {
		case p.LoginID != "" && p.RecipientID != "":
			return model.FieldError("grant", "invalid", "Choose a user or an entity, not both.")
		case p.RecipientID != "":
			grant["recipientEntityId"] = p.RecipientID
		case p.LoginID != "":
			o, err := a.Svc.Entities.Entity(r.Context(), kit.TenantScope{}, id)
			if err != nil {
				return err
			}
			u, err := a.Svc.Identity.UserBy(r.Context(), kit.TenantScope{Tenants: []string{viewEntity(o, nil).TenantID}}, identity.LookupLoginID, p.LoginID)
			if errors.Is(err, model.ErrNotFound) {
				return model.FieldError("grant.userId", "invalid", "No user of the entity's tenant has the email or username "+p.LoginID+".")
			}
			if err != nil {
				return err
			}
			grant["userId"] = u.ID
		default:
			return model.FieldError("grant", "blank", "Give a user's email or username, or choose an entity.")
		}
		return a.Svc.Entities.UpsertGrant(r.Context(), a.Actor(r, s), kit.TenantScope{}, id, kit.Object{"grant": grant})
	}()
	a.grantDone(w, r, s, p, "granted", err)
}

// revokeGrant removes the grant to the user or entity the form names.
func (a *Admin) revokeGrant(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	f := r.PostForm
	err := a.Svc.Entities.DeleteGrant(r.Context(), a.Actor(r, s), kit.TenantScope{}, r.PathValue("id"), f.Get("userId"), f.Get("recipientEntityId"))
	a.grantDone(w, r, s, entityPage{}, "revoked", err)
}

// grantDone shows the entity again: after a change, or with its errors
// and the form as entered.
func (a *Admin) grantDone(w http.ResponseWriter, r *http.Request, s *pagekit.Session, p entityPage, done string, err error) {
	id := r.PathValue("id")
	if err == nil {
		http.Redirect(w, r, "/admin/entities/"+id+"?done="+done, http.StatusSeeOther)
		return
	}
	msgs, _, ok := pagekit.ErrorMessages(err)
	if !ok {
		a.entityFailed(w, r, s, "entity grant", err)
		return
	}
	p.Errors = msgs
	a.showEntity(w, r, s, id, p)
}
