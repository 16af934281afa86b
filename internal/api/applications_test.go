package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

func TestApplicationCRUD(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := taStart(t, b)
		def := e.defaultTenant()

		// With one tenant, a global key needs no tenant id.
		app := e.ok("create", e.do("POST", "/api/application", e.root, map[string]any{"application": map[string]any{"name": "Forum"}}), "application")
		id := app["id"].(string)
		checks := []struct {
			path []any
			want any
		}{
			{[]any{"tenantId"}, def},
			{[]any{"name"}, "Forum"},
			{[]any{"active"}, true},
			{[]any{"state"}, "Active"},
			{[]any{"roles"}, []any{}},
			{[]any{"oauthConfiguration", "clientId"}, id},
			{[]any{"oauthConfiguration", "enabledGrants"}, []any{"authorization_code", "refresh_token"}},
			{[]any{"oauthConfiguration", "authorizedRedirectURLs"}, []any{}},
			{[]any{"oauthConfiguration", "clientAuthenticationPolicy"}, "Required"},
			{[]any{"loginConfiguration", "requireAuthentication"}, true},
			{[]any{"jwtConfiguration", "timeToLiveInSeconds"}, taNum(3600)},
			{[]any{"jwtConfiguration", "refreshTokenTimeToLiveInMinutes"}, taNum(43200)},
		}
		for _, c := range checks {
			if got := jsonAt(app, c.path...); !model.JSONEqual(got, c.want) {
				t.Errorf("new application %v = %v, want %v", c.path, got, c.want)
			}
		}
		secret, _ := jsonAt(app, "oauthConfiguration", "clientSecret").(string)
		if len(secret) < 40 {
			t.Errorf("generated client secret %q is too short", secret)
		}

		// A chosen id; the same again is a duplicate.
		chosen := uuid.NewString()
		got := e.ok("create with id", e.do("POST", "/api/application/"+chosen, e.root, map[string]any{"application": map[string]any{
			"name": "Chosen", "oauthConfiguration": map[string]any{"clientSecret": "my-own-secret", "authorizedRedirectURLs": []any{"https://app.example.com/cb"}},
			"roles": []any{map[string]any{"name": "user", "isDefault": true}, map[string]any{"name": "admin", "isSuperRole": true}}}}), "application")
		if got["id"] != chosen || jsonAt(got, "oauthConfiguration", "clientSecret") != "my-own-secret" || jsonAt(got, "oauthConfiguration", "clientId") != chosen {
			t.Errorf("create with id: %v %v", got["id"], got["oauthConfiguration"])
		}
		if jsonAt(got, "roles", 0, "name") != "admin" || jsonAt(got, "roles", 1, "name") != "user" || jsonAt(got, "roles", 1, "isDefault") != true {
			t.Errorf("roles on create: %v", got["roles"])
		}
		want400(t, "same id", e.do("POST", "/api/application/"+chosen, e.root, map[string]any{"application": map[string]any{"name": "Again"}}), "[duplicate]application.id")
		want400(t, "blank name", e.do("POST", "/api/application", e.root, map[string]any{"application": map[string]any{"name": ""}}), "[blank]application.name")
		want400(t, "no application", e.do("POST", "/api/application", e.root, `{}`), "[blank]application.name")
		want400(t, "unknown tenant", e.do("POST", "/api/application", e.root, map[string]any{"application": map[string]any{"name": "X", "tenantId": uuid.NewString()}}), "[invalid]application.tenantId")
		want400(t, "malformed tenant", e.do("POST", "/api/application", e.root, map[string]any{"application": map[string]any{"name": "X", "tenantId": "t1"}}), "[invalid]application.tenantId")
		want400(t, "duplicate role names", e.do("POST", "/api/application", e.root, map[string]any{"application": map[string]any{"name": "X",
			"roles": []any{map[string]any{"name": "r"}, map[string]any{"name": "r"}}}}), "[duplicate]application.roles[1].name")
		want400(t, "blank role name", e.do("POST", "/api/application", e.root, map[string]any{"application": map[string]any{"name": "X",
			"roles": []any{map[string]any{"description": "d"}}}}), "[blank]application.roles[0].name")
		want400(t, "bad grant", e.do("POST", "/api/application", e.root, map[string]any{"application": map[string]any{"name": "X",
			"oauthConfiguration": map[string]any{"enabledGrants": []any{"client_magic"}}}}), "[invalid]application.oauthConfiguration.enabledGrants")
		want400(t, "bad redirect", e.do("POST", "/api/application", e.root, map[string]any{"application": map[string]any{"name": "X",
			"oauthConfiguration": map[string]any{"authorizedRedirectURLs": []any{"not a url"}}}}), "[invalid]application.oauthConfiguration.authorizedRedirectURLs")
		for _, target := range []struct{ field, url string }{
			{"authorizedRedirectURLs", "javascript:alert(document.domain)//"},
			{"authorizedRedirectURLs", "JavaScript:alert(1)"},
			{"authorizedRedirectURLs", "data:text/html,<script>alert(1)</script>"},
			{"authorizedOriginURLs", "vbscript:msgbox"},
			{"logoutURL", "file:///etc/passwd"},
		} {
			var value any = []any{target.url}
			if target.field == "logoutURL" {
				value = target.url
			}
			want400(t, "script scheme in "+target.field, e.do("POST", "/api/application", e.root, map[string]any{"application": map[string]any{"name": "X",
				"oauthConfiguration": map[string]any{target.field: value}}}), "[invalid]application.oauthConfiguration."+target.field)
		}
		// An app's own scheme (RFC 8252 §7.1) is a redirect target.
		native := e.ok("a private-use scheme", e.do("POST", "/api/application", e.root, map[string]any{"application": map[string]any{"name": "Native",
			"oauthConfiguration": map[string]any{"authorizedRedirectURLs": []any{"com.example.app:/oauth2/callback"}}}}), "application")
		if r := e.do("DELETE", "/api/application/"+native["id"].(string)+"?hardDelete=true", e.root, nil); r.Status != 200 {
			t.Fatalf("delete the native app: %d %s", r.Status, r.Body)
		}
		want400(t, "bad secret type", e.do("POST", "/api/application", e.root, map[string]any{"application": map[string]any{"name": "X",
			"oauthConfiguration": map[string]any{"clientSecret": 5}}}), "[invalid]application.oauthConfiguration.clientSecret")
		want400(t, "bad login configuration", e.do("POST", "/api/application", e.root, map[string]any{"application": map[string]any{"name": "X",
			"loginConfiguration": map[string]any{"requireAuthentication": "no"}}}), "[invalid]application.loginConfiguration.requireAuthentication")
		want400(t, "bad jwt ttl", e.do("POST", "/api/application", e.root, map[string]any{"application": map[string]any{"name": "X",
			"jwtConfiguration": map[string]any{"enabled": true, "timeToLiveInSeconds": 0}}}), "[invalid]application.jwtConfiguration.timeToLiveInSeconds")

		// Retrieve.
		if r := e.ok("retrieve", e.do("GET", "/api/application/"+id, e.root, nil), "application"); !model.JSONEqual(r, app) {
			t.Errorf("retrieve differs from create")
		}
		wantEmpty(t, "unknown", e.do("GET", "/api/application/"+uuid.NewString(), e.root, nil), 404)
		wantEmpty(t, "malformed", e.do("GET", "/api/application/x", e.root, nil), 404)

		// Update: a blank secret keeps the current one; roles are not touched
		// (the role API manages them); the tenant does not move.
		e.s.Clock.Advance(time.Minute)
		upd := e.ok("update", e.do("PUT", "/api/application/"+chosen, e.root, map[string]any{"application": map[string]any{
			"name": "Chosen 2", "tenantId": uuid.NewString(), "roles": []any{}, "data": map[string]any{"k": "v"}}}), "application")
		if upd["name"] != "Chosen 2" || jsonAt(upd, "oauthConfiguration", "clientSecret") != "my-own-secret" || len(upd["roles"].([]any)) != 2 || upd["tenantId"] != def {
			t.Errorf("update: name %v secret %v roles %v tenant %v", upd["name"], jsonAt(upd, "oauthConfiguration", "clientSecret"), upd["roles"], upd["tenantId"])
		}
		if jsonAt(upd, "oauthConfiguration", "authorizedRedirectURLs") == nil || len(jsonAt(upd, "oauthConfiguration", "authorizedRedirectURLs").([]any)) != 0 {
			t.Errorf("PUT replaces the object: redirect URLs %v", jsonAt(upd, "oauthConfiguration", "authorizedRedirectURLs"))
		}
		upd = e.ok("update secret", e.do("PUT", "/api/application/"+chosen, e.root, map[string]any{"application": map[string]any{
			"name": "Chosen 2", "oauthConfiguration": map[string]any{"clientSecret": "rotated"}}}), "application")
		if jsonAt(upd, "oauthConfiguration", "clientSecret") != "rotated" {
			t.Errorf("secret not replaced: %v", upd["oauthConfiguration"])
		}

		// Retrieve all lists the active ones.
		countApps := func(query string) int {
			var body struct {
				Applications []map[string]any `json:"applications"`
			}
			e.do("GET", "/api/application"+query, e.root, nil).JSON(t, &body)
			return len(body.Applications)
		}
		if n := countApps(""); n != 3 { // admin application, Forum, Chosen
			t.Errorf("retrieve all: %d, want 3", n)
		}

		// Deactivate, list inactive, reactivate, hard delete.
		wantEmpty(t, "deactivate", e.do("DELETE", "/api/application/"+id, e.root, nil), 200)
		if inact := e.ok("retrieve inactive", e.do("GET", "/api/application/"+id, e.root, nil), "application"); inact["active"] != false || inact["state"] != "Inactive" {
			t.Errorf("deactivated: active %v state %v", inact["active"], inact["state"])
		}
		if n, m := countApps(""), countApps("?inactive=true"); n != 2 || m != 1 {
			t.Errorf("after deactivating: %d active, %d inactive", n, m)
		}
		re := e.ok("reactivate", e.do("PUT", "/api/application/"+id+"?reactivate=true", e.root, nil), "application")
		if re["active"] != true || re["state"] != "Active" {
			t.Errorf("reactivated: %v %v", re["active"], re["state"])
		}
		wantEmpty(t, "hard delete", e.do("DELETE", "/api/application/"+id+"?hardDelete=true", e.root, nil), 200)
		wantEmpty(t, "hard-deleted is gone", e.do("GET", "/api/application/"+id, e.root, nil), 404)
		wantEmpty(t, "reactivate unknown", e.do("PUT", "/api/application/"+id+"?reactivate=true", e.root, nil), 404)

		// The admin application can be neither deactivated nor deleted.
		want400(t, "deactivate admin app", e.do("DELETE", "/api/application/"+model.AdminApplicationID, e.root, nil), "[cannotDeactivate]applicationId")
		want400(t, "delete admin app", e.do("DELETE", "/api/application/"+model.AdminApplicationID+"?hardDelete=true", e.root, nil), "[cannotDelete]applicationId")
		e.ok("admin app remains", e.do("GET", "/api/application/"+model.AdminApplicationID, e.root, nil), "application")

		// Each change is audited; no audit entry holds a client secret.
		entries := e.audits(chosen)
		if len(entries) < 3 {
			t.Errorf("%d audit entries for the application, want at least 3", len(entries))
		}
		for _, a := range append(entries, e.audits(id)...) {
			all := string(a.OldValue) + string(a.NewValue) + string(a.Data) + a.Message
			for _, s := range []string{"my-own-secret", "rotated", secret} {
				if strings.Contains(all, s) {
					t.Errorf("audit entry %d holds a client secret", a.ID)
				}
			}
		}
	})
}

