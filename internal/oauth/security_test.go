package oauth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/latchid/latch/internal/testutil"
)

// TestRFC9700 reproduces the attacks of the OAuth 2.0 Security Best Current
// Practice (RFC 9700) against the provider.
func TestRFC9700(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		c := e.app(appOpts{redirects: []string{redirectURL, "http://127.0.0.1/cb", "com.example.app:/oauth"}})
		other := e.app(appOpts{})
		e.user("sec@example.com", nil, c.id, other.id)
		r := e.rp(c)
		authorize := func(redirect string, extra ...string) url.Values {
			v := url.Values{"client_id": {c.id}, "redirect_uri": {redirect}, "response_type": {"code"}, "scope": {"openid"},
				"state": {"st4te"}, "code_challenge": {"E9Melhoe2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
			for i := 0; i+1 < len(extra); i += 2 {
				if extra[i+1] == "" {
					v.Del(extra[i])
				} else {
					v.Set(extra[i], extra[i+1])
				}
			}
			return v
		}

		t.Run("redirect-uri-matrix", func(t *testing.T) {
			for _, tc := range []struct {
				uri string
				ok  bool
			}{
				{redirectURL, true},
				{"http://127.0.0.1:54321/cb", true}, // loopback: any port (RFC 8252)
				{"http://127.0.0.1/cb", true},
				{"com.example.app:/oauth", true},
				{"HTTPS://app.example/callback", false},
				{"https://APP.example/callback", false},
				{"https://app.example/callback/", false},
				{"https://app.example/callback/extra", false},
				{"https://app.example/callback?x=1", false},
				{"https://app.example/callback#frag", false},
				{"https://user@app.example/callback", false},
				{"https://app.example%2F@attacker.example/callback", false},
				{"https://app.example/%63allback", false},
				{"https://app.example.attacker.example/callback", false},
				{"http://app.example/callback", false},
				{"https://app.example:8443/callback", false},
				{"http://localhost/cb", false},
				{"http://127.0.0.1:54321/cb/../x", false},
				{"http://[::1]:5000/cb", false},
				{"", false},
			} {
				p := e.browser().post("/oauth2/authorize", authorize(tc.uri))
				if tc.ok {
					if p.status != 200 || !strings.Contains(p.body, `name="loginId"`) {
						t.Errorf("%q: want the sign-in page, got %d %q", tc.uri, p.status, p.location)
					}
					continue
				}
				if p.status != 400 || p.location != "" {
					t.Errorf("%q: want an error page and no redirect, got %d %q", tc.uri, p.status, p.location)
				}
			}
		})

		t.Run("redirect-uri-wildcards", func(t *testing.T) {
			w := e.app(appOpts{wildcards: true, redirects: []string{"https://*.app.example/cb", "https://app.example/cb/*"}})
			for _, tc := range []struct {
				uri string
				ok  bool
			}{
				{"https://tenant1.app.example/cb", true},
				{"https://app.example/cb/one", true},
				{"https://a.b.app.example/cb", false},
				{"https://evil.example/.app.example/cb", false},
				{"https://app.example/cb/one/two", false},
				{"https://x.app.example/cb/extra", false},
			} {
				v := authorize(tc.uri, "client_id", w.id)
				p := e.browser().post("/oauth2/authorize", v)
				if got := p.status == 200; got != tc.ok {
					t.Errorf("%q: status %d %q, want allowed=%v", tc.uri, p.status, p.location, tc.ok)
				}
			}
		})

		t.Run("unknown-client-is-an-error-page", func(t *testing.T) {
			for _, id := range []string{"", "not-a-uuid", "00000000-0000-0000-0000-000000000001"} {
				p := e.browser().post("/oauth2/authorize", authorize(redirectURL, "client_id", id))
				if p.status != 400 || p.location != "" {
					t.Errorf("client_id %q: %d %q", id, p.status, p.location)
				}
			}
		})

		t.Run("pkce-downgrade", func(t *testing.T) {
			// plain is refused; so is a challenge without a method (plain by default).
			for _, extra := range [][]string{{"code_challenge_method", "plain"}, {"code_challenge_method", ""}} {
				p := e.browser().post("/oauth2/authorize", authorize(redirectURL, extra...))
				if u := e.redirected(p, 303); u.Query().Get("error") != "invalid_request" {
					t.Errorf("%v: %s", extra, p.location)
				}
			}
			// Challenge sent, verifier missing: the code is refused (and burnt).
			v := oauth2.GenerateVerifier()
			u := e.browser().signIn(r.conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(v)), "sec@example.com")
			if _, err := r.conf.Exchange(r.ctx, u.Query().Get("code")); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
				t.Fatalf("exchange without the verifier: %v", err)
			}
			// Verifier without a challenge.
			u = e.browser().signIn(r.conf.AuthCodeURL("st4te"), "sec@example.com")
			if _, err := r.conf.Exchange(r.ctx, u.Query().Get("code"), oauth2.VerifierOption(v)); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
				t.Fatalf("exchange with a verifier and no challenge: %v", err)
			}
			// Wrong verifier.
			u = e.browser().signIn(r.conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(v)), "sec@example.com")
			if _, err := r.conf.Exchange(r.ctx, u.Query().Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
				t.Fatal("a wrong verifier was accepted")
			}
		})

		t.Run("public-client-must-use-pkce", func(t *testing.T) {
			pub := e.app(appOpts{public: true})
			p := e.browser().post("/oauth2/authorize", authorize(redirectURL, "client_id", pub.id, "code_challenge", "", "code_challenge_method", ""))
			if u := e.redirected(p, 303); u.Query().Get("error") != "invalid_request" || u.Query().Get("error_reason") != "missing_code_challenge" {
				t.Fatalf("public client without PKCE: %s", p.location)
			}
			// With PKCE it signs in and exchanges without a secret.
			e.user("pub@example.com", nil, pub.id)
			pr := e.rp(client{id: pub.id})
			pr.conf.Endpoint.AuthStyle = oauth2.AuthStyleInParams
			e.codeFlow(e.browser(), pr, "pub@example.com")
		})

		t.Run("code-replay-revokes", func(t *testing.T) {
			v := oauth2.GenerateVerifier()
			u := e.browser().signIn(r.conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("scope", "openid offline_access")), "sec@example.com")
			tok, _ := e.exchange(r, u, v)
			if _, err := r.conf.Exchange(r.ctx, u.Query().Get("code"), oauth2.VerifierOption(v)); err == nil {
				t.Fatal("replay accepted")
			}
			st, _, body := e.postForm("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, c.id, c.secret)
			if st != 400 || body["error"] != "invalid_grant" {
				t.Fatalf("refresh after replay: %d %v", st, body)
			}
		})

		t.Run("code-of-another-client", func(t *testing.T) {
			v := oauth2.GenerateVerifier()
			u := e.browser().signIn(r.conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(v)), "sec@example.com")
			st, _, body := e.postForm("/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {u.Query().Get("code")},
				"redirect_uri": {redirectURL}, "code_verifier": {v}}, other.id, other.secret)
			if st != 400 || body["error"] != "invalid_grant" {
				t.Fatalf("another client's code: %d %v", st, body)
			}
			// The code is burnt for its own client too.
			if _, err := r.conf.Exchange(r.ctx, u.Query().Get("code"), oauth2.VerifierOption(v)); err == nil {
				t.Fatal("the code still worked")
			}
		})

		t.Run("refresh-token-of-another-client", func(t *testing.T) {
			tok, _ := e.codeFlow(e.browser(), r, "sec@example.com")
			st, _, body := e.postForm("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, other.id, other.secret)
			if st != 400 || body["error"] != "invalid_grant" {
				t.Fatalf("another client's refresh token: %d %v", st, body)
			}
		})

		t.Run("redirect-uri-differs-at-token", func(t *testing.T) {
			v := oauth2.GenerateVerifier()
			u := e.browser().signIn(r.conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(v)), "sec@example.com")
			st, _, body := e.postForm("/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {u.Query().Get("code")},
				"redirect_uri": {"http://127.0.0.1/cb"}, "code_verifier": {v}}, c.id, c.secret)
			if st != 400 || body["error"] != "invalid_grant" {
				t.Fatalf("%d %v", st, body)
			}
		})

		t.Run("mix-up-iss", func(t *testing.T) {
			u := e.browser().signIn(r.conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), "sec@example.com")
			if u.Query().Get("iss") != e.s.URL {
				t.Fatalf("iss %q", u.Query().Get("iss"))
			}
			// An implicit request (refused: the application does not enable
			// it) is answered in the fragment (RFC 6749 4.2.2.1), with iss too.
			p := e.browser().post("/oauth2/authorize", authorize(redirectURL, "response_type", "token"))
			if f := fragment(t, e.redirected(p, 303)); f.Get("iss") != e.s.URL || f.Get("error") != "unsupported_response_type" {
				t.Fatalf("error redirect %s", p.location)
			}
		})

		t.Run("csrf-on-page-forms", func(t *testing.T) {
			br := e.browser()
			p := br.post("/oauth2/authorize", authorize(redirectURL))
			action, v := p.form(t)
			v.Set("loginId", "sec@example.com")
			v.Set("password", testPassword)
			for _, tc := range []struct {
				name  string
				token string
				br    *browser
			}{{"wrong token", flipFirst(v.Get("csrf_token")), br}, {"no token", "", br}, {"no cookie", v.Get("csrf_token"), e.browser()}} {
				f := url.Values{}
				for k, vs := range v {
					f[k] = vs
				}
				f.Set("csrf_token", tc.token)
				if got := tc.br.post(action, f); got.status != 403 || got.location != "" {
					t.Errorf("%s: %d %q", tc.name, got.status, got.location)
				}
			}
			for _, step := range []string{"/oauth2/two-factor", "/oauth2/change-password"} {
				if got := e.browser().post(step, authorize(redirectURL)); got.status != 403 {
					t.Errorf("%s without CSRF: %d", step, got.status)
				}
			}
			if got := br.post(action, v); got.status != 303 {
				t.Fatalf("with the token: %d", got.status)
			}
		})

		t.Run("page-headers", func(t *testing.T) {
			p := e.browser().post("/oauth2/authorize", authorize(redirectURL))
			csp := p.header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") ||
				p.header.Get("X-Content-Type-Options") != "nosniff" || p.header.Get("Cache-Control") != "no-store" {
				t.Fatalf("headers %v", p.header)
			}
			if !strings.Contains(p.body, `<label for="loginId">`) || !strings.Contains(p.body, `<label for="password">`) {
				t.Fatal("inputs without labels")
			}
			if strings.Contains(p.body, "<script>") {
				t.Fatal("inline script")
			}
			bad := e.browser().post("/oauth2/authorize", url.Values{})
			_ = bad
			// A failed sign-in is announced.
			br := e.browser()
			p = br.post("/oauth2/authorize", authorize(redirectURL))
			p = br.submit(p, "loginId", "sec@example.com", "password", "wrong")
			if p.status != 200 || !strings.Contains(p.body, `role="alert"`) || !strings.Contains(p.body, `aria-invalid="true"`) {
				t.Fatalf("failed sign-in page: %d %s", p.status, p.body)
			}
		})

		t.Run("no-user-enumeration", func(t *testing.T) {
			br := e.browser()
			start := br.post("/oauth2/authorize", authorize(redirectURL))
			known := br.submit(start, "loginId", "sec@example.com", "password", "wrong")
			unknown := br.submit(start, "loginId", "nobody@example.com", "password", "wrong")
			msg := func(p *page) string {
				i := strings.Index(p.body, `role="alert"`)
				if i < 0 {
					return ""
				}
				return p.body[i : i+120]
			}
			if known.status != unknown.status || msg(known) != msg(unknown) || msg(known) == "" {
				t.Fatalf("known and unknown login ids answer differently:\n%s\n%s", msg(known), msg(unknown))
			}
		})

		t.Run("no-store", func(t *testing.T) {
			tok, _ := e.codeFlow(e.browser(), r, "sec@example.com")
			_, h, _ := e.postForm("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, c.id, c.secret)
			_, h2, _ := e.postForm("/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {"nope"}}, c.id, c.secret)
			_, h3, _ := e.postForm("/oauth2/introspect", url.Values{"token": {tok.AccessToken}}, c.id, c.secret)
			for i, hh := range []http.Header{h, h2, h3} {
				if hh.Get("Cache-Control") != "no-store" {
					t.Errorf("response %d: Cache-Control %q", i, hh.Get("Cache-Control"))
				}
			}
		})

		t.Run("client-authentication", func(t *testing.T) {
			form := url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "redirect_uri": {redirectURL}}
			for _, tc := range []struct {
				name, id, secret string
				status           int
				err              string
			}{
				{"wrong secret", c.id, "wrong", 401, "invalid_client"},
				{"unknown client", "00000000-0000-0000-0000-000000000002", "x", 401, "invalid_client"},
				{"no authentication", "", "", 401, "invalid_client"},
			} {
				st, h, body := e.postForm("/oauth2/token", form, tc.id, tc.secret)
				if st != tc.status || body["error"] != tc.err {
					t.Errorf("%s: %d %v", tc.name, st, body)
				}
				if st == 401 && h.Get("WWW-Authenticate") == "" {
					t.Errorf("%s: no challenge", tc.name)
				}
			}
			// A confidential client without its secret (client_id only).
			f := url.Values{"client_id": {c.id}}
			for k, v := range form {
				f[k] = v
			}
			if st, _, body := e.postForm("/oauth2/token", f, "", ""); st != 401 || body["error_reason"] != "client_authentication_missing" {
				t.Errorf("client_id only: %d %v", st, body)
			}
		})
	})
}

