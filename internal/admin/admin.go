// Package admin is the admin UI at /admin: server-rendered pages for
// operators, who sign in through Latch's own authorization-code + PKCE flow
// on the built-in admin application (never with an API key). The admin
// application's roles decide what each admin may see and do
// (pagekit/roles.go); every action calls the same rules packages as the API
// and is audited with the admin as the actor. The pages of some areas live
// in subpackages (apps, tenants) on the shared pagekit; this package holds
// the sign-in, the other areas and the one route table.
package admin

import (
	"embed"
	"log/slog"
	"net/http"

	"github.com/latchid/latch/docs"
	"github.com/latchid/latch/internal/admin/apps"
	"github.com/latchid/latch/internal/admin/pagekit"
	"github.com/latchid/latch/internal/admin/tenants"
	"github.com/latchid/latch/internal/services"
	"github.com/latchid/latch/internal/ui"
)

// Paths the OAuth wiring needs to know: the callback is a redirect URL of
// the admin application, the signed-out page its default logout URL.
const (
	HomePath      = "/admin"
	CallbackPath  = "/admin/callback"
	SignedOutPath = "/admin/signed-out"
)

//go:embed templates/*.html
var templateFiles embed.FS

// Deps is what the admin UI is built on.
type Deps struct {
	Svc *services.Set
	Log *slog.Logger
	// UI serves the shared static assets (styles, scripts).
	UI *ui.UI
	// Token is the OAuth provider's token endpoint (POST /oauth2/token),
	// called in-process to exchange the sign-in's authorization code.
	Token http.Handler
	// PublicURL is Latch's base URL (no trailing slash).
	PublicURL string
	// SecureCookies: cookies carry Secure (config.Config.SecureCookies).
	SecureCookies bool
	// ClientIP is a request's client address (trusted proxies applied).
	ClientIP func(*http.Request) string
}

// Admin is the admin UI surface: the sign-in and the pages of the areas
// this package holds, and the route table of every area.
type Admin struct {
	*pagekit.Kit
	Token         http.Handler
	PublicURL     string
	SecureCookies bool
	apps          *apps.Pages
	tenants       *tenants.Pages
}

// New builds the admin UI and its areas on one page kit.
func New(d Deps) *Admin {
	k := pagekit.New(d.Svc, d.Log, d.UI, d.ClientIP, templateFiles, apps.Templates, tenants.Templates)
	return &Admin{Kit: k, Token: d.Token, PublicURL: d.PublicURL, SecureCookies: d.SecureCookies,
		apps: &apps.Pages{Kit: k}, tenants: &tenants.Pages{Kit: k}}
}

// route is one entry of the admin UI's route table: a pattern, the action
// it takes (checked against the admin's roles before the handler runs), and
// the handler. Anonymous routes (sign-in) have no action.
type route struct {
	Pattern   string
	Action    pagekit.Action
	Anonymous bool
	Handler   pagekit.Handler
}

