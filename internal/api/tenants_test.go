package api_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/testutil"
)

func TestTenantCRUD(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := taStart(t, b)

		// The Default tenant reads with FusionAuth's defaults filled in.
		def := e.ok("retrieve default", e.do("GET", "/api/tenant/"+e.defaultTenant(), e.root, nil), "tenant")
		defaults := []struct {
			path []any
			want any
		}{
			{[]any{"issuer"}, "acme.com"},
			{[]any{"passwordValidationRules", "minLength"}, taNum(8)},
			{[]any{"passwordValidationRules", "maxLength"}, taNum(256)},
			{[]any{"passwordEncryptionConfiguration", "encryptionScheme"}, "salted-pbkdf2-hmac-sha256"},
			{[]any{"passwordEncryptionConfiguration", "encryptionSchemeFactor"}, taNum(24000)},
			{[]any{"jwtConfiguration", "timeToLiveInSeconds"}, taNum(3600)},
			{[]any{"jwtConfiguration", "refreshTokenTimeToLiveInMinutes"}, taNum(43200)},
			{[]any{"failedAuthenticationConfiguration", "tooManyAttempts"}, taNum(5)},
			{[]any{"externalIdentifierConfiguration", "changePasswordIdTimeToLiveInSeconds"}, taNum(600)},
			{[]any{"emailConfiguration", "port"}, taNum(25)},
			{[]any{"state"}, "Active"},
		}
		for _, d := range defaults {
			if got := jsonAt(def, d.path...); !model.JSONEqual(got, d.want) {
				t.Errorf("default tenant %v = %v, want %v", d.path, got, d.want)
			}
		}

		// Create with a generated id.
		before := e.s.Clock.Now().UnixMilli()
		acme := e.createTenant("Acme")
		id, _ := acme["id"].(string)
		if _, err := uuid.Parse(id); err != nil {
			t.Fatalf("tenant id %q is not a UUID", id)
		}
		if acme["name"] != "Acme" || !model.JSONEqual(acme["insertInstant"], taNum(before)) || !model.JSONEqual(acme["lastUpdateInstant"], taNum(before)) {
			t.Errorf("created tenant: %v", acme)
		}
		if !model.JSONEqual(jsonAt(acme, "passwordValidationRules", "minLength"), taNum(8)) {
			t.Errorf("defaults not filled on create: %v", acme["passwordValidationRules"])
		}

		// Create with a chosen id; the same id again is a duplicate.
		chosen := uuid.NewString()
		got := e.ok("create with id", e.do("POST", "/api/tenant/"+chosen, e.root, map[string]any{"tenant": map[string]any{"name": "Chosen"}}), "tenant")
		if got["id"] != chosen {
			t.Errorf("chosen id: got %v", got["id"])
		}
		want400(t, "same id", e.do("POST", "/api/tenant/"+chosen, e.root, map[string]any{"tenant": map[string]any{"name": "Other"}}), "[duplicate]tenant.id")
		want400(t, "bad id", e.do("POST", "/api/tenant/not-a-uuid", e.root, map[string]any{"tenant": map[string]any{"name": "Other"}}), "[invalid]tenant.id")
		want400(t, "same name other case", e.do("POST", "/api/tenant", e.root, map[string]any{"tenant": map[string]any{"name": "ACME"}}), "[duplicate]tenant.name")
		want400(t, "blank name", e.do("POST", "/api/tenant", e.root, map[string]any{"tenant": map[string]any{"name": "  "}}), "[blank]tenant.name")
		want400(t, "no tenant", e.do("POST", "/api/tenant", e.root, map[string]any{}), "[blank]tenant.name")
		want400(t, "name not a string", e.do("POST", "/api/tenant", e.root, `{"tenant":{"name":7}}`), "[invalid]tenant.name")

		// Retrieve one and all.
		if r := e.ok("retrieve", e.do("GET", "/api/tenant/"+id, e.root, nil), "tenant"); !model.JSONEqual(r, acme) {
			t.Errorf("retrieve differs from create:\n%v\n%v", r, acme)
		}
		wantEmpty(t, "unknown id", e.do("GET", "/api/tenant/"+uuid.NewString(), e.root, nil), 404)
		wantEmpty(t, "malformed id", e.do("GET", "/api/tenant/zzz", e.root, nil), 404)
		var all struct {
			Tenants []map[string]any `json:"tenants"`
		}
		e.do("GET", "/api/tenant", e.root, nil).JSON(t, &all)
		if len(all.Tenants) != 3 {
			t.Errorf("retrieve all: %d tenants, want 3", len(all.Tenants))
		}

		// Update: the name changes, lastUpdateInstant moves, insertInstant stays.
		e.s.Clock.Advance(time.Minute)
		upd := e.ok("update", e.do("PUT", "/api/tenant/"+id, e.root, map[string]any{"tenant": map[string]any{
			"name": "Acme Corp", "passwordValidationRules": map[string]any{"minLength": 12}}}), "tenant")
		if upd["name"] != "Acme Corp" || !model.JSONEqual(upd["insertInstant"], acme["insertInstant"]) ||
			!model.JSONEqual(upd["lastUpdateInstant"], taNum(before+time.Minute.Milliseconds())) {
			t.Errorf("updated tenant: name %v insert %v update %v", upd["name"], upd["insertInstant"], upd["lastUpdateInstant"])
		}
		if !model.JSONEqual(jsonAt(upd, "passwordValidationRules", "minLength"), taNum(12)) ||
			!model.JSONEqual(jsonAt(upd, "passwordValidationRules", "maxLength"), taNum(256)) {
			t.Errorf("update: password rules %v", upd["passwordValidationRules"])
		}
		want400(t, "update to a taken name", e.do("PUT", "/api/tenant/"+id, e.root, map[string]any{"tenant": map[string]any{"name": "chosen"}}), "[duplicate]tenant.name")
		wantEmpty(t, "update unknown", e.do("PUT", "/api/tenant/"+uuid.NewString(), e.root, map[string]any{"tenant": map[string]any{"name": "X"}}), 404)

		// Settings Latch acts on are checked.
		settings := []struct {
			tenant map[string]any
			code   string
		}{
			{map[string]any{"passwordValidationRules": map[string]any{"minLength": "eight"}}, "[invalid]tenant.passwordValidationRules.minLength"},
			{map[string]any{"passwordValidationRules": map[string]any{"maxLength": 1000}}, "[invalid]tenant.passwordValidationRules.maxLength"},
			{map[string]any{"passwordValidationRules": map[string]any{"minLength": 20, "maxLength": 10}}, "[invalid]tenant.passwordValidationRules.maxLength"},
			{map[string]any{"passwordValidationRules": map[string]any{"minLength": 0}}, "[invalid]tenant.passwordValidationRules.minLength"},
			{map[string]any{"passwordEncryptionConfiguration": map[string]any{"encryptionScheme": "rot13"}}, "[invalid]tenant.passwordEncryptionConfiguration.encryptionScheme"},
			{map[string]any{"passwordEncryptionConfiguration": map[string]any{"encryptionSchemeFactor": -1}}, "[invalid]tenant.passwordEncryptionConfiguration.encryptionSchemeFactor"},
			{map[string]any{"jwtConfiguration": map[string]any{"timeToLiveInSeconds": 0}}, "[invalid]tenant.jwtConfiguration.timeToLiveInSeconds"},
			{map[string]any{"jwtConfiguration": map[string]any{"refreshTokenUsagePolicy": "Sometimes"}}, "[invalid]tenant.jwtConfiguration.refreshTokenUsagePolicy"},
			{map[string]any{"jwtConfiguration": "yes"}, "[invalid]tenant.jwtConfiguration"},
			{map[string]any{"failedAuthenticationConfiguration": map[string]any{"tooManyAttempts": 0}}, "[invalid]tenant.failedAuthenticationConfiguration.tooManyAttempts"},
			{map[string]any{"emailConfiguration": map[string]any{"port": 70000}}, "[invalid]tenant.emailConfiguration.port"},
			{map[string]any{"emailConfiguration": map[string]any{"password": 12}}, "[invalid]tenant.emailConfiguration.password"},
			{map[string]any{"data": []any{1}}, "[invalid]tenant.data"},
			{map[string]any{"name": strings.Repeat("n", 300)}, "[tooLong]tenant.name"},
		}
		for _, c := range settings {
			body := map[string]any{"name": "Settings"}
			for k, v := range c.tenant {
				body[k] = v
			}
			want400(t, c.code, e.do("POST", "/api/tenant", e.root, map[string]any{"tenant": body}), c.code)
		}

		// Delete; then it is gone. async=true is accepted (202).
		wantEmpty(t, "delete", e.do("DELETE", "/api/tenant/"+id, e.root, nil), 200)
		wantEmpty(t, "retrieve deleted", e.do("GET", "/api/tenant/"+id, e.root, nil), 404)
		wantEmpty(t, "delete again", e.do("DELETE", "/api/tenant/"+id, e.root, nil), 404)
		wantEmpty(t, "delete async", e.do("DELETE", "/api/tenant/"+chosen+"?async=true", e.root, nil), 202)
		wantEmpty(t, "retrieve async-deleted", e.do("GET", "/api/tenant/"+chosen, e.root, nil), 404)
		other := e.createTenant("Other")
		wantEmpty(t, "delete with request body", e.do("DELETE", "/api/tenant/"+other["id"].(string), e.root, `{"async":true}`), 202)

		// Every change was audited, without secrets.
		for _, target := range []string{id, chosen} {
			if n := len(e.audits(target)); n < 2 {
				t.Errorf("tenant %s: %d audit entries, want create and delete at least", target, n)
			}
		}
	})
}

