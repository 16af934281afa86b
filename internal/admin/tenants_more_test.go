package admin_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

// startTenantPages starts a server with a tenant_manager, a tenant_deleter
// and a tenant Acme holding data no page shows; raw reads the tenant as the
// API returns it.
func startTenantPages(t *testing.T, b testutil.Backend) (e *env, id string, raw func() string) {
	t.Helper()
	e = start(t, b)
	e.admin("tenants@example.com", "tenant_manager")
	e.admin("deleter@example.com", "tenant_deleter")
	var created struct{ Tenant struct{ ID string } }
	e.api("POST", "/api/tenant", map[string]any{"tenant": map[string]any{"name": "Acme", "data": map[string]any{"keep": "me"}}}, 200).JSON(t, &created)
	id = created.Tenant.ID
	return e, id, func() string { return string(e.api("GET", "/api/tenant/"+id, nil, 200).Body) }
}

// readOnlyForDeleter: a tenant_deleter sees each page without a save
// button, and a POST to it is refused (403) and changes nothing.
func (e *env) readOnlyForDeleter(raw func() string, paths ...string) {
	e.t.Helper()
	db := e.browser()
	dcsrf := db.signIn("deleter@example.com", testPassword).csrf(e.t)
	for _, path := range paths {
		if p := db.get(path); p.status != 200 || strings.Contains(p.body, `class="button" type="submit">Save`) {
			e.t.Errorf("%s for a tenant_deleter: %d, want read-only", path, p.status)
		}
		before := raw()
		if p := db.post(path, url.Values{"csrf_token": {dcsrf}}); p.status != 403 {
			e.t.Errorf("POST %s by a tenant_deleter: %d", path, p.status)
		}
		if raw() != before {
			e.t.Errorf("POST %s by a tenant_deleter changed the tenant", path)
		}
	}
}