// With several tenants, a global key must name the tenant: FusionAuth's
// [TenantIdRequired].
func TestApplicationTenantIDRequired(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := taStart(t, b)
		other := e.createTenant("Other")["id"].(string)
		r := e.do("POST", "/api/application", e.root, map[string]any{"application": map[string]any{"name": "Where"}})
		want400(t, "no tenant", r, "[TenantIdRequired]")
		if !bytes.Contains(r.Body, []byte("X-FusionAuth-TenantId")) {
			t.Errorf("TenantIdRequired message: %s", r.Body)
		}
		if a := e.ok("header", e.do("POST", "/api/application", e.root, map[string]any{"application": map[string]any{"name": "H"}}, "X-FusionAuth-TenantId", other), "application"); a["tenantId"] != other {
			t.Errorf("header tenant: %v", a["tenantId"])
		}
		if a := e.ok("body", e.do("POST", "/api/application", e.root, map[string]any{"application": map[string]any{"name": "B", "tenantId": other}}), "application"); a["tenantId"] != other {
			t.Errorf("body tenant: %v", a["tenantId"])
		}
		want400(t, "header naming an unknown tenant", e.do("POST", "/api/application", e.root, map[string]any{"application": map[string]any{"name": "U"}},
			"X-FusionAuth-TenantId", uuid.NewString()), "[invalid]application.tenantId")
		// A key limited to several tenants must name one too.
		multi, _ := e.scopedKey(other, e.defaultTenant())
		want400(t, "multi-tenant key", e.do("POST", "/api/application", multi, map[string]any{"application": map[string]any{"name": "M"}}), "[TenantIdRequired]")
		if a := e.ok("multi-tenant key with header", e.do("POST", "/api/application", multi, map[string]any{"application": map[string]any{"name": "M"}},
			"X-FusionAuth-TenantId", other), "application"); a["tenantId"] != other {
			t.Errorf("multi-tenant key with header: %v", a["tenantId"])
		}
	})
}

