package api_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"testing"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/testutil"
)

// TestReferencesValidatedOnWrite: a setting that names another object (a
// signing key, a tenant, a role, an IP ACL) is refused with a 400 field error
// when that object does not exist or cannot serve, so that nothing dangles
// and logins never answer 500; and a signing key in use cannot be deleted.
func TestReferencesValidatedOnWrite(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		appID := e.app("Refs", lgAppOpts{roles: []string{"user"}})
		pw := "correct horse battery"
		email := lgEmail("refs")
		userID := e.user(email, pw, nil)
		e.register(userID, appID, "user")
		login := func() int {
			return e.login("", map[string]any{"loginId": email, "password": pw, "applicationId": appID}).Status
		}
		if got := login(); got != 200 {
			t.Fatalf("login before: %d", got)
		}

		priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		pub := e.want("import public key", e.do("POST", "/api/key/import", e.root, map[string]any{"key": map[string]any{"name": "public only",
			"publicKey": skPEM("PUBLIC KEY", skMust(x509.MarshalPKIXPublicKey(&priv.PublicKey)))}}), 200)
		publicOnly := pub["key"].(map[string]any)["id"].(string)
		gen := e.want("generate key", e.do("POST", "/api/key/generate", e.root, map[string]any{"key": map[string]any{"name": "refs key", "algorithm": "ES256"}}), 200)
		usable := gen["key"].(map[string]any)["id"].(string)
		missing := uuid.NewString()

		cases := []struct {
			name, method, path string
			body               any
			code               string
		}{
			{"tenant access key missing", "PATCH", "/api/tenant/" + e.tenant, map[string]any{"tenant": map[string]any{"jwtConfiguration": map[string]any{"accessTokenKeyId": missing}}}, "[invalid]tenant.jwtConfiguration.accessTokenKeyId"},
			{"tenant id key missing", "PATCH", "/api/tenant/" + e.tenant, map[string]any{"tenant": map[string]any{"jwtConfiguration": map[string]any{"idTokenKeyId": missing}}}, "[invalid]tenant.jwtConfiguration.idTokenKeyId"},
			{"tenant access key public only", "PATCH", "/api/tenant/" + e.tenant, map[string]any{"tenant": map[string]any{"jwtConfiguration": map[string]any{"accessTokenKeyId": publicOnly}}}, "[invalid]tenant.jwtConfiguration.accessTokenKeyId"},
			{"tenant access key not an id", "PATCH", "/api/tenant/" + e.tenant, map[string]any{"tenant": map[string]any{"jwtConfiguration": map[string]any{"accessTokenKeyId": "nope"}}}, "[invalid]tenant.jwtConfiguration.accessTokenKeyId"},
			{"new tenant access key missing", "POST", "/api/tenant", map[string]any{"tenant": map[string]any{"name": "Dangling", "jwtConfiguration": map[string]any{"accessTokenKeyId": missing}}}, "[invalid]tenant.jwtConfiguration.accessTokenKeyId"},
			{"app access key missing", "PATCH", "/api/application/" + appID, map[string]any{"application": map[string]any{"jwtConfiguration": map[string]any{"enabled": true, "accessTokenKeyId": missing}}}, "[invalid]application.jwtConfiguration.accessTokenKeyId"},
			{"app id key missing", "PATCH", "/api/application/" + appID, map[string]any{"application": map[string]any{"jwtConfiguration": map[string]any{"enabled": true, "idTokenKeyId": missing}}}, "[invalid]application.jwtConfiguration.idTokenKeyId"},
			{"app access key public only", "PATCH", "/api/application/" + appID, map[string]any{"application": map[string]any{"jwtConfiguration": map[string]any{"enabled": true, "accessTokenKeyId": publicOnly}}}, "[invalid]application.jwtConfiguration.accessTokenKeyId"},
			{"new app access key missing", "POST", "/api/application", map[string]any{"application": map[string]any{"name": "Dangling", "tenantId": e.tenant, "jwtConfiguration": map[string]any{"enabled": true, "accessTokenKeyId": missing}}}, "[invalid]application.jwtConfiguration.accessTokenKeyId"},
			{"app tenant missing", "POST", "/api/application", map[string]any{"application": map[string]any{"name": "No tenant", "tenantId": missing}}, "[invalid]application.tenantId"},
			{"key ACL missing", "POST", "/api/api-key", map[string]any{"apiKey": map[string]any{"ipAccessControlListId": missing}}, "[invalid]apiKey.ipAccessControlListId"},
			{"registration role missing", "PUT", "/api/user/registration/" + userID + "/" + appID, map[string]any{"registration": map[string]any{"applicationId": appID, "roles": []string{"no such role"}}}, "[invalid]registration.roles"},
			{"group role missing", "POST", "/api/group", map[string]any{"group": map[string]any{"name": "Refs group", "tenantId": e.tenant}, "roleIds": []string{missing}}, "[invalid]roleIds[0]"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				want400(t, c.name, e.do(c.method, c.path, e.root, c.body), c.code)
			})
		}
		if got := login(); got != 200 {
			t.Fatalf("login after refused changes: %d", got)
		}

		// A usable key is accepted, then cannot be deleted while named.
		e.want("tenant names a usable key", e.do("PATCH", "/api/tenant/"+e.tenant, e.root, map[string]any{"tenant": map[string]any{"jwtConfiguration": map[string]any{"accessTokenKeyId": usable}}}), 200)
		e.want("app names a usable key", e.do("PATCH", "/api/application/"+appID, e.root, map[string]any{"application": map[string]any{"jwtConfiguration": map[string]any{"enabled": true, "idTokenKeyId": usable}}}), 200)
		if got := login(); got != 200 {
			t.Fatalf("login with the new key: %d", got)
		}
		r := e.do("DELETE", "/api/key/"+usable, e.root, nil)
		if r.Status != 400 {
			t.Errorf("delete a key in use: %d %s, want 400", r.Status, r.Body)
		}
	})
}
