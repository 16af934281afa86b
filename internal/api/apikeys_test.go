package api_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/testutil"
)

func TestAPIKeyCreateRetrieveDelete(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := akStart(t, b)
		now := e.now()
		expires := now + millis(24*time.Hour)

		// A random, retrievable (the default) key with FusionAuth's fields.
		r := e.do("POST", "/api/api-key", e.root, map[string]any{"apiKey": map[string]any{
			"name":              "Awesome API Key",
			"metaData":          map[string]any{"attributes": map[string]string{"description": "non-manager key"}},
			"permissions":       keyPerms("/api/application", "DELETE", "POST", "GET", "PUT", "PATCH"),
			"expirationInstant": expires,
		}})
		if r.Status != 200 {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		raw := decodeObject(t, r)
		if len(raw) != 1 || raw["apiKey"] == nil {
			t.Fatalf("create answered %s, want only an apiKey wrapper", r.Body)
		}
		var created akKeyBody
		r.JSON(t, &created)
		k := created.APIKey
		if _, err := uuid.Parse(k.ID); err != nil {
			t.Errorf("id %q is not a UUID", k.ID)
		}
		if len(k.Key) != 64 {
			t.Errorf("random key value has %d characters, want 64", len(k.Key))
		}
		if k.Name != "Awesome API Key" || k.KeyManager || !k.Retrievable || k.TenantID != "" ||
			k.InsertInstant != now || k.LastUpdateInstant != now || k.ExpirationInstant == nil || *k.ExpirationInstant != expires ||
			k.MetaData == nil || k.MetaData.Attributes["description"] != "non-manager key" {
			t.Errorf("created key fields: %+v", k)
		}
		if got := k.Permissions.Endpoints["/api/application"]; !slices.Equal(got, []string{"DELETE", "GET", "PATCH", "POST", "PUT"}) {
			t.Errorf("permissions %v", k.Permissions.Endpoints)
		}

		// Retrievable: GET returns the value, decrypted with the master key.
		got := e.get(k.ID)
		if got.Key != k.Key || got.Name != k.Name || got.InsertInstant != now || got.UseCount != 0 || got.LastUsedInstant != nil {
			t.Errorf("retrieved %+v, want the created key with its value", got)
		}
		gr := decodeObject(t, e.do("GET", "/api/api-key/"+k.ID, e.root, nil))["apiKey"].(map[string]any)
		for _, f := range []string{"id", "key", "name", "keyManager", "permissions", "metaData", "expirationInstant", "retrievable", "insertInstant", "lastUpdateInstant", "useCount"} {
			if _, ok := gr[f]; !ok {
				t.Errorf("retrieve response lacks %q: %v", f, gr)
			}
		}

		// The key works for what it was given and nothing else.
		if st := e.do("GET", "/api/system/version", k.Key, nil).Status; st != 401 {
			t.Errorf("key without /api/system/version reached it: %d", st)
		}
		ver := e.create(e.root, map[string]any{"permissions": keyPerms("/api/system/version", "GET")})
		if st := e.do("GET", "/api/system/version", ver.Key, nil).Status; st != 200 {
			t.Errorf("new key for /api/system/version: %d", st)
		}

		// FusionAuth's documented create request: caller-given id and value,
		// not retrievable, tenant, IP ACL, an expiration in the past.
		id := uuid.NewString()
		acl := e.acl("office")
		tenant := e.defaultTenant()
		r = e.do("POST", "/api/api-key/"+id, e.root, map[string]any{"apiKey": map[string]any{
			"expirationInstant":     872812800000,
			"key":                   "super-secret-key",
			"ipAccessControlListId": acl,
			"metaData":              map[string]any{"attributes": map[string]string{"description": "my super secret key"}},
			"name":                  "Example key",
			"permissions":           keyPerms("/api/application", "DELETE", "POST", "GET", "PUT", "PATCH"),
			"retrievable":           false,
			"tenantId":              tenant,
		}})
		if r.Status != 200 {
			t.Fatalf("create documented example: %d %s", r.Status, r.Body)
		}
		r.JSON(t, &created)
		ex := created.APIKey
		if ex.ID != id || ex.Key != "super-secret-key" || ex.Retrievable || ex.TenantID != tenant || ex.IPAccessControlListID != acl {
			t.Errorf("example key: %+v", ex)
		}
		if got := e.get(id); got.Key != "" || got.Retrievable || got.TenantID != tenant {
			t.Errorf("non-retrievable key retrieved as %+v; its value must not be shown again", got)
		}
		if st := e.do("GET", "/api/system/version", "super-secret-key", nil).Status; st != 401 {
			t.Errorf("expired example key authenticated: %d", st)
		}

		// Audit: who, how, what, never the value. (Calls the key was refused
		// are audited too, as denials; they are not about its creation.)
		var entries []*model.AuditLog
		for _, a := range e.audits(k.ID) {
			if a.Reason != "denied" {
				entries = append(entries, a)
			}
		}
		if len(entries) != 1 {
			t.Fatalf("audit entries for the new key: %d, want 1", len(entries))
		}
		a := entries[0]
		if a.ActorType != "apiKey" || a.ActorID != e.rootID || !strings.Contains(a.InsertUser, "Initial API key") ||
			a.Method != "POST" || a.Path != "/api/api-key" || a.IPAddress != "127.0.0.1" || len(a.NewValue) == 0 {
			t.Errorf("create audit entry: %+v", a)
		}
		if bytes.Contains(a.NewValue, []byte(k.Key)) || bytes.Contains(a.NewValue, []byte(`"key"`)) {
			t.Errorf("audit snapshot holds the key value: %s", a.NewValue)
		}

		// Delete: 200, empty body; gone afterwards, for the API and for auth.
		wantEmpty(t, "delete", e.do("DELETE", "/api/api-key/"+ver.ID, e.root, nil), 200)
		wantEmpty(t, "retrieve deleted", e.do("GET", "/api/api-key/"+ver.ID, e.root, nil), 404)
		wantEmpty(t, "delete again", e.do("DELETE", "/api/api-key/"+ver.ID, e.root, nil), 404)
		wantEmpty(t, "deleted key", e.do("GET", "/api/system/version", ver.Key, nil), 401)
		if del := e.audits(ver.ID); len(del) != 2 || del[1].Method != "DELETE" || len(del[1].OldValue) == 0 ||
			bytes.Contains(del[1].OldValue, []byte(ver.Key)) {
			t.Errorf("delete audit entries: %+v", del)
		}
		wantEmpty(t, "unknown id", e.do("GET", "/api/api-key/"+uuid.NewString(), e.root, nil), 404)
		wantEmpty(t, "malformed id", e.do("GET", "/api/api-key/not-a-uuid", e.root, nil), 404)
	})
}