// A client that sends a whole tenant (FusionAuth's documented example, with
// settings Latch does not know) gets every member back unchanged.
func TestTenantRoundTrip(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := taStart(t, b)
		req := taExample(t, "fusionauth-tenant-request.json")
		sent := req["tenant"].(map[string]any)
		sent["futureSetting"] = map[string]any{"ratio": json.Number("2.50"), "big": json.Number("12345678901234567890"), "list": []any{"a", nil, true}}
		e.exampleKeys(sent)
		created := e.ok("create example", e.do("POST", "/api/tenant", e.root, req), "tenant")
		if err := jsonSubset(sent, created, "tenant"); err != nil {
			t.Errorf("created tenant lost what was sent: %v", err)
		}
		got := e.ok("retrieve example", e.do("GET", "/api/tenant/"+created["id"].(string), e.root, nil), "tenant")
		if err := jsonSubset(sent, got, "tenant"); err != nil {
			t.Errorf("retrieved tenant lost what was sent: %v", err)
		}
		// Numbers come back as written, not as floats.
		r := e.do("GET", "/api/tenant/"+created["id"].(string), e.root, nil)
		for _, lit := range []string{`"ratio":2.50`, `"big":12345678901234567890`} {
			if !bytes.Contains(r.Body, []byte(lit)) {
				t.Errorf("response does not contain %s", lit)
			}
		}
		// PUT of what GET returned changes nothing but lastUpdateInstant.
		e.s.Clock.Advance(time.Second)
		put := e.ok("put back", e.do("PUT", "/api/tenant/"+created["id"].(string), e.root, map[string]any{"tenant": got}), "tenant")
		delete(put, "lastUpdateInstant")
		delete(got, "lastUpdateInstant")
		if !model.JSONEqual(put, got) {
			t.Errorf("PUT of the retrieved tenant changed it")
		}
	})
}

