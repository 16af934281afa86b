package admin

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
)

// The tenants pages: list, create, a tenant's settings (name, issuer, the
// JWT signing keys and lifetime) and delete with a typed confirmation,
// through tenancy's rules (as /api/tenant) with the admin as the actor.

type tenantView struct {
	ID, Name, Issuer           string
	AccessTokenKey, IDTokenKey string
	TTL                        int64
	Inserted                   int64
	Builtin                    bool // holds the admin application
}

func viewTenant(t *model.TenantConfig) tenantView {
	j := t.JWTConfiguration
	return tenantView{ID: t.ID, Name: t.Name, Issuer: t.Issuer, Inserted: t.InsertInstant,
		AccessTokenKey: j.AccessTokenKeyID, IDTokenKey: j.IDTokenKeyID, TTL: int64(j.TimeToLiveInSeconds)}
}

func (a *Admin) tenants(w http.ResponseWriter, r *http.Request, s *session) {
	list, err := a.Svc.Tenancy.Tenants(r.Context(), kit.TenantScope{})
	if err != nil {
		a.fail(w, r, s, "list tenants", err)
		return
	}
	keyNames, _, err := a.signingKeyOptions(r)
	if err != nil {
		a.fail(w, r, s, "list signing keys", err)
		return
	}
	var rows []tenantView
	for _, o := range list {
		v := viewTenant(o)
		v.AccessTokenKey = keyNames[v.AccessTokenKey]
		rows = append(rows, v)
	}
	a.render(w, r, s, http.StatusOK, "tenants", "Tenants", "tenants", struct {
		Tenants   []tenantView
		CanManage bool
	}{rows, Allowed(s.Roles, ManageTenants)})
}

// signingKeyOptions are the keys a tenant may sign with (those with a
// private half), and every key's name by id.
func (a *Admin) signingKeyOptions(r *http.Request) (map[string]string, []option, error) {
	list, err := a.Svc.Signing.List(r.Context())
	if err != nil {
		return nil, nil, err
	}
	names := map[string]string{}
	var opts []option
	for _, k := range list {
		names[k.ID] = k.Name
		if !verifyOnly(k) {
			opts = append(opts, option{k.ID, k.Name + " (" + k.Algorithm + ")"})
		}
	}
	return names, opts, nil
}

type tenantPage struct {
	Tenant               tenantView // ID "" on create
	Keys                 []option
	TTL                  string
	CanManage, CanDelete bool
	Notice               string
	Errors               []string
}

func (a *Admin) tenantForm(w http.ResponseWriter, r *http.Request, s *session, status int, p tenantPage) {
	_, opts, err := a.signingKeyOptions(r)
	if err != nil {
		a.fail(w, r, s, "list signing keys", err)
		return
	}
	p.Keys, p.CanManage, p.CanDelete = opts, Allowed(s.Roles, ManageTenants), Allowed(s.Roles, DeleteTenants)
	if p.TTL == "" && p.Tenant.TTL > 0 {
		p.TTL = strconv.FormatInt(p.Tenant.TTL, 10)
	}
	title := "New tenant"
	if p.Tenant.ID != "" {
		title = "Tenant " + p.Tenant.Name
	}
	a.render(w, r, s, status, "tenant", title, "tenants", p)
}

func (a *Admin) newTenant(w http.ResponseWriter, r *http.Request, s *session) {
	a.tenantForm(w, r, s, http.StatusOK, tenantPage{})
}

func (a *Admin) loadTenant(w http.ResponseWriter, r *http.Request, s *session) (tenantView, bool) {
	o, err := a.Svc.Tenancy.Tenant(r.Context(), kit.TenantScope{}, r.PathValue("id"))
	if errors.Is(err, model.ErrNotFound) {
		a.message(w, r, s, http.StatusNotFound, "No such tenant", "This tenant does not exist; it may have been deleted.")
		return tenantView{}, false
	}
	if err != nil {
		a.fail(w, r, s, "load tenant", err)
		return tenantView{}, false
	}
	v := viewTenant(o)
	v.Builtin = a.defaultTenantID(r) == v.ID
	return v, true
}

// defaultTenantID is the tenant of the admin application ("" if unknown).
func (a *Admin) defaultTenantID(r *http.Request) string {
	app, err := a.Svc.Tenancy.Application(r.Context(), kit.TenantScope{}, model.AdminApplicationID)
	if err != nil {
		return ""
	}
	return app.TenantID
}

