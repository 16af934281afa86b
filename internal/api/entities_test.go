package api_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/testutil"
)

// Helpers of the entity tests, prefixed "en". They build on rgEnv.

type enEnv struct{ *rgEnv }

func enStart(t *testing.T, b testutil.Backend) *enEnv { return &enEnv{rgStart(t, b)} }

// entityType creates a type with permissions (the first a default) and returns it.
func (e *enEnv) entityType(name string, perms ...string) map[string]any {
	e.t.Helper()
	list := make([]any, len(perms))
	for i, p := range perms {
		list[i] = map[string]any{"name": p, "isDefault": i == 0, "description": "may " + p}
	}
	return e.ok("create entity type "+name, e.do("POST", "/api/entity/type", e.root,
		map[string]any{"entityType": map[string]any{"name": name, "permissions": list}}), "entityType")
}

// entity creates an entity of the type in the tenant ("" for the only one).
func (e *enEnv) entity(typeID, tenantID, name string) map[string]any {
	e.t.Helper()
	ent := map[string]any{"name": name, "type": map[string]any{"id": typeID}}
	if tenantID != "" {
		ent["tenantId"] = tenantID
	}
	return e.ok("create entity "+name, e.do("POST", "/api/entity", e.root, map[string]any{"entity": ent}), "entity")
}

// permissionID finds a permission of a type object by name.
func enPermissionID(t *testing.T, typ map[string]any, name string) string {
	t.Helper()
	for _, p := range typ["permissions"].([]any) {
		if p.(map[string]any)["name"] == name {
			return p.(map[string]any)["id"].(string)
		}
	}
	t.Fatalf("no permission %s in %v", name, typ)
	return ""
}

func enNames(list []any, key string) []string {
	out := []string{}
	for _, v := range list {
		out = append(out, fmt.Sprint(v.(map[string]any)[key]))
	}
	return out
}