// FusionAuth's documented application example round-trips.
func TestApplicationRoundTrip(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := taStart(t, b)
		req := taExample(t, "fusionauth-application-request.json")
		sent := req["application"].(map[string]any)
		e.exampleKeys(sent)
		created := e.ok("create example", e.do("POST", "/api/application", e.root, req), "application")
		if err := jsonSubset(sent, created, "application"); err != nil {
			t.Errorf("created application lost what was sent: %v", err)
		}
		got := e.ok("retrieve example", e.do("GET", "/api/application/"+created["id"].(string), e.root, nil), "application")
		if err := jsonSubset(sent, got, "application"); err != nil {
			t.Errorf("retrieved application lost what was sent: %v", err)
		}
		e.s.Clock.Advance(time.Second)
		put := e.ok("put back", e.do("PUT", "/api/application/"+created["id"].(string), e.root, map[string]any{"application": got}), "application")
		delete(put, "lastUpdateInstant")
		delete(got, "lastUpdateInstant")
		if !model.JSONEqual(put, got) {
			t.Errorf("PUT of the retrieved application changed it")
		}
	})
}

func TestApplicationCopy(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := taStart(t, b)
		src := e.ok("create", e.do("POST", "/api/application", e.root, map[string]any{"application": map[string]any{
			"name": "Source", "data": map[string]any{"k": "v"}, "roles": []any{map[string]any{"name": "r1"}},
			"oauthConfiguration": map[string]any{"authorizedRedirectURLs": []any{"https://x.example/cb"}}}}), "application")
		cp := e.ok("copy", e.do("POST", "/api/application", e.root, map[string]any{"sourceApplicationId": src["id"], "application": map[string]any{"name": "Copy"}}), "application")
		if cp["id"] == src["id"] || cp["name"] != "Copy" || !model.JSONEqual(cp["data"], src["data"]) ||
			!model.JSONEqual(jsonAt(cp, "oauthConfiguration", "authorizedRedirectURLs"), jsonAt(src, "oauthConfiguration", "authorizedRedirectURLs")) {
			t.Errorf("copy: %v", cp)
		}
		if jsonAt(cp, "roles", 0, "name") != "r1" || jsonAt(cp, "roles", 0, "id") == jsonAt(src, "roles", 0, "id") {
			t.Errorf("copied roles: %v vs %v", cp["roles"], src["roles"])
		}
		if jsonAt(cp, "oauthConfiguration", "clientSecret") == jsonAt(src, "oauthConfiguration", "clientSecret") || jsonAt(cp, "oauthConfiguration", "clientId") != cp["id"] {
			t.Errorf("copy shares the client: %v", cp["oauthConfiguration"])
		}
		want400(t, "unknown source", e.do("POST", "/api/application", e.root, map[string]any{"sourceApplicationId": uuid.NewString(), "application": map[string]any{"name": "X"}}), "[invalid]sourceApplicationId")
	})
}

