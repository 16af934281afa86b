package admin_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

var signingKeyLink = regexp.MustCompile(`/admin/signing-keys/([0-9a-f-]{36})`)

type keyOut struct {
	ID, Name, Algorithm string
	HasPrivateKey       *bool
}

func (e *env) signingKeys() map[string]keyOut {
	e.t.Helper()
	var out struct{ Keys []keyOut }
	e.api("GET", "/api/key", nil, 200).JSON(e.t, &out)
	m := map[string]keyOut{}
	for _, k := range out.Keys {
		m[k.Name] = k
	}
	return m
}

func (e *env) defaultTenantKeys() (access, id string) {
	e.t.Helper()
	var out struct {
		Tenants []struct {
			Name             string
			JWTConfiguration struct{ AccessTokenKeyID, IDTokenKeyID string } `json:"jwtConfiguration"`
		}
	}
	e.api("GET", "/api/tenant", nil, 200).JSON(e.t, &out)
	for _, t := range out.Tenants {
		if t.Name == "Default" {
			return t.JWTConfiguration.AccessTokenKeyID, t.JWTConfiguration.IDTokenKeyID
		}
	}
	e.t.Fatal("no Default tenant")
	return "", ""
}

func TestSigningKeyPages(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		e.admin("keys@example.com", "key_manager")
		br := e.browser()
		home := br.signIn("keys@example.com", testPassword)
		if !strings.Contains(home.body, `href="/admin/signing-keys"`) {
			t.Fatal("no Signing keys entry in a key_manager's navigation")
		}
		csrf := home.csrf(t)

		// Generate.
		form := br.get("/admin/signing-keys/new")
		created := br.submit(form, "/admin/signing-keys", "name", "Ed key", "algorithm", "Ed25519")
		if created.status != 200 || !strings.Contains(created.body, "The key was saved") {
			t.Fatalf("generate: %d %s", created.status, created.body)
		}
		if k, ok := e.signingKeys()["Ed key"]; !ok || k.Algorithm != "Ed25519" {
			t.Fatalf("generated: %+v", e.signingKeys())
		}
		if p := br.submit(form, "/admin/signing-keys", "name", "Ed key", "algorithm", "Ed25519"); p.status != 400 || !strings.Contains(p.body, "already exists") {
			t.Fatalf("a taken name: %d", p.status)
		}
		// The length is for RSA, 2048 unless given, as the field says; other
		// algorithms ignore it.
		for _, c := range []struct{ name, alg, length, want string }{
			{"RSA default", "RS256", "", "RS256"},
			{"EC with a length typed", "ES256", "2048", "ES256"},
		} {
			if p := br.submit(form, "/admin/signing-keys", "name", c.name, "algorithm", c.alg, "length", c.length); p.status != 200 {
				t.Fatalf("%s: %d %s", c.name, p.status, p.body)
			}
			if k := e.signingKeys()[c.name]; k.Algorithm != c.want {
				t.Fatalf("%s: %+v", c.name, k)
			}
		}

		// Import a public key (verify only); a bad private key is refused
		// and not echoed back.
		priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		der, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
		pub := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
		imp := br.get("/admin/signing-keys/new?import=1")
		bad := br.submit(imp, "/admin/signing-keys/import", "name", "Partner", "publicKey", pub, "privateKey", "-----BEGIN PRIVATE KEY-----\nsecretstuff\n-----END PRIVATE KEY-----")
		if bad.status != 400 || strings.Contains(bad.body, "secretstuff") {
			t.Fatalf("bad private key: %d (echoed: %v)", bad.status, strings.Contains(bad.body, "secretstuff"))
		}
		good := br.submit(imp, "/admin/signing-keys/import", "name", "Partner", "publicKey", pub)
		if good.status != 200 || !strings.Contains(good.body, "only verifies") || strings.Contains(good.body, "Rotate key") {
			t.Fatalf("import: %d %s", good.status, good.body)
		}
		if k := e.signingKeys()["Partner"]; k.HasPrivateKey == nil || *k.HasPrivateKey {
			t.Fatalf("imported: %+v", k)
		}

		// Rotate the default key: the Default tenant names the new one, the old stays.
		oldID, _ := e.defaultTenantKeys()
		if p := br.post("/admin/signing-keys/"+oldID+"/delete", url.Values{"csrf_token": {csrf}}); p.status != 400 || !strings.Contains(p.body, "in use") {
			t.Fatalf("delete of a key in use: %d", p.status)
		}
		var app struct{ Application struct{ ID string } }
		e.api("POST", "/api/application", map[string]any{"application": map[string]any{"name": "Signed",
			"jwtConfiguration": map[string]any{"enabled": true, "accessTokenKeyId": oldID, "timeToLiveInSeconds": 300}}}, 200).JSON(t, &app)
		rotated := br.post("/admin/signing-keys/"+oldID+"/rotate", url.Values{"csrf_token": {csrf}})
		m := signingKeyLink.FindStringSubmatch(rotated.url.Path)
		if rotated.status != 200 || m == nil || m[1] == oldID || !strings.Contains(rotated.body, "replaced the old one") {
			t.Fatalf("rotate: %d at %s: %s", rotated.status, rotated.url, rotated.body)
		}
		newID := m[1]
		if access, _ := e.defaultTenantKeys(); access != newID {
			t.Fatalf("the Default tenant's access token key is %s, want the new %s", access, newID)
		}
		var appOut struct {
			Application struct {
				JWTConfiguration struct {
					Enabled             bool
					AccessTokenKeyID    string `json:"accessTokenKeyId"`
					TimeToLiveInSeconds int
				} `json:"jwtConfiguration"`
			}
		}
		e.api("GET", "/api/application/"+app.Application.ID, nil, 200).JSON(t, &appOut)
		if j := appOut.Application.JWTConfiguration; j.AccessTokenKeyID != newID || !j.Enabled || j.TimeToLiveInSeconds != 300 {
			t.Fatalf("the application's JWT settings after rotation: %+v", j)
		}
		if !strings.Contains(rotated.body, "jwtConfiguration.accessTokenKeyId") {
			t.Error("the new key's page does not show where it is used")
		}
		var jwks struct{ Keys []struct{ Kid string } }
		e.api("GET", "/.well-known/jwks.json", nil, 200).JSON(t, &jwks)
		if len(jwks.Keys) < 3 {
			t.Errorf("the old key left the JWKS: %+v", jwks)
		}
		// Now unused, the old key can be deleted.
		if p := br.post("/admin/signing-keys/"+oldID+"/delete", url.Values{"csrf_token": {csrf}}); p.status != 200 || p.url.Path != "/admin/signing-keys" {
			t.Fatalf("delete of the unused old key: %d %s", p.status, p.body)
		}
		for _, want := range []string{"Generated signing key [Ed key]", "Imported signing key [Partner]", "Deleted signing key", "Updated tenant [Default]"} {
			if !e.auditedBy("keys@example.com", want) {
				t.Errorf("no audit entry by the admin containing %q", want)
			}
		}
		list := br.get("/admin/signing-keys")
		if !strings.Contains(list.body, "Partner") || !strings.Contains(list.body, "verify only") {
			t.Fatalf("list: %s", list.body)
		}
	})
}