func TestTenantCopy(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := taStart(t, b)
		src := e.ok("create source", e.do("POST", "/api/tenant", e.root, map[string]any{"tenant": map[string]any{
			"name": "Source", "passwordValidationRules": map[string]any{"minLength": 14}, "data": map[string]any{"k": "v"},
			"emailConfiguration": map[string]any{"password": "smtp-secret"}}}), "tenant")
		cp := e.ok("copy", e.do("POST", "/api/tenant", e.root, map[string]any{"sourceTenantId": src["id"], "tenant": map[string]any{"name": "Copy"}}), "tenant")
		if cp["id"] == src["id"] || cp["name"] != "Copy" {
			t.Fatalf("copy: id %v name %v", cp["id"], cp["name"])
		}
		for _, p := range [][]any{{"passwordValidationRules", "minLength"}, {"data", "k"}, {"emailConfiguration", "password"}} {
			if !model.JSONEqual(jsonAt(cp, p...), jsonAt(src, p...)) {
				t.Errorf("copy %v = %v, want %v", p, jsonAt(cp, p...), jsonAt(src, p...))
			}
		}
		chosen := uuid.NewString()
		if got := e.ok("copy with id", e.do("POST", "/api/tenant/"+chosen, e.root, map[string]any{"sourceTenantId": src["id"], "tenant": map[string]any{"name": "Copy 2"}}), "tenant"); got["id"] != chosen {
			t.Errorf("copy with id: %v", got["id"])
		}
		want400(t, "copy keeping the name", e.do("POST", "/api/tenant", e.root, map[string]any{"sourceTenantId": src["id"]}), "[duplicate]tenant.name")
		want400(t, "unknown source", e.do("POST", "/api/tenant", e.root, map[string]any{"sourceTenantId": uuid.NewString(), "tenant": map[string]any{"name": "X"}}), "[invalid]sourceTenantId")
		want400(t, "malformed source", e.do("POST", "/api/tenant", e.root, map[string]any{"sourceTenantId": "nope", "tenant": map[string]any{"name": "X"}}), "[invalid]sourceTenantId")
	})
}

