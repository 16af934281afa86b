package admin_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/testutil"
)

type userOut struct {
	User struct {
		ID, Email, FirstName, LastName string
		PasswordChangeRequired         bool
		TwoFactor                      struct {
			Methods []struct{ ID, Method string }
		}
		Registrations []struct {
			ApplicationID string
			Roles         []string
		}
	}
}

func (e *env) user(id string) userOut {
	e.t.Helper()
	var u userOut
	e.api("GET", "/api/user/"+id, nil, 200).JSON(e.t, &u)
	return u
}

// auditedBy reports whether an audit entry by actor contains text.
func (e *env) auditedBy(actor, text string) bool {
	e.t.Helper()
	var logs struct {
		AuditLogs []struct{ Message, InsertUser string } `json:"auditLogs"`
	}
	e.api("GET", "/api/system/audit-log/search?numberOfResults=100&user="+url.QueryEscape(actor), nil, 200).JSON(e.t, &logs)
	for _, l := range logs.AuditLogs {
		if l.InsertUser == actor && strings.Contains(l.Message, text) {
			return true
		}
	}
	return false
}

func TestUserEditing(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		// An application with roles, and a user registered to it with an
		// email two-factor method.
		var app struct{ Application struct{ ID string } }
		e.api("POST", "/api/application", map[string]any{"application": map[string]any{"name": "Shop",
			"loginConfiguration": map[string]any{"generateRefreshTokens": true},
			"roles":              []map[string]any{{"name": "buyer"}, {"name": "seller"}}}}, 200).JSON(t, &app)
		var created userOut
		e.api("POST", "/api/user/registration", map[string]any{
			"user": map[string]any{"email": "sam@example.com", "password": testPassword,
				"twoFactor": map[string]any{"methods": []map[string]any{{"method": "email", "email": "sam@example.com"}}}},
			"registration": map[string]any{"applicationId": app.Application.ID, "roles": []string{"buyer"}},
		}, 200).JSON(t, &created)
		id := created.User.ID
		method := e.user(id).User.TwoFactor.Methods
		if len(method) != 1 {
			t.Fatalf("two-factor methods: %+v", method)
		}

		support := e.admin("support@example.com", "user_manager")
		br := e.browser()
		home := br.signIn("support@example.com", testPassword)
		csrf := home.csrf(t)

		// The profile.
		form := br.get("/admin/users/" + id + "/edit")
		if form.status != 200 || !strings.Contains(form.body, `value="sam@example.com"`) {
			t.Fatalf("edit form: %d %s", form.status, form.body)
		}
		if p := br.submit(form, "/admin/users/"+id+"/edit", "email", "not an email"); p.status != 400 || !strings.Contains(p.body, "Nothing was saved") {
			t.Fatalf("bad email: %d", p.status)
		}
		if p := br.submit(form, "/admin/users/"+id+"/edit", "email", "sam@example.com", "firstName", "Samuel", "lastName", "Stone"); p.status != 200 || !strings.Contains(p.body, "The user was saved") {
			t.Fatalf("save: %d %s", p.status, p.body)
		}
		if u := e.user(id).User; u.FirstName != "Samuel" || u.LastName != "Stone" || u.Email != "sam@example.com" {
			t.Fatalf("stored: %+v", u)
		}

		// Roles: only the application's own.
		rolesPath := "/admin/users/" + id + "/registrations/" + app.Application.ID + "/roles"
		if p := br.post(rolesPath, url.Values{"csrf_token": {csrf}, "role": {"buyer", "admin"}}); p.status != 400 {
			t.Fatalf("a role the application lacks: %d", p.status)
		}
		if p := br.post(rolesPath, url.Values{"csrf_token": {csrf}, "role": {"seller"}}); p.status != 200 || !strings.Contains(p.body, "The roles were saved") {
			t.Fatalf("roles: %d %s", p.status, p.body)
		}
		if regs := e.user(id).User.Registrations; len(regs) != 1 || strings.Join(regs[0].Roles, ",") != "seller" {
			t.Fatalf("stored roles: %+v", regs)
		}

		// A user_manager may neither make anyone an admin nor change an
		// administrator's profile (whose email would lead to a password reset).
		page := br.get("/admin/users/" + id)
		// The two-factor methods ride in the user's raw bag; the page lists them.
		if !strings.Contains(page.body, "email (sam@example.com)") || !strings.Contains(page.body, "/two-factor/"+method[0].ID+"/delete") {
			t.Errorf("the user page does not list the email two-factor method %s", method[0].ID)
		}
		if strings.Contains(page.body, "registrations/"+adminAppID) {
			t.Error("the user page offers admin roles to a user_manager")
		}
		if p := br.post("/admin/users/"+support+"/registrations/"+adminAppID+"/roles", url.Values{"csrf_token": {csrf}, "role": {"admin"}}); p.status != 403 {
			t.Fatalf("a user_manager raised their own roles: %d", p.status)
		}
		var first struct{ User struct{ ID string } }
		e.api("GET", "/api/user?email=admin%40example.com", nil, 200).JSON(t, &first)
		if p := br.post("/admin/users/"+first.User.ID+"/edit", url.Values{"csrf_token": {csrf}, "email": {"mine@example.com"}}); p.status != 403 {
			t.Fatalf("a user_manager changed an administrator's email: %d", p.status)
		}
		// Nor force an administrator to a new password or sign them out.
		for _, action := range []string{"require-password-change", "end-sessions"} {
			if p := br.post("/admin/users/"+first.User.ID+"/"+action, url.Values{"csrf_token": {csrf}}); p.status != 403 {
				t.Fatalf("a user_manager could %s an administrator: %d", action, p.status)
			}
		}
		if e.user(first.User.ID).User.PasswordChangeRequired {
			t.Fatal("the administrator must change their password now")
		}
		if regs := e.user(support).User.Registrations; strings.Join(regs[0].Roles, ",") != "user_manager" {
			t.Fatalf("roles changed: %+v", regs)
		}

		// Two-factor: removed without a code.
		if p := br.post("/admin/users/"+id+"/two-factor/NOPE/delete", url.Values{"csrf_token": {csrf}}); p.status != 400 {
			t.Fatalf("an unknown method: %d", p.status)
		}
		if p := br.post("/admin/users/"+id+"/two-factor/"+method[0].ID+"/delete", url.Values{"csrf_token": {csrf}}); p.status != 200 || !strings.Contains(p.body, "two-factor method was removed") {
			t.Fatalf("remove: %d %s", p.status, p.body)
		}
		if m := e.user(id).User.TwoFactor.Methods; len(m) != 0 {
			t.Fatalf("methods left: %+v", m)
		}
		for _, want := range []string{"Removed two-factor method " + method[0].ID, "sam@example.com"} {
			if !e.auditedBy("support@example.com", want) {
				t.Errorf("no audit entry by the admin containing %q", want)
			}
		}

		// Sessions: a login with a refresh token shows, and ends.
		if p := br.get("/admin/users/" + id); !strings.Contains(p.body, "No sessions") {
			t.Fatalf("sessions before any login: %s", p.body)
		}
		e.api("POST", "/api/login", map[string]any{"loginId": "sam@example.com", "password": testPassword, "applicationId": app.Application.ID}, 200)
		if p := br.get("/admin/users/" + id); !strings.Contains(p.body, "<li>Shop, started") {
			t.Fatalf("the session is not listed: %s", p.body)
		}
		br.post("/admin/users/"+id+"/end-sessions", url.Values{"csrf_token": {csrf}})
		if p := br.get("/admin/users/" + id); !strings.Contains(p.body, "No sessions") {
			t.Fatalf("sessions after ending them: %s", p.body)
		}

		// The admin role changes admin roles, with a recent password only.
		ab := e.browser()
		ahome := ab.signIn("admin@example.com", testPassword)
		acsrf := ahome.csrf(t)
		adminRoles := "/admin/users/" + support + "/registrations/" + adminAppID + "/roles"
		if p := ab.get("/admin/users/" + support); !strings.Contains(p.body, adminRoles) {
			t.Fatal("the admin is not offered the admin roles form")
		}
		e.clock.Advance(6 * time.Minute)
		if p := ab.post(adminRoles, url.Values{"csrf_token": {acsrf}, "role": {"user_manager", "audit_log_viewer"}}); p.status != 403 || !strings.Contains(p.body, "Confirm it is you") {
			t.Fatalf("without a recent password: %d", p.status)
		}
		if regs := e.user(support).User.Registrations; strings.Join(regs[0].Roles, ",") != "user_manager" {
			t.Fatalf("roles changed without re-authentication: %+v", regs)
		}
		again := ab.get("/admin/login?reauth=1&next=" + url.QueryEscape("/admin/users/"+support))
		again = ab.submit(again, "/oauth2/authorize", "loginId", "admin@example.com", "password", testPassword)
		if again.url.Path != "/admin/users/"+support {
			t.Fatalf("re-authentication: %d at %s", again.status, again.url)
		}
		if p := ab.post(adminRoles, url.Values{"csrf_token": {again.csrf(t)}, "role": {"user_manager", "audit_log_viewer"}}); p.status != 200 {
			t.Fatalf("admin roles: %d %s", p.status, p.body)
		}
		if regs := e.user(support).User.Registrations; strings.Join(regs[0].Roles, ",") != "audit_log_viewer,user_manager" {
			t.Fatalf("admin roles stored: %+v", regs)
		}
		if !e.auditedBy("admin@example.com", "Updated registration") || !e.auditedBy("admin@example.com", support) {
			t.Error("the role change is not audited with the admin as actor")
		}
	})
}

