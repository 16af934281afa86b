// Package admin is the admin UI at /admin: server-rendered pages for
// operators, who sign in through Latch's own authorization-code + PKCE flow
// on the built-in admin application (never with an API key). The admin
// application's roles decide what each admin may see and do (roles.go);
// every action calls the same rules packages as the API and is audited with
// the admin as the actor.
package admin

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/latchid/latch/docs"
	"github.com/latchid/latch/internal/httpx"
	"github.com/latchid/latch/internal/kit"
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

// Admin is the admin UI surface.
type Admin struct {
	Deps
	pages map[string]*template.Template
}

// New builds the admin UI. The templates are embedded: one that does not
// parse is a build defect, so New panics and every test catches it.
func New(d Deps) *Admin {
	a := &Admin{Deps: d}
	var err error
	if a.pages, err = a.parsePages(); err != nil {
		panic(fmt.Sprintf("admin: templates: %v", err))
	}
	return a
}

// route is one entry of the admin UI's route table: a pattern, the action
// it takes (checked against the admin's roles before the handler runs), and
// the handler. Anonymous routes (sign-in) have no action.
type route struct {
	Pattern   string
	Action    Action
	Anonymous bool
	Handler   func(w http.ResponseWriter, r *http.Request, s *session)
}

// routes is the admin UI's whole surface.
func (a *Admin) routes() []route {
	return []route{
		{Pattern: "GET /admin/login", Anonymous: true, Handler: a.login},
		{Pattern: "GET /admin/callback", Anonymous: true, Handler: a.callback},
		{Pattern: "GET " + SignedOutPath, Anonymous: true, Handler: a.signedOut},
		{Pattern: "POST /admin/logout", Action: ViewDashboard, Handler: a.logout},
		{Pattern: "GET /admin", Action: ViewDashboard, Handler: a.dashboard},
		{Pattern: "GET /admin/{$}", Action: ViewDashboard, Handler: a.dashboard},
		{Pattern: "GET /admin/runbook", Action: ViewDashboard, Handler: a.runbook},
		{Pattern: "GET /admin/api-keys", Action: ViewAPIKeys, Handler: a.apiKeys},
		{Pattern: "GET /admin/api-keys/new", Action: ManageAPIKeys, Handler: a.newAPIKey},
		{Pattern: "POST /admin/api-keys", Action: ManageAPIKeys, Handler: a.createAPIKey},
		{Pattern: "GET /admin/api-keys/{id}", Action: ManageAPIKeys, Handler: a.editAPIKey},
		{Pattern: "POST /admin/api-keys/{id}", Action: ManageAPIKeys, Handler: a.updateAPIKey},
		{Pattern: "POST /admin/api-keys/{id}/delete", Action: ManageAPIKeys, Handler: a.deleteAPIKey},
		{Pattern: "GET /admin/users", Action: ViewUsers, Handler: a.users},
		{Pattern: "GET /admin/users/new", Action: ManageUsers, Handler: a.newUser},
		{Pattern: "POST /admin/users", Action: ManageUsers, Handler: a.createUser},
		{Pattern: "GET /admin/users/{id}", Action: ViewUsers, Handler: a.user},
		{Pattern: "GET /admin/users/{id}/edit", Action: ManageUsers, Handler: a.editUser},
		{Pattern: "POST /admin/users/{id}/edit", Action: ManageUsers, Handler: a.updateUser},
		{Pattern: "POST /admin/users/{id}/registrations/{appId}/roles", Action: ManageUsers, Handler: a.saveRoles},
		{Pattern: "POST /admin/users/{id}/registrations", Action: ManageUsers, Handler: a.addRegistration},
		{Pattern: "POST /admin/users/{id}/registrations/{appId}/delete", Action: ManageUsers, Handler: a.deleteRegistration},
		{Pattern: "POST /admin/users/{id}/two-factor/{methodId}/delete", Action: ManageUsers, Handler: a.removeTwoFactor},
		{Pattern: "POST /admin/users/{id}/deactivate", Action: ManageUsers, Handler: a.deactivateUser},
		{Pattern: "POST /admin/users/{id}/reactivate", Action: ManageUsers, Handler: a.reactivateUser},
		{Pattern: "POST /admin/users/{id}/require-password-change", Action: ManageUsers, Handler: a.requirePasswordChange},
		{Pattern: "POST /admin/users/{id}/end-sessions", Action: ManageUsers, Handler: a.endUserSessions},
		{Pattern: "POST /admin/users/{id}/delete", Action: DeleteUsers, Handler: a.deleteUser},
		{Pattern: "GET /admin/applications", Action: ViewApplications, Handler: a.applications},
		{Pattern: "GET /admin/applications/{id}", Action: ViewApplications, Handler: a.application},
		{Pattern: "POST /admin/applications/{id}/oauth", Action: ManageApplications, Handler: a.updateOAuth},
		{Pattern: "POST /admin/applications/{id}/secret", Action: ManageApplications, Handler: a.showSecret},
		{Pattern: "POST /admin/applications/{id}/rotate-secret", Action: ManageApplications, Handler: a.rotateSecret},
		{Pattern: "POST /admin/applications/{id}/roles", Action: ManageApplications, Handler: a.addRole},
		{Pattern: "POST /admin/applications/{id}/roles/{roleId}/delete", Action: ManageApplications, Handler: a.deleteRole},
		{Pattern: "GET /admin/ip-acls", Action: ViewIPACLs, Handler: a.ipACLs},
		{Pattern: "GET /admin/ip-acls/new", Action: ManageIPACLs, Handler: a.newIPACL},
		{Pattern: "POST /admin/ip-acls", Action: ManageIPACLs, Handler: a.saveIPACL},
		{Pattern: "GET /admin/ip-acls/{id}", Action: ViewIPACLs, Handler: a.ipACL},
		{Pattern: "POST /admin/ip-acls/{id}", Action: ManageIPACLs, Handler: a.saveIPACL},
		{Pattern: "POST /admin/ip-acls/{id}/delete", Action: DeleteIPACLs, Handler: a.deleteIPACL},
		{Pattern: "GET /admin/tenants", Action: ViewTenants, Handler: a.tenants},
		{Pattern: "GET /admin/tenants/new", Action: ManageTenants, Handler: a.newTenant},
		{Pattern: "POST /admin/tenants", Action: ManageTenants, Handler: a.saveTenant},
		{Pattern: "GET /admin/tenants/{id}", Action: ViewTenants, Handler: a.tenant},
		{Pattern: "POST /admin/tenants/{id}", Action: ManageTenants, Handler: a.saveTenant},
		{Pattern: "POST /admin/tenants/{id}/delete", Action: DeleteTenants, Handler: a.deleteTenant},
		{Pattern: "GET /admin/groups", Action: ViewGroups, Handler: a.groups},
		{Pattern: "GET /admin/groups/new", Action: ManageGroups, Handler: a.newGroup},
		{Pattern: "POST /admin/groups", Action: ManageGroups, Handler: a.createGroup},
		{Pattern: "GET /admin/groups/{id}", Action: ViewGroups, Handler: a.group},
		{Pattern: "POST /admin/groups/{id}", Action: ManageGroups, Handler: a.saveGroup},
		{Pattern: "POST /admin/groups/{id}/members", Action: ManageGroups, Handler: a.addMember},
		{Pattern: "POST /admin/groups/{id}/members/{userId}/delete", Action: ManageGroups, Handler: a.removeMember},
		{Pattern: "POST /admin/groups/{id}/delete", Action: DeleteGroups, Handler: a.deleteGroup},
		{Pattern: "GET /admin/entities", Action: ViewEntities, Handler: a.entitiesList},
		{Pattern: "POST /admin/entities", Action: ManageEntities, Handler: a.createEntity},
		{Pattern: "GET /admin/entities/{id}", Action: ViewEntities, Handler: a.entity},
		{Pattern: "POST /admin/entities/{id}/rotate-secret", Action: ManageEntities, Handler: a.rotateEntitySecret},
		{Pattern: "POST /admin/entities/{id}/delete", Action: ManageEntities, Handler: a.deleteEntity},
		{Pattern: "POST /admin/entity-types", Action: ManageEntities, Handler: a.createEntityType},
		{Pattern: "GET /admin/entity-types/{id}", Action: ViewEntities, Handler: a.entityType},
		{Pattern: "POST /admin/entity-types/{id}/permissions", Action: ManageEntities, Handler: a.addPermission},
		{Pattern: "POST /admin/entity-types/{id}/permissions/{permId}/delete", Action: ManageEntities, Handler: a.deletePermission},
		{Pattern: "POST /admin/entity-types/{id}/delete", Action: ManageEntities, Handler: a.deleteEntityType},
		{Pattern: "GET /admin/signing-keys", Action: ViewSigningKeys, Handler: a.signingKeys},
		{Pattern: "GET /admin/signing-keys/new", Action: ManageSigningKeys, Handler: a.newSigningKey},
		{Pattern: "POST /admin/signing-keys", Action: ManageSigningKeys, Handler: a.createSigningKey},
		{Pattern: "POST /admin/signing-keys/import", Action: ManageSigningKeys, Handler: a.createSigningKey},
		{Pattern: "GET /admin/signing-keys/{id}", Action: ViewSigningKeys, Handler: a.signingKey},
		{Pattern: "POST /admin/signing-keys/{id}", Action: ManageSigningKeys, Handler: a.renameSigningKey},
		{Pattern: "POST /admin/signing-keys/{id}/rotate", Action: ManageSigningKeys, Handler: a.rotateSigningKey},
		{Pattern: "POST /admin/signing-keys/{id}/delete", Action: ManageSigningKeys, Handler: a.deleteSigningKey},
		{Pattern: "GET /admin/audit-log", Action: ViewAuditLog, Handler: a.auditLog},
		{Pattern: "GET /admin/audit-log/export", Action: ViewAuditLog, Handler: a.exportAuditLog},
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
		a.message(w, r, nil, http.StatusNotFound, "Page not found", "There is nothing at this address.")
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
			a.fail(w, r, nil, "admin session", err)
			return
		}
		if s == nil {
			if r.Method != http.MethodGet {
				a.message(w, r, nil, http.StatusUnauthorized, "Sign in again",
					"Your admin session has ended, so nothing was changed. Sign in again and repeat the action.")
				return
			}
			a.startSignIn(w, r, r.URL.RequestURI(), false)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
			if err := r.ParseForm(); err != nil {
				a.message(w, r, s, http.StatusBadRequest, "The form could not be read", "The submitted form was malformed or too large. Go back and try again.")
				return
			}
			if !s.csrfOK(r.PostForm.Get(csrfField)) {
				a.message(w, r, s, http.StatusForbidden, "This form has expired",
					"The form was not sent from this admin page, or it is too old. Nothing was changed. Go back, reload the page and try again.")
				return
			}
		}
		if !Allowed(s.Roles, rt.Action) {
			a.message(w, r, s, http.StatusForbidden, "Not allowed",
				"Your admin roles do not allow this. Ask an administrator for the role you need.")
			return
		}
		rt.Handler(w, r, s)
	}
}