func TestTenantPatch(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := taStart(t, b)
		tn := e.ok("create", e.do("POST", "/api/tenant", e.root, map[string]any{"tenant": map[string]any{
			"name": "Patchy", "data": map[string]any{"tags": []any{"a"}, "drop": "me", "keep": 1}}}), "tenant")
		path := "/api/tenant/" + tn["id"].(string)
		patch := func(ct, body string) *testutil.Response { return e.do("PATCH", path, e.root, body, "Content-Type", ct) }

		// FusionAuth's original form: merge, null removes, arrays append.
		got := e.ok("fusionauth patch", patch("application/json", `{"tenant":{"data":{"tags":["b"],"drop":null},"issuer":"https://id.example.com"}}`), "tenant")
		if !model.JSONEqual(got["data"], map[string]any{"tags": []any{"a", "b"}, "keep": taNum(1)}) || got["issuer"] != "https://id.example.com" || got["name"] != "Patchy" {
			t.Errorf("fusionauth patch: data %v issuer %v name %v", got["data"], got["issuer"], got["name"])
		}
		// RFC 7396: arrays replace.
		got = e.ok("merge patch", patch("application/merge-patch+json", `{"tenant":{"data":{"tags":["c"]},"passwordValidationRules":{"minLength":10}}}`), "tenant")
		if !model.JSONEqual(jsonAt(got, "data", "tags"), []any{"c"}) || !model.JSONEqual(jsonAt(got, "passwordValidationRules", "minLength"), taNum(10)) ||
			!model.JSONEqual(jsonAt(got, "passwordValidationRules", "maxLength"), taNum(256)) {
			t.Errorf("merge patch: data %v rules %v", got["data"], got["passwordValidationRules"])
		}
		// RFC 6902, with a passing test.
		got = e.ok("json patch", patch("application/json-patch+json",
			`[{"op":"test","path":"/tenant/name","value":"Patchy"},{"op":"replace","path":"/tenant/name","value":"Renamed"},{"op":"add","path":"/tenant/data/tags/0","value":"first"}]`), "tenant")
		if got["name"] != "Renamed" || !model.JSONEqual(jsonAt(got, "data", "tags"), []any{"first", "c"}) {
			t.Errorf("json patch: name %v tags %v", got["name"], jsonAt(got, "data", "tags"))
		}
		// A failing test op changes nothing.
		want400(t, "failing test", patch("application/json-patch+json",
			`[{"op":"replace","path":"/tenant/name","value":"Nope"},{"op":"test","path":"/tenant/name","value":"Patchy"}]`), "[JSONPatchTestFailed]")
		if cur := e.ok("after failed patch", e.do("GET", path, e.root, nil), "tenant"); cur["name"] != "Renamed" {
			t.Errorf("a failed patch changed the name to %v", cur["name"])
		}
		// The patched result is validated as a PUT would be.
		want400(t, "patch removes the name", patch("application/merge-patch+json", `{"tenant":{"name":null}}`), "[blank]tenant.name")
		want400(t, "patch breaks a setting", patch("application/json", `{"tenant":{"jwtConfiguration":{"timeToLiveInSeconds":"long"}}}`), "[invalid]tenant.jwtConfiguration.timeToLiveInSeconds")
		want400(t, "patch to a taken name", patch("application/json", `{"tenant":{"name":"default"}}`), "[duplicate]tenant.name")
		want400(t, "bad patch JSON", patch("application/json", `{"tenant":`), "[invalidJSON]")
		want400(t, "json patch on a missing member", patch("application/json-patch+json", `[{"op":"remove","path":"/tenant/nothing"}]`), "[invalidJSONPatch]")
		want400(t, "json patch not an array", patch("application/json-patch+json", `{"tenant":{}}`), "[invalidJSONPatch]")
		wantEmpty(t, "patch unknown", e.do("PATCH", "/api/tenant/"+uuid.NewString(), e.root, `{"tenant":{"name":"x"}}`), 404)
	})
}

