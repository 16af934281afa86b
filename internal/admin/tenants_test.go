package admin_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

var tenantLink = regexp.MustCompile(`/admin/tenants/([0-9a-f-]{36})`)

func TestTenantPages(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		e.admin("tenants@example.com", "tenant_manager")
		e.admin("deleter@example.com", "tenant_deleter")
		var key struct{ Key struct{ ID string } }
		e.api("POST", "/api/key/generate", map[string]any{"key": map[string]any{"name": "Acme key", "algorithm": "ES256"}}, 200).JSON(t, &key)

		br := e.browser()
		br.signIn("tenants@example.com", testPassword)
		form := br.get("/admin/tenants/new")
		created := br.submit(form, "/admin/tenants", "name", "Acme", "issuer", "https://acme.test")
		m := tenantLink.FindStringSubmatch(created.url.Path)
		if created.status != 200 || m == nil || !strings.Contains(created.body, "The tenant was saved") {
			t.Fatalf("create: %d at %s: %s", created.status, created.url, created.body)
		}
		id := m[1]
		if strings.Contains(created.body, "Delete this tenant") {
			t.Error("a tenant_manager is offered deletion")
		}
		page := br.get("/admin/tenants/" + id)
		if p := br.submit(page, "/admin/tenants/"+id, "name", "Acme", "ttl", "soon"); p.status != 400 || !strings.Contains(p.body, "number of seconds") {
			t.Fatalf("bad ttl: %d", p.status)
		}
		if p := br.submit(page, "/admin/tenants/"+id, "name", "Acme", "ttl", "0"); p.status != 400 || !strings.Contains(p.body, "Nothing was changed") {
			t.Fatalf("ttl 0: %d", p.status)
		}
		saved := br.submit(page, "/admin/tenants/"+id, "name", "Acme Inc", "issuer", "https://acme.test", "accessTokenKeyId", key.Key.ID, "ttl", "600")
		if saved.status != 200 || !strings.Contains(saved.body, "The tenant was saved") {
			t.Fatalf("save: %d %s", saved.status, saved.body)
		}
		var got struct {
			Tenant struct {
				Name, Issuer     string
				JWTConfiguration struct {
					AccessTokenKeyID    string `json:"accessTokenKeyId"`
					TimeToLiveInSeconds int
				} `json:"jwtConfiguration"`
			}
		}
		e.api("GET", "/api/tenant/"+id, nil, 200).JSON(t, &got)
		if got.Tenant.Name != "Acme Inc" || got.Tenant.Issuer != "https://acme.test" || got.Tenant.JWTConfiguration.AccessTokenKeyID != key.Key.ID ||
			got.Tenant.JWTConfiguration.TimeToLiveInSeconds != 600 {
			t.Fatalf("stored: %+v", got)
		}
		list := br.get("/admin/tenants")
		if !strings.Contains(list.body, "Acme Inc") || !strings.Contains(list.body, "Acme key") {
			t.Fatalf("list: %s", list.body)
		}

		// Deletion: the name typed; never the admin application's tenant.
		db := e.browser()
		dp := db.signIn("deleter@example.com", testPassword)
		csrf := dp.csrf(t)
		if p := db.post("/admin/tenants/"+id+"/delete", url.Values{"csrf_token": {csrf}, "confirm": {"Acme"}}); p.status != 400 {
			t.Fatalf("delete without the exact name: %d", p.status)
		}
		e.api("GET", "/api/tenant/"+id, nil, 200)
		var def struct{ Tenants []struct{ ID, Name string } }
		e.api("GET", "/api/tenant", nil, 200).JSON(t, &def)
		for _, tn := range def.Tenants {
			if tn.Name == "Default" {
				if p := db.get("/admin/tenants/" + tn.ID); strings.Contains(p.body, "Delete this tenant") {
					t.Error("the Default tenant offers deletion")
				}
				if p := db.post("/admin/tenants/"+tn.ID+"/delete", url.Values{"csrf_token": {csrf}, "confirm": {"Default"}}); p.status != 400 {
					t.Errorf("delete of the Default tenant: %d", p.status)
				}
			}
		}
		if p := db.post("/admin/tenants/"+id+"/delete", url.Values{"csrf_token": {csrf}, "confirm": {"Acme Inc"}}); p.status != 200 || p.url.Path != "/admin/tenants" {
			t.Fatalf("delete: %d at %s", p.status, p.url)
		}
		e.api("GET", "/api/tenant/"+id, nil, 404)
		for _, c := range []struct{ actor, text string }{{"tenants@example.com", "Created tenant"}, {"tenants@example.com", "Updated tenant [Acme Inc]"},
			{"deleter@example.com", "Deleted tenant [Acme Inc]"}} {
			if !e.auditedBy(c.actor, c.text) {
				t.Errorf("no audit entry by %s containing %q", c.actor, c.text)
			}
		}
	})
}