func TestEntityTypesAndPermissions(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := enStart(t, b)
		typ := e.entityType("Payments API", "read", "write")
		id := typ["id"].(string)
		if _, ok := canonical(id); !ok || typ["name"] != "Payments API" || !model.JSONEqual(typ["data"], map[string]any{}) ||
			!model.JSONEqual(typ["jwtConfiguration"], map[string]any{"enabled": false, "timeToLiveInSeconds": taNum(3600)}) {
			t.Fatalf("create: %v", typ)
		}
		if got := enNames(typ["permissions"].([]any), "name"); !slices.Equal(got, []string{"read", "write"}) {
			t.Errorf("permissions: %v", got)
		}
		if p := typ["permissions"].([]any)[0].(map[string]any); p["isDefault"] != true || p["description"] != "may read" {
			t.Errorf("permission object: %v", p)
		}
		if got := e.ok("retrieve", e.do("GET", "/api/entity/type/"+id, e.root, nil), "entityType"); !model.JSONEqual(got, typ) {
			t.Errorf("retrieve %v\n differs from create %v", got, typ)
		}

		// A signing key for the type's tokens.
		keyID := e.ok("generate key", e.do("POST", "/api/key/generate", e.root, map[string]any{"key": map[string]any{"algorithm": "ES256", "name": "entities"}}), "key")["id"].(string)
		pub := enPublicOnlyKey(t, e)
		chosen := rgNewID()
		withJWT := e.ok("create with jwtConfiguration", e.do("POST", "/api/entity/type/"+chosen, e.root, map[string]any{"entityType": map[string]any{
			"name": "Signed", "data": map[string]any{"k": "v"}, "custom": true,
			"jwtConfiguration": map[string]any{"enabled": true, "accessTokenKeyId": strings.ToUpper(keyID), "timeToLiveInSeconds": 600}}}), "entityType")
		if withJWT["id"] != chosen || withJWT["custom"] != true || jsonAt(withJWT, "jwtConfiguration", "accessTokenKeyId") != keyID ||
			jsonAt(withJWT, "jwtConfiguration", "timeToLiveInSeconds") != taNum(600) || !model.JSONEqual(withJWT["permissions"], []any{}) {
			t.Errorf("create with jwtConfiguration: %v", withJWT)
		}

		jwt := func(cfg map[string]any) map[string]any {
			return map[string]any{"entityType": map[string]any{"name": "T " + rgNewID(), "jwtConfiguration": cfg}}
		}
		cases := []struct {
			name string
			path string
			body any
			code string
		}{
			{"same name", "/api/entity/type", map[string]any{"entityType": map[string]any{"name": "payments api"}}, "[duplicate]entityType.name"},
			{"same id", "/api/entity/type/" + chosen, map[string]any{"entityType": map[string]any{"name": "X"}}, "[duplicate]entityTypeId"},
			{"no name", "/api/entity/type", map[string]any{"entityType": map[string]any{}}, "[blank]entityType.name"},
			{"bad id", "/api/entity/type/nope", map[string]any{"entityType": map[string]any{"name": "X"}}, "[invalid]entityTypeId"},
			{"data not an object", "/api/entity/type", map[string]any{"entityType": map[string]any{"name": "X", "data": 1}}, "[invalid]entityType.data"},
			{"permissions not an array", "/api/entity/type", map[string]any{"entityType": map[string]any{"name": "X", "permissions": "read"}}, "[invalid]entityType.permissions"},
			{"same permission twice", "/api/entity/type", map[string]any{"entityType": map[string]any{"name": "X",
				"permissions": []any{map[string]any{"name": "read"}, map[string]any{"name": "READ"}}}}, "[duplicate]entityType.permissions[1].name"},
			{"permission without name", "/api/entity/type", map[string]any{"entityType": map[string]any{"name": "X",
				"permissions": []any{map[string]any{"isDefault": true}}}}, "[blank]entityType.permissions[0].name"},
			{"case variant in jwtConfiguration", "/api/entity/type", jwt(map[string]any{"TimeToLiveInSeconds": 5}), "[invalid]entityType.jwtConfiguration.TimeToLiveInSeconds"},
			{"case variant in a permission", "/api/entity/type", map[string]any{"entityType": map[string]any{"name": "X",
				"permissions": []any{map[string]any{"name": "read", "IsDefault": true}}}}, "[invalid]entityType.permissions[0].IsDefault"},
			{"ttl zero", "/api/entity/type", jwt(map[string]any{"timeToLiveInSeconds": 0}), "[invalid]entityType.jwtConfiguration.timeToLiveInSeconds"},
			{"ttl too long", "/api/entity/type", jwt(map[string]any{"timeToLiveInSeconds": 86401}), "[invalid]entityType.jwtConfiguration.timeToLiveInSeconds"},
			{"ttl not a number", "/api/entity/type", jwt(map[string]any{"timeToLiveInSeconds": "long"}), "[invalid]entityType.jwtConfiguration.timeToLiveInSeconds"},
			{"ttl fractional", "/api/entity/type", jwt(map[string]any{"timeToLiveInSeconds": 1.5}), "[invalid]entityType.jwtConfiguration.timeToLiveInSeconds"},
			{"enabled without key", "/api/entity/type", jwt(map[string]any{"enabled": true}), "[blank]entityType.jwtConfiguration.accessTokenKeyId"},
			{"key not a uuid", "/api/entity/type", jwt(map[string]any{"accessTokenKeyId": "k1"}), "[invalid]entityType.jwtConfiguration.accessTokenKeyId"},
			{"unknown key", "/api/entity/type", jwt(map[string]any{"enabled": true, "accessTokenKeyId": rgNewID()}), "[invalid]entityType.jwtConfiguration.accessTokenKeyId"},
			{"public key only", "/api/entity/type", jwt(map[string]any{"enabled": true, "accessTokenKeyId": pub}), "[invalid]entityType.jwtConfiguration.accessTokenKeyId"},
		}
		for _, c := range cases {
			want400(t, c.name, e.do("POST", c.path, e.root, c.body), c.code)
		}
		want400(t, "jwtConfiguration a string", e.do("POST", "/api/entity/type", e.root,
			map[string]any{"entityType": map[string]any{"name": "X", "jwtConfiguration": "on"}}), "[invalid]entityType.jwtConfiguration")

		// The key the type names cannot be deleted while it does.
		want400(t, "delete a key in use", e.do("DELETE", "/api/key/"+keyID, e.root, nil), "[KeyInUse]")

		// List and search.
		all := decodeObject(t, e.do("GET", "/api/entity/type", e.root, nil))["entityTypes"].([]any)
		if got := enNames(all, "name"); !slices.Equal(got, []string{"Payments API", "Signed"}) {
			t.Errorf("list: %v", got)
		}
		for _, r := range []*testutil.Response{
			e.do("GET", "/api/entity/type/search?name=pay*", e.root, nil),
			e.do("POST", "/api/entity/type/search", e.root, map[string]any{"search": map[string]any{"name": "ment", "orderBy": "insertInstant DESC"}}),
		} {
			body := decodeObject(t, r)
			if body["total"] != taNum(1) || enNames(body["entityTypes"].([]any), "id")[0] != id {
				t.Errorf("search: %s", r.Body)
			}
		}
		page := decodeObject(t, e.do("POST", "/api/entity/type/search", e.root, map[string]any{"search": map[string]any{"name": "*", "numberOfResults": 1, "startRow": 1, "orderBy": "name"}}))
		if page["total"] != taNum(2) || enNames(page["entityTypes"].([]any), "name")[0] != "Signed" {
			t.Errorf("second page: %v", page)
		}
		want400(t, "bad orderBy", e.do("GET", "/api/entity/type/search?orderBy=color", e.root, nil), "[invalid]search.orderBy")

		// Update keeps the permissions; patch merges.
		up := e.ok("update", e.do("PUT", "/api/entity/type/"+id, e.root, map[string]any{"entityType": map[string]any{"name": "Payments",
			"permissions": []any{}, "data": map[string]any{"a": 1}}}), "entityType")
		if up["name"] != "Payments" || !model.JSONEqual(up["permissions"], typ["permissions"]) || up["insertInstant"] != typ["insertInstant"] {
			t.Errorf("update: %v", up)
		}
		pa := e.ok("patch", e.do("PATCH", "/api/entity/type/"+id, e.root, map[string]any{"entityType": map[string]any{"data": map[string]any{"b": 2}}}), "entityType")
		if !model.JSONEqual(pa["data"], map[string]any{"a": taNum(1), "b": taNum(2)}) || pa["name"] != "Payments" {
			t.Errorf("patch: %v", pa)
		}
		want400(t, "update to a taken name", e.do("PUT", "/api/entity/type/"+id, e.root, map[string]any{"entityType": map[string]any{"name": "SIGNED"}}), "[duplicate]entityType.name")
		wantEmpty(t, "update unknown", e.do("PUT", "/api/entity/type/"+rgNewID(), e.root, map[string]any{"entityType": map[string]any{"name": "Z"}}), 404)

		// Permissions.
		permID := rgNewID()
		p := e.ok("create permission", e.do("POST", "/api/entity/type/"+id+"/permission/"+permID, e.root,
			map[string]any{"permission": map[string]any{"name": "refund", "data": map[string]any{"risk": "high"}}}), "permission")
		if p["id"] != permID || p["name"] != "refund" || p["isDefault"] != false || jsonAt(p, "data", "risk") != "high" {
			t.Errorf("create permission: %v", p)
		}
		p2 := e.ok("create permission without id", e.do("POST", "/api/entity/type/"+id+"/permission", e.root,
			map[string]any{"permission": map[string]any{"name": "audit", "isDefault": true}}), "permission")
		want400(t, "permission name taken", e.do("POST", "/api/entity/type/"+id+"/permission", e.root,
			map[string]any{"permission": map[string]any{"name": "Refund"}}), "[duplicate]permission.name")
		want400(t, "permission without name", e.do("POST", "/api/entity/type/"+id+"/permission", e.root,
			map[string]any{"permission": map[string]any{}}), "[blank]permission.name")
		want400(t, "isDefault not a boolean", e.do("POST", "/api/entity/type/"+id+"/permission", e.root,
			map[string]any{"permission": map[string]any{"name": "x", "isDefault": "yes"}}), "[invalid]permission.isDefault")
		wantEmpty(t, "permission on unknown type", e.do("POST", "/api/entity/type/"+rgNewID()+"/permission", e.root,
			map[string]any{"permission": map[string]any{"name": "x"}}), 404)
		upd := e.ok("update permission", e.do("PUT", "/api/entity/type/"+id+"/permission/"+permID, e.root,
			map[string]any{"permission": map[string]any{"name": "refunds", "description": "Give money back"}}), "permission")
		if upd["name"] != "refunds" || upd["description"] != "Give money back" || upd["id"] != permID || !model.JSONEqual(upd["data"], map[string]any{}) {
			t.Errorf("update permission: %v", upd)
		}
		pp := e.ok("patch permission", e.do("PATCH", "/api/entity/type/"+id+"/permission/"+permID, e.root,
			map[string]any{"permission": map[string]any{"isDefault": true}}), "permission")
		if pp["name"] != "refunds" || pp["isDefault"] != true || pp["description"] != "Give money back" {
			t.Errorf("patch permission: %v", pp)
		}
		want400(t, "rename onto another", e.do("PUT", "/api/entity/type/"+id+"/permission/"+permID, e.root,
			map[string]any{"permission": map[string]any{"name": "READ"}}), "[duplicate]permission.name")
		wantEmpty(t, "update a permission of another type", e.do("PUT", "/api/entity/type/"+chosen+"/permission/"+permID, e.root,
			map[string]any{"permission": map[string]any{"name": "x"}}), 404)
		wantEmpty(t, "delete permission", e.do("DELETE", "/api/entity/type/"+id+"/permission/"+p2["id"].(string), e.root, nil), 200)
		wantEmpty(t, "delete it again", e.do("DELETE", "/api/entity/type/"+id+"/permission/"+p2["id"].(string), e.root, nil), 404)
		got := e.ok("retrieve after permission changes", e.do("GET", "/api/entity/type/"+id, e.root, nil), "entityType")
		if names := enNames(got["permissions"].([]any), "name"); !slices.Equal(names, []string{"read", "refunds", "write"}) {
			t.Errorf("permissions now: %v", names)
		}

		// A tenant-scoped key reads types but cannot write them.
		scoped, _ := e.scopedKey(e.defaultTenant())
		if r := e.do("GET", "/api/entity/type/"+id, scoped, nil); r.Status != 200 {
			t.Errorf("scoped read: %d", r.Status)
		}
		if r := e.do("GET", "/api/entity/type/search?name=*", scoped, nil); r.Status != 200 {
			t.Errorf("scoped search: %d", r.Status)
		}
		for _, c := range []struct{ method, path string }{
			{"POST", "/api/entity/type"}, {"PUT", "/api/entity/type/" + id}, {"PATCH", "/api/entity/type/" + id},
			{"DELETE", "/api/entity/type/" + id}, {"POST", "/api/entity/type/" + id + "/permission"},
			{"DELETE", "/api/entity/type/" + id + "/permission/" + permID},
		} {
			if r := e.do(c.method, c.path, scoped, map[string]any{"entityType": map[string]any{"name": "Z"}, "permission": map[string]any{"name": "z"}}); r.Status != 401 {
				t.Errorf("scoped %s %s: %d, want 401", c.method, c.path, r.Status)
			}
		}

		// Delete; every change is audited.
		wantEmpty(t, "delete type", e.do("DELETE", "/api/entity/type/"+id, e.root, nil), 200)
		wantEmpty(t, "retrieve deleted", e.do("GET", "/api/entity/type/"+id, e.root, nil), 404)
		var msgs []string
		for _, a := range e.audits(id) {
			msgs = append(msgs, a.Message)
		}
		for _, want := range []string{"Created entity type", "Updated entity type", "Added permission", "Updated permission", "Deleted permission", "Deleted entity type"} {
			if !rgHasPrefix(msgs, want) {
				t.Errorf("no audit entry %q in %v", want, msgs)
			}
		}
	})
}

