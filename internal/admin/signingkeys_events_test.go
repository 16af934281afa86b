package admin_test

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchid/latch/internal/testutil"
)

// A rotation from the signing-key page emits jwt.public-key.update, signed
// like every webhook request: one for the new key (no tenant, no
// applications: it joins the JWKS), one per tenant setting re-pointed (the
// tenant's applications) and one per application setting (that
// application).
func TestSigningKeyRotationEvents(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		e.admin("rotor@example.com", "key_manager")
		br := e.browser()
		home := br.signIn("rotor@example.com", testPassword)
		csrf := home.csrf(t)

		var mu sync.Mutex
		var got []map[string]any
		var raw [][]byte
		var sigs []string
		rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			var ev struct{ Event map[string]any }
			_ = json.Unmarshal(body, &ev)
			mu.Lock()
			got, raw, sigs = append(got, ev.Event), append(raw, body), append(sigs, r.Header.Get("X-FusionAuth-Signature-JWT"))
			mu.Unlock()
		}))
		t.Cleanup(rc.Close)
		var hookKey struct {
			Key struct{ ID, PublicKey string }
		}
		e.api("POST", "/api/key/generate", map[string]any{"key": map[string]any{"algorithm": "ES256", "name": "Hook key"}}, 200).JSON(t, &hookKey)
		e.api("POST", "/api/webhook", map[string]any{"webhook": map[string]any{"url": rc.URL, "global": true, "allowPrivateNetworks": true,
			"eventsEnabled":          map[string]bool{"jwt.public-key.update": true},
			"signatureConfiguration": map[string]any{"enabled": true, "signingKeyId": hookKey.Key.ID}}}, 200)

		oldID, _ := e.defaultTenantKeys()
		var app struct{ Application struct{ ID string } }
		e.api("POST", "/api/application", map[string]any{"application": map[string]any{"name": "Own key",
			"jwtConfiguration": map[string]any{"enabled": true, "accessTokenKeyId": oldID}}}, 200).JSON(t, &app)
		var tenants struct{ Tenants []struct{ ID, Name string } }
		e.api("GET", "/api/tenant", nil, 200).JSON(t, &tenants)
		tenantID := tenants.Tenants[0].ID
		var apps struct{ Applications []struct{ ID string } }
		e.api("GET", "/api/application", nil, 200).JSON(t, &apps)
		var all []string
		for _, a := range apps.Applications {
			all = append(all, a.ID)
		}
		slices.Sort(all)

		if p := br.post("/admin/signing-keys/"+oldID+"/rotate", url.Values{"csrf_token": {csrf}}); p.status != 200 {
			t.Fatalf("rotate: %d %s", p.status, p.body)
		}
		// The Default tenant names the old key twice (access and id
		// tokens): two tenant updates, each with its event.
		want := map[string]int{
			"<nil> []":                     1,
			fmt.Sprint(tenantID, " ", all): 2,
			fmt.Sprint(tenantID, " ", []string{app.Application.ID}): 1,
		}
		n := 0
		for _, c := range want {
			n += c
		}
		for deadline := time.Now().Add(30 * time.Second); ; {
			mu.Lock()
			have := len(got)
			mu.Unlock()
			if have >= n {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d events, want %d: %v", have, n, got)
			}
			time.Sleep(20 * time.Millisecond)
		}
		mu.Lock()
		defer mu.Unlock()
		seen := map[string]int{}
		for i, ev := range got {
			if ev["type"] != "jwt.public-key.update" || ev["id"] == nil || ev["createInstant"] == nil {
				t.Errorf("event: %s", raw[i])
			}
			verifyBodySignature(t, sigs[i], hookKey.Key.PublicKey, raw[i])
			ids := []string{}
			list, _ := ev["applicationIds"].([]any)
			for _, a := range list {
				ids = append(ids, fmt.Sprint(a))
			}
			seen[fmt.Sprint(ev["tenantId"], " ", ids)]++
		}
		if fmt.Sprint(seen) != fmt.Sprint(want) {
			t.Fatalf("events by tenant and applications %v, want %v", seen, want)
		}
	})
}

// verifyBodySignature checks an ES256 compact JWS against a PEM public key
// and that it carries the body's SHA-256.
func verifyBodySignature(t *testing.T, token, publicKeyPEM string, body []byte) {
	t.Helper()
	parts := strings.Split(token, ".")
	block, _ := pem.Decode([]byte(publicKeyPEM))
	if len(parts) != 3 || block == nil {
		t.Fatalf("signature %q or key unreadable", token)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if len(sig) != 64 || !ecdsa.Verify(pub.(*ecdsa.PublicKey), sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Fatal("signature does not verify")
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims map[string]any
	_ = json.Unmarshal(payload, &claims)
	bodySum := sha256.Sum256(body)
	if claims["request_body_sha256"] != base64.StdEncoding.EncodeToString(bodySum[:]) {
		t.Fatalf("request_body_sha256 %v does not match the body", claims["request_body_sha256"])
	}
}