func TestApplicationRoles(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := taStart(t, b)
		app := e.createApp(e.defaultTenant(), "Roles")["id"].(string)
		other := e.createApp(e.defaultTenant(), "Other")["id"].(string)
		base := "/api/application/" + app + "/role"
		role := func(what string, r *testutil.Response) map[string]any { return e.ok(what, r, "role") }

		admin := role("create", e.do("POST", base, e.root, map[string]any{"role": map[string]any{"name": "admin", "description": "All", "isSuperRole": true}}))
		if _, err := uuid.Parse(admin["id"].(string)); err != nil || admin["isSuperRole"] != true || admin["isDefault"] != false {
			t.Errorf("created role: %v", admin)
		}
		chosen := uuid.NewString()
		if r := role("create with id", e.do("POST", base+"/"+chosen, e.root, map[string]any{"role": map[string]any{"name": "user", "isDefault": true}})); r["id"] != chosen {
			t.Errorf("role id: %v", r["id"])
		}
		bodyID := uuid.NewString()
		if r := role("create with id in body", e.do("POST", base, e.root, map[string]any{"role": map[string]any{"id": bodyID, "name": "editor"}})); r["id"] != bodyID {
			t.Errorf("role id from body: %v", r["id"])
		}
		want400(t, "duplicate name", e.do("POST", base, e.root, map[string]any{"role": map[string]any{"name": "admin"}}), "[duplicate]role.name")
		want400(t, "duplicate id", e.do("POST", "/api/application/"+other+"/role/"+chosen, e.root, map[string]any{"role": map[string]any{"name": "x"}}), "[duplicate]role.id")
		want400(t, "blank name", e.do("POST", base, e.root, map[string]any{"role": map[string]any{"name": ""}}), "[blank]role.name")
		want400(t, "bad flag", e.do("POST", base, e.root, map[string]any{"role": map[string]any{"name": "z", "isDefault": "yes"}}), "[invalid]role.isDefault")
		role("same name on another application", e.do("POST", "/api/application/"+other+"/role", e.root, map[string]any{"role": map[string]any{"name": "admin"}}))
		wantEmpty(t, "role of unknown application", e.do("POST", "/api/application/"+uuid.NewString()+"/role", e.root, map[string]any{"role": map[string]any{"name": "x"}}), 404)

		// The application lists its roles by name.
		a := e.ok("retrieve", e.do("GET", "/api/application/"+app, e.root, nil), "application")
		var names []string
		for _, r := range a["roles"].([]any) {
			names = append(names, r.(map[string]any)["name"].(string))
		}
		if strings.Join(names, ",") != "admin,editor,user" {
			t.Errorf("roles: %v", names)
		}

		// Update, patch in the three forms.
		e.s.Clock.Advance(time.Minute)
		upd := role("update", e.do("PUT", base+"/"+chosen, e.root, map[string]any{"role": map[string]any{"name": "member", "description": "Members"}}))
		if upd["name"] != "member" || upd["isDefault"] != false || upd["id"] != chosen || model.JSONEqual(upd["insertInstant"], upd["lastUpdateInstant"]) {
			t.Errorf("updated role: %v", upd)
		}
		want400(t, "rename to a taken name", e.do("PUT", base+"/"+chosen, e.root, map[string]any{"role": map[string]any{"name": "admin"}}), "[duplicate]role.name")
		p := role("fusionauth patch", e.do("PATCH", base+"/"+chosen, e.root, `{"role":{"isDefault":true}}`))
		if p["name"] != "member" || p["isDefault"] != true || p["description"] != "Members" {
			t.Errorf("patched role: %v", p)
		}
		p = role("merge patch", e.do("PATCH", base+"/"+chosen, e.root, `{"role":{"description":null}}`, "Content-Type", "application/merge-patch+json"))
		if _, has := p["description"]; has {
			t.Errorf("merge patch null did not remove the description: %v", p)
		}
		p = role("json patch", e.do("PATCH", base+"/"+chosen, e.root, `[{"op":"replace","path":"/role/name","value":"members"}]`, "Content-Type", "application/json-patch+json"))
		if p["name"] != "members" {
			t.Errorf("json-patched role: %v", p)
		}
		wantEmpty(t, "update unknown role", e.do("PUT", base+"/"+uuid.NewString(), e.root, map[string]any{"role": map[string]any{"name": "q"}}), 404)
		wantEmpty(t, "role through the wrong application", e.do("PUT", "/api/application/"+other+"/role/"+chosen, e.root, map[string]any{"role": map[string]any{"name": "q"}}), 404)

		// Delete by id and by name.
		wantEmpty(t, "delete by id", e.do("DELETE", base+"/"+chosen, e.root, nil), 200)
		wantEmpty(t, "delete again", e.do("DELETE", base+"/"+chosen, e.root, nil), 404)
		wantEmpty(t, "delete by name", e.do("DELETE", base+"?name=editor", e.root, nil), 200)
		wantEmpty(t, "delete unknown name", e.do("DELETE", base+"?name=editor", e.root, nil), 404)
		want400(t, "delete without id or name", e.do("DELETE", base, e.root, nil), "[blank]name")
		a = e.ok("retrieve after deletes", e.do("GET", "/api/application/"+app, e.root, nil), "application")
		if len(a["roles"].([]any)) != 1 {
			t.Errorf("roles after deletes: %v", a["roles"])
		}

		// The admin application's roles are fixed.
		want400(t, "add admin app role", e.do("POST", "/api/application/"+model.AdminApplicationID+"/role", e.root, map[string]any{"role": map[string]any{"name": "x"}}), "[cannotModify]applicationId")
		want400(t, "delete admin role", e.do("DELETE", "/api/application/"+model.AdminApplicationID+"/role/"+model.AdminRoleID, e.root, nil), "[cannotModify]applicationId")
		if n := len(e.audits(admin["id"].(string))); n != 1 {
			t.Errorf("role create audited %d times", n)
		}
	})
}