// enPublicOnlyKey imports a public key (one that cannot sign) and returns its id.
func enPublicOnlyKey(t *testing.T, e *enEnv) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pemText := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	return e.ok("import public key", e.do("POST", "/api/key/import", e.root, map[string]any{"key": map[string]any{"name": "public only", "publicKey": pemText}}), "key")["id"].(string)
}

func TestEntitiesCRUDAndSecrets(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := enStart(t, b)
		def := e.defaultTenant()
		typ := e.entityType("Service", "read")
		typeID := typ["id"].(string)

		ent := e.ok("create", e.do("POST", "/api/entity", e.root, map[string]any{"entity": map[string]any{
			"name": "Billing", "type": map[string]any{"id": typeID}, "data": map[string]any{"team": "money"}, "extra": 1}}), "entity")
		id := ent["id"].(string)
		secret, _ := ent["clientSecret"].(string)
		if ent["clientId"] != id || ent["tenantId"] != def || len(secret) != 43 || ent["extra"] != taNum(1) ||
			jsonAt(ent, "type", "name") != "Service" || jsonAt(ent, "type", "permissions", 0, "name") != "read" || jsonAt(ent, "data", "team") != "money" {
			t.Fatalf("create: %v", ent)
		}
		if got := e.ok("retrieve", e.do("GET", "/api/entity/"+id, e.root, nil), "entity"); !model.JSONEqual(got, ent) {
			t.Errorf("retrieve %v\n differs from create %v", got, ent)
		}
		other := e.ok("create another", e.do("POST", "/api/entity", e.root, map[string]any{"entity": map[string]any{
			"name": "Ledger", "type": map[string]any{"id": typeID}}}), "entity")
		if other["clientSecret"] == secret {
			t.Error("two entities got the same generated secret")
		}

		chosen := rgNewID()
		mine := e.ok("create with id, client id and secret", e.do("POST", "/api/entity/"+chosen, e.root, map[string]any{"entity": map[string]any{
			"name": "Reports", "type": map[string]any{"id": typeID}, "clientId": "reports-client", "clientSecret": "a chosen secret value"}}), "entity")
		if mine["id"] != chosen || mine["clientId"] != "reports-client" || mine["clientSecret"] != "a chosen secret value" {
			t.Errorf("chosen: %v", mine)
		}
		for _, c := range []struct {
			name, path string
			ent        map[string]any
			code       string
		}{
			{"no type", "/api/entity", map[string]any{"name": "X"}, "[blank]entity.type.id"},
			{"unknown type", "/api/entity", map[string]any{"name": "X", "type": map[string]any{"id": rgNewID()}}, "[invalid]entity.type.id"},
			{"type not an object", "/api/entity", map[string]any{"name": "X", "type": "Service"}, "[invalid]entity.type"},
			{"no name", "/api/entity", map[string]any{"type": map[string]any{"id": typeID}}, "[blank]entity.name"},
			{"taken client id", "/api/entity", map[string]any{"name": "X", "type": map[string]any{"id": typeID}, "clientId": "reports-client"}, "[duplicate]entity.clientId"},
			{"client id of another's id", "/api/entity", map[string]any{"name": "X", "type": map[string]any{"id": typeID}, "clientId": id}, "[duplicate]entity.clientId"},
			{"colon in client id", "/api/entity", map[string]any{"name": "X", "type": map[string]any{"id": typeID}, "clientId": "a:b"}, "[invalid]entity.clientId"},
			{"secret not a string", "/api/entity", map[string]any{"name": "X", "type": map[string]any{"id": typeID}, "clientSecret": 5}, "[invalid]entity.clientSecret"},
			{"long secret", "/api/entity", map[string]any{"name": "X", "type": map[string]any{"id": typeID}, "clientSecret": strings.Repeat("s", 1025)}, "[tooLong]entity.clientSecret"},
			{"bad parent", "/api/entity", map[string]any{"name": "X", "type": map[string]any{"id": typeID}, "parentId": "p"}, "[invalid]entity.parentId"},
			{"same id", "/api/entity/" + chosen, map[string]any{"name": "X", "type": map[string]any{"id": typeID}}, "[duplicate]entityId"},
			{"unknown tenant", "/api/entity", map[string]any{"name": "X", "type": map[string]any{"id": typeID}, "tenantId": rgNewID()}, "[invalid]entity.tenantId"},
			{"case variant of clientSecret", "/api/entity", map[string]any{"name": "X", "type": map[string]any{"id": typeID}, "ClientSecret": "s"}, "[invalid]entity.ClientSecret"},
			{"case variant of type.id", "/api/entity", map[string]any{"name": "X", "type": map[string]any{"ID": typeID}}, "[invalid]entity.type.ID"},
		} {
			want400(t, c.name, e.do("POST", c.path, e.root, map[string]any{"entity": c.ent}), c.code)
		}

		// Update: client id and secret stay unless given; the type cannot change.
		up := e.ok("update", e.do("PUT", "/api/entity/"+id, e.root, map[string]any{"entity": map[string]any{"name": "Billing v2", "type": map[string]any{"id": typeID}}}), "entity")
		if up["name"] != "Billing v2" || up["clientSecret"] != secret || up["clientId"] != id || up["extra"] != nil || up["insertInstant"] != ent["insertInstant"] {
			t.Errorf("update: %v", up)
		}
		up = e.ok("update by name only", e.do("PUT", "/api/entity/"+id, e.root, map[string]any{"entity": map[string]any{"name": "Billing v3"}}), "entity")
		if up["name"] != "Billing v3" || jsonAt(up, "type", "id") != typeID {
			t.Errorf("update without type: %v", up)
		}
		rot := e.ok("rotate the secret", e.do("PATCH", "/api/entity/"+id, e.root, map[string]any{"entity": map[string]any{"clientSecret": "rotated secret"}}), "entity")
		if rot["clientSecret"] != "rotated secret" || rot["name"] != "Billing v3" {
			t.Errorf("patch: %v", rot)
		}
		other2 := e.entityType("Other", "x")
		want400(t, "change the type", e.do("PUT", "/api/entity/"+id, e.root, map[string]any{"entity": map[string]any{"name": "B", "type": map[string]any{"id": other2["id"]}}}), "[invalid]entity.type.id")
		want400(t, "take a client id", e.do("PATCH", "/api/entity/"+id, e.root, map[string]any{"entity": map[string]any{"clientId": "reports-client"}}), "[duplicate]entity.clientId")
		wantEmpty(t, "update unknown", e.do("PUT", "/api/entity/"+rgNewID(), e.root, map[string]any{"entity": map[string]any{"name": "x"}}), 404)

		// Secrets at rest and in the audit log: never in plaintext.
		for _, a := range e.audits(id) {
			for _, s := range []string{secret, "rotated secret"} {
				if bytes.Contains(a.OldValue, []byte(s)) || bytes.Contains(a.NewValue, []byte(s)) || strings.Contains(a.Message, s) {
					t.Errorf("audit entry %q holds a client secret", a.Message)
				}
			}
		}
		var msgs []string
		for _, a := range e.audits(id) {
			msgs = append(msgs, a.Message)
		}
		if !rgHasPrefix(msgs, "Created entity") || !slices.ContainsFunc(msgs, func(m string) bool { return strings.HasSuffix(m, "its client secret changed") }) {
			t.Errorf("audit: %v", msgs)
		}

		// Delete.
		wantEmpty(t, "delete", e.do("DELETE", "/api/entity/"+other["id"].(string), e.root, nil), 200)
		wantEmpty(t, "retrieve deleted", e.do("GET", "/api/entity/"+other["id"].(string), e.root, nil), 404)
		wantEmpty(t, "delete again", e.do("DELETE", "/api/entity/"+other["id"].(string), e.root, nil), 404)

		dump := e.atRest()
		for _, s := range []string{secret, "rotated secret", "a chosen secret value", other["clientSecret"].(string)} {
			if bytes.Contains(dump, []byte(s)) {
				t.Errorf("the database holds a client secret in plaintext (%s backend)", b.Name)
			}
		}
	})
}