// runbook shows docs/runbook.md, as written.
func (a *Admin) runbook(w http.ResponseWriter, r *http.Request, s *session) {
	a.render(w, r, s, http.StatusOK, "runbook", "Break-glass runbook", "", docs.Runbook)
}

// actor is the admin as the audit log records it.
func (a *Admin) actor(r *http.Request, s *session) kit.Actor {
	return kit.Actor{Type: kit.ActorUser, ID: s.UserID, Name: s.Email, IP: a.clientIP(r), Method: r.Method, Path: r.URL.Path}
}

func (a *Admin) clientIP(r *http.Request) string {
	if a.ClientIP != nil {
		return a.ClientIP(r)
	}
	return r.RemoteAddr
}

func (a *Admin) now() time.Time { return a.Svc.Clock().Now() }

// view is what the admin layout renders.
type view struct {
	Title   string
	Active  string // the navigation entry of this page
	Nav     []navItem
	Email   string
	CSRF    string
	Scripts []string
	Data    any
}

func (a *Admin) parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"asset":   func(name string) (string, error) { return a.UI.AssetURL(name) },
		"instant": formatInstant,
		"ago":     func(ms int64) string { return ago(a.now(), ms) },
		"deref": func(p *int64) int64 {
			if p == nil {
				return 0
			}
			return *p
		},
	}
	return ui.ParsePages(templateFiles, funcs)
}

