package api_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"math/big"
	neturl "net/url"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/latchid/latch/internal/keys"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/signing"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

// Helpers of the signing key tests, prefixed "sk".

// skStart is akStart with the test master key on both backends, so that the
// test can open what the server sealed.
func skStart(t *testing.T, b testutil.Backend) *akEnv {
	t.Helper()
	return akStart(t, b, testutil.WithEnv("LATCH_MASTER_KEY", testutil.TestMasterKey))
}

type skKeyBody struct {
	Key model.Key `json:"key"`
}

type skKeysBody struct {
	Keys  []model.Key `json:"keys"`
	Total int         `json:"total"`
}

// skPost sends {"key": key} and wants a 200 with a key back.
func (e *akEnv) skPost(path string, key map[string]any) model.Key {
	e.t.Helper()
	r := e.do("POST", path, e.root, map[string]any{"key": key})
	if r.Status != 200 {
		e.t.Fatalf("POST %s: %d %s", path, r.Status, r.Body)
	}
	var out skKeyBody
	r.JSON(e.t, &out)
	return out.Key
}

func (e *akEnv) skList() []model.Key {
	e.t.Helper()
	r := e.do("GET", "/api/key", e.root, nil)
	if r.Status != 200 {
		e.t.Fatalf("GET /api/key: %d %s", r.Status, r.Body)
	}
	var out skKeysBody
	r.JSON(e.t, &out)
	return out.Keys
}

// skJWKS fetches the JWKS anonymously.
func skJWKS(t *testing.T, s *testutil.Server) jose.JSONWebKeySet {
	t.Helper()
	r := s.Do(t, "GET", "/.well-known/jwks.json", "", nil)
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("JWKS: %d %v %s", r.Status, r.Header, r.Body)
	}
	var set jose.JSONWebKeySet
	r.JSON(t, &set)
	return set
}

func jwkByKid(set jose.JSONWebKeySet, kid string) *jose.JSONWebKey {
	for i := range set.Keys {
		if set.Keys[i].KeyID == kid {
			return &set.Keys[i]
		}
	}
	return nil
}

// skStoredSet builds, from the rows the server stored, the key set the server
// itself builds: private material opened with the master key.
func (e *akEnv) skStoredSet() *keys.Set {
	e.t.Helper()
	rows, err := e.st.Read().AllSigningKeys(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	mk, err := secrets.ParseMasterKey(testutil.TestMasterKey)
	if err != nil {
		e.t.Fatal(err)
	}
	var entries []keys.Entry
	for _, r := range rows {
		en := keys.Entry{ID: r.ID, Name: r.Name, Algorithm: r.Algorithm, Kid: r.Kid, PublicKey: r.PublicKey, Certificate: r.Certificate}
		if r.PrivateSealed != "" {
			if en.Private, err = mk.Open(r.PrivateSealed, "signing_key:"+r.ID); err != nil {
				e.t.Fatalf("open key %s: %v", r.ID, err)
			}
		}
		entries = append(entries, en)
	}
	set, errs := keys.NewSet(entries)
	if len(errs) > 0 {
		e.t.Fatalf("stored keys do not parse: %v", errs)
	}
	return set
}

// skNoPrivate fails when a response body carries private material fields.
func skNoPrivate(t *testing.T, what string, body []byte) {
	t.Helper()
	for _, field := range []string{`"privateKey"`, `"secret"`, "PRIVATE KEY"} {
		if bytes.Contains(body, []byte(field)) {
			t.Errorf("%s: the response carries %s: %s", what, field, body)
		}
	}
}

func TestSigningKeyDefault(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := skStart(t, b)
		all := e.skList()
		if len(all) != 1 {
			t.Fatalf("keys at first start: %+v", all)
		}
		k := all[0]
		if k.Name != signing.DefaultKeyName || k.Algorithm != "ES256" || k.Type != "EC" || k.Length != 256 ||
			k.HasPrivateKey == nil || !*k.HasPrivateKey || k.Certificate == "" || k.CertificateInformation == nil ||
			k.Issuer != "acme.com" || k.CertificateInformation.Issuer != "CN=acme.com" || k.ExpirationInstant == 0 {
			t.Fatalf("default key %+v", k)
		}
		if jwk := jwkByKid(skJWKS(t, e.s), k.Kid); jwk == nil || jwk.Algorithm != "ES256" || len(jwk.Certificates) != 1 {
			t.Fatalf("default key not in the JWKS as ES256 with x5c: %+v", jwk)
		}
		// The Default tenant signs with it.
		tid := e.defaultTenant()
		row, err := e.st.Read().TenantByID(context.Background(), tid)
		if err != nil {
			t.Fatal(err)
		}
		var data struct {
			JWT model.JWTConfiguration `json:"jwtConfiguration"`
		}
		_ = json.Unmarshal([]byte(row.Data), &data)
		if data.JWT.AccessTokenKeyID != k.ID || data.JWT.IDTokenKeyID != k.ID {
			t.Fatalf("default tenant's jwtConfiguration %+v, want key %s", data.JWT, k.ID)
		}
		r := e.do("GET", "/api/jwt/public-key?applicationId="+model.AdminApplicationID, "", nil)
		var pk struct{ PublicKey string }
		r.JSON(t, &pk)
		if r.Status != 200 || pk.PublicKey != k.PublicKey {
			t.Fatalf("admin application's public key: %d %s", r.Status, r.Body)
		}
		// In use by the Default tenant: refused, saying where.
		r = e.do("DELETE", "/api/key/"+k.ID, e.root, nil)
		want400(t, "delete the default key", r, "[KeyInUse]")
		if !bytes.Contains(r.Body, []byte(tid)) || !bytes.Contains(r.Body, []byte("jwtConfiguration.accessTokenKeyId")) {
			t.Errorf("the in-use error does not say where: %s", r.Body)
		}
		if len(e.audits(k.ID)) != 1 || len(e.audits(tid)) == 0 {
			t.Errorf("the default key and its assignment are not audited")
		}
		// Another start on the same database makes no second key.
		testutil.StartServer(t, testutil.WithBackend(b), testutil.WithSharedDataDir(e.s.DataDir),
			testutil.WithEnv("LATCH_MASTER_KEY", testutil.TestMasterKey))
		if n := len(e.skList()); n != 1 {
			t.Fatalf("%d keys after a second start", n)
		}
	})
}