func (a *Admin) tenant(w http.ResponseWriter, r *http.Request, s *session) {
	if v, ok := a.loadTenant(w, r, s); ok {
		notice := map[string]string{"saved": "The tenant was saved."}[r.URL.Query().Get("done")]
		a.tenantForm(w, r, s, http.StatusOK, tenantPage{Tenant: v, Notice: notice})
	}
}

// saveTenant creates (no id in the path) or changes a tenant; a change is a
// merge patch of the form's fields, so settings the page does not show stay.
func (a *Admin) saveTenant(w http.ResponseWriter, r *http.Request, s *session) {
	var cur tenantView
	if r.PathValue("id") != "" {
		var ok bool
		if cur, ok = a.loadTenant(w, r, s); !ok {
			return
		}
	}
	f := r.PostForm
	p := tenantPage{Tenant: cur, TTL: strings.TrimSpace(f.Get("ttl"))}
	p.Tenant.Name, p.Tenant.Issuer = strings.TrimSpace(f.Get("name")), strings.TrimSpace(f.Get("issuer"))
	p.Tenant.AccessTokenKey, p.Tenant.IDTokenKey = f.Get("accessTokenKeyId"), f.Get("idTokenKeyId")
	fields := kit.Object{"name": p.Tenant.Name}
	if p.Tenant.Issuer != "" {
		fields["issuer"] = p.Tenant.Issuer
	}
	jwt := kit.Object{}
	if p.Tenant.AccessTokenKey != "" {
		jwt["accessTokenKeyId"] = p.Tenant.AccessTokenKey
	}
	if p.Tenant.IDTokenKey != "" {
		jwt["idTokenKeyId"] = p.Tenant.IDTokenKey
	}
	if p.TTL != "" {
		n, err := strconv.Atoi(p.TTL)
		if err != nil {
			p.Errors = []string{"The token lifetime must be a number of seconds."}
			a.tenantForm(w, r, s, http.StatusBadRequest, p)
			return
		}
		jwt["timeToLiveInSeconds"] = n
	}
	if len(jwt) > 0 {
		fields["jwtConfiguration"] = jwt
	}
	var saved *model.TenantConfig
	var err error
	if cur.ID == "" {
		saved, err = a.Svc.Tenancy.CreateTenant(r.Context(), a.actor(r, s), "", kit.Object{"tenant": fields})
	} else {
		var patch []byte
		if patch, err = json.Marshal(kit.Object{"tenant": fields}); err == nil {
			saved, err = a.Svc.Tenancy.PatchTenant(r.Context(), a.actor(r, s), kit.TenantScope{}, cur.ID, model.PatchMerge, patch)
		}
	}
	if err != nil {
		msgs, _, ok := errorMessages(err)
		if !ok {
			a.fail(w, r, s, "save tenant", err)
			return
		}
		p.Errors = msgs
		a.tenantForm(w, r, s, http.StatusBadRequest, p)
		return
	}
	http.Redirect(w, r, "/admin/tenants/"+saved.ID+"?done=saved", http.StatusSeeOther)
}

// deleteTenant deletes a tenant, with its applications and users, only when
// the admin typed its name.
func (a *Admin) deleteTenant(w http.ResponseWriter, r *http.Request, s *session) {
	v, ok := a.loadTenant(w, r, s)
	if !ok {
		return
	}
	if strings.TrimSpace(r.PostForm.Get("confirm")) != v.Name {
		a.tenantForm(w, r, s, http.StatusBadRequest, tenantPage{Tenant: v,
			Errors: []string{"The tenant was not deleted: type " + v.Name + " exactly to confirm."}})
		return
	}
	if err := a.Svc.Tenancy.DeleteTenant(r.Context(), a.actor(r, s), kit.TenantScope{}, v.ID); err != nil {
		msgs, _, ok := errorMessages(err)
		if !ok {
			a.fail(w, r, s, "delete tenant", err)
			return
		}
		a.tenantForm(w, r, s, http.StatusBadRequest, tenantPage{Tenant: v, Errors: msgs})
		return
	}
	http.Redirect(w, r, "/admin/tenants", http.StatusSeeOther)
}