// render writes a page in full (a template failure is a clean 500) with the
// headers every page carries.
func (a *Admin) render(w http.ResponseWriter, r *http.Request, s *session, status int, page, title, active string, data any, scripts ...string) {
	v := view{Title: title, Active: active, Data: data, Scripts: scripts}
	if s != nil {
		v.Email, v.CSRF = s.Email, s.CSRF
		for _, n := range navigation {
			if Allowed(s.Roles, n.Action) {
				v.Nav = append(v.Nav, n)
			}
		}
	}
	var buf bytes.Buffer
	body := []byte("Internal Server Error\n")
	if t, ok := a.pages[page]; !ok {
		a.Log.ErrorContext(r.Context(), "admin: unknown page template", "page", page)
		status = http.StatusInternalServerError
	} else if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		a.Log.ErrorContext(r.Context(), "admin: render page", "page", page, "err", err)
		status = http.StatusInternalServerError
	} else {
		body = buf.Bytes()
	}
	ui.SetPageHeaders(w.Header(), ui.ContentSecurityPolicy)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// messageData is the message page's content; paragraphs are plain text.
type messageData struct {
	Heading    string
	Paragraphs []string
	Links      []link
}

type link struct{ Label, Href string }

// message renders the one message page (errors, refusals).
func (a *Admin) message(w http.ResponseWriter, r *http.Request, s *session, status int, heading string, paragraphs ...string) {
	a.render(w, r, s, status, "message", heading, "", messageData{Heading: heading, Paragraphs: paragraphs})
}

// fail logs an unexpected error (its detail goes to the log only) and shows
// a generic page; "busy" errors keep their status.
func (a *Admin) fail(w http.ResponseWriter, r *http.Request, s *session, what string, err error) {
	if status, after, ok := httpx.RetryLater(err); ok {
		w.Header().Set("Retry-After", strconv.Itoa(after))
		a.message(w, r, s, status, "Latch is busy", "Nothing was changed. Try again in a moment.")
		return
	}
	a.Log.ErrorContext(r.Context(), "admin: "+what, "method", r.Method, "path", r.URL.Path, "err", err)
	a.message(w, r, s, http.StatusInternalServerError, "Something went wrong",
		"Latch could not complete this request. The cause was written to the server's log. Try again in a moment.")
}

// formatInstant writes epoch milliseconds as a UTC time ("" for none).
func formatInstant(ms int64) string {
	if ms <= 0 {
		return ""
	}
	return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04 UTC")
}

// ago writes how long ago ms was, roughly ("never" for none).
func ago(now time.Time, ms int64) string {
	if ms <= 0 {
		return "never"
	}
	d := now.Sub(time.UnixMilli(ms))
	switch {
	case d < 0:
		return "in the future"
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	default:
		return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
	}
}