func TestTenantSearch(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := taStart(t, b)
		for _, n := range []string{"Playtronics One", "Playtronics Two", "Other"} {
			e.createTenant(n)
			e.s.Clock.Advance(time.Second)
		}
		type result struct {
			Tenants []struct{ Name string } `json:"tenants"`
			Total   int                     `json:"total"`
		}
		names := func(r result) []string {
			var out []string
			for _, tn := range r.Tenants {
				out = append(out, tn.Name)
			}
			return out
		}
		var r result
		e.do("POST", "/api/tenant/search", e.root, map[string]any{"search": map[string]any{"name": "playtronics", "numberOfResults": 1, "orderBy": "insertInstant DESC"}}).JSON(t, &r)
		if r.Total != 2 || len(r.Tenants) != 1 || r.Tenants[0].Name != "Playtronics Two" {
			t.Errorf("POST search: %+v", r)
		}
		r = result{}
		e.do("GET", "/api/tenant/search?name=play*&startRow=1&orderBy=name", e.root, nil).JSON(t, &r)
		if r.Total != 2 || len(r.Tenants) != 1 || r.Tenants[0].Name != "Playtronics Two" {
			t.Errorf("GET search: %+v", r)
		}
		r = result{}
		e.do("POST", "/api/tenant/search", e.root, map[string]any{}).JSON(t, &r)
		if r.Total != 4 || len(names(r)) != 4 {
			t.Errorf("search everything: %+v", r)
		}
		want400(t, "bad order", e.do("POST", "/api/tenant/search", e.root, map[string]any{"search": map[string]any{"orderBy": "password"}}), "[invalid]search.orderBy")
		want400(t, "bad startRow", e.do("GET", "/api/tenant/search?startRow=x", e.root, nil), "[invalid]search.startRow")
		want400(t, "negative results", e.do("POST", "/api/tenant/search", e.root, map[string]any{"search": map[string]any{"numberOfResults": -1}}), "[invalid]search.numberOfResults")
		// Search results leave the tenant's secrets out.
		e.do("POST", "/api/tenant", e.root, map[string]any{"tenant": map[string]any{"name": "Secretive", "emailConfiguration": map[string]any{"password": "smtp-pw-xyz"}}})
		if sr := e.do("GET", "/api/tenant/search?name=secretive", e.root, nil); bytes.Contains(sr.Body, []byte("smtp-pw-xyz")) || !bytes.Contains(sr.Body, []byte("Secretive")) {
			t.Errorf("search result: %s", sr.Body)
		}
	})
}

