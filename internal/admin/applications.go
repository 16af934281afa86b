package admin

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/store"
)

// The applications pages: the list, and one application's roles and OAuth
// settings (redirect URLs, logout URL), its client secret shown on request
// and rotatable. Changes go through tenancy, as PATCH /api/application and
// the role API do, with the admin as the actor.

type appView struct {
	ID, Name, TenantID, Tenant string
	Active                     bool
	Roles                      []roleView
	RedirectURLs               []string
	LogoutURL                  string
	Grants                     []string
	HasSecret                  bool
	Builtin                    bool
}

type roleView struct{ ID, Name, Description string }

func viewApp(app *model.ApplicationConfig, tenants map[string]string) appView {
	oc := app.OAuthConfiguration
	v := appView{ID: app.ID, Name: app.Name, TenantID: app.TenantID, Active: app.Active,
		RedirectURLs: oc.AuthorizedRedirectURLs, LogoutURL: oc.LogoutURL, Grants: oc.EnabledGrants,
		HasSecret: oc.ClientSecret != ""}
	v.Tenant = tenants[v.TenantID]
	v.Builtin = v.ID == model.AdminApplicationID
	for _, r := range app.Roles {
		v.Roles = append(v.Roles, roleView{ID: r.ID, Name: r.Name, Description: r.Description})
	}
	return v
}

// allApplications lists the active applications, then the inactive ones.
func (a *Admin) allApplications(r *http.Request) ([]*model.ApplicationConfig, error) {
	active, err := a.Svc.Tenancy.Applications(r.Context(), kit.TenantScope{}, false)
	if err != nil {
		return nil, err
	}
	inactive, err := a.Svc.Tenancy.Applications(r.Context(), kit.TenantScope{}, true)
	return append(active, inactive...), err
}

func (a *Admin) applications(w http.ResponseWriter, r *http.Request, s *session) {
	apps, err := a.allApplications(r)
	if err != nil {
		a.fail(w, r, s, "list applications", err)
		return
	}
	_, tenants, err := a.tenantOptions(r)
	if err != nil {
		a.fail(w, r, s, "list tenants", err)
		return
	}
	var list []appView
	for _, o := range apps {
		list = append(list, viewApp(o, tenants))
	}
	a.render(w, r, s, http.StatusOK, "applications", "Applications", "applications", list)
}

type appPage struct {
	App       appView
	CanManage bool
	Secret    string // shown on request, or after a rotation
	Rotated   bool
	Notice    string
	Errors    []string
	Redirects string // the redirect URL field as entered
}

func (a *Admin) showApplication(w http.ResponseWriter, r *http.Request, s *session, status int, p appPage) {
	o, err := a.Svc.Tenancy.Application(r.Context(), kit.TenantScope{}, r.PathValue("id"))
	if errors.Is(err, model.ErrNotFound) {
		a.message(w, r, s, http.StatusNotFound, "No such application", "This application does not exist; it may have been deleted.")
		return
	}
	if err != nil {
		a.fail(w, r, s, "load application", err)
		return
	}
	_, tenants, err := a.tenantOptions(r)
	if err != nil {
		a.fail(w, r, s, "list tenants", err)
		return
	}
	p.App = viewApp(o, tenants)
	p.CanManage = Allowed(s.Roles, ManageApplications) && (!p.App.Builtin || Allowed(s.Roles, ManageAdmins))
	if p.Redirects == "" {
		p.Redirects = strings.Join(p.App.RedirectURLs, "\n")
	}
	a.render(w, r, s, status, "application", "Application "+p.App.Name, "applications", p, "copy.js")
}

func (a *Admin) application(w http.ResponseWriter, r *http.Request, s *session) {
	notice := map[string]string{"oauth": "The OAuth settings were saved.", "role": "The role was added.",
		"roleDeleted": "The role was deleted."}[r.URL.Query().Get("done")]
	a.showApplication(w, r, s, http.StatusOK, appPage{Notice: notice})
}

// appChange shows the application's page again after a change, or its errors.
func (a *Admin) appChange(w http.ResponseWriter, r *http.Request, s *session, done string, p appPage, err error) {
	if err == nil {
		http.Redirect(w, r, "/admin/applications/"+r.PathValue("id")+"?done="+done, http.StatusSeeOther)
		return
	}
	if errors.Is(err, model.ErrNotFound) {
		a.message(w, r, s, http.StatusNotFound, "No such application", "This application does not exist; it may have been deleted.")
		return
	}
	msgs, _, ok := errorMessages(err)
	if !ok {
		a.fail(w, r, s, "change application", err)
		return
	}
	p.Errors = msgs
	a.showApplication(w, r, s, http.StatusBadRequest, p)
}

