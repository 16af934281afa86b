package oauth_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/latchid/latch/internal/testutil"
)

// dpopKey is a client's DPoP key pair.
type dpopKey struct {
	t    *testing.T
	priv crypto.Signer
	alg  jose.SignatureAlgorithm
	jkt  string
}

func newDPoPKey(t *testing.T, alg jose.SignatureAlgorithm) *dpopKey {
	t.Helper()
	var priv crypto.Signer
	var err error
	switch alg {
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.RS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case jose.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	jwk := jose.JSONWebKey{Key: priv.Public()}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return &dpopKey{t: t, priv: priv, alg: alg, jkt: base64.RawURLEncoding.EncodeToString(tp)}
}

// proofOpts vary a proof from the valid one.
type proofOpts struct {
	typ     string         // default dpop+jwt
	claims  map[string]any // override or add claims (nil value: remove)
	noJWK   bool
	hmacKey []byte // sign with HS256 instead
}

// proof makes a DPoP proof for a request at the given time.
func (k *dpopKey) proof(method, u, accessToken string, now time.Time, o proofOpts) string {
	k.t.Helper()
	claims := map[string]any{"jti": randomJTI(), "htm": method, "htu": u, "iat": now.Unix()}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	for c, v := range o.claims {
		if v == nil {
			delete(claims, c)
		} else {
			claims[c] = v
		}
	}
	typ := o.typ
	if typ == "" {
		typ = "dpop+jwt"
	}
	opts := (&jose.SignerOptions{}).WithType(jose.ContentType(typ))
	if !o.noJWK {
		opts.EmbedJWK = true
	}
	sk := jose.SigningKey{Algorithm: k.alg, Key: k.priv}
	if o.hmacKey != nil {
		sk = jose.SigningKey{Algorithm: jose.HS256, Key: o.hmacKey}
		opts.EmbedJWK = false
		opts = opts.WithHeader("jwk", jose.JSONWebKey{Key: k.priv.Public()})
	}
	signer, err := jose.NewSigner(sk, opts)
	if err != nil {
		k.t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		k.t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		k.t.Fatal(err)
	}
	return s
}

func randomJTI() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// dpopTransport adds a fresh DPoP proof of key to every request, so that
// x/oauth2 speaks DPoP at the token endpoint unchanged.
type dpopTransport struct {
	key   *dpopKey
	clock *testutil.FakeClock
}

func (d dpopTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	u := *r.URL
	u.RawQuery = ""
	r.Header.Set("DPoP", d.key.proof(r.Method, u.String(), "", d.clock.Now(), proofOpts{}))
	return http.DefaultTransport.RoundTrip(r)
}

// resource calls an endpoint with an access token under a scheme, with an optional proof.
func (e *env) resource(method, path, scheme, token string, proofs ...string) (int, http.Header, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.s.URL+path, nil)
	req.Header.Set("Authorization", scheme+" "+token)
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	return res.StatusCode, res.Header, m
}

// tokenWithProofs posts to the token endpoint with DPoP headers.
func (e *env) tokenWithProofs(form url.Values, basicID, basicSecret string, proofs ...string) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.s.URL+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicID != "" {
		req.SetBasicAuth(url.QueryEscape(basicID), url.QueryEscape(basicSecret))
	}
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