func TestEntitiesTenantScopeAndSearch(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := enStart(t, b)
		def := e.defaultTenant()
		acme := e.createTenant("Acme")["id"].(string)
		typeID := e.entityType("Service", "read")["id"].(string)
		typeB := e.entityType("Device", "ping")["id"].(string)

		// With two tenants a global key must name one.
		want400(t, "no tenant", e.do("POST", "/api/entity", e.root, map[string]any{"entity": map[string]any{"name": "X", "type": map[string]any{"id": typeID}}}), "[TenantIdRequired]")
		a1 := e.entity(typeID, def, "Alpha one")
		e.entity(typeB, def, "alpha two")
		b1 := e.ok("create by header", e.do("POST", "/api/entity", e.root, map[string]any{"entity": map[string]any{"name": "Beta", "type": map[string]any{"id": typeID}}},
			"X-FusionAuth-TenantId", acme), "entity")
		if b1["tenantId"] != acme {
			t.Fatalf("header tenant: %v", b1)
		}
		scoped, _ := e.scopedKey(acme)
		b2 := e.ok("create with a scoped key", e.do("POST", "/api/entity", scoped, map[string]any{"entity": map[string]any{"name": "Gamma", "type": map[string]any{"id": typeID}}}), "entity")
		if b2["tenantId"] != acme {
			t.Fatalf("scoped key tenant: %v", b2)
		}
		want400(t, "scoped key names another tenant", e.do("POST", "/api/entity", scoped, map[string]any{"entity": map[string]any{"name": "X", "type": map[string]any{"id": typeID}, "tenantId": def}}), "[invalid]entity.tenantId")

		// Entities of other tenants are 404 to a scoped key and under the header.
		a1ID := a1["id"].(string)
		for _, c := range []struct {
			method string
			body   any
		}{{"GET", nil}, {"PUT", map[string]any{"entity": map[string]any{"name": "x"}}}, {"PATCH", map[string]any{"entity": map[string]any{"name": "x"}}}, {"DELETE", nil}} {
			wantEmpty(t, "scoped "+c.method, e.do(c.method, "/api/entity/"+a1ID, scoped, c.body), 404)
			wantEmpty(t, "header "+c.method, e.do(c.method, "/api/entity/"+a1ID, e.root, c.body, "X-FusionAuth-TenantId", acme), 404)
		}
		if r := e.do("GET", "/api/entity/"+a1ID, e.root, nil); r.Status != 200 {
			t.Errorf("global key: %d", r.Status)
		}

		search := func(key string, criteria map[string]any, headers ...string) ([]string, int) {
			t.Helper()
			r := e.do("POST", "/api/entity/search", key, map[string]any{"search": criteria}, headers...)
			if r.Status != 200 {
				t.Fatalf("search %v: %d %s", criteria, r.Status, r.Body)
			}
			body := decodeObject(t, r)
			var total int
			fmt.Sscan(fmt.Sprint(body["total"]), &total)
			return enNames(body["entities"].([]any), "name"), total
		}
		for _, c := range []struct {
			name     string
			key      string
			criteria map[string]any
			headers  []string
			want     []string
		}{
			{"everything", e.root, map[string]any{"queryString": "*"}, nil, []string{"Alpha one", "alpha two", "Beta", "Gamma"}},
			{"scoped", scoped, map[string]any{"queryString": "*"}, nil, []string{"Beta", "Gamma"}},
			{"header", e.root, map[string]any{"queryString": "*"}, []string{"X-FusionAuth-TenantId", def}, []string{"Alpha one", "alpha two"}},
			{"name prefix", e.root, map[string]any{"queryString": "alp"}, nil, []string{"Alpha one", "alpha two"}},
			{"name wildcard", e.root, map[string]any{"queryString": "name:*TWO"}, nil, []string{"alpha two"}},
			{"exact name", e.root, map[string]any{"queryString": "name:beta"}, nil, []string{"Beta"}},
			{"by type", e.root, map[string]any{"queryString": "type.id:" + typeB}, nil, []string{"alpha two"}},
			{"by tenant AND name", e.root, map[string]any{"queryString": "tenantId:" + acme + " AND g*"}, nil, []string{"Gamma"}},
			{"scoped asks for another tenant", scoped, map[string]any{"queryString": "tenantId:" + def}, nil, []string{}},
			{"by client id", e.root, map[string]any{"queryString": "clientId:" + a1ID}, nil, []string{"Alpha one"}},
			{"ids", e.root, map[string]any{"ids": []any{a1ID, b1["id"], "junk"}}, nil, []string{"Alpha one", "Beta"}},
			{"ids, scoped", scoped, map[string]any{"ids": []any{a1ID, b1["id"]}}, nil, []string{"Beta"}},
			{"query match_all", e.root, map[string]any{"query": `{"match_all":{}}`, "sortFields": []any{map[string]any{"name": "name", "order": "desc"}}}, nil,
				[]string{"Gamma", "Beta", "alpha two", "Alpha one"}},
			{"query bool", e.root, map[string]any{"query": `{"bool":{"must":[{"wildcard":{"name":{"value":"*a*"}}},{"term":{"tenantId":"` + def + `"}}]}}`}, nil,
				[]string{"Alpha one", "alpha two"}},
			{"query match", e.root, map[string]any{"query": `{"match":{"name":"two"}}`}, nil, []string{"alpha two"}},
			{"query terms", e.root, map[string]any{"query": `{"terms":{"type.id":["` + typeB + `"]}}`}, nil, []string{"alpha two"}},
			{"query ids", e.root, map[string]any{"query": `{"ids":{"values":["` + a1ID + `"]}}`}, nil, []string{"Alpha one"}},
			{"query prefix", e.root, map[string]any{"query": `{"prefix":{"name.keyword":"gam"}}`}, nil, []string{"Gamma"}},
		} {
			got, total := search(c.key, c.criteria, c.headers...)
			if !slices.Equal(got, c.want) || total != len(c.want) {
				t.Errorf("%s: got %v (total %d), want %v", c.name, got, total, c.want)
			}
		}
		got, total := search(e.root, map[string]any{"queryString": "*", "numberOfResults": 2, "startRow": 1})
		if !slices.Equal(got, []string{"alpha two", "Beta"}) || total != 4 {
			t.Errorf("page: %v %d", got, total)
		}
		for _, c := range []struct {
			name     string
			criteria map[string]any
			code     string
		}{
			{"OR", map[string]any{"queryString": "a OR b"}, "[invalid]search.queryString"},
			{"unknown field", map[string]any{"queryString": "color:red"}, "[invalid]search.queryString"},
			{"wildcard on id", map[string]any{"queryString": "clientId:ab*"}, "[invalid]search.queryString"},
			{"bad JSON", map[string]any{"query": `{"bool":`}, "[invalid]search.query"},
			{"should", map[string]any{"query": `{"bool":{"should":[]}}`}, "[invalid]search.query"},
			{"range", map[string]any{"query": `{"range":{"insertInstant":{"gt":1}}}`}, "[invalid]search.query"},
			{"nothing", map[string]any{}, "[blank]search.queryString"},
			{"bad sort", map[string]any{"queryString": "*", "sortFields": []any{map[string]any{"name": "color"}}}, "[invalid]search.sortFields"},
			{"negative start", map[string]any{"queryString": "*", "startRow": -1}, "[invalid]search.startRow"},
		} {
			want400(t, c.name, e.do("POST", "/api/entity/search", e.root, map[string]any{"search": c.criteria}), c.code)
		}
		// GET by ids, and the refresh call.
		r := e.do("GET", "/api/entity/search?ids="+a1ID+"&ids="+url.QueryEscape(b1["id"].(string))+"&ids=nope", e.root, nil)
		if body := decodeObject(t, r); body["total"] != taNum(2) {
			t.Errorf("GET by ids: %s", r.Body)
		}
		wantEmpty(t, "refresh the index", e.do("PUT", "/api/entity/search", e.root, nil), 200)
	})
}

