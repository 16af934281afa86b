package admin_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

var secretPattern = regexp.MustCompile(`id="client-secret" type="text" value="([^"]+)"`)

func TestApplicationsPages(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		const appID = "b0b0b0b0-0000-4000-8000-000000000001"
		e.api("POST", "/api/application/"+appID, map[string]any{"application": map[string]any{"name": "Shop",
			"oauthConfiguration": map[string]any{"authorizedRedirectURLs": []string{"https://shop.example/cb"},
				"enabledGrants": []string{"authorization_code"}, "clientSecret": "an old secret of the shop app"}}}, 200)
		oauth := func() map[string]any {
			var out struct {
				Application struct {
					OAuthConfiguration map[string]any `json:"oauthConfiguration"`
					Roles              []struct{ ID, Name string }
				}
			}
			e.api("GET", "/api/application/"+appID, nil, 200).JSON(t, &out)
			out.Application.OAuthConfiguration["roles"] = out.Application.Roles
			return out.Application.OAuthConfiguration
		}

		br := e.browser()
		br.signIn("admin@example.com", testPassword)
		list := br.get("/admin/applications")
		if list.status != 200 || !strings.Contains(list.body, "Shop") || !strings.Contains(list.body, "FusionAuth") {
			t.Fatalf("list: %d %s", list.status, list.body[strings.Index(list.body, "<main"):])
		}
		page := br.get("/admin/applications/" + appID)
		if page.status != 200 || !strings.Contains(page.body, "https://shop.example/cb") || strings.Contains(page.body, "an old secret") {
			t.Fatalf("application page (the secret is shown only on request): %d", page.status)
		}
		csrf := page.csrf(t)

		p := br.post("/admin/applications/"+appID+"/oauth", url.Values{"csrf_token": {csrf},
			"redirectURLs": {"https://shop.example/cb\r\nhttps://shop.example/cb2\r\n"}, "logoutURL": {"https://shop.example/"}})
		if p.status != 200 || !strings.Contains(p.body, "OAuth settings were saved") {
			t.Fatalf("save oauth: %d", p.status)
		}
		if got := oauth()["authorizedRedirectURLs"].([]any); len(got) != 2 || got[1] != "https://shop.example/cb2" {
			t.Fatalf("stored redirect URLs: %v", got)
		}
		if p := br.post("/admin/applications/"+appID+"/oauth", url.Values{"csrf_token": {csrf}, "redirectURLs": {"not a url"}}); p.status != 400 {
			t.Errorf("a bad redirect URL: %d", p.status)
		}

		shown := secretPattern.FindStringSubmatch(br.post("/admin/applications/"+appID+"/secret", url.Values{"csrf_token": {csrf}}).body)
		if shown == nil || shown[1] != "an old secret of the shop app" {
			t.Fatalf("show secret: %v", shown)
		}
		rotated := secretPattern.FindStringSubmatch(br.post("/admin/applications/"+appID+"/rotate-secret", url.Values{"csrf_token": {csrf}}).body)
		if rotated == nil || rotated[1] == shown[1] || oauth()["clientSecret"] != rotated[1] {
			t.Fatalf("rotate secret: %v, stored %v", rotated, oauth()["clientSecret"])
		}

		if p := br.post("/admin/applications/"+appID+"/roles", url.Values{"csrf_token": {csrf}, "roleName": {"buyer"}}); p.status != 200 {
			t.Fatalf("add role: %d", p.status)
		}
		roles := oauth()["roles"].([]struct{ ID, Name string })
		if len(roles) != 1 || roles[0].Name != "buyer" {
			t.Fatalf("roles: %v", roles)
		}
		if p := br.post("/admin/applications/"+appID+"/roles/"+roles[0].ID+"/delete", url.Values{"csrf_token": {csrf}}); p.status != 200 {
			t.Fatalf("delete role: %d", p.status)
		}
		// The admin application's roles cannot be changed.
		if p := br.post("/admin/applications/"+adminAppID+"/roles", url.Values{"csrf_token": {csrf}, "roleName": {"x"}}); p.status != 400 {
			t.Errorf("role on the admin application: %d", p.status)
		}
		var logs struct {
			AuditLogs []struct{ Message string } `json:"auditLogs"`
		}
		e.api("GET", "/api/system/audit-log/search?user=admin%40example.com&numberOfResults=50", nil, 200).JSON(t, &logs)
		if len(logs.AuditLogs) < 4 {
			t.Errorf("the changes are not audited with the admin as actor: %+v", logs)
		}
		if !e.auditedBy("admin@example.com", "Showed the client secret of application") {
			t.Error("showing the client secret is not audited")
		}
		for _, l := range logs.AuditLogs {
			if strings.Contains(l.Message, rotated[1]) || strings.Contains(l.Message, shown[1]) || strings.Contains(l.Message, "an old secret") {
				t.Errorf("a secret in the audit log: %s", l.Message)
			}
		}
	})
}