// TestDPoP covers RFC 9449 on the token, userinfo and introspection
// endpoints: proofs checked (htm, htu, iat window, jti once, ath, asymmetric
// keys), codes bound by dpop_jkt, token_type DPoP and cnf.jkt, public
// clients' refresh tokens bound to the key.
func TestDPoP(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		pub := e.app(appOpts{public: true})
		conf := e.app(appOpts{grants: []string{"authorization_code", "refresh_token", "password"}})
		e.user("dpop@example.com", nil, pub.id, conf.id)
		tokenURL := e.s.URL + "/oauth2/token"
		userinfoURL := e.s.URL + "/oauth2/userinfo"
		key := newDPoPKey(t, jose.ES256)
		other := newDPoPKey(t, jose.ES256)

		// codeFor signs in through the hosted page for a code bound (or not) to jkt.
		codeFor := func(c client, jkt string) (code, verifier string) {
			t.Helper()
			verifier = oauth2.GenerateVerifier()
			opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
			if jkt != "" {
				opts = append(opts, oauth2.SetAuthURLParam("dpop_jkt", jkt))
			}
			r := e.rp(c)
			u := e.browser().signIn(r.conf.AuthCodeURL("st4te", opts...), "dpop@example.com")
			if u.Query().Get("code") == "" {
				t.Fatalf("no code: %s", u)
			}
			return u.Query().Get("code"), verifier
		}
		codeForm := func(c client, code, verifier string) url.Values {
			return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier},
				"redirect_uri": {redirectURL}, "client_id": {c.id}}
		}

		var bound *oauth2.Token // a public client's DPoP-bound tokens, for the later subtests
		t.Run("x/oauth2 code flow over DPoP: token_type, cnf.jkt", func(t *testing.T) {
			code, verifier := codeFor(pub, key.jkt)
			r := e.rp(client{id: pub.id}) // as a public client: no secret
			ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: dpopTransport{key: key, clock: e.clock}})
			tok, err := r.conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			if tok.TokenType != "DPoP" || tok.RefreshToken == "" {
				t.Fatalf("token %+v", tok)
			}
			cnf, _ := claimsOf(t, tok.AccessToken)["cnf"].(map[string]any)
			if cnf["jkt"] != key.jkt {
				t.Fatalf("cnf %v, want jkt %s", cnf, key.jkt)
			}
			bound = tok
		})
		if bound == nil {
			t.FailNow()
		}

		t.Run("a code bound by dpop_jkt needs a proof of that key", func(t *testing.T) {
			for _, c := range []struct {
				name   string
				proofs []string
			}{
				{"no proof", nil},
				{"another key", []string{other.proof("POST", tokenURL, "", e.clock.Now(), proofOpts{})}},
			} {
				code, verifier := codeFor(pub, key.jkt)
				status, m := e.tokenWithProofs(codeForm(pub, code, verifier), "", "", c.proofs...)
				if status != 400 || m["error"] != "invalid_dpop_proof" {
					t.Errorf("%s: %d %v", c.name, status, m)
				}
			}
		})

		t.Run("dpop_jkt that is no thumbprint is an error at the redirect URI", func(t *testing.T) {
			r := e.rp(pub)
			p := e.browser().get(r.conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("dpop_jkt", "short")))
			u := e.redirected(p, 302)
			if u.Query().Get("error") != "invalid_request" || u.Query().Get("error_reason") != "invalid_dpop_jkt" {
				t.Fatalf("redirect %s", u)
			}
		})

		t.Run("bad proofs at the token endpoint", func(t *testing.T) {
			now := e.clock.Now()
			replayed := key.proof("POST", tokenURL, "", now, proofOpts{})
			form := url.Values{"grant_type": {"password"}, "username": {"dpop@example.com"}, "password": {testPassword}, "scope": {"openid"}}
			if status, m := e.tokenWithProofs(form, conf.id, conf.secret, replayed); status != 200 || m["token_type"] != "DPoP" {
				t.Fatalf("valid proof: %d %v", status, m)
			}
			for _, c := range []struct {
				name   string
				proofs []string
			}{
				{"replayed jti", []string{replayed}},
				{"not a JWS", []string{"abc.def"}},
				{"two proofs", []string{key.proof("POST", tokenURL, "", now, proofOpts{}), key.proof("POST", tokenURL, "", now, proofOpts{})}},
				{"wrong typ", []string{key.proof("POST", tokenURL, "", now, proofOpts{typ: "JWT"})}},
				{"no jwk", []string{key.proof("POST", tokenURL, "", now, proofOpts{noJWK: true})}},
				{"symmetric HS256", []string{key.proof("POST", tokenURL, "", now, proofOpts{hmacKey: []byte("0123456789abcdef0123456789abcdef")})}},
				{"wrong htm", []string{key.proof("GET", tokenURL, "", now, proofOpts{})}},
				{"wrong htu", []string{key.proof("POST", e.s.URL+"/oauth2/userinfo", "", now, proofOpts{})}},
				{"htu of another host", []string{key.proof("POST", "https://elsewhere.example/oauth2/token", "", now, proofOpts{})}},
				{"iat too old", []string{key.proof("POST", tokenURL, "", now.Add(-10*time.Minute), proofOpts{})}},
				{"iat in the future", []string{key.proof("POST", tokenURL, "", now.Add(5*time.Minute), proofOpts{})}},
				{"no jti", []string{key.proof("POST", tokenURL, "", now, proofOpts{claims: map[string]any{"jti": nil}})}},
				{"no iat", []string{key.proof("POST", tokenURL, "", now, proofOpts{claims: map[string]any{"iat": nil}})}},
			} {
				status, m := e.tokenWithProofs(form, conf.id, conf.secret, c.proofs...)
				if status != 400 || m["error"] != "invalid_dpop_proof" {
					t.Errorf("%s: %d %v", c.name, status, m)
				}
			}
			// htu with a query string and the scheme in capitals is the same endpoint.
			upper := "HTTP" + strings.TrimPrefix(tokenURL, "http") + "?x=1"
			if status, m := e.tokenWithProofs(form, conf.id, conf.secret, key.proof("POST", upper, "", now, proofOpts{})); status != 200 {
				t.Errorf("htu with a query: %d %v", status, m)
			}
		})

		t.Run("userinfo: a bound token needs the DPoP scheme and a proof with ath", func(t *testing.T) {
			now := e.clock.Now()
			at := bound.AccessToken
			if status, _, m := e.resource("GET", "/oauth2/userinfo", "DPoP", at, key.proof("GET", userinfoURL, at, now, proofOpts{})); status != 200 || m["email"] != "dpop@example.com" {
				t.Fatalf("DPoP userinfo: %d %v", status, m)
			}
			replay := key.proof("GET", userinfoURL, at, now, proofOpts{})
			if status, _, _ := e.resource("GET", "/oauth2/userinfo", "DPoP", at, replay); status != 200 {
				t.Fatalf("first use of a proof: %d", status)
			}
			for _, c := range []struct {
				name, scheme string
				proofs       []string
				wantErr      string
			}{
				{"as a bearer token", "Bearer", nil, "invalid_token"},
				{"as a bearer token with a proof", "Bearer", []string{key.proof("GET", userinfoURL, at, now, proofOpts{})}, "invalid_token"},
				{"DPoP scheme without a proof", "DPoP", nil, "invalid_dpop_proof"},
				{"proof without ath", "DPoP", []string{key.proof("GET", userinfoURL, "", now, proofOpts{})}, "invalid_dpop_proof"},
				{"ath of another token", "DPoP", []string{key.proof("GET", userinfoURL, "another token", now, proofOpts{})}, "invalid_dpop_proof"},
				{"another key", "DPoP", []string{other.proof("GET", userinfoURL, at, now, proofOpts{})}, "invalid_dpop_proof"},
				{"replayed proof", "DPoP", []string{replay}, "invalid_dpop_proof"},
				{"proof for POST", "DPoP", []string{key.proof("POST", userinfoURL, at, now, proofOpts{})}, "invalid_dpop_proof"},
			} {
				status, h, m := e.resource("GET", "/oauth2/userinfo", c.scheme, at, c.proofs...)
				if status != 401 || m["error"] != c.wantErr || !strings.Contains(strings.Join(h.Values("WWW-Authenticate"), ","), `DPoP realm="latch"`) {
					t.Errorf("%s: %d %v %v", c.name, status, m, h.Values("WWW-Authenticate"))
				}
			}
		})

		t.Run("proof keys: ES256, RS256, EdDSA", func(t *testing.T) {
			for _, alg := range []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.EdDSA} {
				k := newDPoPKey(t, alg)
				form := url.Values{"grant_type": {"password"}, "username": {"dpop@example.com"}, "password": {testPassword}}
				status, m := e.tokenWithProofs(form, conf.id, conf.secret, k.proof("POST", tokenURL, "", e.clock.Now(), proofOpts{}))
				if status != 200 || m["token_type"] != "DPoP" {
					t.Fatalf("%s: token %d %v", alg, status, m)
				}
				at := m["access_token"].(string)
				if status, _, m := e.resource("GET", "/oauth2/userinfo", "DPoP", at, k.proof("GET", userinfoURL, at, e.clock.Now(), proofOpts{})); status != 200 {
					t.Errorf("%s: userinfo %d %v", alg, status, m)
				}
				// Introspection shows the binding.
				_, _, in := e.postForm("/oauth2/introspect", url.Values{"token": {at}}, conf.id, conf.secret)
				cnf, _ := in["cnf"].(map[string]any)
				if in["active"] != true || in["token_type"] != "DPoP" || cnf["jkt"] != k.jkt {
					t.Errorf("%s: introspection %v", alg, in)
				}
			}
		})

		t.Run("a public client's refresh token is bound to its key", func(t *testing.T) {
			form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {bound.RefreshToken}, "client_id": {pub.id}}
			for _, c := range []struct {
				name   string
				proofs []string
			}{
				{"no proof", nil},
				{"another key", []string{other.proof("POST", tokenURL, "", e.clock.Now(), proofOpts{})}},
			} {
				if status, m := e.tokenWithProofs(form, "", "", c.proofs...); status != 400 || m["error"] != "invalid_grant" {
					t.Errorf("%s: %d %v", c.name, status, m)
				}
			}
			// Nor through FusionAuth's JWT refresh API, which takes no proof.
			if r := e.api("POST", "/api/jwt/refresh", map[string]any{"refreshToken": bound.RefreshToken}); r.Status != 400 {
				t.Errorf("/api/jwt/refresh: %d %s", r.Status, r.Body)
			}
			status, m := e.tokenWithProofs(form, "", "", key.proof("POST", tokenURL, "", e.clock.Now(), proofOpts{}))
			if status != 200 || m["token_type"] != "DPoP" {
				t.Fatalf("refresh with the key: %d %v", status, m)
			}
			cnf, _ := claimsOf(t, m["access_token"].(string))["cnf"].(map[string]any)
			if cnf["jkt"] != key.jkt {
				t.Fatalf("refreshed cnf %v", cnf)
			}
		})

		t.Run("a confidential client's refresh token stays unbound", func(t *testing.T) {
			form := url.Values{"grant_type": {"password"}, "username": {"dpop@example.com"}, "password": {testPassword}, "scope": {"offline_access"}}
			status, m := e.tokenWithProofs(form, conf.id, conf.secret, key.proof("POST", tokenURL, "", e.clock.Now(), proofOpts{}))
			if status != 200 || m["refresh_token"] == nil {
				t.Fatalf("token %d %v", status, m)
			}
			status, m = e.tokenWithProofs(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m["refresh_token"].(string)}}, conf.id, conf.secret)
			if status != 200 || m["token_type"] != "Bearer" || claimsOf(t, m["access_token"].(string))["cnf"] != nil {
				t.Fatalf("refresh without a proof: %d %v", status, m)
			}
			at := m["access_token"].(string)
			if status, _, _ := e.resource("GET", "/oauth2/userinfo", "Bearer", at); status != 200 {
				t.Errorf("bearer userinfo: %d", status)
			}
			// A bearer token under the DPoP scheme still needs a valid proof.
			if status, _, m := e.resource("GET", "/oauth2/userinfo", "DPoP", at); status != 401 || m["error"] != "invalid_dpop_proof" {
				t.Errorf("DPoP scheme, no proof: %d %v", status, m)
			}
		})

		t.Run("server nonces: offered, and checked when a proof carries one", func(t *testing.T) {
			form := url.Values{"grant_type": {"password"}, "username": {"dpop@example.com"}, "password": {testPassword}}
			send := func(nonce string) (int, http.Header, map[string]any) {
				req, _ := http.NewRequest("POST", tokenURL, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth(url.QueryEscape(conf.id), url.QueryEscape(conf.secret))
				o := proofOpts{}
				if nonce != "" {
					o.claims = map[string]any{"nonce": nonce}
				}
				req.Header.Set("DPoP", key.proof("POST", tokenURL, "", e.clock.Now(), o))
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				var m map[string]any
				_ = json.NewDecoder(res.Body).Decode(&m)
				return res.StatusCode, res.Header, m
			}
			status, h, _ := send("")
			nonce := h.Get("DPoP-Nonce")
			if status != 200 || nonce == "" {
				t.Fatalf("no nonce offered: %d %v", status, h)
			}
			if status, _, m := send(nonce); status != 200 {
				t.Fatalf("the offered nonce: %d %v", status, m)
			}
			status, h, m := send("made-up")
			if status != 400 || m["error"] != "use_dpop_nonce" || h.Get("DPoP-Nonce") == "" {
				t.Fatalf("a made-up nonce: %d %v %v", status, m, h)
			}
			// Still good in the next (5-minute) window, not in the one after.
			e.clock.Advance(5 * time.Minute)
			if status, _, m := send(nonce); status != 200 {
				t.Fatalf("the previous window's nonce: %d %v", status, m)
			}
			e.clock.Advance(5 * time.Minute)
			if status, _, m := send(nonce); status != 400 || m["error"] != "use_dpop_nonce" {
				t.Fatalf("a stale nonce: %d %v", status, m)
			}
			// At userinfo: 401 with the DPoP challenge naming use_dpop_nonce.
			_, h, tm := send("")
			at := tm["access_token"].(string)
			status, rh, um := e.resource("GET", "/oauth2/userinfo", "DPoP", at, key.proof("GET", userinfoURL, at, e.clock.Now(), proofOpts{claims: map[string]any{"nonce": "stale"}}))
			if status != 401 || um["error"] != "use_dpop_nonce" || rh.Get("DPoP-Nonce") == "" ||
				!strings.Contains(strings.Join(rh.Values("WWW-Authenticate"), ","), `error="use_dpop_nonce"`) {
				t.Fatalf("userinfo with a stale nonce: %d %v %v", status, um, rh)
			}
			if status, _, um := e.resource("GET", "/oauth2/userinfo", "DPoP", at, key.proof("GET", userinfoURL, at, e.clock.Now(), proofOpts{claims: map[string]any{"nonce": h.Get("DPoP-Nonce")}})); status != 200 {
				t.Fatalf("userinfo with the current nonce: %d %v", status, um)
			}
		})

		t.Run("discovery lists the proof algorithms", func(t *testing.T) {
			var doc struct {
				Algs []string `json:"dpop_signing_alg_values_supported"`
			}
			e.want("discovery", e.api("GET", "/.well-known/openid-configuration", nil), 200).decode(&doc)
			if !slices.Contains(doc.Algs, "ES256") || !slices.Contains(doc.Algs, "RS256") || !slices.Contains(doc.Algs, "EdDSA") || slices.Contains(doc.Algs, "HS256") {
				t.Fatalf("dpop_signing_alg_values_supported %v", doc.Algs)
			}
		})
	})
}