func TestAPIKeyCopy(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := akStart(t, b)
		tenant := e.defaultTenant()
		acl := e.acl("copy acl")
		src := e.create(e.root, map[string]any{"name": "Awesome API Key", "tenantId": tenant, "ipAccessControlListId": acl,
			"retrievable": false, "permissions": keyPerms("/api/user", "GET"),
			"metaData": map[string]any{"attributes": map[string]string{"description": "d"}}})
		r := e.do("POST", "/api/api-key", e.root, map[string]any{"sourceKeyId": src.ID, "apiKey": map[string]any{"name": "Awesome API Key - copy"}})
		if r.Status != 200 {
			t.Fatalf("copy: %d %s", r.Status, r.Body)
		}
		var c akKeyBody
		r.JSON(t, &c)
		cp := c.APIKey
		if cp.ID == src.ID || cp.Key == "" || cp.Key == src.Key || cp.Name != "Awesome API Key - copy" || cp.TenantID != tenant ||
			cp.IPAccessControlListID != acl || cp.Retrievable || cp.MetaData == nil || cp.MetaData.Attributes["description"] != "d" ||
			!slices.Equal(cp.Permissions.Endpoints["/api/user"], []string{"GET"}) || len(cp.Permissions.Endpoints) != 1 {
			t.Errorf("copy %+v of %+v", cp, src)
		}
		want400(t, "copy of an unknown key", e.do("POST", "/api/api-key", e.root, map[string]any{"sourceKeyId": uuid.NewString()}), "[invalid]sourceKeyId")
	})
}

func TestAPIKeyNonManagerGets401(t *testing.T) {
	t.Parallel()
	e := akStart(t, testutil.Backend{Name: "sqlite"})
	plain := e.create(e.root, map[string]any{"name": "all endpoints, no manager"})
	target := e.create(e.root, map[string]any{"name": "target", "permissions": keyPerms("/api/user", "GET")})
	routes := []struct{ method, path string }{
		{"POST", "/api/api-key"},
		{"POST", "/api/api-key/" + uuid.NewString()},
		{"GET", "/api/api-key"},
		{"GET", "/api/api-key/" + target.ID},
		{"PUT", "/api/api-key/" + target.ID},
		{"PATCH", "/api/api-key/" + target.ID},
		{"DELETE", "/api/api-key/" + target.ID},
		{"POST", "/api/api-key/search"},
	}
	for _, rt := range routes {
		for name, key := range map[string]string{"non-manager key": plain.Key, "no key": "", "unknown key": "nope-nope-nope-nope"} {
			wantEmpty(t, name+" "+rt.method+" "+rt.path, e.do(rt.method, rt.path, key, `{"apiKey":{"name":"x"}}`), 401)
		}
	}
	e.get(target.ID) // untouched
}