// routes is the admin UI's whole surface.
func (a *Admin) routes() []route {
	return []route{
		{Pattern: "GET /admin/login", Anonymous: true, Handler: a.login},
		{Pattern: "GET /admin/callback", Anonymous: true, Handler: a.callback},
		{Pattern: "GET " + SignedOutPath, Anonymous: true, Handler: a.signedOut},
		{Pattern: "POST /admin/logout", Action: pagekit.ViewDashboard, Handler: a.logout},
		{Pattern: "GET /admin", Action: pagekit.ViewDashboard, Handler: a.dashboard},
		{Pattern: "GET /admin/{$}", Action: pagekit.ViewDashboard, Handler: a.dashboard},
		{Pattern: "GET /admin/runbook", Action: pagekit.ViewDashboard, Handler: a.runbook},
		{Pattern: "GET /admin/api-keys", Action: pagekit.ViewAPIKeys, Handler: a.apiKeys},
		{Pattern: "GET /admin/api-keys/new", Action: pagekit.ManageAPIKeys, Handler: a.newAPIKey},
		{Pattern: "POST /admin/api-keys", Action: pagekit.ManageAPIKeys, Handler: a.createAPIKey},
		{Pattern: "GET /admin/api-keys/{id}", Action: pagekit.ManageAPIKeys, Handler: a.editAPIKey},
		{Pattern: "POST /admin/api-keys/{id}", Action: pagekit.ManageAPIKeys, Handler: a.updateAPIKey},
		{Pattern: "POST /admin/api-keys/{id}/delete", Action: pagekit.ManageAPIKeys, Handler: a.deleteAPIKey},
		{Pattern: "GET /admin/users", Action: pagekit.ViewUsers, Handler: a.users},
		{Pattern: "GET /admin/users/new", Action: pagekit.ManageUsers, Handler: a.newUser},
		{Pattern: "POST /admin/users", Action: pagekit.ManageUsers, Handler: a.createUser},
		{Pattern: "GET /admin/users/{id}", Action: pagekit.ViewUsers, Handler: a.user},
		{Pattern: "GET /admin/users/{id}/edit", Action: pagekit.ManageUsers, Handler: a.editUser},
		{Pattern: "POST /admin/users/{id}/edit", Action: pagekit.ManageUsers, Handler: a.updateUser},
		{Pattern: "POST /admin/users/{id}/registrations/{appId}/roles", Action: pagekit.ManageUsers, Handler: a.saveRoles},
		{Pattern: "POST /admin/users/{id}/registrations", Action: pagekit.ManageUsers, Handler: a.addRegistration},
		{Pattern: "POST /admin/users/{id}/registrations/{appId}/delete", Action: pagekit.ManageUsers, Handler: a.deleteRegistration},
		{Pattern: "POST /admin/users/{id}/two-factor/{methodId}/delete", Action: pagekit.ManageUsers, Handler: a.removeTwoFactor},
		{Pattern: "POST /admin/users/{id}/deactivate", Action: pagekit.ManageUsers, Handler: a.deactivateUser},
		{Pattern: "POST /admin/users/{id}/reactivate", Action: pagekit.ManageUsers, Handler: a.reactivateUser},
		{Pattern: "POST /admin/users/{id}/require-password-change", Action: pagekit.ManageUsers, Handler: a.requirePasswordChange},
		{Pattern: "POST /admin/users/{id}/end-sessions", Action: pagekit.ManageUsers, Handler: a.endUserSessions},
		{Pattern: "POST /admin/users/{id}/delete", Action: pagekit.DeleteUsers, Handler: a.deleteUser},
		{Pattern: "GET /admin/applications", Action: pagekit.ViewApplications, Handler: a.apps.List},
		{Pattern: "GET /admin/applications/new", Action: pagekit.ManageApplications, Handler: a.apps.New},
		{Pattern: "POST /admin/applications", Action: pagekit.ManageApplications, Handler: a.apps.Create},
		{Pattern: "GET /admin/applications/{id}", Action: pagekit.ViewApplications, Handler: a.apps.Show},
		{Pattern: "POST /admin/applications/{id}", Action: pagekit.ManageApplications, Handler: a.apps.SaveDetails},
		{Pattern: "POST /admin/applications/{id}/oauth", Action: pagekit.ManageApplications, Handler: a.apps.SaveOAuth},
		{Pattern: "POST /admin/applications/{id}/tokens", Action: pagekit.ManageApplications, Handler: a.apps.SaveTokens},
		{Pattern: "POST /admin/applications/{id}/login", Action: pagekit.ManageApplications, Handler: a.apps.SaveLogin},
		{Pattern: "POST /admin/applications/{id}/deactivate", Action: pagekit.ManageApplications, Handler: a.apps.Deactivate},
		{Pattern: "POST /admin/applications/{id}/reactivate", Action: pagekit.ManageApplications, Handler: a.apps.Reactivate},
		{Pattern: "POST /admin/applications/{id}/secret", Action: pagekit.ManageApplications, Handler: a.apps.ShowSecret},
		{Pattern: "POST /admin/applications/{id}/rotate-secret", Action: pagekit.ManageApplications, Handler: a.apps.RotateSecret},
		{Pattern: "POST /admin/applications/{id}/roles", Action: pagekit.ManageApplications, Handler: a.apps.AddRole},
		{Pattern: "POST /admin/applications/{id}/roles/{roleId}/delete", Action: pagekit.ManageApplications, Handler: a.apps.DeleteRole},
		{Pattern: "POST /admin/applications/{id}/delete", Action: pagekit.DeleteApplications, Handler: a.apps.Delete},
		{Pattern: "GET /admin/ip-acls", Action: pagekit.ViewIPACLs, Handler: a.ipACLs},
		{Pattern: "GET /admin/ip-acls/new", Action: pagekit.ManageIPACLs, Handler: a.newIPACL},
		{Pattern: "POST /admin/ip-acls", Action: pagekit.ManageIPACLs, Handler: a.saveIPACL},
		{Pattern: "GET /admin/ip-acls/{id}", Action: pagekit.ViewIPACLs, Handler: a.ipACL},
		{Pattern: "POST /admin/ip-acls/{id}", Action: pagekit.ManageIPACLs, Handler: a.saveIPACL},
		{Pattern: "POST /admin/ip-acls/{id}/delete", Action: pagekit.DeleteIPACLs, Handler: a.deleteIPACL},
		{Pattern: "GET /admin/tenants", Action: pagekit.ViewTenants, Handler: a.tenants.List},
		{Pattern: "GET /admin/tenants/new", Action: pagekit.ManageTenants, Handler: a.tenants.New},
		{Pattern: "POST /admin/tenants", Action: pagekit.ManageTenants, Handler: a.tenants.Save},
		{Pattern: "GET /admin/tenants/{id}", Action: pagekit.ViewTenants, Handler: a.tenants.Show},
		{Pattern: "POST /admin/tenants/{id}", Action: pagekit.ManageTenants, Handler: a.tenants.Save},
		{Pattern: "GET /admin/tenants/{id}/theme", Action: pagekit.ViewTenants, Handler: a.tenants.Theme},
		{Pattern: "POST /admin/tenants/{id}/theme", Action: pagekit.ManageTenants, Handler: a.tenants.SaveTheme},
		{Pattern: "GET /admin/tenants/{id}/password-hashing", Action: pagekit.ViewTenants, Handler: a.tenants.PasswordHashing},
		{Pattern: "POST /admin/tenants/{id}/password-hashing", Action: pagekit.ManageTenants, Handler: a.tenants.SavePasswordHashing},
		{Pattern: "GET /admin/tenants/{id}/events", Action: pagekit.ViewTenants, Handler: a.tenants.Events},
		{Pattern: "POST /admin/tenants/{id}/events", Action: pagekit.ManageTenants, Handler: a.tenants.SaveEvents},
		{Pattern: "GET /admin/tenants/{id}/identifiers", Action: pagekit.ViewTenants, Handler: a.tenants.Identifiers},
		{Pattern: "POST /admin/tenants/{id}/identifiers", Action: pagekit.ManageTenants, Handler: a.tenants.SaveIdentifiers},
		{Pattern: "GET /admin/tenants/{id}/tokens", Action: pagekit.ViewTenants, Handler: a.tenants.Tokens},
		{Pattern: "POST /admin/tenants/{id}/tokens", Action: pagekit.ManageTenants, Handler: a.tenants.SaveTokens},
		{Pattern: "POST /admin/tenants/{id}/delete", Action: pagekit.DeleteTenants, Handler: a.tenants.Delete},
		{Pattern: "GET /admin/groups", Action: pagekit.ViewGroups, Handler: a.groups},
		{Pattern: "GET /admin/groups/new", Action: pagekit.ManageGroups, Handler: a.newGroup},
		{Pattern: "POST /admin/groups", Action: pagekit.ManageGroups, Handler: a.createGroup},
		{Pattern: "GET /admin/groups/{id}", Action: pagekit.ViewGroups, Handler: a.group},
		{Pattern: "POST /admin/groups/{id}", Action: pagekit.ManageGroups, Handler: a.saveGroup},
		{Pattern: "POST /admin/groups/{id}/members", Action: pagekit.ManageGroups, Handler: a.addMember},
		{Pattern: "POST /admin/groups/{id}/members/{userId}/delete", Action: pagekit.ManageGroups, Handler: a.removeMember},
		{Pattern: "POST /admin/groups/{id}/delete", Action: pagekit.DeleteGroups, Handler: a.deleteGroup},
		{Pattern: "GET /admin/entities", Action: pagekit.ViewEntities, Handler: a.entitiesList},
		{Pattern: "POST /admin/entities", Action: pagekit.ManageEntities, Handler: a.createEntity},
		{Pattern: "GET /admin/entities/{id}", Action: pagekit.ViewEntities, Handler: a.entity},
		{Pattern: "POST /admin/entities/{id}/data", Action: pagekit.ManageEntities, Handler: a.saveEntityData},
		{Pattern: "POST /admin/entities/{id}/rotate-secret", Action: pagekit.ManageEntities, Handler: a.rotateEntitySecret},
		{Pattern: "POST /admin/entities/{id}/grants", Action: pagekit.ManageEntities, Handler: a.grantEntity},
		{Pattern: "POST /admin/entities/{id}/grants/delete", Action: pagekit.ManageEntities, Handler: a.revokeGrant},
		{Pattern: "POST /admin/entities/{id}/delete", Action: pagekit.ManageEntities, Handler: a.deleteEntity},
		{Pattern: "POST /admin/entity-types", Action: pagekit.ManageEntities, Handler: a.createEntityType},
		{Pattern: "GET /admin/entity-types/{id}", Action: pagekit.ViewEntities, Handler: a.entityType},
		{Pattern: "POST /admin/entity-types/{id}/permissions", Action: pagekit.ManageEntities, Handler: a.addPermission},
		{Pattern: "POST /admin/entity-types/{id}/permissions/{permId}/delete", Action: pagekit.ManageEntities, Handler: a.deletePermission},
		{Pattern: "POST /admin/entity-types/{id}/delete", Action: pagekit.ManageEntities, Handler: a.deleteEntityType},
		{Pattern: "GET /admin/signing-keys", Action: pagekit.ViewSigningKeys, Handler: a.signingKeys},
		{Pattern: "GET /admin/signing-keys/new", Action: pagekit.ManageSigningKeys, Handler: a.newSigningKey},
		{Pattern: "POST /admin/signing-keys", Action: pagekit.ManageSigningKeys, Handler: a.createSigningKey},
		{Pattern: "POST /admin/signing-keys/import", Action: pagekit.ManageSigningKeys, Handler: a.createSigningKey},
		{Pattern: "GET /admin/signing-keys/{id}", Action: pagekit.ViewSigningKeys, Handler: a.signingKey},
		{Pattern: "POST /admin/signing-keys/{id}", Action: pagekit.ManageSigningKeys, Handler: a.renameSigningKey},
		{Pattern: "POST /admin/signing-keys/{id}/rotate", Action: pagekit.ManageSigningKeys, Handler: a.rotateSigningKey},
		{Pattern: "POST /admin/signing-keys/{id}/delete", Action: pagekit.ManageSigningKeys, Handler: a.deleteSigningKey},
		{Pattern: "GET /admin/audit-log", Action: pagekit.ViewAuditLog, Handler: a.auditLog},
		{Pattern: "GET /admin/audit-log/export", Action: pagekit.ViewAuditLog, Handler: a.exportAuditLog},
	}
}