func TestApplicationPatch(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := taStart(t, b)
		app := e.createApp(e.defaultTenant(), "Patchy")
		path := "/api/application/" + app["id"].(string)
		secret := jsonAt(app, "oauthConfiguration", "clientSecret")
		grants := func(a map[string]any) any { return jsonAt(a, "oauthConfiguration", "enabledGrants") }
		patch := func(ct, body string) map[string]any {
			return e.ok("patch "+ct, e.do("PATCH", path, e.root, body, "Content-Type", ct), "application")
		}
		// FusionAuth's form appends to lists; grants stay a set.
		a := patch("application/json", `{"application":{"oauthConfiguration":{"enabledGrants":["password","refresh_token"]},"name":"Patched"}}`)
		if !model.JSONEqual(grants(a), []any{"authorization_code", "refresh_token", "password"}) || a["name"] != "Patched" {
			t.Errorf("fusionauth patch: grants %v name %v", grants(a), a["name"])
		}
		if jsonAt(a, "oauthConfiguration", "clientSecret") != secret {
			t.Errorf("patch changed the client secret")
		}
		a = patch("application/merge-patch+json", `{"application":{"oauthConfiguration":{"enabledGrants":["password"]}}}`)
		if !model.JSONEqual(grants(a), []any{"password"}) {
			t.Errorf("merge patch: grants %v", grants(a))
		}
		a = patch("application/json-patch+json", `[{"op":"add","path":"/application/oauthConfiguration/enabledGrants/-","value":"implicit"},{"op":"test","path":"/application/oauthConfiguration/enabledGrants/0","value":"password"}]`)
		if !model.JSONEqual(grants(a), []any{"password", "implicit"}) {
			t.Errorf("json patch: grants %v", grants(a))
		}
		// Owned fields cannot be patched away or changed.
		a = patch("application/merge-patch+json", `{"application":{"id":"x","active":false,"oauthConfiguration":{"clientId":"y","clientSecret":null}}}`)
		if a["id"] != app["id"] || a["active"] != true || jsonAt(a, "oauthConfiguration", "clientId") != app["id"] || jsonAt(a, "oauthConfiguration", "clientSecret") != secret {
			t.Errorf("patch reached owned fields: %v", a)
		}
		want400(t, "patch to an invalid grant", e.do("PATCH", path, e.root, `{"application":{"oauthConfiguration":{"enabledGrants":["nope"]}}}`), "[invalid]application.oauthConfiguration.enabledGrants")
		want400(t, "failing test", e.do("PATCH", path, e.root, `[{"op":"test","path":"/application/name","value":"Other"}]`, "Content-Type", "application/json-patch+json"), "[JSONPatchTestFailed]")
	})
}

