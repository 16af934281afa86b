package keys_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchid/latch/internal/httpx"
	"github.com/latchid/latch/internal/keys"
	"github.com/latchid/latch/internal/model"
)

var now = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func generate(t testing.TB, alg string, length int) *keys.Material {
	t.Helper()
	m, err := keys.Generate(keys.GenerateRequest{Algorithm: alg, Length: length, Issuer: "example.com",
		Serial: []byte{0xea, 0x75, 0x11, 0x86}, Now: now})
	if err != nil {
		t.Fatalf("generate %s: %v", alg, err)
	}
	return m
}

func entry(id string, m *keys.Material) keys.Entry {
	return keys.Entry{ID: id, Name: id, Algorithm: m.Algorithm, Kid: m.Kid, PublicKey: m.PublicKey,
		Certificate: m.Certificate, Private: m.Private}
}

func newSet(t testing.TB, entries ...keys.Entry) *keys.Set {
	t.Helper()
	set, errs := keys.NewSet(entries)
	if len(errs) > 0 {
		t.Fatalf("NewSet: %v", errs)
	}
	return set
}

// TestGenerateSignVerify generates a key of each algorithm, signs with the
// set's signer and checks the signature with go-jose against the key as the
// JWKS publishes it, and with the set's own verifier.
func TestGenerateSignVerify(t *testing.T) {
	cases := []struct {
		alg, jws, kty, crv string
		length, wantLength int
		published          bool
	}{
		{"RS256", "RS256", "RSA", "", 2048, 2048, true},
		{"RS384", "RS384", "RSA", "", 3072, 3072, true},
		{"RS512", "RS512", "RSA", "", 4096, 4096, true},
		{"ES256", "ES256", "EC", "P-256", 0, 256, true},
		{"ES384", "ES384", "EC", "P-384", 384, 384, true},
		{"ES512", "ES512", "EC", "P-521", 521, 521, true},
		{"Ed25519", "EdDSA", "OKP", "Ed25519", 0, 32, true},
		{"EdDSA", "EdDSA", "OKP", "Ed25519", 0, 32, true},
		{"HS256", "HS256", "", "", 0, 0, false},
		{"HS384", "HS384", "", "", 0, 0, false},
		{"HS512", "HS512", "", "", 0, 0, false},
	}
	for _, c := range cases {
		t.Run(c.alg, func(t *testing.T) {
			m := generate(t, c.alg, c.length)
			if m.Length != c.wantLength {
				t.Errorf("length %d, want %d", m.Length, c.wantLength)
			}
			if c.published && (m.Certificate == "" || m.PublicKey == "" || !strings.Contains(m.Private, "PRIVATE KEY")) {
				t.Fatalf("key pair without certificate, public or private key: %+v", m.Algorithm)
			}
			if !c.published && (m.PublicKey != "" || m.Certificate != "" || len(m.Private) < 32) {
				t.Fatalf("HMAC material: public %q cert %q secret length %d", m.PublicKey, m.Certificate, len(m.Private))
			}
			set := newSet(t, entry("k1", m))
			sg, err := set.Signer("k1")
			if err != nil {
				t.Fatal(err)
			}
			if sg.Kid() != m.Kid || sg.Algorithm() != c.jws {
				t.Errorf("signer kid %q alg %q, want %q %q", sg.Kid(), sg.Algorithm(), m.Kid, c.jws)
			}
			token, err := sg.Sign([]byte(`{"sub":"someone"}`))
			if err != nil {
				t.Fatal(err)
			}
			v, err := set.Verify(token)
			if err != nil || string(v.Payload) != `{"sub":"someone"}` || v.KeyID != "k1" {
				t.Fatalf("set verify: %+v %v", v, err)
			}

			var jwks jose.JSONWebKeySet
			if err := json.Unmarshal(set.JWKS(), &jwks); err != nil {
				t.Fatalf("JWKS %s: %v", set.JWKS(), err)
			}
			if !c.published {
				if len(jwks.Keys) != 0 || strings.Contains(string(set.JWKS()), m.Private) {
					t.Fatalf("an HMAC key is published: %s", set.JWKS())
				}
				if _, ok := set.PublicKey(m.Kid); ok {
					t.Fatal("an HMAC key has a public key")
				}
				return
			}
			if len(jwks.Keys) != 1 {
				t.Fatalf("JWKS has %d keys: %s", len(jwks.Keys), set.JWKS())
			}
			jwk := jwks.Keys[0]
			if jwk.KeyID != m.Kid || jwk.Algorithm != c.jws || jwk.Use != "sig" || !jwk.IsPublic() || !jwk.Valid() {
				t.Fatalf("JWK kid %q alg %q use %q public %v", jwk.KeyID, jwk.Algorithm, jwk.Use, jwk.IsPublic())
			}
			if len(jwk.Certificates) != 1 {
				t.Fatalf("JWK has %d certificates, want the key's one (x5c)", len(jwk.Certificates))
			}
			var raw map[string]any
			var doc struct{ Keys []map[string]any }
			_ = json.Unmarshal(set.JWKS(), &doc)
			raw = doc.Keys[0]
			if raw["kty"] != c.kty || (c.crv != "" && raw["crv"] != c.crv) {
				t.Errorf("kty %v crv %v, want %s %s", raw["kty"], raw["crv"], c.kty, c.crv)
			}
			for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
				if _, ok := raw[private]; ok {
					t.Errorf("JWK carries private member %q", private)
				}
			}
			// An independent check: go-jose, with only the published JWK.
			parsed, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(c.jws)})
			if err != nil {
				t.Fatal(err)
			}
			if parsed.Signatures[0].Header.KeyID != m.Kid {
				t.Errorf("token kid %q, want %q", parsed.Signatures[0].Header.KeyID, m.Kid)
			}
			if _, err := parsed.Verify(jwk); err != nil {
				t.Fatalf("go-jose does not verify the token with the published JWK: %v", err)
			}
			if pemText, ok := set.PublicKey(m.Kid); !ok || pemText != m.PublicKey {
				t.Errorf("public key by kid: %q %v", pemText, ok)
			}
		})
	}
}