func (a *Admin) patchApp(r *http.Request, s *session, oauth map[string]any) error {
	body, _ := json.Marshal(map[string]any{"application": map[string]any{"oauthConfiguration": oauth}})
	_, err := a.Svc.Tenancy.PatchApplication(r.Context(), a.actor(r, s), kit.TenantScope{}, r.PathValue("id"), model.PatchMerge, body)
	return err
}

// mayChangeAdminApp refuses (403) changing the admin application's OAuth
// settings or seeing its secret without ManageAdmins: a redirect URL there
// would receive admins' authorization codes.
func (a *Admin) mayChangeAdminApp(w http.ResponseWriter, r *http.Request, s *session) bool {
	if r.PathValue("id") == model.AdminApplicationID && !Allowed(s.Roles, ManageAdmins) {
		a.message(w, r, s, http.StatusForbidden, "Not allowed",
			"Only an admin with the admin role may change the admin application's OAuth settings or see its client secret.")
		return false
	}
	return true
}

// updateOAuth saves the redirect URLs (one a line) and the logout URL.
func (a *Admin) updateOAuth(w http.ResponseWriter, r *http.Request, s *session) {
	if !a.mayChangeAdminApp(w, r, s) {
		return
	}
	raw := r.PostForm.Get("redirectURLs")
	urls := []string{}
	for _, line := range strings.Split(raw, "\n") {
		if u := strings.TrimSpace(line); u != "" {
			urls = append(urls, u)
		}
	}
	err := a.patchApp(r, s, map[string]any{"authorizedRedirectURLs": urls, "logoutURL": strings.TrimSpace(r.PostForm.Get("logoutURL"))})
	a.appChange(w, r, s, "oauth", appPage{Redirects: raw}, err)
}

// showSecret shows the client secret on request (a POST: never in a URL or history).
func (a *Admin) showSecret(w http.ResponseWriter, r *http.Request, s *session) {
	if !a.mayChangeAdminApp(w, r, s) {
		return
	}
	cfg, err := a.Svc.Tenancy.ApplicationConfig(r.Context(), r.PathValue("id"))
	if errors.Is(err, model.ErrNotFound) {
		a.message(w, r, s, http.StatusNotFound, "No such application", "This application does not exist; it may have been deleted.")
		return
	}
	if err != nil {
		a.fail(w, r, s, "load application", err)
		return
	}
	// Who saw a secret is worth knowing: the reveal is audited (not the value).
	err = a.Svc.Store().InTx(r.Context(), func(tx *store.Tx) error {
		return a.Svc.Audit.Write(r.Context(), tx, a.actor(r, s), audit.Change{
			Message: "Showed the client secret of application [" + cfg.Name + "] (" + cfg.ID + ")", TargetID: cfg.ID})
	})
	if err != nil {
		a.fail(w, r, s, "audit secret reveal", err)
		return
	}
	a.showApplication(w, r, s, http.StatusOK, appPage{Secret: cfg.OAuthConfiguration.ClientSecret.Reveal()})
}

// rotateSecret gives the application a new client secret and shows it.
func (a *Admin) rotateSecret(w http.ResponseWriter, r *http.Request, s *session) {
	if !a.mayChangeAdminApp(w, r, s) {
		return
	}
	secret := secrets.Token(32)
	if err := a.patchApp(r, s, map[string]any{"clientSecret": secret}); err != nil {
		a.appChange(w, r, s, "", appPage{}, err)
		return
	}
	a.showApplication(w, r, s, http.StatusOK, appPage{Secret: secret, Rotated: true})
}

func (a *Admin) addRole(w http.ResponseWriter, r *http.Request, s *session) {
	role := map[string]any{"name": strings.TrimSpace(r.PostForm.Get("roleName"))}
	if d := strings.TrimSpace(r.PostForm.Get("roleDescription")); d != "" {
		role["description"] = d
	}
	_, err := a.Svc.Tenancy.CreateRole(r.Context(), a.actor(r, s), kit.TenantScope{}, r.PathValue("id"), "", kit.Object{"role": role})
	a.appChange(w, r, s, "role", appPage{}, err)
}

func (a *Admin) deleteRole(w http.ResponseWriter, r *http.Request, s *session) {
	err := a.Svc.Tenancy.DeleteRole(r.Context(), a.actor(r, s), kit.TenantScope{}, r.PathValue("id"), r.PathValue("roleId"), "")
	a.appChange(w, r, s, "roleDeleted", appPage{}, err)
}