func TestAPIKeyValidation(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := akStart(t, b)
		tenant := e.defaultTenant()
		taken := e.create(e.root, map[string]any{"name": "Taken Name", "key": "a-given-key-that-is-long"})
		cases := []struct {
			name string
			path string
			body any
			code string
		}{
			{"keyManager granted", "", map[string]any{"apiKey": map[string]any{"keyManager": true}}, "[invalid]apiKey.keyManager"},
			{"unknown tenant", "", map[string]any{"apiKey": map[string]any{"tenantId": uuid.NewString()}}, "[invalid]apiKey.tenantId"},
			{"malformed tenant", "", map[string]any{"apiKey": map[string]any{"tenantId": "nope"}}, "[invalid]apiKey.tenantId"},
			{"unknown tenant in tenantIds", "", map[string]any{"apiKey": map[string]any{"tenantIds": []string{tenant, uuid.NewString()}}}, "[invalid]apiKey.tenantIds"},
			{"tenantId and tenantIds", "", map[string]any{"apiKey": map[string]any{"tenantId": tenant, "tenantIds": []string{tenant}}}, "[invalid]apiKey.tenantIds"},
			{"unknown ip acl", "", map[string]any{"apiKey": map[string]any{"ipAccessControlListId": uuid.NewString()}}, "[invalid]apiKey.ipAccessControlListId"},
			{"malformed ip acl", "", map[string]any{"apiKey": map[string]any{"ipAccessControlListId": "x"}}, "[invalid]apiKey.ipAccessControlListId"},
			{"unknown endpoint", "", map[string]any{"apiKey": map[string]any{"permissions": keyPerms("/api/nope", "GET")}}, "[invalid]apiKey.permissions"},
			{"the key API as an endpoint", "", map[string]any{"apiKey": map[string]any{"permissions": keyPerms("/api/api-key", "GET")}}, "[invalid]apiKey.permissions"},
			{"bad method", "", map[string]any{"apiKey": map[string]any{"permissions": keyPerms("/api/user", "FETCH")}}, "[invalid]apiKey.permissions"},
			{"endpoints without methods", "", map[string]any{"apiKey": map[string]any{"permissions": keyPerms("/api/user")}}, "[invalid]apiKey.permissions"},
			{"short key", "", map[string]any{"apiKey": map[string]any{"key": "fifteen-chars!!"}}, "[tooShort]apiKey.key"},
			{"key with a space", "", map[string]any{"apiKey": map[string]any{"key": "sixteen chars plus"}}, "[invalid]apiKey.key"},
			{"duplicate key value", "", map[string]any{"apiKey": map[string]any{"key": "a-given-key-that-is-long"}}, "[duplicate]apiKey.key"},
			{"duplicate name", "", map[string]any{"apiKey": map[string]any{"name": "taken name"}}, "[duplicate]apiKey.name"},
			{"duplicate id", "/" + taken.ID, map[string]any{"apiKey": map[string]any{}}, "[duplicate]apiKey.id"},
			{"malformed id", "/not-a-uuid", map[string]any{"apiKey": map[string]any{}}, "[invalid]apiKey.id"},
			{"wrong type", "", `{"apiKey":{"keyManager":"yes"}}`, "[invalid]apiKey.keyManager"},
			{"apiKey not an object", "", `{"apiKey":[1]}`, "[invalid]apiKey"},
			{"malformed JSON", "", `{"apiKey":`, "[invalidJSON]"},
			{"negative expiration", "", map[string]any{"apiKey": map[string]any{"expirationInstant": -1}}, "[invalid]apiKey.expirationInstant"},
			{"name too long", "", map[string]any{"apiKey": map[string]any{"name": strings.Repeat("n", 256)}}, "[tooLong]apiKey.name"},
		}
		for _, c := range cases {
			want400(t, c.name, e.do("POST", "/api/api-key"+c.path, e.root, c.body), c.code)
		}
		// Nothing was made by the refused requests.
		r := e.do("GET", "/api/api-key?numberOfResults=100", e.root, nil)
		var list akKeysBody
		r.JSON(t, &list)
		if list.Total != 2 {
			t.Errorf("after refused creates: %d keys, want 2 (root and one)", list.Total)
		}
	})
}

// Accept what the official clients send by default.
func TestAPIKeyClientDefaults(t *testing.T) {
	t.Parallel()
	e := akStart(t, testutil.Backend{Name: "sqlite"})
	tenant := e.defaultTenant()
	// The Go client: keyManager and retrievable always, empty metaData and permissions.
	goKey := e.create(e.root, map[string]any{"keyManager": false, "retrievable": false, "metaData": map[string]any{}, "permissions": map[string]any{}})
	if goKey.Retrievable || goKey.KeyManager || len(goKey.Permissions.Endpoints) != 0 {
		t.Errorf("Go client key: %+v", goKey)
	}
	// Terraform's "permissions": {} with a tenant.
	tf := e.create(e.root, map[string]any{"permissions": map[string]any{}, "tenantId": tenant, "name": "terraform"})
	if tf.TenantID != tenant || len(tf.Permissions.Endpoints) != 0 {
		t.Errorf("Terraform key: %+v", tf)
	}
	// The Go client updating a retrievable key still sends "retrievable": false
	// and "keyManager": false; neither is a change request.
	ret := e.create(e.root, map[string]any{"name": "retrievable", "permissions": keyPerms("/api/user", "GET")})
	r := e.do("PUT", "/api/api-key/"+ret.ID, e.root, map[string]any{"apiKey": map[string]any{
		"name": "renamed", "keyManager": false, "retrievable": false, "metaData": map[string]any{}, "permissions": keyPerms("/api/user", "GET", "POST")}})
	if r.Status != 200 {
		t.Fatalf("Go client update: %d %s", r.Status, r.Body)
	}
	var up akKeyBody
	r.JSON(t, &up)
	if !up.APIKey.Retrievable || up.APIKey.Key != ret.Key || up.APIKey.Name != "renamed" {
		t.Errorf("after Go client update: %+v", up.APIKey)
	}
}