func TestGenerateRefusesBadRequests(t *testing.T) {
	cases := []struct {
		alg    string
		length int
		code   string
	}{
		{"", 0, "[blank]key.algorithm"},
		{"RS1024", 0, "[invalid]key.algorithm"},
		{"none", 0, "[invalid]key.algorithm"},
		{"RS256", 0, "[missing]key.length"},
		{"RS256", 1024, "[tooShort]key.length"},
		{"RS256", 2049, "[invalid]key.length"},
		{"RS256", 8192, "[invalid]key.length"},
		{"ES256", 384, "[invalid]key.length"},
	}
	for _, c := range cases {
		_, err := keys.Generate(keys.GenerateRequest{Algorithm: c.alg, Length: c.length, Now: now})
		if code := firstCode(err); code != c.code {
			t.Errorf("generate %q/%d: %v, want %s", c.alg, c.length, err, c.code)
		}
	}
}

// firstCode is the code of a one-error *model.Errors.
func firstCode(err error) string {
	var verrs *model.Errors
	if !errors.As(err, &verrs) {
		return "not a validation error: " + errString(err)
	}
	for _, items := range verrs.FieldErrors {
		return items[0].Code
	}
	for _, g := range verrs.GeneralErrors {
		return g.Code
	}
	return ""
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// Test material, made with crypto/x509.

func pemOf(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

// mustDER unwraps a marshaller's result; test material always marshals.
func mustDER(der []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return der
}

func selfSigned(t *testing.T, priv crypto.Signer, cn string) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(4242), Subject: pkix.Name{CommonName: cn},
		NotBefore: now, NotAfter: now.AddDate(1, 0, 0)}
	der := mustDER(x509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), priv))
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestImport(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	otherRSA, _ := rsa.GenerateKey(rand.Reader, 2048)
	smallRSA, _ := rsa.GenerateKey(rand.Reader, 1024)
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	rsaCert := selfSigned(t, rsaKey, "acme.com")

	pkcs1 := pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey))
	pkcs8RSA := pemOf("PRIVATE KEY", mustDER(x509.MarshalPKCS8PrivateKey(rsaKey)))
	sec1 := pemOf("EC PRIVATE KEY", mustDER(x509.MarshalECPrivateKey(ecKey)))
	pkcs8Ed := pemOf("PRIVATE KEY", mustDER(x509.MarshalPKCS8PrivateKey(edKey)))
	rsaPub := pemOf("PUBLIC KEY", mustDER(x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)))
	rsaPubPKCS1 := pemOf("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey))
	ecPub := pemOf("PUBLIC KEY", mustDER(x509.MarshalPKIXPublicKey(&ecKey.PublicKey)))
	otherPub := pemOf("PUBLIC KEY", mustDER(x509.MarshalPKIXPublicKey(&otherRSA.PublicKey)))
	smallPriv := pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(smallRSA))
	smallPub := pemOf("PUBLIC KEY", mustDER(x509.MarshalPKIXPublicKey(&smallRSA.PublicKey)))
	p224Priv := pemOf("EC PRIVATE KEY", mustDER(x509.MarshalECPrivateKey(p224)))
	certPEM := pemOf("CERTIFICATE", rsaCert.Raw)
	certB64 := base64.StdEncoding.EncodeToString(rsaCert.Raw)
	encrypted := "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\n"

	ok := []struct {
		name          string
		req           keys.ImportRequest
		alg, typ      string
		length        int
		private, cert bool
	}{
		{"RSA PKCS#1 private", keys.ImportRequest{PrivateKey: pkcs1}, "RS256", "RSA", 2048, true, false},
		{"RSA PKCS#8 private, RS512", keys.ImportRequest{PrivateKey: pkcs8RSA, Algorithm: "RS512"}, "RS512", "RSA", 2048, true, false},
		{"RSA pair", keys.ImportRequest{PrivateKey: pkcs1, PublicKey: rsaPub, Type: "RSA"}, "RS256", "RSA", 2048, true, false},
		{"RSA public PKIX", keys.ImportRequest{PublicKey: rsaPub}, "RS256", "RSA", 2048, false, false},
		{"RSA public PKCS#1", keys.ImportRequest{PublicKey: rsaPubPKCS1}, "RS256", "RSA", 2048, false, false},
		{"RSA 1024 public, verification only", keys.ImportRequest{PublicKey: smallPub}, "RS256", "RSA", 1024, false, false},
		{"EC SEC 1 private", keys.ImportRequest{PrivateKey: sec1}, "ES384", "EC", 384, true, false},
		{"EC public", keys.ImportRequest{PublicKey: ecPub, Algorithm: "ES384"}, "ES384", "EC", 384, false, false},
		{"Ed25519 PKCS#8", keys.ImportRequest{PrivateKey: pkcs8Ed}, "Ed25519", "OKP", 32, true, false},
		{"certificate PEM", keys.ImportRequest{Certificate: certPEM}, "RS256", "RSA", 2048, false, true},
		{"certificate bare base64", keys.ImportRequest{Certificate: certB64}, "RS256", "RSA", 2048, false, true},
		{"certificate and private key", keys.ImportRequest{Certificate: certPEM, PrivateKey: pkcs8RSA}, "RS256", "RSA", 2048, true, true},
		{"HMAC", keys.ImportRequest{Secret: strings.Repeat("s", 64), Algorithm: "HS512"}, "HS512", "HMAC", 0, true, false},
		{"HMAC by type", keys.ImportRequest{Secret: strings.Repeat("s", 32), Type: "HMAC"}, "HS256", "HMAC", 0, true, false},
	}
	for _, c := range ok {
		t.Run(c.name, func(t *testing.T) {
			m, err := keys.Import(c.req)
			if err != nil {
				t.Fatalf("import: %v", err)
			}
			if m.Algorithm != c.alg || m.Type != c.typ || m.Length != c.length {
				t.Errorf("got %s %s %d, want %s %s %d", m.Algorithm, m.Type, m.Length, c.alg, c.typ, c.length)
			}
			if (m.Private != "") != c.private || (m.Certificate != "") != c.cert || m.Kid == "" {
				t.Errorf("private %v cert %v kid %q", m.Private != "", m.Certificate != "", m.Kid)
			}
			if c.cert {
				if m.Issuer != "acme.com" || !m.NotAfter.Equal(rsaCert.NotAfter) {
					t.Errorf("issuer %q expiry %v", m.Issuer, m.NotAfter)
				}
				info, err := keys.DescribeCertificate(m.Certificate)
				if err != nil || info.SHA1Thumbprint != m.Kid {
					t.Errorf("kid %q is not the certificate's SHA-1 thumbprint (%v, %v)", m.Kid, info, err)
				}
			}
			set := newSet(t, entry("k", m))
			_, published := set.PublicKey(m.Kid)
			if published != (c.private && c.typ != "HMAC") {
				t.Errorf("published %v: only key pairs Latch can sign with are published", published)
			}
		})
	}

	bad := []struct {
		name string
		req  keys.ImportRequest
		code string
	}{
		{"nothing", keys.ImportRequest{}, "[blank]key.publicKey"},
		{"garbage public key", keys.ImportRequest{PublicKey: "not a key"}, "[invalid]key.publicKey"},
		{"truncated PEM", keys.ImportRequest{PrivateKey: pkcs1[:len(pkcs1)/2]}, "[invalid]key.privateKey"},
		{"PEM with garbage inside", keys.ImportRequest{PublicKey: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"}, "[invalid]key.publicKey"},
		{"private key in the public field", keys.ImportRequest{PublicKey: pkcs1}, "[invalid]key.publicKey"},
		{"certificate in the public field", keys.ImportRequest{PublicKey: certPEM}, "[invalid]key.publicKey"},
		{"garbage certificate", keys.ImportRequest{Certificate: "!!!"}, "[invalid]key.certificate"},
		{"base64 that is no certificate", keys.ImportRequest{Certificate: "AAAA"}, "[invalid]key.certificate"},
		{"encrypted private key", keys.ImportRequest{PrivateKey: encrypted}, "[invalid]key.privateKey"},
		{"mismatched pair", keys.ImportRequest{PrivateKey: pkcs1, PublicKey: otherPub}, "[invalid]key.publicKey"},
		{"certificate of another key", keys.ImportRequest{PrivateKey: sec1, Certificate: certPEM}, "[invalid]key.certificate"},
		{"RSA 1024 pair", keys.ImportRequest{PrivateKey: smallPriv}, "[tooShort]key.length"},
		{"P-224", keys.ImportRequest{PrivateKey: p224Priv}, "[invalid]key.privateKey"},
		{"algorithm of another type", keys.ImportRequest{PrivateKey: pkcs1, Algorithm: "ES256"}, "[invalid]key.algorithm"},
		{"algorithm of another curve", keys.ImportRequest{PrivateKey: sec1, Algorithm: "ES256"}, "[invalid]key.algorithm"},
		{"unknown algorithm", keys.ImportRequest{PrivateKey: pkcs1, Algorithm: "PS256"}, "[invalid]key.algorithm"},
		{"type of another key", keys.ImportRequest{PrivateKey: pkcs1, Type: "EC"}, "[invalid]key.type"},
		{"unknown type", keys.ImportRequest{PrivateKey: pkcs1, Type: "DSA"}, "[invalid]key.type"},
		{"bad kid", keys.ImportRequest{PrivateKey: pkcs1, Kid: "has space"}, "[invalid]key.kid"},
		{"short HMAC secret", keys.ImportRequest{Secret: "short", Algorithm: "HS256"}, "[tooShort]key.secret"},
		{"HS512 secret of 32 bytes", keys.ImportRequest{Secret: strings.Repeat("s", 32), Algorithm: "HS512"}, "[tooShort]key.secret"},
		{"HMAC without secret", keys.ImportRequest{Algorithm: "HS256"}, "[blank]key.secret"},
		{"HMAC with a public key", keys.ImportRequest{Secret: strings.Repeat("s", 32), PublicKey: rsaPub}, "[invalid]key.publicKey"},
		{"secret for an RSA algorithm", keys.ImportRequest{Secret: strings.Repeat("s", 32), Algorithm: "RS256"}, "[invalid]key.algorithm"},
	}
	for _, c := range bad {
		t.Run("refuses "+c.name, func(t *testing.T) {
			m, err := keys.Import(c.req)
			if code := firstCode(err); code != c.code {
				t.Fatalf("got %v (%v), want %s", err, m != nil, c.code)
			}
		})
	}
}

// TestDescribeCertificate checks certificateInformation against FusionAuth's
// own example (examples/_legacy-site-docs/keys/ec-response.json).
func TestDescribeCertificate(t *testing.T) {
	const cert = "-----BEGIN CERTIFICATE-----\nMIIBJzCBy6ADAgEBAhEAwUtQ5YaLTb6fPAKM0FFbETAMBggqhkjOPQQDAgUAMBMx\nETAPBgNVBAMTCGFjbWUuY29tMB4XDTIxMTAwMjEzNDE1MVoXDTMxMTAwMjEzNDE1\nMVowEzERMA8GA1UEAxMIYWNtZS5jb20wWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC\nAARPysdu/AKSICtkZa9hlBGb7vJHJ0GHWYXEeyTYDCPd2XoT5icVAZQ5GVU1q2WV\nEaVJRmlFuGqWElvYLIRYrce2MAwGCCqGSM49BAMCBQADSQAwRgIhAJCXC5Ys25Wk\nYXeC1bWjyt71p8Yn1B//DZo+SzQrBVF+AiEA3u6an0m+wsO1dnNN1wtXdUsa5Avo\nOjME4ZLJHhtGQ1I=\n-----END CERTIFICATE-----"
	want := model.CertificateInformation{
		Issuer:            "CN=acme.com",
		MD5Fingerprint:    "E5:50:70:3A:88:56:7C:BE:CB:FA:50:29:19:B5:CE:2D",
		SerialNumber:      "00:C1:4B:50:E5:86:8B:4D:BE:9F:3C:02:8C:D0:51:5B:11",
		SHA1Fingerprint:   "2F:22:15:AC:7C:2A:67:E8:F3:AB:87:97:3A:E0:84:58:79:A3:35:7F",
		SHA1Thumbprint:    "LyIVrHwqZ-jzq4eXOuCEWHmjNX8",
		SHA256Fingerprint: "D5:B0:B5:5E:07:1D:2B:84:A8:7C:5F:89:B7:74:62:2F:8C:57:A8:66:A1:D5:A2:F1:A9:94:70:8F:D3:0D:64:0F",
		SHA256Thumbprint:  "1bC1XgcdK4SofF-Jt3RiL4xXqGah1aLxqZRwj9MNZA8",
		Subject:           "CN=acme.com",
		ValidFrom:         1633182111000,
		ValidTo:           1948714911000,
	}
	got, err := keys.DescribeCertificate(cert)
	if err != nil {
		t.Fatal(err)
	}
	if *got != want {
		t.Fatalf("got  %+v\nwant %+v", *got, want)
	}
	// Imported, the kid is the thumbprint, as in FusionAuth's example.
	m, err := keys.Import(keys.ImportRequest{Certificate: cert})
	if err != nil {
		t.Fatal(err)
	}
	if m.Kid != "LyIVrHwqZ-jzq4eXOuCEWHmjNX8" || m.Algorithm != "ES256" || m.Length != 256 || m.Issuer != "acme.com" || m.ExpirationMillis() != 1948714911000 {
		t.Fatalf("imported %+v", m)
	}
}

// TestGeneratedCertificate checks the self-signed certificate of a generated
// key: the issuer asked for, the serial from the id bytes, ten years.
func TestGeneratedCertificate(t *testing.T) {
	m := generate(t, "ES256", 0)
	info, err := keys.DescribeCertificate(m.Certificate)
	if err != nil {
		t.Fatal(err)
	}
	if info.Issuer != "CN=example.com" || info.Subject != "CN=example.com" || info.SerialNumber != "00:EA:75:11:86" {
		t.Errorf("certificate information %+v", info)
	}
	if info.ValidFrom != now.UnixMilli() || info.ValidTo != now.AddDate(10, 0, 0).UnixMilli() || m.ExpirationMillis() != info.ValidTo {
		t.Errorf("validity %d–%d, expiration %d", info.ValidFrom, info.ValidTo, m.ExpirationMillis())
	}
	if m.Kid != info.SHA1Thumbprint || m.Issuer != "example.com" {
		t.Errorf("kid %q issuer %q", m.Kid, m.Issuer)
	}
}

// TestVerifyRefuses covers the token forms a verifier must not accept.
func TestVerifyRefuses(t *testing.T) {
	rsaM := generate(t, "RS256", 2048)
	hsM := generate(t, "HS256", 0)
	set := newSet(t, entry("rsa", rsaM), entry("hs", hsM))
	rsaSigner, _ := set.Signer("rsa")
	good, err := rsaSigner.Sign([]byte(`{"sub":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := set.Verify(good); err != nil {
		t.Fatalf("the good token fails: %v", err)
	}
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	payload := b64(`{"sub":"x"}`)
	hs := func(header string, secret []byte) string {
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte(b64(header) + "." + payload))
		return b64(header) + "." + payload + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	}
	parts := strings.Split(good, ".")
	rsaPriv, _ := pem.Decode([]byte(rsaM.Private))
	priv, _ := x509.ParsePKCS8PrivateKey(rsaPriv.Bytes)
	embedded, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: priv},
		(&jose.SignerOptions{EmbedJWK: true}).WithHeader("kid", rsaM.Kid))
	embeddedTok, _ := embedded.Sign([]byte(`{"sub":"x"}`))
	embeddedStr, _ := embeddedTok.CompactSerialize()
	jku, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: priv, KeyID: rsaM.Kid}},
		(&jose.SignerOptions{}).WithHeader("jku", "https://evil.example/jwks.json"))
	jkuTok, _ := jku.Sign([]byte(`{"sub":"x"}`))
	jkuStr, _ := jkuTok.CompactSerialize()

	cases := map[string]string{
		"alg none": b64(`{"alg":"none","kid":"`+rsaM.Kid+`"}`) + "." + payload + ".",
		"HS256 with the RSA public key as secret": hs(`{"alg":"HS256","kid":"`+rsaM.Kid+`"}`, []byte(rsaM.PublicKey)),
		"RS256 key under RS512":                   b64(`{"alg":"RS512","kid":"`+rsaM.Kid+`"}`) + "." + parts[1] + "." + parts[2],
		"unknown kid":                             hs(`{"alg":"HS256","kid":"nope"}`, []byte(hsM.Private)),
		"no kid":                                  hs(`{"alg":"HS256"}`, []byte(hsM.Private)),
		"wrong HMAC secret":                       hs(`{"alg":"HS256","kid":"`+hsM.Kid+`"}`, []byte(strings.Repeat("x", 32))),
		"embedded jwk":                            embeddedStr,
		"jku":                                     jkuStr,
		"tampered payload":                        parts[0] + "." + b64(`{"sub":"admin"}`) + "." + parts[2],
		"truncated":                               good[:len(good)-10],
		"garbage":                                 "eyJhbGciOiJSUzI1NiJ9.!!!.???",
		"empty":                                   "",
		"two parts":                               parts[0] + "." + parts[1],
		"1 MB":                                    strings.Repeat("a", 1<<20),
		"header not JSON":                         b64("nope") + "." + payload + ".AAAA",
		"header with wrong types":                 b64(`{"alg":1,"kid":["x"]}`) + "." + payload + ".AAAA",
	}
	for name, tok := range cases {
		if v, err := set.Verify(tok); !errors.Is(err, keys.ErrInvalidToken) {
			t.Errorf("%s: got %+v, %v; want ErrInvalidToken", name, v, err)
		}
	}
	// The HMAC key itself verifies what it signed.
	if _, err := set.Verify(hs(`{"alg":"HS256","kid":"`+hsM.Kid+`"}`, []byte(hsM.Private))); err != nil {
		t.Errorf("HMAC token: %v", err)
	}
}

func TestSignerErrors(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	pub, _ := keys.Import(keys.ImportRequest{PublicKey: pemOf("PUBLIC KEY", mustDER(x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)))})
	set := newSet(t, entry("pub", pub))
	if _, err := set.Signer("pub"); !errors.Is(err, keys.ErrCannotSign) {
		t.Errorf("public key signer: %v", err)
	}
	if _, err := set.Signer("nope"); !errors.Is(err, keys.ErrUnknownKey) {
		t.Errorf("unknown signer: %v", err)
	}
}

// TestBadEntryIsSkipped: one unreadable row must not take the other keys down.
func TestBadEntryIsSkipped(t *testing.T) {
	good := generate(t, "ES256", 0)
	set, errs := keys.NewSet([]keys.Entry{
		{ID: "bad", Algorithm: "RS256", Kid: "bad", PublicKey: "garbage", Private: "garbage"},
		entry("good", good),
	})
	if len(errs) != 1 || strings.Contains(errs[0].Error(), "garbage") {
		t.Fatalf("errors %v (they must name the key, not its material)", errs)
	}
	if !set.Has("good") || set.Has("bad") {
		t.Fatalf("kids %v", set.Kids())
	}
}

func TestSignerConcurrent(t *testing.T) {
	set := newSet(t, entry("k", generate(t, "ES256", 0)))
	sg, _ := set.Signer("k")
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				tok, err := sg.Sign([]byte(`{"n":1}`))
				if err == nil {
					_, err = set.Verify(tok)
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestJWKSHandler(t *testing.T) {
	set := newSet(t, entry("k", generate(t, "ES256", 0)))
	h := httpx.JWKSHandler(func() *keys.Set { return set })
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/.well-known/jwks.json", nil))
	if rec.Code != 200 || rec.Body.String() != string(set.JWKS()) || rec.Header().Get("ETag") == "" ||
		!strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("%d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	req := httptest.NewRequest("GET", "/.well-known/jwks.json", nil)
	req.Header.Set("If-None-Match", rec.Header().Get("ETag"))
	rec2 := httptest.NewRecorder()
	h.ServeHTTP(rec2, req)
	if rec2.Code != http.StatusNotModified || rec2.Body.Len() != 0 {
		t.Fatalf("revalidation: %d %s", rec2.Code, rec2.Body)
	}
	empty := keys.EmptySet()
	if string(empty.JWKS()) != `{"keys":[]}` {
		t.Fatalf("empty set JWKS %s", empty.JWKS())
	}
}