// TestTenantThemeHashingAndEvents: a tenant_manager edits a tenant's theme
// of the hosted pages, its password hashing (within the operator's bounds)
// and its webhook event settings; bad input is refused with the reason, as
// entered, and writes nothing; each save is audited with the admin as the
// actor. A tenant_deleter sees the pages without forms and is refused.
func TestTenantThemeHashingAndEvents(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e, id, raw := startTenantPages(t, b)
		type stored struct {
			Tenant struct {
				Data       map[string]any
				LoginTheme *struct {
					ProductName, PrimaryColor, CustomCSS string
					LogoURL                              string `json:"logoURL"`
					Messages                             map[string]string
				} `json:"loginTheme"`
				PasswordEncryptionConfiguration struct {
					EncryptionScheme              string
					EncryptionSchemeFactor        int
					ModifyEncryptionSchemeOnLogin bool
				} `json:"passwordEncryptionConfiguration"`
				EventConfiguration struct {
					Events map[string]struct {
						Enabled         *bool
						TransactionType string
					}
				} `json:"eventConfiguration"`
			}
		}
		load := func() stored {
			var out stored
			if err := json.Unmarshal([]byte(raw()), &out); err != nil {
				t.Fatal(err)
			}
			return out
		}
		br := e.browser()
		home := br.signIn("tenants@example.com", testPassword)
		csrf := home.csrf(t)
		tp := br.get("/admin/tenants/" + id)
		for _, link := range []string{"/theme", "/password-hashing", "/events"} {
			if !strings.Contains(tp.body, `href="/admin/tenants/`+id+link+`"`) {
				t.Errorf("the tenant page does not link to %s", link)
			}
		}
		refused := func(name, path string, form url.Values, says string) {
			t.Helper()
			before := raw()
			form.Set("csrf_token", csrf)
			p := br.post(path, form)
			if p.status != 400 || !strings.Contains(p.body, "Nothing was changed") || !strings.Contains(p.body, says) {
				t.Errorf("%s: %d, want 400 saying %q", name, p.status, says)
			}
			if after := raw(); after != before {
				t.Errorf("%s: a refused change was written", name)
			}
		}

		// Theme.
		theme := "/admin/tenants/" + id + "/theme"
		page := br.get(theme)
		if page.status != 200 || !strings.Contains(page.body, "Theme of Acme") {
			t.Fatalf("theme page: %d", page.status)
		}
		refused("an http logo", theme, url.Values{"logoURL": {"http://acme.test/logo.png"}}, "must be an absolute https URL")
		refused("a colour name", theme, url.Values{"primaryColor": {"blue"}}, "must be a hex colour")
		if p := br.post(theme, url.Values{"csrf_token": {csrf}, "primaryColor": {"blue"}, "productName": {"Entered"}}); !strings.Contains(p.body, `value="Entered"`) {
			t.Error("a refused theme lost what was entered")
		}
		p := br.submit(page, theme, "productName", "Acme ID", "logoURL", "https://acme.test/logo.png", "primaryColor", "#aa3300",
			"customCSS", "body { letter-spacing: 0.01em; }", "message.signInTitle", "Welcome to Acme")
		if p.status != 200 || !strings.Contains(p.body, "The tenant was saved") || !strings.Contains(p.body, `value="Welcome to Acme"`) {
			t.Fatalf("save theme: %d", p.status)
		}
		lt := load().Tenant.LoginTheme
		if lt == nil || lt.ProductName != "Acme ID" || lt.LogoURL != "https://acme.test/logo.png" || lt.PrimaryColor != "#aa3300" ||
			lt.CustomCSS != "body { letter-spacing: 0.01em; }" || lt.Messages["signInTitle"] != "Welcome to Acme" || len(lt.Messages) != 1 {
			t.Fatalf("stored theme: %+v", lt)
		}
		// The hosted sign-in page of an application in the tenant shows it.
		const appID = "b0b0b0b0-0000-4000-8000-000000000004"
		e.api("POST", "/api/application/"+appID, map[string]any{"application": map[string]any{"name": "Acme app", "tenantId": id,
			"oauthConfiguration": map[string]any{"authorizedRedirectURLs": []string{"https://acme.test/cb"}}}}, 200)
		hosted := e.browser().get("/oauth2/authorize?response_type=code&client_id=" + appID + "&redirect_uri=" + url.QueryEscape("https://acme.test/cb"))
		if hosted.status != 200 || !strings.Contains(hosted.body, "Welcome to Acme") || !strings.Contains(hosted.body, "Acme ID") {
			t.Fatalf("the hosted sign-in page does not show the theme: %d", hosted.status)
		}
		// A blank field is removed; a wholly blank theme is removed.
		br.submit(page, theme, "productName", "Acme ID")
		if lt := load().Tenant.LoginTheme; lt == nil || lt.ProductName != "Acme ID" || lt.LogoURL != "" || len(lt.Messages) != 0 {
			t.Fatalf("theme after blanking fields: %+v", lt)
		}
		br.submit(page, theme)
		if lt := load().Tenant.LoginTheme; lt != nil {
			t.Fatalf("a blank theme was kept: %+v", lt)
		}

		// Password hashing, within the operator's bounds.
		hashing := "/admin/tenants/" + id + "/password-hashing"
		page = br.get(hashing)
		if page.status != 200 || !strings.Contains(page.body, "salted-pbkdf2-hmac-sha256") || !strings.Contains(page.body, "The factors this server allows") {
			t.Fatalf("hashing page: %d", page.status)
		}
		refused("a factor past the bound", hashing, url.Values{"encryptionScheme": {"bcrypt"}, "encryptionSchemeFactor": {"20"}}, "must be between")
		refused("a factor that is not a number", hashing, url.Values{"encryptionScheme": {"bcrypt"}, "encryptionSchemeFactor": {"high"}}, "factor must be a whole number")
		refused("an unknown scheme", hashing, url.Values{"encryptionScheme": {"rot13"}, "encryptionSchemeFactor": {"1"}}, "encryptionScheme")
		refused("a zero factor", hashing, url.Values{"encryptionScheme": {"bcrypt"}, "encryptionSchemeFactor": {"0"}}, "encryptionSchemeFactor")
		if p := br.submit(page, hashing, "encryptionScheme", "bcrypt", "encryptionSchemeFactor", "12", "modifyEncryptionSchemeOnLogin", "on"); p.status != 200 {
			t.Fatalf("save hashing: %d", p.status)
		}
		if pe := load().Tenant.PasswordEncryptionConfiguration; pe.EncryptionScheme != "bcrypt" || pe.EncryptionSchemeFactor != 12 || !pe.ModifyEncryptionSchemeOnLogin {
			t.Fatalf("stored hashing: %+v", pe)
		}
		// New passwords of the tenant are hashed with it.
		var user struct{ User struct{ ID string } }
		e.api("POST", "/api/user", map[string]any{"user": map[string]any{"email": "jo@acme.test", "password": "a long enough password", "tenantId": id}}, 200).JSON(t, &user)
		var u struct {
			User struct{ EncryptionScheme string }
		}
		e.api("GET", "/api/user/"+user.User.ID, nil, 200).JSON(t, &u)
		if u.User.EncryptionScheme != "bcrypt" {
			t.Errorf("a new user's password scheme: %q", u.User.EncryptionScheme)
		}

		// Webhook events.
		events := "/admin/tenants/" + id + "/events"
		page = br.get(events)
		if page.status != 200 || !strings.Contains(page.body, `name="transactionType.user.create"`) || strings.Contains(page.body, `name="transactionType.user.create.complete"`) {
			t.Fatalf("events page (a transaction type only for transactional events): %d", page.status)
		}
		act, form := page.form(t, events)
		for _, c := range []struct{ k, v, says string }{
			{"transactionType.user.delete", "Most", "transactionType"},
			{"transactionType.user.teleport", "Any", "is not one of the event types"},
		} {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			f.Set(c.k, c.v)
			delete(f, "csrf_token")
			refused(c.k, act, f, c.says)
		}
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		f.Set("enabled.user.delete", "on")
		f.Set("transactionType.user.delete", "SimpleMajority")
		f.Set("enabled.user.update", "on")
		if p := br.post(act, f); p.status != 200 || !strings.Contains(p.body, "The tenant was saved") {
			t.Fatalf("save events: %d", p.status)
		}
		ev := load().Tenant.EventConfiguration.Events
		if c := ev["user.delete"]; c.Enabled == nil || !*c.Enabled || c.TransactionType != "SimpleMajority" {
			t.Errorf("user.delete: %+v", c)
		}
		if c := ev["user.create"]; c.Enabled == nil || *c.Enabled {
			t.Errorf("user.create (unchecked): %+v", c)
		}
		if p := br.get(events); !strings.Contains(p.body, `<option value="SimpleMajority" selected>`) {
			t.Error("the saved transaction type is not shown")
		}
		if load().Tenant.Data["keep"] != "me" {
			t.Error("settings the pages do not show were lost")
		}
		if !e.auditedBy("tenants@example.com", "Updated tenant [Acme]") {
			t.Error("the saves are not audited with the admin as actor")
		}

		e.readOnlyForDeleter(raw, theme, hashing, events)
		// A missing tenant is a 404 page.
		if p := br.get("/admin/tenants/00000000-0000-4000-8000-0000000000ff/theme"); p.status != 404 {
			t.Errorf("theme of a missing tenant: %d", p.status)
		}
	})
}