func TestAPIKeyUpdateAndPatch(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := akStart(t, b)
		tenant := e.defaultTenant()
		acl := e.acl("acl")
		k := e.create(e.root, map[string]any{"name": "Awesome API Key", "tenantId": tenant,
			"permissions": keyPerms("/api/application", "GET"), "metaData": map[string]any{"attributes": map[string]string{"a": "1"}}})
		created := e.now()
		e.s.Clock.Advance(time.Minute)

		// PUT replaces: FusionAuth's documented update request.
		r := e.do("PUT", "/api/api-key/"+k.ID, e.root, map[string]any{"apiKey": map[string]any{
			"expirationInstant":     1878422400000,
			"ipAccessControlListId": acl,
			"metaData":              map[string]any{"attributes": map[string]string{"description": "updating the key"}},
			"name":                  "Another Awesome API Key",
			"permissions":           keyPerms("/api/application", "DELETE", "POST", "GET", "PUT", "PATCH"),
		}})
		if r.Status != 200 {
			t.Fatalf("put: %d %s", r.Status, r.Body)
		}
		var got akKeyBody
		r.JSON(t, &got)
		u := got.APIKey
		if u.Name != "Another Awesome API Key" || u.IPAccessControlListID != acl || u.ExpirationInstant == nil || *u.ExpirationInstant != 1878422400000 ||
			u.MetaData.Attributes["description"] != "updating the key" || u.MetaData.Attributes["a"] != "" || u.TenantID != tenant ||
			len(u.Permissions.Endpoints["/api/application"]) != 5 || u.InsertInstant != created || u.LastUpdateInstant != e.now() ||
			u.Key != k.Key || !u.Retrievable {
			t.Errorf("after put: %+v", u)
		}
		if a := e.audits(k.ID); len(a) != 2 || a[1].Method != "PUT" || len(a[1].OldValue) == 0 || len(a[1].NewValue) == 0 ||
			bytes.Contains(a[1].OldValue, []byte(k.Key)) || bytes.Contains(a[1].NewValue, []byte(k.Key)) {
			t.Errorf("update audit: %+v", a)
		}

		// PATCH merges: given fields replace, null removes, maps merge.
		patch := func(body string, contentType string) model.APIKey {
			t.Helper()
			r := e.do("PATCH", "/api/api-key/"+k.ID, e.root, body, "Content-Type", contentType)
			if r.Status != 200 {
				t.Fatalf("patch %s: %d %s", body, r.Status, r.Body)
			}
			var got akKeyBody
			r.JSON(t, &got)
			return got.APIKey
		}
		p := patch(`{"apiKey":{"name":"patched"}}`, "application/json")
		if p.Name != "patched" || len(p.Permissions.Endpoints["/api/application"]) != 5 || p.IPAccessControlListID != acl || p.ExpirationInstant == nil {
			t.Errorf("patch name kept too little: %+v", p)
		}
		p = patch(`{"apiKey":{"permissions":{"endpoints":{"/api/user":["get"]}},"ipAccessControlListId":null,"expirationInstant":null}}`, "application/merge-patch+json")
		if len(p.Permissions.Endpoints) != 2 || !slices.Equal(p.Permissions.Endpoints["/api/user"], []string{"GET"}) ||
			p.IPAccessControlListID != "" || p.ExpirationInstant != nil {
			t.Errorf("patch merge: %+v", p)
		}
		p = patch(`{"apiKey":{"permissions":{"endpoints":{"/api/application":null}},"metaData":null}}`, "application/json")
		if len(p.Permissions.Endpoints) != 1 || p.Permissions.Endpoints["/api/user"] == nil || p.MetaData != nil {
			t.Errorf("patch removal: %+v", p)
		}
		// FusionAuth's own form appends to arrays; RFC 7396 replaces them.
		p = patch(`{"apiKey":{"permissions":{"endpoints":{"/api/user":["POST"]}}}}`, "application/json")
		if !slices.Equal(p.Permissions.Endpoints["/api/user"], []string{"GET", "POST"}) {
			t.Errorf("FusionAuth patch of methods: %v", p.Permissions.Endpoints)
		}
		p = patch(`{"apiKey":{"permissions":{"endpoints":{"/api/user":["DELETE"]}}}}`, "application/merge-patch+json; charset=utf-8")
		if !slices.Equal(p.Permissions.Endpoints["/api/user"], []string{"DELETE"}) {
			t.Errorf("merge patch of methods: %v", p.Permissions.Endpoints)
		}
		// RFC 6902 JSON Patch, the #2811 trap included.
		p = patch(`[{"op":"replace","path":"/apiKey/name","value":"json patched"},{"op":"test","path":"/apiKey/tenantId","value":"`+tenant+`"}]`, "application/json-patch+json")
		if p.Name != "json patched" {
			t.Errorf("json patch: %+v", p)
		}
		want400(t, "json patch removing permissions", e.do("PATCH", "/api/api-key/"+k.ID, e.root,
			`[{"op":"remove","path":"/apiKey/permissions"}]`, "Content-Type", "application/json-patch+json"), "[invalid]apiKey.permissions")
		p = patch(`[{"op":"remove","path":"/apiKey/permissions"},{"op":"add","path":"/allowAllEndpoints","value":true}]`, "application/json-patch+json")
		if !p.AllEndpoints() {
			t.Errorf("confirmed json patch to all endpoints: %+v", p)
		}
		p = patch(`{"apiKey":{"permissions":{"endpoints":{"/api/user":["GET"]}}}}`, "application/json")
		want400(t, "json patch on a fixed field", e.do("PATCH", "/api/api-key/"+k.ID, e.root,
			`[{"op":"remove","path":"/apiKey/tenantId"}]`, "Content-Type", "application/json-patch+json"), "[immutable]apiKey.tenantId")
		want400(t, "failed json patch test", e.do("PATCH", "/api/api-key/"+k.ID, e.root,
			`[{"op":"test","path":"/apiKey/name","value":"nope"}]`, "Content-Type", "application/json-patch+json"), "[JSONPatchTestFailed]")

		// Duplicate names are refused on update too, and the key is unchanged.
		e.create(e.root, map[string]any{"name": "Other"})
		want400(t, "rename to a taken name", e.do("PATCH", "/api/api-key/"+k.ID, e.root, `{"apiKey":{"name":"OTHER"}}`), "[duplicate]apiKey.name")
		want400(t, "unknown acl on update", e.do("PATCH", "/api/api-key/"+k.ID, e.root,
			fmt.Sprintf(`{"apiKey":{"ipAccessControlListId":%q}}`, uuid.NewString())), "[invalid]apiKey.ipAccessControlListId")
		if got := e.get(k.ID); got.Name != "json patched" {
			t.Errorf("refused update changed the key: %+v", got)
		}
		wantEmpty(t, "update unknown", e.do("PUT", "/api/api-key/"+uuid.NewString(), e.root, `{"apiKey":{}}`), 404)
		want400(t, "put without apiKey", e.do("PUT", "/api/api-key/"+k.ID, e.root, `{}`), "[missing]apiKey")
	})
}