// flipFirst changes a token's first character.
func flipFirst(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

// TestCodeExchangeRace: concurrent exchanges of one code are replays of
// each other, so at most one gets tokens, and whatever it got is revoked:
// the code's refresh token never survives (store-level atomicity:
// internal/store TestOAuthOneTimeValues).
func TestCodeExchangeRace(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		c := e.app(appOpts{})
		e.user("race@example.com", nil, c.id)
		r := e.rp(c)
		v := oauth2.GenerateVerifier()
		u := e.browser().signIn(r.conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(v)), "race@example.com")
		const n = 8
		results := make(chan *oauth2.Token, n)
		for range n {
			go func() {
				tok, _ := r.conf.Exchange(r.ctx, u.Query().Get("code"), oauth2.VerifierOption(v))
				results <- tok
			}()
		}
		// Every exchange has answered (so every replay has revoked what it
		// found) before the tokens are tried.
		var won []*oauth2.Token
		for range n {
			if tok := <-results; tok != nil {
				won = append(won, tok)
			}
		}
		if len(won) > 1 {
			t.Fatalf("%d of %d concurrent exchanges succeeded", len(won), n)
		}
		for _, tok := range won {
			if _, err := r.conf.TokenSource(r.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
				t.Error("the refresh token of a replayed code still works")
			}
		}
	})
}