var appLink = regexp.MustCompile(`/admin/applications/([0-9a-f-]{36})`)

// TestApplicationLifecycle: an application_manager creates an application,
// renames it, edits its OAuth settings and roles; bad input re-renders the
// form with the reason and changes nothing; an application_deleter deletes
// it after typing its name. Every change is audited with the admin as actor.
func TestApplicationLifecycle(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		e.admin("apps@example.com", "application_manager")
		e.admin("appdel@example.com", "application_deleter")
		type stored struct {
			Application struct {
				ID, Name           string
				OAuthConfiguration struct {
					AuthorizedRedirectURLs        []string `json:"authorizedRedirectURLs"`
					LogoutURL                     string   `json:"logoutURL"`
					EnabledGrants                 []string `json:"enabledGrants"`
					ClientAuthenticationPolicy    string   `json:"clientAuthenticationPolicy"`
					ProofKeyForCodeExchangePolicy string   `json:"proofKeyForCodeExchangePolicy"`
				} `json:"oauthConfiguration"`
				Roles []struct {
					ID, Name  string
					IsDefault bool `json:"isDefault"`
				}
			}
		}
		load := func(id string) stored {
			var out stored
			e.api("GET", "/api/application/"+id, nil, 200).JSON(t, &out)
			return out
		}
		count := func() int {
			var out struct{ Applications []any }
			e.api("GET", "/api/application", nil, 200).JSON(t, &out)
			return len(out.Applications)
		}

		br := e.browser()
		br.signIn("apps@example.com", testPassword)
		list := br.get("/admin/applications")
		if !strings.Contains(list.body, `href="/admin/applications/new"`) {
			t.Fatal("an application_manager is not offered to create an application")
		}
		form := br.get("/admin/applications/new")
		before := count()
		if p := br.submit(form, "/admin/applications", "name", "", "redirectURLs", "https://crm.example/cb"); p.status != 400 ||
			!strings.Contains(p.body, "Nothing was created") || !strings.Contains(p.body, "https://crm.example/cb") {
			t.Fatalf("create without a name: %d %s", p.status, p.body)
		}
		if p := br.submit(form, "/admin/applications", "name", "CRM", "redirectURLs", "not a url"); p.status != 400 || !strings.Contains(p.body, "is not a valid URL") {
			t.Fatalf("create with a bad redirect URL: %d", p.status)
		}
		if count() != before {
			t.Fatal("a refused create left an application behind")
		}
		created := br.submit(form, "/admin/applications", "name", "CRM", "redirectURLs", "https://crm.example/cb\r\n")
		m := appLink.FindStringSubmatch(created.url.Path)
		if created.status != 200 || m == nil || !strings.Contains(created.body, "The application was created") {
			t.Fatalf("create: %d at %s", created.status, created.url)
		}
		id := m[1]
		if got := load(id).Application; got.Name != "CRM" || len(got.OAuthConfiguration.AuthorizedRedirectURLs) != 1 {
			t.Fatalf("stored: %+v", got)
		}
		if strings.Contains(created.body, "Delete this application") {
			t.Error("an application_manager is offered deletion")
		}

		// Rename: a blank name is refused with the reason.
		if p := br.submit(created, "/admin/applications/"+id, "name", " "); p.status != 400 || !strings.Contains(p.body, "The name is required") {
			t.Fatalf("blank name: %d", p.status)
		}
		if p := br.submit(created, "/admin/applications/"+id, "name", "CRM 2"); p.status != 200 || !strings.Contains(p.body, "The application was saved") {
			t.Fatalf("rename: %d", p.status)
		}

		// OAuth settings: grants and policies; a device grant without its
		// verification URL is refused whole, the form shown as entered.
		page := br.get("/admin/applications/" + id)
		bad := url.Values{"redirectURLs": {"https://crm.example/other"}, "enabledGrants": {"authorization_code", "urn:ietf:params:oauth:grant-type:device_code"},
			"clientAuthenticationPolicy": {"Required"}, "proofKeyForCodeExchangePolicy": {"Required"}}
		act, v := page.form(t, "/admin/applications/"+id+"/oauth")
		for k, vals := range bad {
			v[k] = vals
		}
		if p := br.post(act, v); p.status != 400 || !strings.Contains(p.body, "deviceVerificationURL") || !strings.Contains(p.body, "https://crm.example/other") {
			t.Fatalf("device grant without a verification URL: %d %s", p.status, p.body)
		}
		if got := load(id).Application.OAuthConfiguration; got.AuthorizedRedirectURLs[0] != "https://crm.example/cb" {
			t.Fatalf("a refused change was written: %+v", got)
		}
		// With its verification URL the device grant is saved.
		v.Set("deviceVerificationURL", "https://crm.example/device")
		if p := br.post(act, v); p.status != 200 {
			t.Fatalf("device grant with its verification URL: %d", p.status)
		}
		if g := load(id).Application.OAuthConfiguration.EnabledGrants; len(g) != 2 {
			t.Fatalf("grants with the device grant: %v", g)
		}
		v.Set("clientAuthenticationPolicy", "Sometimes")
		v["enabledGrants"] = []string{"authorization_code"}
		if p := br.post(act, v); p.status != 400 || !strings.Contains(p.body, "clientAuthenticationPolicy") {
			t.Fatalf("unknown policy: %d", p.status)
		}
		v.Set("clientAuthenticationPolicy", "NotRequiredWhenUsingPKCE")
		v["enabledGrants"] = []string{"authorization_code", "refresh_token"}
		v.Set("logoutURL", "https://crm.example/bye")
		if p := br.post(act, v); p.status != 200 || !strings.Contains(p.body, "The OAuth settings were saved") {
			t.Fatalf("save oauth: %d", p.status)
		}
		oc := load(id).Application.OAuthConfiguration
		if oc.ClientAuthenticationPolicy != "NotRequiredWhenUsingPKCE" || oc.ProofKeyForCodeExchangePolicy != "Required" ||
			strings.Join(oc.EnabledGrants, ",") != "authorization_code,refresh_token" || oc.LogoutURL != "https://crm.example/bye" ||
			strings.Join(oc.AuthorizedRedirectURLs, ",") != "https://crm.example/other" {
			t.Fatalf("stored oauth: %+v", oc)
		}
		// Unchecking every grant leaves none.
		v["enabledGrants"] = nil
		if p := br.post(act, v); p.status != 200 {
			t.Fatalf("no grants: %d", p.status)
		}
		if g := load(id).Application.OAuthConfiguration.EnabledGrants; len(g) != 0 {
			t.Fatalf("grants after unchecking all: %v", g)
		}

		// Roles: a default role; a duplicate is refused.
		if p := br.submit(page, "/admin/applications/"+id+"/roles", "roleName", "agent", "isDefault", "on"); p.status != 200 {
			t.Fatalf("add role: %d", p.status)
		}
		if p := br.submit(page, "/admin/applications/"+id+"/roles", "roleName", "agent"); p.status != 400 || !strings.Contains(p.body, `value="agent"`) {
			t.Fatalf("duplicate role: %d", p.status)
		}
		if roles := load(id).Application.Roles; len(roles) != 1 || !roles[0].IsDefault {
			t.Fatalf("roles: %+v", roles)
		}

		// Delete: application_deleter only, with the name typed.
		if p := br.submit(page, "/admin/applications/"+id+"/roles", "roleName", "x"); p.status != 200 {
			t.Fatalf("add a second role: %d", p.status)
		}
		db := e.browser()
		db.signIn("appdel@example.com", testPassword)
		dp := db.get("/admin/applications/" + id)
		if !strings.Contains(dp.body, "Delete this application") || strings.Contains(dp.body, "Save OAuth settings") {
			t.Fatal("an application_deleter's page: want deletion, not editing")
		}
		if p := db.submit(dp, "/admin/applications/"+id+"/delete", "confirm", "CRM"); p.status != 400 || !strings.Contains(p.body, "type CRM 2 exactly") {
			t.Fatalf("delete without the exact name: %d", p.status)
		}
		load(id)
		if p := db.submit(dp, "/admin/applications/"+id+"/delete", "confirm", "CRM 2"); p.status != 200 || p.url.Path != "/admin/applications" ||
			!strings.Contains(p.body, "The application was deleted") {
			t.Fatalf("delete: %d at %s", p.status, p.url)
		}
		e.api("GET", "/api/application/"+id, nil, 404)
		if p := db.post("/admin/applications/"+adminAppID+"/delete", url.Values{"csrf_token": {dp.csrf(t)}, "confirm": {"FusionAuth"}}); p.status != 400 {
			t.Errorf("delete of the admin application: %d", p.status)
		}
		e.api("GET", "/api/application/"+adminAppID, nil, 200)

		for _, c := range []struct{ actor, text string }{{"apps@example.com", "Created application"}, {"apps@example.com", "CRM 2"},
			{"apps@example.com", "role"}, {"appdel@example.com", "Deleted application [CRM 2]"}} {
			if !e.auditedBy(c.actor, c.text) {
				t.Errorf("no audit entry by %s containing %q", c.actor, c.text)
			}
		}
	})
}