func TestAPIKeyImmutableFields(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := akStart(t, b)
		tenant := e.defaultTenant()
		other := e.tenant("Other")
		k := e.create(e.root, map[string]any{"name": "fixed", "tenantId": tenant, "retrievable": false, "permissions": keyPerms("/api/user", "GET")})
		body := func(extra map[string]any) map[string]any {
			m := map[string]any{"name": "fixed", "permissions": keyPerms("/api/user", "GET"), "tenantId": tenant}
			for k, v := range extra {
				m[k] = v
			}
			return map[string]any{"apiKey": m}
		}
		path := "/api/api-key/" + k.ID
		want400(t, "another tenant", e.do("PUT", path, e.root, body(map[string]any{"tenantId": other})), "[immutable]apiKey.tenantId")
		want400(t, "several tenants", e.do("PATCH", path, e.root, fmt.Sprintf(`{"apiKey":{"tenantId":null,"tenantIds":[%q,%q]}}`, tenant, other)), "[immutable]apiKey.tenantIds")
		want400(t, "tenant removed", e.do("PATCH", path, e.root, `{"apiKey":{"tenantId":null}}`), "[immutable]apiKey.tenantId")
		want400(t, "made retrievable", e.do("PUT", path, e.root, body(map[string]any{"retrievable": true})), "[immutable]apiKey.retrievable")
		want400(t, "keyManager granted", e.do("PUT", path, e.root, body(map[string]any{"keyManager": true})), "[invalid]apiKey.keyManager")
		want400(t, "value changed", e.do("PUT", path, e.root, body(map[string]any{"key": "a-brand-new-key-value"})), "[immutable]apiKey.key")
		// The same tenant, the same value, retrievable false: no change requested.
		if r := e.do("PUT", path, e.root, body(map[string]any{"retrievable": false, "key": k.Key})); r.Status != 200 {
			t.Errorf("put of unchanged fixed fields: %d %s", r.Status, r.Body)
		}
		// Leaving tenantId out of a PUT keeps it.
		if r := e.do("PUT", path, e.root, `{"apiKey":{"name":"fixed","permissions":{"endpoints":{"/api/user":["GET"]}}}}`); r.Status != 200 {
			t.Errorf("put without tenantId: %d %s", r.Status, r.Body)
		}
		if got := e.get(k.ID); got.TenantID != tenant || got.Retrievable || got.KeyManager || got.Key != "" {
			t.Errorf("fixed fields changed: %+v", got)
		}
	})
}

// FusionAuth #2811: emptying a restricted key's endpoint map silently makes it
// an all-endpoints key. Latch refuses unless the request says so.
func TestAPIKeyAllEndpointsTrap(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := akStart(t, b)
		k := e.create(e.root, map[string]any{"name": "restricted", "permissions": keyPerms("/api/user", "GET")})
		path := "/api/api-key/" + k.ID
		traps := []struct {
			name, method, body string
		}{
			{"put without permissions", "PUT", `{"apiKey":{"name":"restricted"}}`},
			{"put with empty permissions", "PUT", `{"apiKey":{"name":"restricted","permissions":{}}}`},
			{"put with empty endpoints", "PUT", `{"apiKey":{"name":"restricted","permissions":{"endpoints":{}}}}`},
			{"put with methodless endpoints", "PUT", `{"apiKey":{"name":"restricted","permissions":{"endpoints":{"/api/user":[]}}}}`},
			{"patch permissions null", "PATCH", `{"apiKey":{"permissions":null}}`},
			{"patch endpoints null", "PATCH", `{"apiKey":{"permissions":{"endpoints":null}}}`},
			{"patch last endpoint null", "PATCH", `{"apiKey":{"permissions":{"endpoints":{"/api/user":null}}}}`},
			{"flag false", "PATCH", `{"apiKey":{"permissions":null},"allowAllEndpoints":false}`},
		}
		for _, c := range traps {
			r := e.do(c.method, path, e.root, c.body)
			want400(t, c.name, r, "[invalid]apiKey.permissions")
			if r.Status == 400 && !strings.Contains(string(r.Body), "allowAllEndpoints") {
				t.Errorf("%s: the message does not say how to confirm: %s", c.name, r.Body)
			}
		}
		if st := e.do("GET", "/api/system/version", k.Key, nil).Status; st != 401 {
			t.Fatalf("restricted key widened by a refused update: %d", st)
		}
		r := e.do("PATCH", path, e.root, `{"apiKey":{"permissions":null},"allowAllEndpoints":true}`)
		if r.Status != 200 {
			t.Fatalf("confirmed widening: %d %s", r.Status, r.Body)
		}
		if st := e.do("GET", "/api/system/version", k.Key, nil).Status; st != 200 {
			t.Errorf("widened key: %d", st)
		}
		// An all-endpoints key stays one without the flag.
		if r := e.do("PUT", path, e.root, `{"apiKey":{"name":"wide"}}`); r.Status != 200 {
			t.Errorf("update of an all-endpoints key: %d %s", r.Status, r.Body)
		}
	})
}