// Tenant-scoped keys see and change only their own tenants; global
// operations refuse them.
func TestTenantScopedKeys(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := taStart(t, b)
		a := e.createTenant("A")["id"].(string)
		bID := e.createTenant("B")["id"].(string)
		appA := e.createApp(a, "App A")["id"].(string)
		appB := e.createApp(bID, "App B")["id"].(string)
		keyA, _ := e.scopedKey(a)

		var all struct {
			Tenants []struct{ ID string } `json:"tenants"`
		}
		e.do("GET", "/api/tenant", keyA, nil).JSON(t, &all)
		if len(all.Tenants) != 1 || all.Tenants[0].ID != a {
			t.Errorf("scoped retrieve all: %+v", all)
		}
		e.ok("own tenant", e.do("GET", "/api/tenant/"+a, keyA, nil), "tenant")
		e.ok("update own tenant", e.do("PUT", "/api/tenant/"+a, keyA, map[string]any{"tenant": map[string]any{"name": "A2"}}), "tenant")
		wantEmpty(t, "other tenant", e.do("GET", "/api/tenant/"+bID, keyA, nil), 404)
		wantEmpty(t, "update other tenant", e.do("PUT", "/api/tenant/"+bID, keyA, map[string]any{"tenant": map[string]any{"name": "B2"}}), 404)
		wantEmpty(t, "patch other tenant", e.do("PATCH", "/api/tenant/"+bID, keyA, `{"tenant":{"name":"B2"}}`), 404)
		wantEmpty(t, "delete other tenant", e.do("DELETE", "/api/tenant/"+bID, keyA, nil), 404)
		wantEmpty(t, "scoped create", e.do("POST", "/api/tenant", keyA, map[string]any{"tenant": map[string]any{"name": "C"}}), 401)
		wantEmpty(t, "scoped search", e.do("POST", "/api/tenant/search", keyA, map[string]any{}), 401)
		wantEmpty(t, "global key naming a tenant: search", e.do("GET", "/api/tenant/search", e.root, nil, "X-FusionAuth-TenantId", a), 401)
		wantEmpty(t, "global key naming a tenant: create", e.do("POST", "/api/tenant", e.root, map[string]any{"tenant": map[string]any{"name": "C"}}, "X-FusionAuth-TenantId", a), 401)
		wantEmpty(t, "header narrows the global key", e.do("GET", "/api/tenant/"+bID, e.root, nil, "X-FusionAuth-TenantId", a), 404)

		// Applications of the other tenant are invisible too.
		var apps struct {
			Applications []struct{ ID, TenantID string } `json:"applications"`
		}
		e.do("GET", "/api/application", keyA, nil).JSON(t, &apps)
		if len(apps.Applications) != 1 || apps.Applications[0].ID != appA {
			t.Errorf("scoped applications: %+v", apps)
		}
		wantEmpty(t, "other tenant's application", e.do("GET", "/api/application/"+appB, keyA, nil), 404)
		wantEmpty(t, "other tenant's oauth configuration", e.do("GET", "/api/application/"+appB+"/oauth-configuration", keyA, nil), 404)
		wantEmpty(t, "update other tenant's application", e.do("PUT", "/api/application/"+appB, keyA, map[string]any{"application": map[string]any{"name": "x"}}), 404)
		wantEmpty(t, "delete other tenant's application", e.do("DELETE", "/api/application/"+appB+"?hardDelete=true", keyA, nil), 404)
		wantEmpty(t, "role on other tenant's application", e.do("POST", "/api/application/"+appB+"/role", keyA, map[string]any{"role": map[string]any{"name": "r"}}), 404)
		var found struct {
			Applications []struct{ ID string } `json:"applications"`
			Total        int                   `json:"total"`
		}
		e.do("POST", "/api/application/search", keyA, map[string]any{"search": map[string]any{"name": "App"}}).JSON(t, &found)
		if found.Total != 1 || len(found.Applications) != 1 || found.Applications[0].ID != appA {
			t.Errorf("scoped application search: %+v", found)
		}
		found.Total = -1
		e.do("POST", "/api/application/search", keyA, map[string]any{"search": map[string]any{"tenantId": bID}}).JSON(t, &found)
		if found.Total != 0 {
			t.Errorf("scoped search for the other tenant's applications: %+v", found)
		}

		// A scoped key creates applications in its tenant, and only there.
		mine := e.ok("scoped create", e.do("POST", "/api/application", keyA, map[string]any{"application": map[string]any{"name": "Mine"}}), "application")
		if mine["tenantId"] != a {
			t.Errorf("scoped create went to tenant %v, want %s", mine["tenantId"], a)
		}
		want400(t, "scoped create elsewhere", e.do("POST", "/api/application", keyA, map[string]any{"application": map[string]any{"name": "Theirs", "tenantId": bID}}), "[invalid]application.tenantId")
	})
}