func TestEntityGrants(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := enStart(t, b)
		def := e.defaultTenant()
		typ := e.entityType("API", "read", "write", "delete")
		typeID := typ["id"].(string)
		target := e.entity(typeID, "", "Target")["id"].(string)
		client := e.entity(typeID, "", "Client")["id"].(string)
		user := e.user("grantee@example.com", "")
		acme := e.createTenant("Acme")["id"].(string)
		outsider := e.entity(typeID, acme, "Outsider")["id"].(string)
		outsideUser := e.user("outside@example.com", acme)

		grant := func(body map[string]any) *testutil.Response {
			return e.do("POST", "/api/entity/"+target+"/grant", e.root, map[string]any{"grant": body})
		}
		wantEmpty(t, "grant to an entity", grant(map[string]any{"recipientEntityId": client, "permissions": []any{"WRITE", "read"}, "data": map[string]any{"why": "sync"}}), 200)
		g := e.ok("retrieve", e.do("GET", "/api/entity/"+target+"/grant?recipientEntityId="+client, e.root, nil), "grant")
		if g["recipientEntityId"] != client || g["userId"] != nil || !slices.Equal(rgStrings(g["permissions"]), []string{"read", "write"}) ||
			jsonAt(g, "entity", "id") != target || jsonAt(g, "entity", "clientSecret") != nil || jsonAt(g, "data", "why") != "sync" {
			t.Fatalf("grant: %v", g)
		}
		wantEmpty(t, "grant to a user, default permissions", grant(map[string]any{"userId": user}), 200)
		ug := e.ok("retrieve user grant", e.do("GET", "/api/entity/"+target+"/grant?userId="+user, e.root, nil), "grant")
		if ug["userId"] != user || !slices.Equal(rgStrings(ug["permissions"]), []string{"read"}) {
			t.Errorf("user grant: %v", ug)
		}

		// The upsert replaces.
		wantEmpty(t, "replace", grant(map[string]any{"recipientEntityId": client, "permissions": []any{"delete"}}), 200)
		g2 := e.ok("retrieve replaced", e.do("GET", "/api/entity/"+target+"/grant?recipientEntityId="+client, e.root, nil), "grant")
		if g2["id"] != g["id"] || !slices.Equal(rgStrings(g2["permissions"]), []string{"delete"}) || !model.JSONEqual(g2["data"], map[string]any{}) {
			t.Errorf("replaced: %v", g2)
		}
		wantEmpty(t, "explicitly none", grant(map[string]any{"recipientEntityId": client, "permissions": []any{}}), 200)
		if g3 := e.ok("retrieve empty", e.do("GET", "/api/entity/"+target+"/grant?recipientEntityId="+client, e.root, nil), "grant"); len(rgStrings(g3["permissions"])) != 0 {
			t.Errorf("explicitly none: %v", g3)
		}
		wantEmpty(t, "back to two", grant(map[string]any{"recipientEntityId": client, "permissions": []any{"read", "write"}}), 200)

		for _, c := range []struct {
			name string
			body map[string]any
			code string
		}{
			{"nobody", map[string]any{"permissions": []any{"read"}}, "[blank]grant.userId"},
			{"both", map[string]any{"userId": user, "recipientEntityId": client}, "[invalid]grant.recipientEntityId"},
			{"unknown permission", map[string]any{"userId": user, "permissions": []any{"read", "fly"}}, "[invalid]grant.permissions[1]"},
			{"permission not a string", map[string]any{"userId": user, "permissions": []any{1}}, "[invalid]grant.permissions[0]"},
			{"permissions not an array", map[string]any{"userId": user, "permissions": "read"}, "[invalid]grant.permissions"},
			{"user of another tenant", map[string]any{"userId": outsideUser}, "[invalid]grant.userId"},
			{"entity of another tenant", map[string]any{"recipientEntityId": outsider}, "[invalid]grant.recipientEntityId"},
			{"unknown user", map[string]any{"userId": rgNewID()}, "[invalid]grant.userId"},
			{"bad user id", map[string]any{"userId": "u"}, "[invalid]grant.userId"},
			{"data not an object", map[string]any{"userId": user, "data": []any{}}, "[invalid]grant.data"},
		} {
			want400(t, c.name, grant(c.body), c.code)
		}
		wantEmpty(t, "grant on an unknown entity", e.do("POST", "/api/entity/"+rgNewID()+"/grant", e.root, map[string]any{"grant": map[string]any{"userId": user}}), 404)
		wantEmpty(t, "retrieve a grant that does not exist", e.do("GET", "/api/entity/"+client+"/grant?userId="+user, e.root, nil), 404)
		want400(t, "retrieve without who", e.do("GET", "/api/entity/"+target+"/grant", e.root, nil), "[blank]userId")
		wantEmpty(t, "another sub-path", e.do("GET", "/api/entity/"+target+"/grants", e.root, nil), 404)
		scoped, _ := e.scopedKey(acme)
		wantEmpty(t, "scoped key, other tenant's grant", e.do("GET", "/api/entity/"+target+"/grant?userId="+user, scoped, nil), 404)
		wantEmpty(t, "scoped key upsert", e.do("POST", "/api/entity/"+target+"/grant", scoped, map[string]any{"grant": map[string]any{"userId": user}}), 404)

		// Renaming a permission follows into grants; deleting one removes it.
		writeID := enPermissionID(t, typ, "write")
		e.ok("rename", e.do("PUT", "/api/entity/type/"+typeID+"/permission/"+writeID, e.root, map[string]any{"permission": map[string]any{"name": "modify"}}), "permission")
		g4 := e.ok("after rename", e.do("GET", "/api/entity/"+target+"/grant?recipientEntityId="+client, e.root, nil), "grant")
		if !slices.Equal(rgStrings(g4["permissions"]), []string{"modify", "read"}) {
			t.Errorf("after rename: %v", g4["permissions"])
		}
		wantEmpty(t, "delete permission", e.do("DELETE", "/api/entity/type/"+typeID+"/permission/"+enPermissionID(t, typ, "read"), e.root, nil), 200)
		g5 := e.ok("after permission delete", e.do("GET", "/api/entity/"+target+"/grant?recipientEntityId="+client, e.root, nil), "grant")
		if !slices.Equal(rgStrings(g5["permissions"]), []string{"modify"}) {
			t.Errorf("after permission delete: %v", g5["permissions"])
		}

		// Search.
		wantEmpty(t, "grant on the client too", e.do("POST", "/api/entity/"+client+"/grant", e.root, map[string]any{"grant": map[string]any{"userId": user, "permissions": []any{"delete"}}}), 200)
		wantEmpty(t, "grant in acme", e.do("POST", "/api/entity/"+outsider+"/grant", e.root, map[string]any{"grant": map[string]any{"userId": outsideUser}}), 200)
		count := func(r *testutil.Response) (total, listed int) {
			t.Helper()
			if r.Status != 200 {
				t.Fatalf("grant search: %d %s", r.Status, r.Body)
			}
			body := decodeObject(t, r)
			fmt.Sscan(fmt.Sprint(body["total"]), &total)
			return total, len(body["grants"].([]any))
		}
		for _, c := range []struct {
			name       string
			r          *testutil.Response
			want, page int
		}{
			{"all", e.do("GET", "/api/entity/grant/search", e.root, nil), 4, 4},
			{"by entity", e.do("GET", "/api/entity/grant/search?entityId="+target, e.root, nil), 2, 2},
			{"by user", e.do("POST", "/api/entity/grant/search", e.root, map[string]any{"search": map[string]any{"userId": user}}), 2, 2},
			{"by name", e.do("POST", "/api/entity/grant/search", e.root, map[string]any{"search": map[string]any{"name": "targ*"}}), 2, 2},
			{"by user and entity", e.do("GET", "/api/entity/grant/search?userId="+user+"&entityId="+client, e.root, nil), 1, 1},
			{"scoped", e.do("GET", "/api/entity/grant/search", scoped, nil), 1, 1},
			{"header", e.do("GET", "/api/entity/grant/search", e.root, nil, "X-FusionAuth-TenantId", def), 3, 3},
			{"paged", e.do("GET", "/api/entity/grant/search?numberOfResults=1&startRow=3", e.root, nil), 4, 1},
		} {
			if total, listed := count(c.r); total != c.want || listed != c.page {
				t.Errorf("%s: total %d with %d listed, want %d with %d", c.name, total, listed, c.want, c.page)
			}
		}
		want400(t, "bad entityId", e.do("GET", "/api/entity/grant/search?entityId=x", e.root, nil), "[invalid]search.entityId")

		// Delete a grant; deleting a recipient entity removes grants to it.
		wantEmpty(t, "delete user grant", e.do("DELETE", "/api/entity/"+target+"/grant?userId="+user, e.root, nil), 200)
		wantEmpty(t, "delete it again", e.do("DELETE", "/api/entity/"+target+"/grant?userId="+user, e.root, nil), 404)
		wantEmpty(t, "delete the client", e.do("DELETE", "/api/entity/"+client, e.root, nil), 200)
		wantEmpty(t, "its grant went with it", e.do("GET", "/api/entity/"+target+"/grant?recipientEntityId="+client, e.root, nil), 404)
		var msgs []string
		for _, a := range e.audits(target) {
			msgs = append(msgs, a.Message)
		}
		for _, want := range []string{"Granted [read, write] on entity", "Updated the grant of [delete]", "Removed the grant on entity"} {
			if !rgHasPrefix(msgs, want) {
				t.Errorf("no audit entry %q in %v", want, msgs)
			}
		}
	})
}

