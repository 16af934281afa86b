package api_test

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/testutil"
)

// lgSigningKey opens the private key of the signing key with kid from the
// server's database (the test knows the master key).
func (e *lgEnv) lgSigningKey(kid string) (*rsa.PrivateKey, string) {
	e.t.Helper()
	rows, err := e.st.Read().AllSigningKeys(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	mk, err := secrets.ParseMasterKey(testutil.TestMasterKey)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, r := range rows {
		if r.Kid != kid {
			continue
		}
		text, err := mk.Open(r.PrivateSealed, "signing_key:"+r.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		block, _ := pem.Decode([]byte(text))
		var k any
		if block.Type == "RSA PRIVATE KEY" {
			k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		} else {
			k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		}
		if err != nil {
			e.t.Fatal(err)
		}
		return k.(*rsa.PrivateKey), r.PublicKey
	}
	e.t.Fatalf("no signing key with kid %s", kid)
	return nil, ""
}

func lgB64(v any) string {
	b, ok := v.([]byte)
	if !ok {
		if s, isStr := v.(string); isStr {
			b = []byte(s)
		} else {
			b, _ = json.Marshal(v)
		}
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// lgRS256 signs header and payload (objects or raw strings) with an RSA key.
func lgRS256(t *testing.T, k *rsa.PrivateKey, header, payload any) string {
	t.Helper()
	input := lgB64(header) + "." + lgB64(payload)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// Validation: 200 with the claims for a good token (header or cookie); 401,
// never 500, for every forged, stale or malformed one.
func TestJWTValidate(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		// Tokens signed with an RSA key, so that the forgeries below can use
		// its public key as an HMAC secret (the default key is ES256).
		rsaKey := e.want("generate RS256", e.do("POST", "/api/key/generate", e.root, map[string]any{"key": map[string]any{
			"algorithm": "RS256", "name": "jwt test RSA", "length": 2048}}), 200)["key"].(map[string]any)
		e.patchTenant(map[string]any{"jwtConfiguration": map[string]any{"accessTokenKeyId": rsaKey["id"]}})
		app := e.app("App", lgAppOpts{roles: []string{"r"}})
		email := lgEmail("jwt")
		uid := e.user(email, lgPassword, nil)
		e.register(uid, app, "r")
		m := e.loginOK("login", "", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app}, 200)
		token := lgStr(m["token"])
		claims := lgClaims(t, token)

		v := e.want("validate", e.validate(token), 200)
		got, _ := v["jwt"].(map[string]any)
		for k, want := range claims {
			if gotJSON, _ := json.Marshal(got[k]); string(gotJSON) != string(must(json.Marshal(want))) {
				t.Errorf("validate claim %s = %v, want %v", k, got[k], want)
			}
		}
		e.want("validate by cookie", e.do("GET", "/api/jwt/validate", "", nil, "Cookie", "access_token="+token), 200)
		e.want("validate, JWT scheme", e.do("GET", "/api/jwt/validate", "", nil, "Authorization", "JWT "+token), 200)
		e.want("validate without a token", e.do("GET", "/api/jwt/validate", "", nil), 401)

		kid := lgStr(lgHeader(t, token)["kid"])
		key, publicPEM := e.lgSigningKey(kid)
		hdr := func(extra map[string]any) map[string]any {
			h := map[string]any{"alg": "RS256", "typ": "JWT", "kid": kid}
			for k, v := range extra {
				h[k] = v
			}
			return h
		}
		payload := func(change map[string]any) map[string]any {
			p := map[string]any{}
			for k, v := range claims {
				p[k] = v
			}
			for k, v := range change {
				if v == nil {
					delete(p, k)
				} else {
					p[k] = v
				}
			}
			return p
		}
		// The crafting itself works: the same claims, signed by the test, pass.
		e.want("crafted control token", e.validate(lgRS256(t, key, hdr(nil), payload(nil))), 200)

		attacker, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		attackerJWK := map[string]any{"kty": "RSA", "kid": kid, "e": "AQAB", "n": base64.RawURLEncoding.EncodeToString(attacker.N.Bytes())}
		hsInput := lgB64(map[string]any{"alg": "HS256", "typ": "JWT", "kid": kid}) + "." + lgB64(payload(nil))
		mac := hmac.New(sha256.New, []byte(publicPEM))
		mac.Write([]byte(hsInput))
		now := e.clock.Now().Unix()

		bad := map[string]string{
			"alg none":                  lgB64(map[string]any{"alg": "none", "typ": "JWT", "kid": kid}) + "." + lgB64(payload(nil)) + ".",
			"alg none, no signature":    lgB64(map[string]any{"alg": "none", "typ": "JWT"}) + "." + lgB64(payload(nil)),
			"HS256 with the public key": hsInput + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)),
			"attacker key in jwk":       lgRS256(t, attacker, hdr(map[string]any{"jwk": attackerJWK}), payload(nil)),
			"jwk header, Latch's key":   lgRS256(t, key, hdr(map[string]any{"jwk": attackerJWK}), payload(nil)),
			"jku header, Latch's key":   lgRS256(t, key, hdr(map[string]any{"jku": "https://attacker.example/jwks.json"}), payload(nil)),
			"x5u header, Latch's key":   lgRS256(t, key, hdr(map[string]any{"x5u": "https://attacker.example/cert.pem"}), payload(nil)),
			"unknown kid":               lgRS256(t, key, hdr(map[string]any{"kid": "no-such-kid"}), payload(nil)),
			"RS512 named, RS256 signed": lgRS256(t, key, hdr(map[string]any{"alg": "RS512"}), payload(nil)),
			"PS256 named, RS256 signed": lgRS256(t, key, hdr(map[string]any{"alg": "PS256"}), payload(nil)),
			"no kid":                    lgRS256(t, key, map[string]any{"alg": "RS256", "typ": "JWT"}, payload(nil)),
			"attacker's signature":      lgRS256(t, attacker, hdr(nil), payload(nil)),
			"not yet valid":             lgRS256(t, key, hdr(nil), payload(map[string]any{"nbf": now + 60})),
			"expired long ago":          lgRS256(t, key, hdr(nil), payload(map[string]any{"exp": now - 3600})),
			"no exp":                    lgRS256(t, key, hdr(nil), payload(map[string]any{"exp": nil})),
			"exp as a string":           lgRS256(t, key, hdr(nil), payload(map[string]any{"exp": "99999999999"})),
			"nbf as a string":           lgRS256(t, key, hdr(nil), payload(map[string]any{"nbf": "0"})),
			"iat as an object":          lgRS256(t, key, hdr(nil), payload(map[string]any{"iat": map[string]any{"x": 1}})),
			"sub as a number":           lgRS256(t, key, hdr(nil), payload(map[string]any{"sub": 12})),
			"sub of nobody":             lgRS256(t, key, hdr(nil), payload(map[string]any{"sub": "6b1e0d44-52a4-4b5d-8d1c-0d7c2f6f0b55"})),
			"payload an array":          lgRS256(t, key, hdr(nil), "[1,2,3]"),
			"payload not JSON":          lgRS256(t, key, hdr(nil), "not json at all"),
			"payload null":              lgRS256(t, key, hdr(nil), "null"),
			"header not JSON":           lgRS256(t, key, "{{{", payload(nil)),
			"truncated":                 token[:len(token)-7],
			"truncated to two parts":    token[:strings.LastIndex(token, ".")],
			"signature of another":      token[:strings.LastIndex(token, ".")] + "." + strings.Split(lgRS256(t, key, hdr(nil), payload(map[string]any{"sub": "x"})), ".")[2],
			"base64 garbage":            "eyJ!!!.@@@.###",
			"three dots":                "...",
			"empty parts":               "..",
			"one word":                  "garbage",
			"1 MB":                      strings.Repeat("a", 1_000_000),
			"1 MB of dots":              strings.Repeat("a.", 500_000),
		}
		for name, tok := range bad {
			if r := e.validate(tok); r.Status != 401 || len(r.Body) != 0 {
				t.Errorf("%s: %d %q, want an empty 401", name, r.Status, r.Body)
			}
			if r := e.do("GET", "/api/jwt/validate", "", nil, "Cookie", "access_token="+tok); r.Status != 401 {
				t.Errorf("%s as a cookie: %d, want 401", name, r.Status)
			}
		}

		// exp with the injected clock: valid a millisecond before, expired at exp.
		exp := int64(claims["exp"].(float64)) * 1000
		e.clock.Set(time.UnixMilli(exp - 1))
		e.want("a millisecond before exp", e.validate(token), 200)
		e.clock.Set(time.UnixMilli(exp))
		e.want("exactly at exp", e.validate(token), 401)
		e.clock.Set(time.UnixMilli(now * 1000))
		nbfToken := lgRS256(t, key, hdr(nil), payload(map[string]any{"nbf": now + 60}))
		e.clock.Advance(60 * time.Second)
		e.want("at nbf", e.validate(nbfToken), 200)

		// A deactivated user's tokens fail, and stay ended once reactivated
		// (issue 15, defect 12; see TestEndedSessionsStayEnded); deleted, fail.
		e.want("deactivate", e.do("DELETE", "/api/user/"+uid, e.root, nil), 200)
		e.want("deactivated user", e.validate(token), 401)
		e.want("reactivate", e.do("PUT", "/api/user/"+uid+"?reactivate=true", e.root, nil), 200)
		e.want("reactivated user, token from before", e.validate(token), 401)
		e.want("delete", e.do("DELETE", "/api/user/"+uid+"?hardDelete=true", e.root, nil), 200)
		e.want("deleted user", e.validate(token), 401)
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// A header over net/http's limit (1 MiB) is refused by the server before
// any handler runs: 431, not a 500.
func TestJWTValidateOversizedHeader(t *testing.T) {
	t.Parallel()
	e := lgStart(t, testutil.Backend{Name: "sqlite"})
	r := e.validate(strings.Repeat("a", 1<<20+8192))
	if r.Status != 431 {
		t.Errorf("a header over 1 MiB: %d, want 431", r.Status)
	}
}

// Tokens signed with each kind of key an application can name validate; the
// JWT's alg is the key's.
func TestJWTEachAlgorithm(t *testing.T) {
	t.Parallel()
	e := lgStart(t, testutil.Backend{Name: "sqlite"})
	for _, alg := range []string{"RS256", "RS512", "ES256", "ES384", "ES512", "HS256", "HS512", "Ed25519"} {
		k := map[string]any{"algorithm": alg, "name": "key " + alg}
		if alg[:2] == "RS" {
			k["length"] = 2048
		}
		key := e.want("generate "+alg, e.do("POST", "/api/key/generate", e.root, map[string]any{"key": k}), 200)["key"].(map[string]any)
		app := e.app("App "+alg, lgAppOpts{jwt: map[string]any{"accessTokenKeyId": key["id"]}})
		email := lgEmail(strings.ToLower(alg))
		e.register(e.user(email, lgPassword, nil), app)
		// The node that made the key signs with it at once; the loop only
		// guards against a slow cache refresh.
		var token string
		for i := 0; i < 100; i++ {
			r := e.login("", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app})
			if r.Status == 200 {
				token = lgStr(e.want("login "+alg, r, 200)["token"])
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if token == "" {
			t.Fatalf("%s: no login", alg)
		}
		wantAlg := alg
		if alg == "Ed25519" {
			wantAlg = "EdDSA"
		}
		if h := lgHeader(t, token); h["alg"] != wantAlg || h["kid"] != key["kid"] {
			t.Errorf("%s: header %v", alg, h)
		}
		e.want("validate "+alg, e.validate(token), 200)
	}
}