// Deleting a tenant deletes its applications, the keys limited to it alone
// (they stop working at once), and narrows keys limited to it among others.
func TestTenantDeleteCascade(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := taStart(t, b)
		a := e.createTenant("A")["id"].(string)
		bID := e.createTenant("B")["id"].(string)
		appA := e.createApp(a, "App A")["id"].(string)
		roleResp := e.do("POST", "/api/application/"+appA+"/role", e.root, map[string]any{"role": map[string]any{"name": "r"}})
		if roleResp.Status != 200 {
			t.Fatalf("create role: %d %s", roleResp.Status, roleResp.Body)
		}
		onlyA, onlyAID := e.scopedKey(a)
		both, bothID := e.scopedKey(a, bID)
		onlyB, _ := e.scopedKey(bID)
		e.ok("only-A key works", e.do("GET", "/api/tenant/"+a, onlyA, nil), "tenant")

		wantEmpty(t, "delete A", e.do("DELETE", "/api/tenant/"+a, e.root, nil), 200)
		wantEmpty(t, "deleted tenant's key", e.do("GET", "/api/tenant/"+bID, onlyA, nil), 401)
		wantEmpty(t, "deleted key is gone", e.do("GET", "/api/api-key/"+onlyAID, e.root, nil), 404)
		var k struct {
			APIKey model.APIKey `json:"apiKey"`
		}
		e.do("GET", "/api/api-key/"+bothID, e.root, nil).JSON(t, &k)
		if got := k.APIKey.Tenants(); len(got) != 1 || got[0] != bID {
			t.Errorf("key of A and B now has tenants %v, want [%s]", got, bID)
		}
		e.ok("narrowed key still works for B", e.do("GET", "/api/tenant/"+bID, both, nil), "tenant")
		wantEmpty(t, "narrowed key no longer sees A", e.do("GET", "/api/tenant/"+a, both, nil), 404)
		e.ok("B's key is untouched", e.do("GET", "/api/tenant/"+bID, onlyB, nil), "tenant")
		wantEmpty(t, "A's application is gone", e.do("GET", "/api/application/"+appA, e.root, nil), 404)
		if n, err := e.st.Read().RolesOfApplications(t.Context(), []string{appA}); err != nil || len(n) != 0 {
			t.Errorf("roles of the deleted application remain: %v %v", n, err)
		}

		audits := e.audits(a)
		if len(audits) == 0 || audits[len(audits)-1].Severity != "critical" {
			t.Errorf("tenant deletion not audited as critical: %+v", audits)
		}
		if len(e.audits(onlyAID)) < 2 || len(e.audits(bothID)) < 2 {
			t.Errorf("key deletion or narrowing not audited")
		}

		// The tenant of the admin application cannot be deleted.
		def := e.defaultTenant()
		want400(t, "delete the Default tenant", e.do("DELETE", "/api/tenant/"+def, e.root, nil), "[cannotDelete]tenantId")
		e.ok("Default tenant remains", e.do("GET", "/api/tenant/"+def, e.root, nil), "tenant")
	})
}