func TestAPIKeyListAndSearch(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := akStart(t, b)
		tenant := e.defaultTenant()
		var made []model.APIKey
		for i := range 7 {
			e.s.Clock.Advance(time.Millisecond) // a stable order by insert time
			k := map[string]any{"name": fmt.Sprintf("List key %d", i), "retrievable": i%2 == 0}
			if i < 3 {
				k["tenantId"] = tenant
			}
			if i == 6 {
				k["expirationInstant"] = e.now() + 1000
			}
			made = append(made, e.create(e.root, k))
		}
		e.s.Clock.Advance(2 * time.Second) // key 6 has expired
		page := func(r *testutil.Response) akKeysBody {
			t.Helper()
			if r.Status != 200 {
				t.Fatalf("list: %d %s", r.Status, r.Body)
			}
			for _, k := range decodeObject(t, r)["apiKeys"].([]any) {
				if _, ok := k.(map[string]any)["key"]; ok {
					t.Errorf("a listed key carries its value: %v", k)
				}
			}
			for _, m := range made {
				if bytes.Contains(r.Body, []byte(m.Key)) {
					t.Errorf("a key value appears in the list")
				}
			}
			var p akKeysBody
			r.JSON(t, &p)
			return p
		}
		names := func(p akKeysBody) []string {
			var out []string
			for _, k := range p.APIKeys {
				out = append(out, k.Name)
			}
			return out
		}
		all := page(e.do("GET", "/api/api-key", e.root, nil))
		if all.Total != 8 || len(all.APIKeys) != 8 || all.APIKeys[0].ID != e.rootID {
			t.Errorf("list all: total %d, names %v", all.Total, names(all))
		}
		p := page(e.do("GET", "/api/api-key?startRow=2&numberOfResults=3", e.root, nil))
		if p.Total != 8 || !slices.Equal(names(p), []string{"List key 1", "List key 2", "List key 3"}) {
			t.Errorf("page 2..4: total %d, names %v", p.Total, names(p))
		}
		if p := page(e.do("GET", "/api/api-key?startRow=50", e.root, nil)); p.Total != 8 || len(p.APIKeys) != 0 {
			t.Errorf("past the end: %+v", p)
		}
		tr, fa := true, false
		searches := []struct {
			name   string
			search map[string]any
			want   []string
			total  int
		}{
			{"by name", map[string]any{"name": "key 4"}, []string{"List key 4"}, 1},
			{"by name, wildcard", map[string]any{"name": "*LIST*"}, nil, 7},
			{"by tenant", map[string]any{"tenantId": tenant}, []string{"List key 0", "List key 1", "List key 2"}, 3},
			{"key managers", map[string]any{"keyManager": tr}, []string{"Initial API key"}, 1},
			{"expired", map[string]any{"expired": tr}, []string{"List key 6"}, 1},
			{"not expired, paged", map[string]any{"expired": fa, "name": "list", "startRow": 1, "numberOfResults": 2}, []string{"List key 1", "List key 2"}, 6},
		}
		for _, c := range searches {
			p := page(e.do("POST", "/api/api-key/search", e.root, map[string]any{"search": c.search}))
			if p.Total != c.total || (c.want != nil && !slices.Equal(names(p), c.want)) {
				t.Errorf("%s: total %d names %v, want %d %v", c.name, p.Total, names(p), c.total, c.want)
			}
		}
		want400(t, "negative page size", e.do("GET", "/api/api-key?numberOfResults=-1", e.root, nil), "[invalid]numberOfResults")
		want400(t, "huge page", e.do("POST", "/api/api-key/search", e.root, `{"search":{"numberOfResults":100000}}`), "[invalid]search.numberOfResults")
		want400(t, "not a number", e.do("GET", "/api/api-key?startRow=x", e.root, nil), "[invalid]startRow")
	})
}

func TestAPIKeyExpiryAndExtension(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := akStart(t, b)
		expires := e.now() + millis(time.Minute)
		k := e.create(e.root, map[string]any{"permissions": keyPerms("/api/system/version", "GET"), "expirationInstant": expires})
		if st := e.do("GET", "/api/system/version", k.Key, nil).Status; st != 200 {
			t.Fatalf("fresh key: %d", st)
		}
		e.s.Clock.Advance(time.Minute - time.Millisecond)
		if st := e.do("GET", "/api/system/version", k.Key, nil).Status; st != 200 {
			t.Errorf("one millisecond before expiry: %d", st)
		}
		e.s.Clock.Advance(time.Millisecond) // now == expirationInstant: no leeway
		wantEmpty(t, "at expiry", e.do("GET", "/api/system/version", k.Key, nil), 401)
		if got := e.get(k.ID); got.ExpirationInstant == nil || *got.ExpirationInstant != expires {
			t.Errorf("expired key not kept: %+v", got)
		}
		r := e.do("PATCH", "/api/api-key/"+k.ID, e.root, fmt.Sprintf(`{"apiKey":{"expirationInstant":%d}}`, e.now()+millis(time.Hour)))
		if r.Status != 200 {
			t.Fatalf("extend: %d %s", r.Status, r.Body)
		}
		if st := e.do("GET", "/api/system/version", k.Key, nil).Status; st != 200 {
			t.Errorf("extended key: %d", st)
		}
	})
}