// Mount registers the routes on mux, each behind the session and role check
// (and the CSRF check for POSTs); the rest of /admin/ is a 404 page.
func (a *Admin) Mount(mux *http.ServeMux) {
	for _, rt := range a.routes() {
		if !rt.Anonymous && rt.Action == "" {
			panic("admin: route without an action: " + rt.Pattern)
		}
		mux.HandleFunc(rt.Pattern, a.guard(rt))
	}
	mux.HandleFunc("/admin/", func(w http.ResponseWriter, r *http.Request) {
		a.Message(w, r, nil, http.StatusNotFound, "Page not found", "There is nothing at this address.")
	})
}

// guard runs a route: anonymous routes directly; the others only with a
// session whose admin's roles allow the route's action, and POSTs only with
// the session's CSRF token.
func (a *Admin) guard(rt route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if rt.Anonymous {
			rt.Handler(w, r, nil)
			return
		}
		s, err := a.currentSession(w, r)
		if err != nil {
			a.Fail(w, r, nil, "admin session", err)
			return
		}
		if s == nil {
			if r.Method != http.MethodGet {
				a.Message(w, r, nil, http.StatusUnauthorized, "Sign in again",
					"Your admin session has ended, so nothing was changed. Sign in again and repeat the action.")
				return
			}
			a.startSignIn(w, r, r.URL.RequestURI(), false)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
			if err := r.ParseForm(); err != nil {
				a.Message(w, r, s, http.StatusBadRequest, "The form could not be read", "The submitted form was malformed or too large. Go back and try again.")
				return
			}
			if !s.CSRFOK(r.PostForm.Get(pagekit.CSRFField)) {
				a.Message(w, r, s, http.StatusForbidden, "This form has expired",
					"The form was not sent from this admin page, or it is too old. Nothing was changed. Go back, reload the page and try again.")
				return
			}
		}
		if !pagekit.Allowed(s.Roles, rt.Action) {
			a.Message(w, r, s, http.StatusForbidden, "Not allowed",
				"Your admin roles do not allow this. Ask an administrator for the role you need.")
			return
		}
		rt.Handler(w, r, s)
	}
}

// runbook shows docs/runbook.md, as written.
func (a *Admin) runbook(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	a.Render(w, r, s, http.StatusOK, "runbook", "Break-glass runbook", "", docs.Runbook)
}