// Concurrent upserts of one grant never fail and leave one of the sets
// written, whole.
func TestEntityGrantConcurrentUpserts(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := enStart(t, b)
		typeID := e.entityType("API", "a", "b", "c", "d")["id"].(string)
		target := e.entity(typeID, "", "Target")["id"].(string)
		client := e.entity(typeID, "", "Client")["id"].(string)
		sets := [][]string{{"a", "b"}, {"c", "d"}, {"a", "d"}, {"b"}}
		var wg sync.WaitGroup
		statuses := make([]int, 16)
		for i := range statuses {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				perms := []any{}
				for _, p := range sets[i%len(sets)] {
					perms = append(perms, p)
				}
				r := e.s.Do(t, "POST", "/api/entity/"+target+"/grant", e.root, map[string]any{"grant": map[string]any{"recipientEntityId": client, "permissions": perms}})
				statuses[i] = r.Status
			}(i)
		}
		wg.Wait()
		for i, s := range statuses {
			if s != 200 {
				t.Errorf("upsert %d: %d", i, s)
			}
		}
		g := e.ok("retrieve", e.do("GET", "/api/entity/"+target+"/grant?recipientEntityId="+client, e.root, nil), "grant")
		got := rgStrings(g["permissions"])
		if !slices.ContainsFunc(sets, func(s []string) bool { return slices.Equal(s, got) }) {
			t.Errorf("permissions %v are none of the sets written", got)
		}
		n := decodeObject(t, e.do("GET", "/api/entity/grant/search?entityId="+target, e.root, nil))["total"]
		if n != taNum(1) {
			t.Errorf("%v grants for one pair", n)
		}
	})
}