// An admin does not remove their own admin role, deactivate or delete
// themselves: another admin must, so one always remains.
func TestAdminCannotLockThemselvesOut(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		var me struct{ User struct{ ID, Email string } }
		e.api("GET", "/api/user?email=admin%40example.com", nil, 200).JSON(t, &me)
		br := e.browser()
		csrf := br.signIn("admin@example.com", testPassword).csrf(t)
		base := "/admin/users/" + me.User.ID
		for _, c := range []struct {
			path string
			form url.Values
		}{
			{base + "/registrations/" + adminAppID + "/roles", url.Values{"role": {"user_manager"}}},
			{base + "/deactivate", url.Values{}},
			{base + "/delete", url.Values{"confirm": {"admin@example.com"}}},
		} {
			c.form.Set("csrf_token", csrf)
			if p := br.post(c.path, c.form); p.status != 400 || !strings.Contains(p.body, "nother admin can") {
				t.Errorf("%s: want 400 with the reason, got %d", c.path, p.status)
			}
		}
		u := e.user(me.User.ID).User
		if len(u.Registrations) != 1 || strings.Join(u.Registrations[0].Roles, ",") != "admin" {
			t.Fatalf("the admin's roles changed: %+v", u.Registrations)
		}
		var active struct{ User struct{ Active bool } }
		e.api("GET", "/api/user/"+me.User.ID, nil, 200).JSON(t, &active)
		if !active.User.Active {
			t.Fatal("the admin deactivated themselves")
		}
		// Another admin may.
		e.admin("second@example.com", "admin")
		sb := e.browser()
		scsrf := sb.signIn("second@example.com", testPassword).csrf(t)
		if p := sb.post(base+"/deactivate", url.Values{"csrf_token": {scsrf}}); p.status != 200 {
			t.Fatalf("another admin deactivates: %d %s", p.status, p.body)
		}
	})
}