// Bad input is a 400 (or 404) on every tenant call, never a 500.
func TestTenantBadInput(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := taStart(t, b)
		id := e.createTenant("Target")["id"].(string)
		bodies := []string{
			``, `{`, `[]`, `"tenant"`, `null`, `{"tenant":"x"}`, `{"tenant":[1]}`, `{"tenant":{"name":["a"]}}`,
			`{"tenant":{"name":"n","passwordValidationRules":[]}}`, `{"tenant":{"name":"n","externalIdentifierConfiguration":{"changePasswordIdGenerator":"x"}}}`,
			`{"tenant":{"name":"n","x":1e999999}}`, `{"sourceTenantId":5,"tenant":{"name":"n"}}`,
			`{"tenant":{"name":"\u0000"}}`, strings.Repeat("[", 100000),
			`{"tenant":{"name":"big","data":{"x":"` + strings.Repeat("a", 2<<20) + `"}}}`,
		}
		for i, body := range bodies {
			for _, call := range []struct{ method, path string }{
				{"POST", "/api/tenant"}, {"PUT", "/api/tenant/" + id}, {"PATCH", "/api/tenant/" + id},
				{"POST", "/api/tenant/search"}, {"DELETE", "/api/tenant/" + uuid.NewString()},
			} {
				r := e.do(call.method, call.path, e.root, body)
				if r.Status >= 500 {
					t.Errorf("body %d on %s %s: status %d %s", i, call.method, call.path, r.Status, truncate(r.Body))
				}
			}
		}
		for _, ct := range []string{"application/json-patch+json", "application/merge-patch+json", "text/plain"} {
			for _, body := range []string{`[{"op":"copy","from":"","path":"/tenant/data"}]`, `[{}]`, `{"tenant":null}`, `7`} {
				if r := e.do("PATCH", "/api/tenant/"+id, e.root, body, "Content-Type", ct); r.Status >= 500 {
					t.Errorf("PATCH %s %s: %d", ct, body, r.Status)
				}
			}
		}
	})
}

func truncate(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}

// Concurrent creates of one name (in different cases): one wins, the others
// get the duplicate error, none a 500.
func TestTenantConcurrentCreate(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := taStart(t, b)
		const n = 8
		statuses := make(chan *testutil.Response, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				name := "Race"
				if i%2 == 1 {
					name = "RACE"
				}
				statuses <- e.s.Do(t, "POST", "/api/tenant", e.root, map[string]any{"tenant": map[string]any{"name": name}})
			}()
		}
		wg.Wait()
		close(statuses)
		won := 0
		for r := range statuses {
			switch r.Status {
			case 200:
				won++
			case 400:
				if codes := errorCodes(t, r); len(codes) != 1 || codes[0] != "[duplicate]tenant.name" {
					t.Errorf("loser codes: %v", codes)
				}
			default:
				t.Errorf("status %d %s", r.Status, r.Body)
			}
		}
		if won != 1 {
			t.Errorf("%d creates won, want 1", won)
		}
	})
}
