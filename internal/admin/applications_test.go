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