// TestSigningKeyGenerate generates a key of each algorithm through the API and
// checks, for each, the response, the JWKS and the public-key API; a token
// signed by internal/keys with the stored key verifies, in go-jose, under the
// JWK the server published.
func TestSigningKeyGenerate(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := skStart(t, b)
		cases := []struct {
			alg            string
			length         any
			jws, kty, crv  string
			wantLen        int
			typ            string
			fixedID        bool
			wantAlgorithm  string
			publishedInSet bool
		}{
			{"RS256", 2048, "RS256", "RSA", "", 2048, "RSA", false, "RS256", true},
			{"RS384", "2048", "RS384", "RSA", "", 2048, "RSA", true, "RS384", true}, // length as FusionAuth's docs type it
			{"RS512", 3072, "RS512", "RSA", "", 3072, "RSA", false, "RS512", true},
			{"ES256", nil, "ES256", "EC", "P-256", 256, "EC", true, "ES256", true},
			{"ES384", 384, "ES384", "EC", "P-384", 384, "EC", false, "ES384", true},
			{"ES512", 521, "ES512", "EC", "P-521", 521, "EC", false, "ES512", true},
			{"Ed25519", nil, "EdDSA", "OKP", "Ed25519", 32, "OKP", false, "Ed25519", true},
			{"EdDSA", nil, "EdDSA", "OKP", "Ed25519", 32, "OKP", false, "Ed25519", true},
			{"HS256", nil, "HS256", "", "", 0, "HMAC", true, "HS256", false},
			{"HS384", nil, "HS384", "", "", 0, "HMAC", false, "HS384", false},
			{"HS512", nil, "HS512", "", "", 0, "HMAC", false, "HS512", false},
		}
		made := map[string]model.Key{}
		for _, c := range cases {
			body := map[string]any{"algorithm": c.alg, "name": "key " + c.alg}
			if c.length != nil {
				body["length"] = c.length
			}
			path := "/api/key/generate"
			id := ""
			if c.fixedID {
				id = uuid.NewString()
				path += "/" + id
			}
			r := e.do("POST", path, e.root, map[string]any{"key": body})
			if r.Status != 200 {
				t.Fatalf("generate %s: %d %s", c.alg, r.Status, r.Body)
			}
			skNoPrivate(t, "generate "+c.alg, r.Body)
			var out skKeyBody
			r.JSON(t, &out)
			k := out.Key
			if (id != "" && k.ID != id) || k.Algorithm != c.wantAlgorithm || k.Type != c.typ || k.Length != c.wantLen || k.Kid == "" {
				t.Errorf("generate %s: %+v", c.alg, k)
			}
			raw := decodeObject(t, r)["key"].(map[string]any)
			if c.typ == "HMAC" {
				for _, f := range []string{"publicKey", "certificate", "hasPrivateKey", "length", "issuer", "certificateInformation"} {
					if _, ok := raw[f]; ok {
						t.Errorf("HMAC key shows %s: %s", f, r.Body)
					}
				}
			} else if k.PublicKey == "" || k.Certificate == "" || k.HasPrivateKey == nil || !*k.HasPrivateKey ||
				k.CertificateInformation == nil || k.CertificateInformation.SHA1Thumbprint != k.Kid {
				t.Errorf("generate %s: incomplete key pair %s", c.alg, r.Body)
			}
			made[c.alg] = k
			if got := e.audits(k.ID); len(got) != 1 || !strings.Contains(got[0].Message, "Generated signing key") {
				t.Errorf("generate %s: audit %+v", c.alg, got)
			}
		}

		jwks := skJWKS(t, e.s)
		stored := e.skStoredSet()
		all := e.do("GET", "/api/jwt/public-key", "", nil)
		var pks struct{ PublicKeys map[string]string }
		all.JSON(t, &pks)
		for _, c := range cases {
			k := made[c.alg]
			jwk := jwkByKid(jwks, k.Kid)
			if !c.publishedInSet {
				if jwk != nil || pks.PublicKeys[k.Kid] != "" {
					t.Errorf("%s: an HMAC key is published", c.alg)
				}
				if r := e.do("GET", "/api/jwt/public-key?kid="+k.Kid, "", nil); r.Status != 404 {
					t.Errorf("%s: public key by kid: %d", c.alg, r.Status)
				}
			} else {
				if jwk == nil {
					t.Fatalf("%s: kid %s not in the JWKS", c.alg, k.Kid)
				}
				if jwk.Algorithm != c.jws || jwk.Use != "sig" || !jwk.IsPublic() || len(jwk.Certificates) != 1 {
					t.Errorf("%s: JWK alg %q use %q public %v certs %d", c.alg, jwk.Algorithm, jwk.Use, jwk.IsPublic(), len(jwk.Certificates))
				}
				r := e.do("GET", "/api/jwt/public-key?kid="+neturl.QueryEscape(k.Kid), "", nil)
				var pk struct{ PublicKey string }
				r.JSON(t, &pk)
				if r.Status != 200 || pk.PublicKey != k.PublicKey || pks.PublicKeys[k.Kid] != k.PublicKey {
					t.Errorf("%s: public key API: %d %s", c.alg, r.Status, r.Body)
				}
			}
			sg, err := stored.Signer(k.ID)
			if err != nil {
				t.Fatalf("%s: signer: %v", c.alg, err)
			}
			token, err := sg.Sign([]byte(`{"sub":"` + k.ID + `"}`))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := stored.Verify(token); err != nil {
				t.Errorf("%s: the set does not verify its own token: %v", c.alg, err)
			}
			if jwk == nil {
				continue
			}
			parsed, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(c.jws)})
			if err != nil {
				t.Fatalf("%s: parse: %v", c.alg, err)
			}
			if _, err := parsed.Verify(jwk); err != nil {
				t.Errorf("%s: go-jose does not verify the token under the published JWK: %v", c.alg, err)
			}
		}
		var doc struct{ Keys []map[string]any }
		_ = json.Unmarshal(e.do("GET", "/.well-known/jwks.json", "", nil).Body, &doc)
		for _, k := range doc.Keys {
			for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
				if _, ok := k[private]; ok {
					t.Errorf("a JWK carries private member %q: %v", private, k)
				}
			}
		}
		if n := len(e.skList()); n != len(cases)+1 {
			t.Errorf("%d keys listed, want %d", n, len(cases)+1)
		}
	})
}