func TestApplicationOAuthConfiguration(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := taStart(t, b)
		app := e.ok("create", e.do("POST", "/api/application", e.root, map[string]any{"application": map[string]any{"name": "OAuth",
			"oauthConfiguration": map[string]any{"authorizedRedirectURLs": []any{"https://a.example/cb"}, "logoutURL": "https://a.example/bye"}}}), "application")
		r := e.do("GET", "/api/application/"+app["id"].(string)+"/oauth-configuration", e.root, nil)
		body := decodeObject(t, r)
		oc, _ := body["oauthConfiguration"].(map[string]any)
		if r.Status != 200 || oc == nil || oc["clientId"] != app["id"] || oc["clientSecret"] != jsonAt(app, "oauthConfiguration", "clientSecret") ||
			!model.JSONEqual(oc["authorizedRedirectURLs"], []any{"https://a.example/cb"}) ||
			!model.JSONEqual(body["httpSessionMaxInactiveInterval"], taNum(3600)) || body["logoutURL"] != "https://a.example/bye" {
			t.Errorf("oauth configuration: %d %s", r.Status, r.Body)
		}
		wantEmpty(t, "unknown application", e.do("GET", "/api/application/"+uuid.NewString()+"/oauth-configuration", e.root, nil), 404)
	})
}

func TestApplicationSearch(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := taStart(t, b)
		other := e.createTenant("Other")["id"].(string)
		def := e.defaultTenant()
		for _, n := range []string{"Forum One", "Forum Two"} {
			e.createApp(def, n)
			e.s.Clock.Advance(time.Second)
		}
		three := e.createApp(other, "Forum Three")["id"].(string)
		e.do("DELETE", "/api/application/"+three, e.root, nil)
		type result struct {
			Applications []struct{ Name string } `json:"applications"`
			Total        int                     `json:"total"`
		}
		search := func(criteria map[string]any) result {
			var r result
			resp := e.do("POST", "/api/application/search", e.root, map[string]any{"search": criteria})
			if resp.Status != 200 {
				t.Fatalf("search %v: %d %s", criteria, resp.Status, resp.Body)
			}
			resp.JSON(t, &r)
			return r
		}
		if r := search(map[string]any{"name": "forum"}); r.Total != 3 {
			t.Errorf("by name: %+v", r)
		}
		if r := search(map[string]any{"name": "forum", "state": "Inactive"}); r.Total != 1 || r.Applications[0].Name != "Forum Three" {
			t.Errorf("inactive: %+v", r)
		}
		if r := search(map[string]any{"tenantId": def, "name": "Forum", "orderBy": "name DESC", "numberOfResults": 1}); r.Total != 2 || len(r.Applications) != 1 || r.Applications[0].Name != "Forum Two" {
			t.Errorf("by tenant, ordered, paged: %+v", r)
		}
		var g result
		e.do("GET", "/api/application/search?name=forum&state=Active&startRow=1&orderBy=insertInstant", e.root, nil).JSON(t, &g)
		if g.Total != 2 || len(g.Applications) != 1 || g.Applications[0].Name != "Forum Two" {
			t.Errorf("GET search: %+v", g)
		}
		want400(t, "bad state", e.do("POST", "/api/application/search", e.root, map[string]any{"search": map[string]any{"state": "Sleeping"}}), "[invalid]search.state")
		want400(t, "bad tenant", e.do("GET", "/api/application/search?tenantId=x", e.root, nil), "[invalid]search.tenantId")
		want400(t, "bad order", e.do("GET", "/api/application/search?orderBy=secret", e.root, nil), "[invalid]search.orderBy")
	})
}