// TestNewFormsRefuseBadInput posts malformed values to the application,
// tenant and grant forms: each is refused with a message (400), never a
// server error, on both databases.
func TestNewFormsRefuseBadInput(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		var app struct{ Application struct{ ID string } }
		e.api("POST", "/api/application", map[string]any{"application": map[string]any{"name": "Shop"}}, 200).JSON(t, &app)
		var typ struct{ EntityType struct{ ID string } }
		e.api("POST", "/api/entity/type", map[string]any{"entityType": map[string]any{"name": "Printer"}}, 200).JSON(t, &typ)
		var ent struct{ Entity struct{ ID string } }
		e.api("POST", "/api/entity", map[string]any{"entity": map[string]any{"name": "P", "type": map[string]any{"id": typ.EntityType.ID}}}, 200).JSON(t, &ent)
		// A second tenant last: with two, the API needs a tenant id.
		var tenant struct{ Tenant struct{ ID string } }
		e.api("POST", "/api/tenant", map[string]any{"tenant": map[string]any{"name": "Acme"}}, 200).JSON(t, &tenant)
		br := e.browser()
		csrf := br.signIn("admin@example.com", testPassword).csrf(t)
		for _, c := range []struct {
			name, path string
			form       url.Values
		}{
			{"application in an unknown tenant", "/admin/applications", url.Values{"name": {"X"}, "tenantId": {"nope"}}},
			{"application in a missing tenant", "/admin/applications", url.Values{"name": {"X"}, "tenantId": {"00000000-0000-4000-8000-000000000000"}}},
			{"unknown grant", "/admin/applications/" + app.Application.ID + "/oauth", url.Values{"grantsShown": {"1"}, "enabledGrants": {"magic"}}},
			{"unknown PKCE policy", "/admin/applications/" + app.Application.ID + "/oauth", url.Values{"proofKeyForCodeExchangePolicy": {"Maybe"}}},
			{"bad logout URL", "/admin/applications/" + app.Application.ID + "/oauth", url.Values{"logoutURL": {"::"}}},
			{"blank role", "/admin/applications/" + app.Application.ID + "/roles", url.Values{"roleName": {" "}}},
			{"huge lifetime", "/admin/tenants/" + tenant.Tenant.ID + "/tokens", url.Values{"timeToLiveInSeconds": {"99999999999999999999"}}},
			{"lifetime past the bound", "/admin/tenants/" + tenant.Tenant.ID + "/tokens", url.Values{"timeToLiveInSeconds": {"9223372036854775807"}}},
			{"huge lifetime on create", "/admin/tenants", url.Values{"name": {"Beta"}, "ttl": {"9223372036854775807"}}},
			{"port out of range", "/admin/tenants/" + tenant.Tenant.ID, url.Values{"name": {"Acme"}, "smtpPort": {"70000"}}},
			{"negative length", "/admin/tenants/" + tenant.Tenant.ID, url.Values{"name": {"Acme"}, "minLength": {"-1"}}},
			{"unknown signing key", "/admin/tenants/" + tenant.Tenant.ID, url.Values{"name": {"Acme"}, "accessTokenKeyId": {"nope"}}},
			{"blank tenant name", "/admin/tenants/" + tenant.Tenant.ID, url.Values{"name": {""}}},
			{"grant to a malformed entity id", "/admin/entities/" + ent.Entity.ID + "/grants", url.Values{"recipientEntityId": {"not-a-uuid"}}},
			{"grant to a missing entity", "/admin/entities/" + ent.Entity.ID + "/grants", url.Values{"recipientEntityId": {"00000000-0000-4000-8000-000000000000"}}},
			{"revoke naming nobody", "/admin/entities/" + ent.Entity.ID + "/grants/delete", url.Values{}},
		} {
			c.form.Set("csrf_token", csrf)
			if p := br.post(c.path, c.form); p.status != 400 || !strings.Contains(p.body, `role="alert"`) && !strings.Contains(p.body, "Nothing was") {
				t.Errorf("%s: %d, want 400 with a message", c.name, p.status)
			}
		}
	})
}
