// Package apps holds the admin UI's applications pages: the list, create,
// one application's details, OAuth settings (redirect URLs, logout URL,
// grants, client authentication and PKCE policies), token (JWT) and sign-in
// settings, roles, its client secret shown on request and rotatable,
// deactivation and reactivation, and delete with a typed confirmation. Every change goes through tenancy, as /api/application and
// its role API do, with the admin as the actor.
package apps

import (
	"embed"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/latchid/latch/internal/admin/pagekit"
	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/tenancy"
)

// Templates are the pages of this area.
//
//go:embed templates/*.html
var Templates embed.FS

// Pages are the applications pages' handlers.
type Pages struct{ *pagekit.Kit }

// The policies an application's OAuth settings offer, with their meaning.
var (
	clientAuthPolicies = []pagekit.Option{{Value: "Required", Label: "Required"}, {Value: "NotRequired", Label: "Not required"},
		{Value: "NotRequiredWhenUsingPKCE", Label: "Not required when the client uses PKCE"}}
	pkcePolicies = []pagekit.Option{{Value: "Required", Label: "Required"}, {Value: "NotRequired", Label: "Not required"},
		{Value: "NotRequiredWhenUsingClientAuthentication", Label: "Not required when the client authenticates"}}
)

type listPage struct {
	Apps      []pagekit.AppView
	CanCreate bool
	Notice    string
	// Status filters the list: "" (all), "active" or "inactive".
	Status   string
	Statuses []pagekit.Option
}

// statusFilters are the list's filters by status.
var statusFilters = []pagekit.Option{{Value: "", Label: "All applications"}, {Value: "active", Label: "Active only"}, {Value: "inactive", Label: "Inactive only"}}

// List shows every application, or only the active or inactive ones (?status=).
func (p *Pages) List(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	apps, err := p.AllApplications(r)
	if err != nil {
		p.Fail(w, r, s, "list applications", err)
		return
	}
	_, tenants, ok := p.Tenants(w, r, s)
	if !ok {
		return
	}
	d := listPage{CanCreate: s.May(pagekit.ManageApplications), Statuses: statusFilters}
	switch st := r.URL.Query().Get("status"); st {
	case "active", "inactive":
		d.Status = st
	}
	for _, o := range apps {
		if d.Status == "" || (d.Status == "active") == o.Active {
			d.Apps = append(d.Apps, pagekit.ViewApp(o, tenants))
		}
	}
	if r.URL.Query().Get("done") == "deleted" {
		d.Notice = "The application was deleted."
	}
	p.Render(w, r, s, http.StatusOK, "applications", "Applications", "applications", d)
}

type newPage struct {
	Name, TenantID, Redirects string
	Tenants                   []pagekit.Option
	Errors                    []string
}

func (p *Pages) newForm(w http.ResponseWriter, r *http.Request, s *pagekit.Session, status int, d newPage) {
	var ok bool
	if d.Tenants, _, ok = p.Tenants(w, r, s); !ok {
		return
	}
	p.Render(w, r, s, status, "application_new", "New application", "applications", d)
}

// New is the form of a new application.
func (p *Pages) New(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	p.newForm(w, r, s, http.StatusOK, newPage{})
}