// Client secrets and tenant credentials are never stored in plaintext.
func TestObjectSecretsNotAtRest(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := taStart(t, b)
		given := "client-secret-" + uuid.NewString()
		smtp := "smtp-password-" + uuid.NewString()
		captcha := "captcha-secret-" + uuid.NewString()
		tn := e.ok("tenant", e.do("POST", "/api/tenant", e.root, map[string]any{"tenant": map[string]any{"name": "Secrets",
			"emailConfiguration":   map[string]any{"password": smtp},
			"captchaConfiguration": map[string]any{"secretKey": captcha}}}), "tenant")
		// The SMTP password is used by the mailer only and never read back.
		if jsonAt(tn, "emailConfiguration", "password") != nil || jsonAt(tn, "captchaConfiguration", "secretKey") != captcha {
			t.Errorf("tenant secrets: %v %v", tn["emailConfiguration"], tn["captchaConfiguration"])
		}
		a1 := e.ok("app", e.do("POST", "/api/application", e.root, map[string]any{"application": map[string]any{"name": "Given",
			"tenantId": tn["id"], "oauthConfiguration": map[string]any{"clientSecret": given}}}), "application")
		a2 := e.createApp(tn["id"].(string), "Generated")
		generated := jsonAt(a2, "oauthConfiguration", "clientSecret").(string)
		// Update and patch paths write the secret again.
		e.do("PUT", "/api/application/"+a1["id"].(string), e.root, map[string]any{"application": map[string]any{"name": "Given 2"}})
		e.do("PATCH", "/api/application/"+a2["id"].(string), e.root, `{"application":{"name":"Generated 2"}}`)
		e.do("PATCH", "/api/tenant/"+tn["id"].(string), e.root, `{"tenant":{"issuer":"https://secrets.example"}}`)

		dump := e.atRest()
		if !bytes.Contains(dump, []byte("Generated 2")) || !bytes.Contains(dump, []byte("https://secrets.example")) {
			t.Fatalf("the scanned bytes do not hold the objects; the scan proves nothing")
		}
		for name, v := range map[string]string{"given client secret": given, "generated client secret": generated, "smtp password": smtp, "captcha secret": captcha} {
			for form, s := range map[string]string{"plain": v, "hex": hex.EncodeToString([]byte(v)), "base64": base64.StdEncoding.EncodeToString([]byte(v))} {
				if bytes.Contains(dump, []byte(s)) {
					t.Errorf("%s found at rest (%s)", name, form)
				}
				if strings.Contains(e.s.Stderr.String()+e.s.Stdout.String(), s) {
					t.Errorf("%s found in the server's output (%s)", name, form)
				}
			}
		}
	})
}

// An application's CleanSpeak API key, a FusionAuth setting Latch keeps
// without acting on it, is a credential like the client secret: sealed, never
// in the data column or an audit entry, returned as sent. A value stored in
// the clear by an earlier release shows only where secrets do and is sealed
// at the next write.
func TestApplicationCleanSpeakKeySealed(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := taStart(t, b)
		tenant := e.defaultTenant()
		key, legacy := "cleanspeak-key-"+uuid.NewString(), "cleanspeak-legacy-"+uuid.NewString()
		cleanSpeak := func(members map[string]any) map[string]any {
			c := map[string]any{"enabled": true, "url": "https://cleanspeak.example.com", "applicationIds": []any{}}
			for k, v := range members {
				c[k] = v
			}
			return map[string]any{"application": map[string]any{"name": "CleanSpeak", "tenantId": tenant, "cleanSpeakConfiguration": c}}
		}
		a := e.ok("create", e.do("POST", "/api/application", e.root, cleanSpeak(map[string]any{"apiKey": key})), "application")
		id := a["id"].(string)
		if jsonAt(a, "cleanSpeakConfiguration", "apiKey") != key || jsonAt(a, "cleanSpeakConfiguration", "url") != "https://cleanspeak.example.com" {
			t.Errorf("create answers %v", a["cleanSpeakConfiguration"])
		}
		e.ok("patch", e.do("PATCH", "/api/application/"+id, e.root, `{"application":{"name":"CleanSpeak 2"}}`), "application")
		if got := jsonAt(e.ok("get", e.do("GET", "/api/application/"+id, e.root, nil), "application"), "cleanSpeakConfiguration", "apiKey"); got != key {
			t.Errorf("after a patch the key is %v", got)
		}

		refused := []struct{ name, body, field string }{
			{"not a string", `{"application":{"name":"x","cleanSpeakConfiguration":{"apiKey":{"value":"%s"}}}}`, "application.cleanSpeakConfiguration.apiKey"},
			{"case variant", `{"application":{"name":"x","cleanSpeakConfiguration":{"ApiKey":"%s"}}}`, "application.cleanSpeakConfiguration.ApiKey"},
			{"look-alike", `{"application":{"name":"x","cleanSpeakConfiguration":{"api\u200bKey":"%s"}}}`, "application.cleanSpeakConfiguration.api\u200bKey"},
		}
		for _, c := range refused {
			for _, method := range []string{"POST", "PUT"} {
				path := "/api/application"
				if method == "PUT" {
					path += "/" + id
				}
				r := e.do(method, path, e.root, fmt.Sprintf(c.body, "refused-"+uuid.NewString()))
				want400(t, method+" "+c.name, r, "[invalid]"+c.field)
			}
		}

		// A key stored in the clear before keys were sealed.
		other := e.createApp(tenant, "Legacy CleanSpeak")["id"].(string)
		ctx := context.Background()
		err := e.st.InTx(ctx, func(tx *store.Tx) error {
			row, err := tx.ApplicationByID(ctx, other)
			if err != nil {
				return err
			}
			row.Data = strings.Replace(row.Data, `{`, `{"cleanSpeakConfiguration":{"enabled":true,"apiKey":"`+legacy+`"},`, 1)
			return tx.UpdateApplicationRow(ctx, row)
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := jsonAt(e.ok("get legacy", e.do("GET", "/api/application/"+other, e.root, nil), "application"), "cleanSpeakConfiguration", "apiKey"); got != legacy {
			t.Errorf("the stored key reads %v", got)
		}
		e.ok("patch legacy", e.do("PATCH", "/api/application/"+other, e.root, `{"application":{"name":"Legacy CleanSpeak 2"}}`), "application")
		if got := jsonAt(e.ok("get legacy", e.do("GET", "/api/application/"+other, e.root, nil), "application"), "cleanSpeakConfiguration", "apiKey"); got != legacy {
			t.Errorf("after a patch the stored key reads %v", got)
		}
		if row, err := e.st.Read().ApplicationByID(ctx, other); err != nil || strings.Contains(row.Data, legacy) {
			t.Errorf("after a patch the row holds the key in the clear (%v)", err)
		}
		// A replace without the key drops it, as the tenant's secrets.
		e.ok("put", e.do("PUT", "/api/application/"+id, e.root, `{"application":{"name":"CleanSpeak 3"}}`), "application")
		if got := jsonAt(e.ok("get", e.do("GET", "/api/application/"+id, e.root, nil), "application"), "cleanSpeakConfiguration", "apiKey"); got != nil {
			t.Errorf("after a replace without it the key is %v", got)
		}

		audit := e.do("GET", "/api/system/audit-log/search?numberOfResults=1000", e.root, nil).Body
		if !bytes.Contains(audit, []byte("CleanSpeak 2")) {
			t.Fatalf("the audit log does not hold the changes; the scan proves nothing")
		}
		for name, v := range map[string]string{"key": key, "legacy key": legacy} {
			if bytes.Contains(audit, []byte(v)) {
				t.Errorf("the %s is in the audit log", name)
			}
		}
		// (The legacy key was written in the clear by the test itself: the
		// database file may keep the old page.)
		if bytes.Contains(e.atRest(), []byte(key)) {
			t.Errorf("the key is at rest")
		}
	})
}