func TestAPIKeyUsageShown(t *testing.T) {
	t.Parallel()
	e := akStart(t, testutil.Backend{Name: "sqlite"})
	k := e.create(e.root, map[string]any{"permissions": keyPerms("/api/system/version", "GET")})
	for range 3 {
		if st := e.do("GET", "/api/system/version", k.Key, nil).Status; st != 200 {
			t.Fatalf("use: %d", st)
		}
	}
	// Usage is flushed in batches (every 2 s); wait for it rather than write it.
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := e.get(k.ID)
		if got.UseCount == 3 {
			if got.LastUsedInstant == nil || *got.LastUsedInstant != e.now() {
				t.Errorf("lastUsedInstant %v, want %d", got.LastUsedInstant, e.now())
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("useCount %d after 30 s, want 3", got.UseCount)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var list akKeysBody
	e.do("GET", "/api/api-key", e.root, nil).JSON(t, &list)
	for _, l := range list.APIKeys {
		if l.ID == k.ID && l.UseCount != 3 {
			t.Errorf("list shows useCount %d", l.UseCount)
		}
	}
}

// The key API gives the caller's key authority over others only when it covers
// them, and keeps tenant-scoped managers inside their tenants.
func TestAPIKeyEscalation(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := akStart(t, b)
		tA, tB := e.defaultTenant(), e.tenant("Tenant B")
		restricted, _ := e.insertKey(model.APIKey{Name: "restricted manager", KeyManager: true,
			Permissions: model.APIKeyPermissions{Endpoints: map[string][]string{"/api/user": {"GET", "POST"}}}})
		scoped, _ := e.insertKey(model.APIKey{Name: "tenant A manager", KeyManager: true, TenantID: tA})
		multi, _ := e.insertKey(model.APIKey{Name: "tenant A+B manager", KeyManager: true, TenantIDs: []string{tA, tB}})

		broad := e.create(e.root, map[string]any{"name": "broad"})
		userGet := e.create(e.root, map[string]any{"name": "user GET", "permissions": keyPerms("/api/user", "GET")})
		inA := e.create(e.root, map[string]any{"name": "in A", "tenantId": tA, "permissions": keyPerms("/api/user", "GET")})
		inB := e.create(e.root, map[string]any{"name": "in B", "tenantId": tB})
		inAB := e.create(e.root, map[string]any{"name": "in A and B", "tenantIds": []string{tA, tB}})
		if inAB.TenantID != "" || !slices.Equal(inAB.TenantIDs, sortedPair(tA, tB)) {
			t.Errorf("tenantIds key: %+v", inAB)
		}

		cases := []struct {
			name         string
			key          string
			method, path string
			body         any
			want         int
			header       []string
		}{
			{"restricted makes all-endpoints", restricted, "POST", "/api/api-key", `{"apiKey":{}}`, 401, nil},
			{"restricted makes a broader method", restricted, "POST", "/api/api-key", map[string]any{"apiKey": map[string]any{"permissions": keyPerms("/api/user", "DELETE")}}, 401, nil},
			{"restricted makes another endpoint", restricted, "POST", "/api/api-key", map[string]any{"apiKey": map[string]any{"permissions": keyPerms("/api/tenant", "GET")}}, 401, nil},
			{"restricted makes a lesser key", restricted, "POST", "/api/api-key", map[string]any{"apiKey": map[string]any{"permissions": keyPerms("/api/user", "GET")}}, 200, nil},
			{"restricted copies broad", restricted, "POST", "/api/api-key", map[string]any{"sourceKeyId": broad.ID}, 401, nil},
			{"restricted copies a lesser key", restricted, "POST", "/api/api-key", map[string]any{"sourceKeyId": userGet.ID}, 200, nil},
			{"restricted reads broad", restricted, "GET", "/api/api-key/" + broad.ID, nil, 401, nil},
			{"restricted updates broad", restricted, "PUT", "/api/api-key/" + broad.ID, map[string]any{"apiKey": map[string]any{"permissions": keyPerms("/api/user", "GET")}}, 401, nil},
			{"restricted deletes broad", restricted, "DELETE", "/api/api-key/" + broad.ID, nil, 401, nil},
			{"restricted deletes the root key", restricted, "DELETE", "/api/api-key/" + e.rootID, nil, 401, nil},
			{"restricted reads a lesser key", restricted, "GET", "/api/api-key/" + userGet.ID, nil, 200, nil},
			{"restricted widens a lesser key", restricted, "PATCH", "/api/api-key/" + userGet.ID, `{"apiKey":{"permissions":{"endpoints":{"/api/user":["GET","DELETE"]}}}}`, 401, nil},
			{"restricted widens to all endpoints", restricted, "PATCH", "/api/api-key/" + userGet.ID, `{"apiKey":{"permissions":null},"allowAllEndpoints":true}`, 401, nil},
			{"restricted renames a lesser key", restricted, "PATCH", "/api/api-key/" + userGet.ID, `{"apiKey":{"name":"user GET!"}}`, 200, nil},
			{"scoped makes a global key", scoped, "POST", "/api/api-key", map[string]any{"apiKey": map[string]any{"name": "g"}}, 401, nil},
			{"scoped makes a key of tenant B", scoped, "POST", "/api/api-key", map[string]any{"apiKey": map[string]any{"tenantId": tB}}, 401, nil},
			{"scoped makes a key of an unknown tenant", scoped, "POST", "/api/api-key", map[string]any{"apiKey": map[string]any{"tenantId": uuid.NewString()}}, 401, nil},
			{"scoped makes a key of tenants A and B", scoped, "POST", "/api/api-key", map[string]any{"apiKey": map[string]any{"tenantIds": []string{tA, tB}}}, 401, nil},
			{"scoped makes a key of tenant A", scoped, "POST", "/api/api-key", map[string]any{"apiKey": map[string]any{"tenantId": tA}}, 200, nil},
			{"scoped reads tenant B's key", scoped, "GET", "/api/api-key/" + inB.ID, nil, 404, nil},
			{"scoped reads a global key", scoped, "GET", "/api/api-key/" + broad.ID, nil, 404, nil},
			{"scoped reads the A+B key", scoped, "GET", "/api/api-key/" + inAB.ID, nil, 404, nil},
			{"scoped updates tenant B's key", scoped, "PUT", "/api/api-key/" + inB.ID, `{"apiKey":{}}`, 404, nil},
			{"scoped deletes tenant B's key", scoped, "DELETE", "/api/api-key/" + inB.ID, nil, 404, nil},
			{"scoped copies tenant B's key", scoped, "POST", "/api/api-key", map[string]any{"sourceKeyId": inB.ID}, 400, nil},
			{"scoped header widening", scoped, "GET", "/api/api-key/" + inB.ID, nil, 401, []string{"X-FusionAuth-TenantId", tB}},
			{"global header does not hide", e.root, "GET", "/api/api-key/" + broad.ID, nil, 200, []string{"X-FusionAuth-TenantId", tB}},
			{"scoped reads tenant A's key", scoped, "GET", "/api/api-key/" + inA.ID, nil, 200, nil},
			{"multi reads the A+B key", multi, "GET", "/api/api-key/" + inAB.ID, nil, 200, nil},
			{"multi reads tenant B's key", multi, "GET", "/api/api-key/" + inB.ID, nil, 200, nil},
			{"multi reads a global key", multi, "GET", "/api/api-key/" + broad.ID, nil, 404, nil},
			{"multi makes a global key", multi, "POST", "/api/api-key", `{"apiKey":{}}`, 401, nil},
			{"multi makes a key of tenant B", multi, "POST", "/api/api-key", map[string]any{"apiKey": map[string]any{"tenantIds": []string{tB}}}, 200, nil},
		}
		for _, c := range cases {
			r := e.do(c.method, c.path, c.key, c.body, c.header...)
			if r.Status != c.want {
				t.Errorf("%s: %d %s, want %d", c.name, r.Status, r.Body, c.want)
			}
			if c.want == 401 || c.want == 404 {
				wantEmpty(t, c.name, r, c.want)
			}
		}
		if got := e.get(broad.ID); got.Name != "broad" || len(got.Permissions.Endpoints) != 0 {
			t.Errorf("broad key changed: %+v", got)
		}

		// Lists show only what the caller covers.
		listNames := func(key string) []string {
			t.Helper()
			var l akKeysBody
			r := e.do("GET", "/api/api-key?numberOfResults=1000", key, nil)
			r.JSON(t, &l)
			if l.Total != len(l.APIKeys) {
				t.Errorf("total %d for %d keys", l.Total, len(l.APIKeys))
			}
			var out []string
			for _, k := range l.APIKeys {
				out = append(out, k.Name)
				if k.TenantID == tB && key == scoped {
					t.Errorf("tenant A manager lists tenant B's key %s", k.Name)
				}
			}
			return out
		}
		for _, n := range listNames(scoped) {
			if !slices.Contains([]string{"tenant A manager", "in A", ""}, n) {
				t.Errorf("tenant A manager lists %q", n)
			}
		}
		for _, n := range listNames(restricted) {
			if !slices.Contains([]string{"restricted manager", "user GET!", "in A", ""}, n) {
				t.Errorf("restricted manager lists %q", n)
			}
		}
		var s akKeysBody
		e.do("POST", "/api/api-key/search", scoped, map[string]any{"search": map[string]any{"tenantId": tB}}).JSON(t, &s)
		if s.Total != 0 {
			t.Errorf("tenant A manager searching tenant B finds %d keys", s.Total)
		}
	})
}

func sortedPair(a, b string) []string {
	s := []string{a, b}
	slices.Sort(s)
	return s
}

// The key API answers "authenticated but not permitted" with the configured status.
func TestAPIKeyForbiddenStatus(t *testing.T) {
	t.Parallel()
	e := akStart(t, testutil.Backend{Name: "sqlite"}, testutil.WithEnv("LATCH_FORBIDDEN_STATUS", "403"))
	plain := e.create(e.root, map[string]any{"name": "plain"})
	restricted, _ := e.insertKey(model.APIKey{Name: "restricted manager", KeyManager: true,
		Permissions: model.APIKeyPermissions{Endpoints: map[string][]string{"/api/user": {"GET"}}}})
	// A non-manager is refused by the guard, a manager lacking authority by the key API.
	wantEmpty(t, "non-manager", e.do("GET", "/api/api-key/"+plain.ID, plain.Key, nil), 403)
	wantEmpty(t, "manager without authority", e.do("GET", "/api/api-key/"+plain.ID, restricted, nil), 403)
	wantEmpty(t, "manager outside its tenants still sees 404", e.do("GET", "/api/api-key/"+uuid.NewString(), restricted, nil), 404)
}