// lines are the non-blank lines of a text area.
func lines(text string) []string {
	out := []string{}
	for _, line := range strings.Split(text, "\n") {
		if v := strings.TrimSpace(line); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// Create makes an application (the client secret is made by tenancy) and
// opens its page.
func (p *Pages) Create(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	f := r.PostForm
	d := newPage{Name: strings.TrimSpace(f.Get("name")), TenantID: f.Get("tenantId"), Redirects: f.Get("redirectURLs")}
	app := pagekit.InTenant(d.Name, d.TenantID)
	if urls := lines(d.Redirects); len(urls) > 0 {
		app["oauthConfiguration"] = kit.Object{"authorizedRedirectURLs": toAny(urls)}
	}
	created, err := p.Svc.Tenancy.CreateApplication(r.Context(), p.Actor(r, s), kit.TenantScope{}, "", kit.Object{"application": app})
	if err != nil {
		msgs, ok := p.Refusal(w, r, s, "create application", err)
		if !ok {
			return
		}
		d.Errors = msgs
		p.newForm(w, r, s, http.StatusBadRequest, d)
		return
	}
	http.Redirect(w, r, "/admin/applications/"+created.ID+"?done=created", http.StatusSeeOther)
}

func toAny(l []string) []any {
	out := make([]any, len(l))
	for i, v := range l {
		out[i] = v
	}
	return out
}

// oauthForm is the OAuth settings form, as stored or as entered.
type oauthForm struct {
	Redirects, LogoutURL, DeviceURL string
	ClientAuth, PKCE                string
	Grants                          []string
}

type grantOption struct {
	Name    string
	Checked bool
}

type appPage struct {
	App                  pagekit.AppView
	CanManage, CanDelete bool
	Secret               string // shown on request, or after a rotation
	Rotated              bool
	Notice               string
	Errors               []string
	// The forms, as entered when a change failed (enteredName,
	// enteredOAuth), else as stored.
	enteredName, enteredOAuth   bool
	Name                        string
	OAuth                       oauthForm
	GrantOptions                []grantOption
	ClientAuthOptions, PKCEOpt  []pagekit.Option
	RoleName, RoleDescription   string
	enteredTokens, enteredLogin bool
	Tokens                      tokensForm
	Login                       loginForm
	Keys                        []pagekit.Option // signing keys with a private key
	UsagePolicies               []pagekit.Option
	ExpirationPolicies          []pagekit.Option
}

func (p *Pages) show(w http.ResponseWriter, r *http.Request, s *pagekit.Session, status int, d appPage) {
	o, err := p.Svc.Tenancy.Application(r.Context(), kit.TenantScope{}, r.PathValue("id"))
	if !p.Loaded(w, r, s, "application", err) {
		return
	}
	_, tenants, ok := p.Tenants(w, r, s)
	if !ok {
		return
	}
	d.App = pagekit.ViewApp(o, tenants)
	mayTouch := !d.App.Builtin || s.May(pagekit.ManageAdmins)
	d.CanManage = s.May(pagekit.ManageApplications) && mayTouch
	d.CanDelete = s.May(pagekit.DeleteApplications) && !d.App.Builtin
	if !d.enteredName {
		d.Name = d.App.Name
	}
	if !d.enteredOAuth {
		d.OAuth = oauthForm{Redirects: strings.Join(d.App.RedirectURLs, "\n"), LogoutURL: d.App.LogoutURL, DeviceURL: d.App.DeviceURL,
			ClientAuth: d.App.ClientAuthentication, PKCE: d.App.PKCE, Grants: d.App.Grants}
	}
	for _, g := range tenancy.OAuthGrants {
		d.GrantOptions = append(d.GrantOptions, grantOption{g, slices.Contains(d.OAuth.Grants, g)})
	}
	d.ClientAuthOptions, d.PKCEOpt = clientAuthPolicies, pkcePolicies
	if !d.enteredTokens {
		d.Tokens = tokensFormOf(o)
	}
	if !d.enteredLogin {
		d.Login = loginFormOf(o)
	}
	if _, d.Keys, err = p.SigningKeyOptions(r); err != nil {
		p.Fail(w, r, s, "list signing keys", err)
		return
	}
	d.UsagePolicies, d.ExpirationPolicies = pagekit.UsagePolicies, pagekit.ExpirationPolicies
	p.Render(w, r, s, status, "application", "Application "+d.App.Name, "applications", d, "copy.js")
}

// Show is one application's page.
func (p *Pages) Show(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	notice := map[string]string{"created": "The application was created.", "details": "The application was saved.",
		"oauth": "The OAuth settings were saved.", "role": "The role was added.", "roleDeleted": "The role was deleted.",
		"tokens": "The token settings were saved.", "login": "The sign-in and registration settings were saved.",
		"deactivated": "The application was deactivated: its users cannot sign in to it until it is reactivated.",
		"reactivated": "The application was reactivated."}[r.URL.Query().Get("done")]
	p.show(w, r, s, http.StatusOK, appPage{Notice: notice})
}

// changed shows the application's page again after a change, or its errors
// with the forms as entered.
func (p *Pages) changed(w http.ResponseWriter, r *http.Request, s *pagekit.Session, done string, d appPage, err error) {
	if err == nil {
		http.Redirect(w, r, "/admin/applications/"+r.PathValue("id")+"?done="+done, http.StatusSeeOther)
		return
	}
	if errors.Is(err, model.ErrNotFound) {
		p.Missing(w, r, s, "application")
		return
	}
	msgs, ok := p.Refusal(w, r, s, "change application", err)
	if !ok {
		return
	}
	d.Errors = msgs
	p.show(w, r, s, http.StatusBadRequest, d)
}

// patch merges fields into the application, as PATCH /api/application does.
func (p *Pages) patch(r *http.Request, s *pagekit.Session, fields kit.Object) error {
	body, err := json.Marshal(kit.Object{"application": fields})
	if err != nil {
		return err
	}
	_, err = p.Svc.Tenancy.PatchApplication(r.Context(), p.Actor(r, s), kit.TenantScope{}, r.PathValue("id"), model.PatchMerge, body)
	return err
}

// mayChangeAdminApp refuses (403) changing the admin application's
// settings or seeing its secret without ManageAdmins: a redirect URL there
// would receive admins' authorization codes.
func (p *Pages) mayChangeAdminApp(w http.ResponseWriter, r *http.Request, s *pagekit.Session) bool {
	if r.PathValue("id") == model.AdminApplicationID && !s.May(pagekit.ManageAdmins) {
		p.Forbidden(w, r, s, "Only an admin with the admin role may change the admin application's settings or see its client secret.")
		return false
	}
	return true
}

// SaveDetails renames the application.
func (p *Pages) SaveDetails(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	if !p.mayChangeAdminApp(w, r, s) {
		return
	}
	name := strings.TrimSpace(r.PostForm.Get("name"))
	d := appPage{enteredName: true, Name: name}
	var err error
	if name == "" {
		// A merge patch would keep the old name: say so rather than ignore it.
		err = model.FieldError("application.name", "blank", "The name is required.")
	} else {
		err = p.patch(r, s, kit.Object{"name": name})
	}
	p.changed(w, r, s, "details", d, err)
}

// SaveOAuth saves the redirect URLs (one a line), the logout URL, the
// enabled grants, the device verification URL and the two policies.
func (p *Pages) SaveOAuth(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	if !p.mayChangeAdminApp(w, r, s) {
		return
	}
	f := r.PostForm
	form := oauthForm{Redirects: f.Get("redirectURLs"), LogoutURL: strings.TrimSpace(f.Get("logoutURL")), DeviceURL: strings.TrimSpace(f.Get("deviceVerificationURL")),
		ClientAuth: f.Get("clientAuthenticationPolicy"), PKCE: f.Get("proofKeyForCodeExchangePolicy"), Grants: f["enabledGrants"]}
	oauth := kit.Object{"authorizedRedirectURLs": toAny(lines(form.Redirects)), "logoutURL": form.LogoutURL}
	if f.Has("deviceVerificationURL") {
		oauth["deviceVerificationURL"] = form.DeviceURL
	}
	// Only a form that showed the grants changes them (the page always does).
	if f.Has("grantsShown") {
		oauth["enabledGrants"] = toAny(append([]string{}, form.Grants...))
	}
	if form.ClientAuth != "" {
		oauth["clientAuthenticationPolicy"] = form.ClientAuth
	}
	if form.PKCE != "" {
		oauth["proofKeyForCodeExchangePolicy"] = form.PKCE
	}
	err := p.patch(r, s, kit.Object{"oauthConfiguration": oauth})
	p.changed(w, r, s, "oauth", appPage{enteredOAuth: true, OAuth: form}, err)
}

// ShowSecret shows the client secret on request (a POST: never in a URL or history).
func (p *Pages) ShowSecret(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	if !p.mayChangeAdminApp(w, r, s) {
		return
	}
	cfg, err := p.Svc.Tenancy.ApplicationConfig(r.Context(), r.PathValue("id"))
	if !p.Loaded(w, r, s, "application", err) {
		return
	}
	// Who saw a secret is worth knowing: the reveal is audited (not the value).
	err = p.Svc.Store().InTx(r.Context(), func(tx *store.Tx) error {
		return p.Svc.Audit.Write(r.Context(), tx, p.Actor(r, s), audit.Change{
			Message: "Showed the client secret of application [" + cfg.Name + "] (" + cfg.ID + ")", TargetID: cfg.ID})
	})
	if err != nil {
		p.Fail(w, r, s, "audit secret reveal", err)
		return
	}
	p.show(w, r, s, http.StatusOK, appPage{Secret: cfg.OAuthConfiguration.ClientSecret.Reveal()})
}

// RotateSecret gives the application a new client secret and shows it.
func (p *Pages) RotateSecret(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	if !p.mayChangeAdminApp(w, r, s) {
		return
	}
	secret := secrets.Token(32)
	if err := p.patch(r, s, kit.Object{"oauthConfiguration": kit.Object{"clientSecret": secret}}); err != nil {
		p.changed(w, r, s, "", appPage{}, err)
		return
	}
	p.show(w, r, s, http.StatusOK, appPage{Secret: secret, Rotated: true})
}

// AddRole adds a role (the admin application's roles are fixed: tenancy
// refuses them).
func (p *Pages) AddRole(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	f := r.PostForm
	d := appPage{RoleName: strings.TrimSpace(f.Get("roleName")), RoleDescription: strings.TrimSpace(f.Get("roleDescription"))}
	role := kit.Object{"name": d.RoleName}
	if d.RoleDescription != "" {
		role["description"] = d.RoleDescription
	}
	if f.Get("isDefault") == "on" {
		role["isDefault"] = true
	}
	if f.Get("isSuperRole") == "on" {
		role["isSuperRole"] = true
	}
	_, err := p.Svc.Tenancy.CreateRole(r.Context(), p.Actor(r, s), kit.TenantScope{}, r.PathValue("id"), "", kit.Object{"role": role})
	p.changed(w, r, s, "role", d, err)
}

// DeleteRole removes a role, and it from every registration.
func (p *Pages) DeleteRole(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	err := p.Svc.Tenancy.DeleteRole(r.Context(), p.Actor(r, s), kit.TenantScope{}, r.PathValue("id"), r.PathValue("roleId"), "")
	p.changed(w, r, s, "roleDeleted", appPage{}, err)
}

// Delete deletes the application with its roles and registrations, only
// when the admin typed its name.
func (p *Pages) Delete(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	o, err := p.Svc.Tenancy.Application(r.Context(), kit.TenantScope{}, r.PathValue("id"))
	if err != nil {
		p.changed(w, r, s, "", appPage{}, err)
		return
	}
	if strings.TrimSpace(r.PostForm.Get("confirm")) != o.Name {
		p.show(w, r, s, http.StatusBadRequest, appPage{Errors: []string{"The application was not deleted: type " + o.Name + " exactly to confirm."}})
		return
	}
	if err := p.Svc.Tenancy.DeleteApplication(r.Context(), p.Actor(r, s), kit.TenantScope{}, o.ID); err != nil {
		p.changed(w, r, s, "", appPage{}, err)
		return
	}
	http.Redirect(w, r, "/admin/applications?done=deleted", http.StatusSeeOther)
}