// Bad input is a 400 (or 404) on every application call, never a 500.
func TestApplicationBadInput(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := taStart(t, b)
		app := e.createApp(e.defaultTenant(), "Target")["id"].(string)
		role := e.ok("role", e.do("POST", "/api/application/"+app+"/role", e.root, map[string]any{"role": map[string]any{"name": "r"}}), "role")["id"].(string)
		bodies := []string{
			``, `{`, `[]`, `null`, `{"application":"x"}`, `{"application":{"name":{}}}`, `{"application":{"name":"n","roles":"x"}}`,
			`{"application":{"name":"n","roles":[1,null,{"name":5}]}}`, `{"application":{"name":"n","oauthConfiguration":[]}}`,
			`{"application":{"name":"n","oauthConfiguration":{"enabledGrants":"password"}}}`, `{"application":{"name":"n","tenantId":{"x":1}}}`,
			`{"application":{"name":"n","oauthConfiguration":{"authorizedRedirectURLs":[7]}}}`, `{"sourceApplicationId":[],"application":{"name":"n"}}`,
			`{"role":{"name":"\u0000"}}`, `{"role":{"name":"n","description":"a\u0000b"}}`, `{"role":[]}`, `{"role":{"id":"nope","name":"n"}}`,
			`{"application":{"name":"n","data":{"x":"` + strings.Repeat("a", 2<<20) + `"}}}`,
		}
		calls := []struct{ method, path string }{
			{"POST", "/api/application"}, {"POST", "/api/application/" + uuid.NewString()}, {"PUT", "/api/application/" + app},
			{"PATCH", "/api/application/" + app}, {"POST", "/api/application/search"},
			{"POST", "/api/application/" + app + "/role"}, {"PUT", "/api/application/" + app + "/role/" + role},
			{"PATCH", "/api/application/" + app + "/role/" + role},
		}
		for i, body := range bodies {
			for _, c := range calls {
				if r := e.do(c.method, c.path, e.root, body); r.Status >= 500 {
					t.Errorf("body %d on %s %s: %d %s", i, c.method, c.path, r.Status, truncate(r.Body))
				}
			}
		}
		for _, q := range []string{"?inactive=maybe", "?hardDelete=1", "?reactivate=yes"} {
			for _, m := range []string{"GET", "DELETE", "PUT"} {
				if r := e.do(m, "/api/application/"+uuid.NewString()+q, e.root, nil); r.Status >= 500 {
					t.Errorf("%s %s: %d", m, q, r.Status)
				}
			}
		}
	})
}