// FusionAuth's TypeScript client sends the optional arguments it was not
// given as "undefined" (searchEntityGrantsByParameters, retrieveEntityGrant);
// they read as absent.
func TestEntityCallsReadClientUndefinedAsAbsent(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := enStart(t, b)
		typeID := e.entityType("API", "read")["id"].(string)
		target := e.entity(typeID, "", "Target")["id"].(string)
		user := e.user("u@example.com", "")
		wantEmpty(t, "grant", e.do("POST", "/api/entity/"+target+"/grant", e.root, map[string]any{"grant": map[string]any{"userId": user}}), 200)
		e.ok("retrieve", e.do("GET", "/api/entity/"+target+"/grant?recipientEntityId=undefined&userId="+user, e.root, nil), "grant")
		r := e.do("GET", "/api/entity/grant/search?entityId=undefined&name=undefined&userId="+user+"&numberOfResults=undefined&orderBy=undefined&startRow=undefined", e.root, nil)
		if body := decodeObject(t, r); r.Status != 200 || body["total"] != taNum(1) {
			t.Errorf("grant search: %d %s", r.Status, r.Body)
		}
		r = e.do("GET", "/api/entity/type/search?name=*&numberOfResults=undefined&orderBy=undefined&startRow=null", e.root, nil)
		if body := decodeObject(t, r); r.Status != 200 || body["total"] != taNum(1) {
			t.Errorf("type search: %d %s", r.Status, r.Body)
		}
		wantEmpty(t, "delete", e.do("DELETE", "/api/entity/"+target+"/grant?recipientEntityId=undefined&userId="+user, e.root, nil), 200)
	})
}

