package oauth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/latchid/latch/internal/testutil"
)

// TestConformance reproduces the OpenID Connect Basic-OP and Config-OP
// conformance modules that apply to Latch, one subtest per module, named as
// the module (docs/conformance.md lists them).
func TestConformance(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		c := e.app(appOpts{})
		e.user("conf@example.com", map[string]any{"mobilePhone": "+15555551212", "birthDate": "1815-12-10"}, c.id)
		r := e.rp(c)
		authURL := func(verifier string, params ...string) string {
			opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oidc.Nonce("n0nce")}
			for i := 0; i+1 < len(params); i += 2 {
				opts = append(opts, oauth2.SetAuthURLParam(params[i], params[i+1]))
			}
			return r.conf.AuthCodeURL("st4te", opts...)
		}
		signedIn := func() (*browser, *oauth2.Token, *oidc.IDToken) {
			br := e.browser()
			tok, idt := e.codeFlow(br, r, "conf@example.com")
			return br, tok, idt
		}
		errorRedirect := func(t *testing.T, p *page, code string) url.Values {
			t.Helper()
			u := e.redirected(p, 302)
			q := u.Query()
			if !strings.HasPrefix(p.location, redirectURL) || q.Get("error") != code || q.Get("state") != "st4te" || q.Get("iss") != e.s.URL {
				t.Fatalf("want error %s at the redirect URI with state and iss, got %s", code, p.location)
			}
			return q
		}
		errorPage := func(t *testing.T, p *page) {
			t.Helper()
			if p.status != 400 || p.location != "" || !strings.Contains(p.body, "<h1>") {
				t.Fatalf("want an error page (400, no redirect), got %d %q", p.status, p.location)
			}
		}

		t.Run("oidcc-server", func(t *testing.T) {
			_, tok, idt := signedIn()
			if idt == nil || tok.AccessToken == "" {
				t.Fatal("no ID token")
			}
		})
		t.Run("oidcc-idtoken-signature", func(t *testing.T) {
			// go-oidc verified the signature against the JWKS from discovery;
			// a tampered token must fail.
			_, tok, _ := signedIn()
			raw := tok.Extra("id_token").(string)
			parts := strings.Split(raw, ".")
			bad := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))
			if _, err := r.verifier.Verify(r.ctx, bad); err == nil {
				t.Fatal("a forged signature verified")
			}
		})
		t.Run("oidcc-response-type-missing", func(t *testing.T) {
			u := strings.Replace(authURL(oauth2.GenerateVerifier()), "response_type=code&", "", 1)
			q := errorRedirect(t, e.browser().get(u), "invalid_request")
			if q.Get("error_reason") != "missing_response_type" {
				t.Fatalf("error_reason %q", q.Get("error_reason"))
			}
		})
		userinfo := func(t *testing.T, req *http.Request) map[string]any {
			t.Helper()
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("userinfo: %d %v", res.StatusCode, res.Header)
			}
			var m map[string]any
			if err := jsonDecode(res.Body, &m); err != nil {
				t.Fatal(err)
			}
			return m
		}
		t.Run("oidcc-userinfo-get", func(t *testing.T) {
			_, tok, idt := signedIn()
			req, _ := http.NewRequest("GET", e.s.URL+"/oauth2/userinfo", nil)
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			if m := userinfo(t, req); m["sub"] != idt.Subject || m["email"] != "conf@example.com" {
				t.Fatalf("userinfo %v", m)
			}
		})
		t.Run("oidcc-userinfo-post-header", func(t *testing.T) {
			_, tok, idt := signedIn()
			req, _ := http.NewRequest("POST", e.s.URL+"/oauth2/userinfo", nil)
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			if m := userinfo(t, req); m["sub"] != idt.Subject {
				t.Fatalf("userinfo %v", m)
			}
		})
		t.Run("oidcc-userinfo-post-body", func(t *testing.T) {
			_, tok, idt := signedIn()
			req, _ := http.NewRequest("POST", e.s.URL+"/oauth2/userinfo", strings.NewReader(url.Values{"access_token": {tok.AccessToken}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if m := userinfo(t, req); m["sub"] != idt.Subject {
				t.Fatalf("userinfo %v", m)
			}
		})
		t.Run("oidcc-ensure-request-without-nonce-succeeds-for-code-flow", func(t *testing.T) {
			v := oauth2.GenerateVerifier()
			u := strings.Replace(authURL(v), "nonce=n0nce&", "", 1)
			_, idt := e.exchange(r, e.browser().signIn(u, "conf@example.com"), v)
			if idt.Nonce != "" {
				t.Fatalf("nonce %q", idt.Nonce)
			}
		})
		scopeFlow := func(t *testing.T, scope string) map[string]any {
			t.Helper()
			sr := e.rp(c, strings.Fields(scope)...)
			_, idt := e.codeFlow(e.browser(), sr, "conf@example.com")
			var m map[string]any
			if err := idt.Claims(&m); err != nil {
				t.Fatal(err)
			}
			return m
		}
		t.Run("oidcc-scope-profile", func(t *testing.T) {
			m := scopeFlow(t, "openid profile")
			if m["name"] != "Ada Lovelace" || m["given_name"] != "Ada" || m["family_name"] != "Lovelace" || m["birthdate"] != "1815-12-10" || m["email"] != nil {
				t.Fatalf("claims %v", m)
			}
		})
		t.Run("oidcc-scope-email", func(t *testing.T) {
			m := scopeFlow(t, "openid email")
			if m["email"] != "conf@example.com" || m["email_verified"] != true || m["name"] != nil {
				t.Fatalf("claims %v", m)
			}
		})
		t.Run("oidcc-scope-phone", func(t *testing.T) {
			if m := scopeFlow(t, "openid phone"); m["phone_number"] != "+15555551212" {
				t.Fatalf("claims %v", m)
			}
		})
		t.Run("oidcc-scope-address", func(t *testing.T) {
			// address is not supported: the request still succeeds, without it.
			if m := scopeFlow(t, "openid address"); m["address"] != nil {
				t.Fatalf("claims %v", m)
			}
		})
		t.Run("oidcc-scope-all", func(t *testing.T) {
			m := scopeFlow(t, "openid profile email phone address")
			if m["email"] == nil || m["name"] == nil || m["phone_number"] == nil {
				t.Fatalf("claims %v", m)
			}
		})
		t.Run("oidcc-ensure-other-scope-order-succeeds", func(t *testing.T) {
			if m := scopeFlow(t, "email openid"); m["email"] == nil {
				t.Fatalf("claims %v", m)
			}
		})
		t.Run("oidcc-prompt-login", func(t *testing.T) {
			br, _, first := signedIn()
			e.clock.Advance(2 * time.Second)
			p := br.get(authURL(oauth2.GenerateVerifier(), "prompt", "login"))
			if p.status != 200 || !strings.Contains(p.body, `name="loginId"`) {
				t.Fatalf("prompt=login with a session: want the sign-in page, got %d %q", p.status, p.location)
			}
			v := oauth2.GenerateVerifier()
			_, second := e.exchange(r, br.signIn(authURL(v, "prompt", "login"), "conf@example.com"), v)
			if authTime(t, second) <= authTime(t, first) {
				t.Fatalf("auth_time %v not after %v", authTime(t, second), authTime(t, first))
			}
		})
		t.Run("oidcc-prompt-none-not-logged-in", func(t *testing.T) {
			errorRedirect(t, e.browser().get(authURL(oauth2.GenerateVerifier(), "prompt", "none")), "login_required")
		})
		t.Run("oidcc-prompt-none-logged-in", func(t *testing.T) {
			br, _, first := signedIn()
			v := oauth2.GenerateVerifier()
			_, idt := e.exchange(r, e.redirected(br.get(authURL(v, "prompt", "none")), 302), v)
			if idt.Subject != first.Subject || authTime(t, idt) != authTime(t, first) {
				t.Fatalf("prompt=none: %v %v", idt.Subject, authTime(t, idt))
			}
		})
		t.Run("oidcc-max-age-1", func(t *testing.T) {
			br, _, _ := signedIn()
			e.clock.Advance(2 * time.Second)
			p := br.get(authURL(oauth2.GenerateVerifier(), "max_age", "1"))
			if p.status != 200 || !strings.Contains(p.body, `name="loginId"`) {
				t.Fatalf("max_age=1 after 2s: want the sign-in page, got %d %q", p.status, p.location)
			}
			v := oauth2.GenerateVerifier()
			_, idt := e.exchange(r, br.signIn(authURL(v, "max_age", "1"), "conf@example.com"), v)
			if at := authTime(t, idt); at == 0 || e.clock.Now().Unix()-at > 1 {
				t.Fatalf("auth_time %v", at)
			}
		})
		t.Run("oidcc-max-age-10000", func(t *testing.T) {
			br, _, first := signedIn()
			v := oauth2.GenerateVerifier()
			_, idt := e.exchange(r, e.redirected(br.get(authURL(v, "max_age", "10000")), 302), v)
			if authTime(t, idt) != authTime(t, first) {
				t.Fatalf("auth_time %v, want %v", authTime(t, idt), authTime(t, first))
			}
		})
		t.Run("oidcc-id-token-hint", func(t *testing.T) {
			br, tok, first := signedIn()
			v := oauth2.GenerateVerifier()
			hint := tok.Extra("id_token").(string)
			_, idt := e.exchange(r, e.redirected(br.get(authURL(v, "prompt", "none", "id_token_hint", hint)), 302), v)
			if idt.Subject != first.Subject {
				t.Fatal("subject changed")
			}
			// A hint naming another user with prompt=none: login_required.
			other := e.browser()
			e.user("hint-other@example.com", nil, c.id)
			other.signIn(authURL(oauth2.GenerateVerifier()), "hint-other@example.com")
			errorRedirect(t, other.get(authURL(oauth2.GenerateVerifier(), "prompt", "none", "id_token_hint", hint)), "login_required")
		})
		t.Run("oidcc-login-hint", func(t *testing.T) {
			p := e.browser().get(authURL(oauth2.GenerateVerifier(), "login_hint", "conf@example.com"))
			if !strings.Contains(p.body, `value="conf@example.com"`) {
				t.Fatalf("login_hint not prefilled: %s", p.body)
			}
		})
		t.Run("oidcc-ensure-request-with-unknown-parameter-succeeds", func(t *testing.T) {
			v := oauth2.GenerateVerifier()
			e.exchange(r, e.browser().signIn(authURL(v, "extra", "foobar", "ui_locales", "se", "claims_locales", "se",
				"acr_values", "1 2", "display", "page"), "conf@example.com"), v)
		})
		t.Run("oidcc-claims-essential", func(t *testing.T) {
			// The claims parameter is not supported (discovery says so); a
			// request carrying it succeeds with the scope's claims.
			v := oauth2.GenerateVerifier()
			e.exchange(r, e.browser().signIn(authURL(v, "claims", `{"userinfo":{"name":{"essential":true}}}`), "conf@example.com"), v)
		})
		t.Run("oidcc-codereuse", func(t *testing.T) {
			v := oauth2.GenerateVerifier()
			u := e.browser().signIn(authURL(v), "conf@example.com")
			e.exchange(r, u, v)
			if _, err := r.conf.Exchange(r.ctx, u.Query().Get("code"), oauth2.VerifierOption(v)); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
				t.Fatalf("second use: %v", err)
			}
		})
		t.Run("oidcc-codereuse-30seconds", func(t *testing.T) {
			v := oauth2.GenerateVerifier()
			u := e.browser().signIn(authURL(v), "conf@example.com")
			tok, _ := e.exchange(r, u, v)
			e.clock.Advance(30 * time.Second)
			if _, err := r.conf.Exchange(r.ctx, u.Query().Get("code"), oauth2.VerifierOption(v)); err == nil {
				t.Fatal("second use succeeded")
			}
			// The replay revoked the first exchange's refresh token.
			if _, err := r.conf.TokenSource(r.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
				t.Fatal("the refresh token survived the code replay")
			}
		})
		t.Run("oidcc-ensure-registered-redirect-uri", func(t *testing.T) {
			u := strings.Replace(authURL(oauth2.GenerateVerifier()), url.QueryEscape(redirectURL), url.QueryEscape("https://attacker.example/callback"), 1)
			errorPage(t, e.browser().get(u))
		})
		t.Run("oidcc-ensure-post-request-succeeds", func(t *testing.T) {
			v := oauth2.GenerateVerifier()
			full, _ := url.Parse(authURL(v))
			br := e.browser()
			p := br.post(e.s.URL+"/oauth2/authorize", full.Query())
			if p.status != 200 {
				t.Fatalf("POST authorize: %d", p.status)
			}
			e.exchange(r, e.redirected(br.submit(p, "loginId", "conf@example.com", "password", testPassword), 303), v)
		})
		t.Run("oidcc-server-client-secret-post", func(t *testing.T) {
			pr := e.rp(c)
			pr.conf.Endpoint.AuthStyle = oauth2.AuthStyleInParams
			v := oauth2.GenerateVerifier()
			u := e.browser().signIn(pr.conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(v)), "conf@example.com")
			e.exchange(pr, u, v)
		})
		t.Run("oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported", func(t *testing.T) {
			errorRedirect(t, e.browser().get(authURL(oauth2.GenerateVerifier(), "request_uri", "https://rp.example/req.jwt")), "request_uri_not_supported")
		})
		t.Run("oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported", func(t *testing.T) {
			errorRedirect(t, e.browser().get(authURL(oauth2.GenerateVerifier(), "request", "eyJhbGciOiJub25lIn0.e30.")), "request_not_supported")
		})
		t.Run("oidcc-ensure-request-object-with-redirect-uri", func(t *testing.T) {
			errorRedirect(t, e.browser().get(authURL(oauth2.GenerateVerifier(), "request", "eyJhbGciOiJub25lIn0.e30.")), "request_not_supported")
		})
		t.Run("oidcc-ensure-request-with-valid-pkce-succeeds", func(t *testing.T) {
			signedIn()
		})
		t.Run("oidcc-refresh-token", func(t *testing.T) {
			_, tok, idt := signedIn()
			e.clock.Advance(10 * time.Second)
			next, err := r.conf.TokenSource(r.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			if err != nil {
				t.Fatalf("refresh: %v", err)
			}
			raw, _ := next.Extra("id_token").(string)
			nidt, err := r.verifier.Verify(r.ctx, raw)
			if err != nil || nidt.Subject != idt.Subject {
				t.Fatalf("refreshed ID token: %v", err)
			}
			var a, b struct {
				Sid string `json:"sid"`
			}
			_ = idt.Claims(&a)
			_ = nidt.Claims(&b)
			if a.Sid == "" || a.Sid != b.Sid {
				t.Fatalf("sid %q became %q", a.Sid, b.Sid)
			}
		})
		t.Run("oidcc-discovery-issuer", func(t *testing.T) {
			// oidc.NewProvider refuses a document whose issuer is not the
			// URL it was fetched from: e.rp succeeded, so it matches. The
			// per-tenant document names the same issuer.
			var doc map[string]any
			rs := e.s.Do(t, "GET", "/.well-known/openid-configuration/"+e.tenant, "", nil)
			rs.JSON(t, &doc)
			if doc["issuer"] != e.s.URL {
				t.Fatalf("issuer %v", doc["issuer"])
			}
		})
		t.Run("config-op-discovery", func(t *testing.T) {
			var doc map[string]any
			e.s.Do(t, "GET", "/.well-known/openid-configuration", "", nil).JSON(t, &doc)
			has := func(k, v string) bool {
				l, _ := doc[k].([]any)
				for _, x := range l {
					if x == v {
						return true
					}
				}
				return false
			}
			if !has("scopes_supported", "openid") || !has("response_types_supported", "code") || !has("subject_types_supported", "public") ||
				len(doc["id_token_signing_alg_values_supported"].([]any)) == 0 || !has("code_challenge_methods_supported", "S256") ||
				has("code_challenge_methods_supported", "plain") || doc["claims_supported"] == nil {
				t.Fatalf("discovery %v", doc)
			}
			// The implicit response types (served where an application enables
			// the grant), no hybrid ones.
			if !has("response_types_supported", "token") || !has("response_types_supported", "id_token") ||
				!has("response_types_supported", "id_token token") || has("response_types_supported", "code id_token") ||
				!has("grant_types_supported", "implicit") || !has("response_modes_supported", "fragment") {
				t.Fatalf("discovery %v", doc)
			}
			for _, k := range []string{"authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "end_session_endpoint"} {
				s, _ := doc[k].(string)
				if !strings.HasPrefix(s, e.s.URL+"/") {
					t.Fatalf("%s = %v", k, doc[k])
				}
			}
			if rs := e.s.Do(t, "GET", "/.well-known/jwks.json", "", nil); rs.Status != 200 || !strings.Contains(string(rs.Body), `"kty"`) {
				t.Fatalf("jwks: %d", rs.Status)
			}
		})
		t.Run("rp-initiated-logout", func(t *testing.T) {
			br, tok, _ := signedIn()
			p := br.get("/oauth2/logout?" + url.Values{"id_token_hint": {tok.Extra("id_token").(string)},
				"post_logout_redirect_uri": {redirectURL}, "state": {"bye"}}.Encode())
			if u := e.redirected(p, 302); u.Query().Get("state") != "bye" || !strings.HasPrefix(p.location, redirectURL) {
				t.Fatalf("logout redirect %s", p.location)
			}
			errorRedirect(t, br.get(authURL(oauth2.GenerateVerifier(), "prompt", "none")), "login_required")
			// An unregistered post_logout_redirect_uri is never followed.
			p = br.get("/oauth2/logout?" + url.Values{"client_id": {c.id}, "post_logout_redirect_uri": {"https://attacker.example/"}}.Encode())
			errorPage(t, p)
		})
	})
}