// Test material made with crypto/x509.

func skPEM(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

func skMust(der []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return der
}

func skCert(t *testing.T, priv crypto.Signer, cn string, notAfter time.Time) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(77), Subject: pkix.Name{CommonName: cn},
		NotBefore: notAfter.AddDate(-1, 0, 0), NotAfter: notAfter}
	c, err := x509.ParseCertificate(skMust(x509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), priv)))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSigningKeyImport(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := skStart(t, b)
		rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
		ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		_, edKey, _ := ed25519.GenerateKey(rand.Reader)
		pubOnly, _ := rsa.GenerateKey(rand.Reader, 2048)
		certOnly, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		notAfter := time.Date(2031, 10, 2, 13, 41, 51, 0, time.UTC)
		ecCert := skCert(t, ecKey, "piedpiper.com", notAfter)
		coCert := skCert(t, certOnly, "other.example", notAfter)

		pkcs1 := skPEM("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey))
		sec1 := skPEM("EC PRIVATE KEY", skMust(x509.MarshalECPrivateKey(ecKey)))
		edPKCS8 := skPEM("PRIVATE KEY", skMust(x509.MarshalPKCS8PrivateKey(edKey)))

		rsaK := e.skPost("/api/key/import", map[string]any{"name": "rsa pkcs1", "privateKey": pkcs1, "algorithm": "RS384"})
		fixed := uuid.NewString()
		ecK := e.skPost("/api/key/import/"+fixed, map[string]any{"name": "ec with cert", "privateKey": sec1,
			"certificate": skPEM("CERTIFICATE", ecCert.Raw), "kid": "my-ec-kid"})
		edK := e.skPost("/api/key/import", map[string]any{"name": "ed25519", "privateKey": edPKCS8, "type": "OKP"})
		pubK := e.skPost("/api/key/import", map[string]any{"name": "public only",
			"publicKey": skPEM("PUBLIC KEY", skMust(x509.MarshalPKIXPublicKey(&pubOnly.PublicKey)))})
		certK := e.skPost("/api/key/import", map[string]any{"name": "certificate only",
			"certificate": base64.StdEncoding.EncodeToString(coCert.Raw)}) // bare base64, as FusionAuth's example sends it
		secret := "an imported hmac secret that is long enough " + secrets.Token(8)
		hmacK := e.skPost("/api/key/import", map[string]any{"name": "hmac", "secret": secret, "algorithm": "HS256"})

		sha := sha1.Sum(coCert.Raw)
		checks := []struct {
			name   string
			k      model.Key
			alg    string
			typ    string
			length int
			priv   bool
		}{
			{"rsa", rsaK, "RS384", "RSA", 2048, true},
			{"ec", ecK, "ES256", "EC", 256, true},
			{"ed", edK, "Ed25519", "OKP", 32, true},
			{"public", pubK, "RS256", "RSA", 2048, false},
			{"cert", certK, "ES384", "EC", 384, false},
		}
		for _, c := range checks {
			if c.k.Algorithm != c.alg || c.k.Type != c.typ || c.k.Length != c.length || c.k.HasPrivateKey == nil ||
				*c.k.HasPrivateKey != c.priv || c.k.PublicKey == "" {
				t.Errorf("%s: %+v", c.name, c.k)
			}
		}
		if ecK.ID != fixed || ecK.Kid != "my-ec-kid" || ecK.Issuer != "piedpiper.com" ||
			ecK.ExpirationInstant != notAfter.UnixMilli() || ecK.CertificateInformation.Subject != "CN=piedpiper.com" {
			t.Errorf("ec with certificate: %+v", ecK)
		}
		if certK.Kid != base64.RawURLEncoding.EncodeToString(sha[:]) || !strings.HasPrefix(certK.Certificate, "-----BEGIN CERTIFICATE-----") {
			t.Errorf("certificate only: kid %q certificate %q", certK.Kid, certK.Certificate)
		}
		if hmacK.Type != "HMAC" || hmacK.Algorithm != "HS256" || hmacK.PublicKey != "" || hmacK.HasPrivateKey != nil {
			t.Errorf("hmac: %+v", hmacK)
		}

		jwks := skJWKS(t, e.s)
		for _, k := range []model.Key{rsaK, ecK, edK} {
			if jwkByKid(jwks, k.Kid) == nil {
				t.Errorf("imported pair %s not in the JWKS", k.Name)
			}
		}
		if jwk := jwkByKid(jwks, ecK.Kid); jwk != nil && len(jwk.Certificates) != 1 {
			t.Errorf("the EC key's certificate is not its x5c")
		}
		if jwk := jwkByKid(jwks, rsaK.Kid); jwk != nil && len(jwk.Certificates) != 0 {
			t.Errorf("a key without a certificate has an x5c")
		}
		for _, k := range []model.Key{pubK, certK, hmacK} {
			if jwkByKid(jwks, k.Kid) != nil {
				t.Errorf("%s is published, but Latch cannot sign with it", k.Name)
			}
		}
		// What was imported signs: the stored private key is the one sent.
		stored := e.skStoredSet()
		sg, err := stored.Signer(ecK.ID)
		if err != nil {
			t.Fatal(err)
		}
		tok, _ := sg.Sign([]byte(`{}`))
		parsed, _ := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.ES256})
		if _, err := parsed.Verify(&ecKey.PublicKey); err != nil {
			t.Errorf("the imported EC key does not sign as the caller's key: %v", err)
		}
		// Nothing private in any read.
		for _, path := range []string{"/api/key", "/api/key/" + hmacK.ID, "/api/key/" + rsaK.ID} {
			r := e.do("GET", path, e.root, nil)
			skNoPrivate(t, path, r.Body)
			if bytes.Contains(r.Body, []byte(secret)) {
				t.Errorf("%s returns the HMAC secret", path)
			}
		}
		r := e.do("POST", "/api/key/search", e.root, map[string]any{"search": map[string]any{}})
		skNoPrivate(t, "search", r.Body)
	})
}