// Registrations: added and deleted by a user_manager, except to or from the
// admin application, which needs the admin role and a recent password.
func TestUserRegistrations(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		var app struct{ Application struct{ ID string } }
		e.api("POST", "/api/application", map[string]any{"application": map[string]any{"name": "Shop"}}, 200).JSON(t, &app)
		var u userOut
		e.api("POST", "/api/user", map[string]any{"user": map[string]any{"email": "reg@example.com", "password": testPassword}}, 200).JSON(t, &u)
		id := u.User.ID
		e.admin("um@example.com", "user_manager")
		br := e.browser()
		home := br.signIn("um@example.com", testPassword)
		csrf := home.csrf(t)
		page := br.get("/admin/users/" + id)
		if !strings.Contains(page.body, `<option value="`+app.Application.ID+`">Shop</option>`) || strings.Contains(page.body, `<option value="`+adminAppID+`"`) {
			t.Fatalf("the register form (Shop offered, the admin application not): %s", page.body)
		}
		if p := br.post("/admin/users/"+id+"/registrations", url.Values{"csrf_token": {csrf}, "applicationId": {app.Application.ID}}); p.status != 200 || !strings.Contains(p.body, "registered to the application") {
			t.Fatalf("register: %d %s", p.status, p.body)
		}
		if regs := e.user(id).User.Registrations; len(regs) != 1 || regs[0].ApplicationID != app.Application.ID {
			t.Fatalf("registrations: %+v", regs)
		}
		if p := br.post("/admin/users/"+id+"/registrations", url.Values{"csrf_token": {csrf}, "applicationId": {adminAppID}}); p.status != 403 {
			t.Fatalf("a user_manager registered a user to the admin application: %d", p.status)
		}
		if p := br.post("/admin/users/"+id+"/registrations/"+app.Application.ID+"/delete", url.Values{"csrf_token": {csrf}}); p.status != 200 || !strings.Contains(p.body, "registration was deleted") {
			t.Fatalf("delete registration: %d", p.status)
		}
		if regs := e.user(id).User.Registrations; len(regs) != 0 {
			t.Fatalf("registrations left: %+v", regs)
		}
		if !e.auditedBy("um@example.com", "Created registration") || !e.auditedBy("um@example.com", "Deleted registration") {
			t.Error("the registration changes are not audited with the admin as actor")
		}
		// The admin registers a user to the admin application with a recent password only.
		ab := e.browser()
		acsrf := ab.signIn("admin@example.com", testPassword).csrf(t)
		e.clock.Advance(6 * time.Minute)
		if p := ab.post("/admin/users/"+id+"/registrations", url.Values{"csrf_token": {acsrf}, "applicationId": {adminAppID}}); p.status != 403 || !strings.Contains(p.body, "Confirm it is you") {
			t.Fatalf("without a recent password: %d", p.status)
		}
		if regs := e.user(id).User.Registrations; len(regs) != 0 {
			t.Fatalf("registered without re-authentication: %+v", regs)
		}
	})
}