func TestEntityGrantCaseVariantsRefused(t *testing.T) {
	t.Parallel()
	e := enStart(t, testutil.Backend{Name: "sqlite"})
	typeID := e.entityType("API", "read")["id"].(string)
	target := e.entity(typeID, "", "Target")["id"].(string)
	user := e.user("u@example.com", "")
	want400(t, "grant.UserId", e.do("POST", "/api/entity/"+target+"/grant", e.root, map[string]any{"grant": map[string]any{"userId": user, "Permissions": []any{"read"}}}), "[invalid]grant.Permissions")
	want400(t, "Grant", e.do("POST", "/api/entity/"+target+"/grant", e.root, map[string]any{"Grant": map[string]any{"userId": user}}), "[invalid]Grant")
	want400(t, "Permission", e.do("POST", "/api/entity/type/"+typeID+"/permission", e.root, map[string]any{"Permission": map[string]any{"name": "x"}}), "[invalid]Permission")
}

// A key's permissions name the grant routes by their own family, apart from
// /api/entity.
func TestEntityGrantRoutesFamily(t *testing.T) {
	t.Parallel()
	e := enStart(t, testutil.Backend{Name: "sqlite"})
	typeID := e.entityType("API", "read")["id"].(string)
	target := e.entity(typeID, "", "Target")["id"].(string)
	user := e.user("u@example.com", "")
	wantEmpty(t, "grant", e.do("POST", "/api/entity/"+target+"/grant", e.root, map[string]any{"grant": map[string]any{"userId": user}}), 200)
	key := func(perms map[string]any) string {
		r := e.do("POST", "/api/api-key", e.root, map[string]any{"apiKey": map[string]any{"permissions": map[string]any{"endpoints": perms}}})
		if r.Status != 200 {
			t.Fatalf("key: %d %s", r.Status, r.Body)
		}
		return decodeObject(t, r)["apiKey"].(map[string]any)["key"].(string)
	}
	grants := key(map[string]any{"/api/entity/grant": []any{"GET"}})
	entities := key(map[string]any{"/api/entity": []any{"GET"}})
	for _, c := range []struct {
		key, path string
		want      int
	}{
		{grants, "/api/entity/" + target + "/grant?userId=" + user, 200},
		{grants, "/api/entity/" + target, 401},
		{entities, "/api/entity/" + target, 200},
		{entities, "/api/entity/" + target + "/grant?userId=" + user, 401},
	} {
		if r := e.do("GET", c.path, c.key, nil); r.Status != c.want {
			t.Errorf("GET %s: %d, want %d", c.path, r.Status, c.want)
		}
	}
	if r := e.do("DELETE", "/api/entity/"+target+"/grant?userId="+user, grants, nil); r.Status != 401 {
		t.Errorf("DELETE with a GET-only key: %d", r.Status)
	}
}