func TestSigningKeyBadInput(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := skStart(t, b)
		taken := e.skPost("/api/key/generate", map[string]any{"algorithm": "ES256", "name": "Taken"})
		rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
		pkcs1 := skPEM("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey))
		small, _ := rsa.GenerateKey(rand.Reader, 1024)
		cases := []struct {
			name, path string
			body       any
			code       string
		}{
			{"no body", "/api/key/generate", "", "[invalidJSON]"},
			{"not JSON", "/api/key/generate", "{nope", "[invalidJSON]"},
			{"length of the wrong type", "/api/key/generate", `{"key":{"algorithm":"RS256","name":"x","length":true}}`, "[invalidJSON]"},
			{"no key object", "/api/key/generate", map[string]any{}, "[missing]key"},
			{"no name", "/api/key/generate", map[string]any{"key": map[string]any{"algorithm": "ES256"}}, "[blank]key.name"},
			{"no algorithm", "/api/key/generate", map[string]any{"key": map[string]any{"name": "x"}}, "[blank]key.algorithm"},
			{"unknown algorithm", "/api/key/generate", map[string]any{"key": map[string]any{"name": "x", "algorithm": "PS256"}}, "[invalid]key.algorithm"},
			{"alg none", "/api/key/generate", map[string]any{"key": map[string]any{"name": "x", "algorithm": "None"}}, "[invalid]key.algorithm"},
			{"RSA without length", "/api/key/generate", map[string]any{"key": map[string]any{"name": "x", "algorithm": "RS256"}}, "[missing]key.length"},
			{"RSA too short", "/api/key/generate", map[string]any{"key": map[string]any{"name": "x", "algorithm": "RS256", "length": 1024}}, "[tooShort]key.length"},
			{"RSA odd length", "/api/key/generate", map[string]any{"key": map[string]any{"name": "x", "algorithm": "RS256", "length": 2500}}, "[invalid]key.length"},
			{"EC length of another curve", "/api/key/generate", map[string]any{"key": map[string]any{"name": "x", "algorithm": "ES256", "length": 521}}, "[invalid]key.length"},
			{"duplicate name", "/api/key/generate", map[string]any{"key": map[string]any{"name": "taken", "algorithm": "ES256"}}, "[duplicate]key.name"},
			{"duplicate id", "/api/key/generate/" + taken.ID, map[string]any{"key": map[string]any{"name": "y", "algorithm": "ES256"}}, "[duplicate]key.id"},
			{"id not a UUID", "/api/key/generate/nope", map[string]any{"key": map[string]any{"name": "y", "algorithm": "ES256"}}, "[invalid]key.id"},
			{"import nothing", "/api/key/import", map[string]any{"key": map[string]any{"name": "x"}}, "[blank]key.publicKey"},
			{"import bad PEM", "/api/key/import", map[string]any{"key": map[string]any{"name": "x", "privateKey": "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----"}}, "[invalid]key.privateKey"},
			{"import garbage public key", "/api/key/import", map[string]any{"key": map[string]any{"name": "x", "publicKey": "garbage"}}, "[invalid]key.publicKey"},
			{"import garbage certificate", "/api/key/import", map[string]any{"key": map[string]any{"name": "x", "certificate": "%%%"}}, "[invalid]key.certificate"},
			{"import RSA 1024 pair", "/api/key/import", map[string]any{"key": map[string]any{"name": "x", "privateKey": skPEM("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(small))}}, "[tooShort]key.length"},
			{"import wrong algorithm", "/api/key/import", map[string]any{"key": map[string]any{"name": "x", "privateKey": pkcs1, "algorithm": "ES256"}}, "[invalid]key.algorithm"},
			{"import duplicate kid", "/api/key/import", map[string]any{"key": map[string]any{"name": "x", "privateKey": pkcs1, "kid": taken.Kid}}, "[duplicate]key.kid"},
			{"import short secret", "/api/key/import", map[string]any{"key": map[string]any{"name": "x", "secret": "short"}}, "[tooShort]key.secret"},
			{"import secret with key", "/api/key/import", map[string]any{"key": map[string]any{"name": "x", "secret": strings.Repeat("s", 40), "privateKey": pkcs1}}, "[invalid]key.privateKey"},
			{"search bad order", "/api/key/search", map[string]any{"search": map[string]any{"orderBy": "secret"}}, "[invalid]search.orderBy"},
			{"search bad type", "/api/key/search", map[string]any{"search": map[string]any{"type": "DSA"}}, "[invalid]search.type"},
			{"search negative start", "/api/key/search", map[string]any{"search": map[string]any{"startRow": -1}}, "[invalid]search.startRow"},
		}
		for _, c := range cases {
			r := e.do("POST", c.path, e.root, c.body)
			want400(t, c.name, r, c.code)
			skNoPrivate(t, c.name, r.Body)
		}
		for _, c := range []struct{ method, path string }{
			{"GET", "/api/key/" + uuid.NewString()},
			{"GET", "/api/key/not-a-uuid"},
			{"PUT", "/api/key/" + uuid.NewString()},
			{"DELETE", "/api/key/" + uuid.NewString()},
			{"DELETE", "/api/key/not-a-uuid"},
		} {
			wantEmpty(t, c.method+" "+c.path, e.do(c.method, c.path, e.root, map[string]any{"key": map[string]any{"name": "z"}}), 404)
		}
		other := e.skPost("/api/key/generate", map[string]any{"algorithm": "HS256", "name": "Other"})
		want400(t, "rename to a taken name", e.do("PUT", "/api/key/"+other.ID, e.root,
			map[string]any{"key": map[string]any{"name": "TAKEN"}}), "[duplicate]key.name")
		want400(t, "rename to nothing", e.do("PUT", "/api/key/"+taken.ID, e.root,
			map[string]any{"key": map[string]any{"name": " "}}), "[blank]key.name")
		// Public-key API: unknown kid or application, or a malformed one, is a bare 404.
		for _, q := range []string{"kid=nope", "applicationId=" + uuid.NewString(), "applicationId=nope", "kid="} {
			wantEmpty(t, "public key "+q, e.do("GET", "/api/jwt/public-key?"+q, "", nil), 404)
		}
		// A tenant-scoped key may not manage keys: they are global.
		scoped := e.create(e.root, map[string]any{"name": "scoped", "tenantId": e.defaultTenant()})
		wantEmpty(t, "tenant-scoped key", e.do("GET", "/api/key", scoped.Key, nil), 401)
		wantEmpty(t, "no key", e.do("GET", "/api/key", "", nil), 401)
	})
}

func TestSigningKeyUpdateSearchDelete(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := skStart(t, b)
		ctx := context.Background()
		ec := e.skPost("/api/key/generate", map[string]any{"algorithm": "ES256", "name": "Alpha EC"})
		e.s.Clock.Advance(time.Second)
		hs := e.skPost("/api/key/generate", map[string]any{"algorithm": "HS512", "name": "beta hmac"})
		e.s.Clock.Advance(time.Second)
		ed := e.skPost("/api/key/generate", map[string]any{"algorithm": "Ed25519", "name": "Gamma ed"})

		// Rename: only the name changes.
		e.s.Clock.Advance(time.Second)
		r := e.do("PUT", "/api/key/"+ec.ID, e.root, map[string]any{"key": map[string]any{"name": "Alpha renamed", "algorithm": "RS256", "kid": "new"}})
		var upd skKeyBody
		r.JSON(t, &upd)
		if r.Status != 200 || upd.Key.Name != "Alpha renamed" || upd.Key.Algorithm != "ES256" || upd.Key.Kid != ec.Kid ||
			upd.Key.PublicKey != ec.PublicKey || upd.Key.LastUpdateInstant <= ec.LastUpdateInstant || upd.Key.InsertInstant != ec.InsertInstant {
			t.Fatalf("rename: %d %s", r.Status, r.Body)
		}
		if got := e.audits(ec.ID); len(got) != 2 || !strings.Contains(got[1].Message, "Updated signing key") {
			t.Errorf("rename audit: %+v", got)
		}

		search := func(criteria map[string]any) skKeysBody {
			t.Helper()
			r := e.do("POST", "/api/key/search", e.root, map[string]any{"search": criteria})
			if r.Status != 200 {
				t.Fatalf("search %v: %d %s", criteria, r.Status, r.Body)
			}
			var out skKeysBody
			r.JSON(t, &out)
			return out
		}
		names := func(ks []model.Key) []string {
			var out []string
			for _, k := range ks {
				out = append(out, k.Name)
			}
			return out
		}
		for _, c := range []struct {
			criteria map[string]any
			want     []string
			total    int
		}{
			{map[string]any{"name": "alpha"}, []string{"Alpha renamed"}, 1},
			{map[string]any{"name": "*ed"}, []string{"Alpha renamed", "Gamma ed"}, 2},
			{map[string]any{"name": "*A*"}, []string{"Alpha renamed", "beta hmac", signing.DefaultKeyName, "Gamma ed"}, 4},
			{map[string]any{"type": "HMAC"}, []string{"beta hmac"}, 1},
			{map[string]any{"algorithm": "Ed25519"}, []string{"Gamma ed"}, 1},
			{map[string]any{"algorithm": "ES256", "type": "EC", "name": "default*"}, []string{signing.DefaultKeyName}, 1},
			{map[string]any{"algorithm": "RS256"}, nil, 0},
			{map[string]any{"orderBy": "insertInstant DESC", "numberOfResults": 2}, []string{"Gamma ed", "beta hmac"}, 4},
			{map[string]any{"orderBy": "name", "startRow": 1, "numberOfResults": 2}, []string{"beta hmac", signing.DefaultKeyName}, 4},
			{map[string]any{"orderBy": "expiration", "numberOfResults": 1}, []string{"beta hmac"}, 4}, // no expiration sorts first
		} {
			got := search(c.criteria)
			if !slices.Equal(names(got.Keys), c.want) || got.Total != c.total {
				t.Errorf("search %v: %v total %d, want %v total %d", c.criteria, names(got.Keys), got.Total, c.want, c.total)
			}
		}
		r = e.do("GET", "/api/key/search?type=OKP", e.root, nil)
		var viaGet skKeysBody
		r.JSON(t, &viaGet)
		if r.Status != 200 || !slices.Equal(names(viaGet.Keys), []string{"Gamma ed"}) {
			t.Errorf("GET search: %d %s", r.Status, r.Body)
		}

		// In use by an application: refused, and the application's public key
		// is that key's; a key id merely mentioned elsewhere does not count.
		appID := uuid.NewString()
		tid := e.defaultTenant()
		appData := `{"jwtConfiguration":{"enabled":true,"accessTokenKeyId":"` + ed.ID + `","idTokenKeyId":"` + hs.ID + `"},"data":{"note":"` + ec.ID + `"}}`
		err := e.st.InTx(ctx, func(tx *store.Tx) error {
			return tx.InsertApplicationRow(ctx, &store.ApplicationRow{ID: appID, TenantID: tid, Name: "Pied Piper", Active: true,
				Data: appData, InsertInstant: 1, LastUpdateInstant: 1})
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []model.Key{ed, hs} {
			r := e.do("DELETE", "/api/key/"+k.ID, e.root, nil)
			want400(t, "delete a key in use", r, "[KeyInUse]")
			if !bytes.Contains(r.Body, []byte(appID)) {
				t.Errorf("the in-use error does not name the application: %s", r.Body)
			}
		}
		r = e.do("GET", "/api/jwt/public-key?applicationId="+appID, "", nil)
		var pk struct{ PublicKey string }
		r.JSON(t, &pk)
		if r.Status != 200 || pk.PublicKey != ed.PublicKey {
			t.Errorf("application public key: %d %s", r.Status, r.Body)
		}
		r = e.do("DELETE", "/api/key/"+ec.ID, e.root, nil)
		if r.Status != 200 || len(r.Body) != 0 {
			t.Fatalf("delete a key only mentioned: %d %s", r.Status, r.Body)
		}
		if got := e.audits(ec.ID); len(got) != 3 || !strings.Contains(got[2].Message, "Deleted signing key") {
			t.Errorf("delete audit: %+v", got)
		}
		wantEmpty(t, "deleted key", e.do("GET", "/api/key/"+ec.ID, e.root, nil), 404)
		if jwkByKid(skJWKS(t, e.s), ec.Kid) != nil {
			t.Errorf("a deleted key is still published")
		}
		// Once the application uses another key, the old one goes.
		err = e.st.InTx(ctx, func(tx *store.Tx) error {
			return tx.UpdateApplicationRow(ctx, &store.ApplicationRow{ID: appID, Name: "Pied Piper", Data: `{"jwtConfiguration":{"enabled":false}}`, LastUpdateInstant: 2})
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []model.Key{ed, hs} {
			if r := e.do("DELETE", "/api/key/"+k.ID, e.root, nil); r.Status != 200 {
				t.Errorf("delete %s once unused: %d %s", k.Name, r.Status, r.Body)
			}
		}
		// With its own JWT configuration off, the application signs with its tenant's key.
		r = e.do("GET", "/api/jwt/public-key?applicationId="+appID, "", nil)
		r.JSON(t, &pk)
		if def := e.skList()[0]; r.Status != 200 || pk.PublicKey != def.PublicKey {
			t.Errorf("application on the tenant's key: %d %s", r.Status, r.Body)
		}
	})
}

// TestSigningKeyPrivateMaterialNotAtRest imports and generates keys, then scans
// the SQLite files and a pg_dump for any form of their private material.
func TestSigningKeyPrivateMaterialNotAtRest(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := skStart(t, b)
		rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
		ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		secret := "hmac-secret-" + secrets.Token(32)
		e.skPost("/api/key/import", map[string]any{"name": "rsa", "privateKey": skPEM("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey))})
		e.skPost("/api/key/import", map[string]any{"name": "ec", "privateKey": skPEM("EC PRIVATE KEY", skMust(x509.MarshalECPrivateKey(ecKey)))})
		e.skPost("/api/key/import", map[string]any{"name": "hmac", "secret": secret, "algorithm": "HS256"})
		gen := e.skPost("/api/key/generate", map[string]any{"name": "generated", "algorithm": "ES384"})
		genHS := e.skPost("/api/key/generate", map[string]any{"name": "generated hmac", "algorithm": "HS256"})
		e.do("PUT", "/api/key/"+gen.ID, e.root, map[string]any{"key": map[string]any{"name": "renamed"}})

		// Every private value, in the forms a careless store could hold it.
		mk, _ := secrets.ParseMasterKey(testutil.TestMasterKey)
		var needles [][]byte
		addDER := func(der []byte) {
			needles = append(needles, der, []byte(base64.StdEncoding.EncodeToString(der)), []byte(hex.EncodeToString(der)))
		}
		addDER(x509.MarshalPKCS1PrivateKey(rsaKey))
		addDER(skMust(x509.MarshalPKCS8PrivateKey(rsaKey)))
		addDER(skMust(x509.MarshalECPrivateKey(ecKey)))
		addDER(skMust(x509.MarshalPKCS8PrivateKey(ecKey)))
		needles = append(needles, rsaKey.D.Bytes(), skMust(ecKey.Bytes()), []byte(secret), []byte(base64.StdEncoding.EncodeToString([]byte(secret))))
		rows, err := e.st.Read().AllSigningKeys(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows { // the generated ones, opened with the master key
			if r.ID != gen.ID && r.ID != genHS.ID && r.Name != signing.DefaultKeyName {
				continue
			}
			plain, err := mk.Open(r.PrivateSealed, "signing_key:"+r.ID)
			if err != nil {
				t.Fatal(err)
			}
			needles = append(needles, []byte(plain))
			if blk, _ := pem.Decode([]byte(plain)); blk != nil {
				addDER(blk.Bytes)
			}
		}

		dump := e.atRest()
		// Positive control: the scan sees the keys' rows (public material, names).
		if !bytes.Contains(dump, []byte("generated hmac")) || !bytes.Contains(dump, []byte(gen.Kid)) {
			t.Fatalf("the scanned bytes (%d) do not hold the keys' rows; the scan proves nothing", len(dump))
		}
		logs := []byte(e.s.Stderr.String() + e.s.Stdout.String())
		for i, n := range needles {
			if bytes.Contains(dump, n) {
				t.Errorf("private value %d found at rest", i)
			}
			if bytes.Contains(logs, n) {
				t.Errorf("private value %d found in the server's output", i)
			}
		}
	})
}
