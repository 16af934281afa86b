package oauth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

// cookie is the browser's cookie of that name for Latch ("" when none).
func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.e.s.URL + "/")
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// appSignIn runs /app/login → sign-in page → /app/callback and returns
// where the callback sent the browser.
func (b *browser) appSignIn(loginURL, loginID string) *url.URL {
	b.e.t.Helper()
	start := b.get(loginURL)
	authz := b.e.redirected(start, 302)
	if authz.Path != "/oauth2/authorize" || authz.Query().Get("redirect_uri") != b.e.s.URL+"/app/callback" ||
		authz.Query().Get("code_challenge_method") != "S256" {
		b.e.t.Fatalf("/app/login sent the browser to %s", authz)
	}
	cb := b.signIn(authz.String(), loginID)
	if cb.Path != "/app/callback" {
		b.e.t.Fatalf("sign-in sent the browser to %s", cb)
	}
	return b.e.redirected(b.get(cb.String()), 302)
}

// TestHostedBackend: FusionAuth's /app/* endpoints as the React SDK 2.7
// calls them (client_id as a query parameter) and as documented (a path
// segment): sign in, the cookies, me, refresh, logout.
func TestHostedBackend(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		c := e.app(appOpts{name: "SPA"})
		uid := e.user("spa@example.com", nil, c.id)
		q := url.Values{"client_id": {c.id}, "redirect_uri": {redirectURL}, "state": {"app-state:/page"}, "scope": {"openid offline_access email"}}

		t.Run("sign-in-me-refresh-logout", func(t *testing.T) {
			br := e.browser()
			back := br.appSignIn("/app/login/?"+q.Encode(), "spa@example.com")
			if back.Scheme+"://"+back.Host+back.Path != redirectURL || back.Query().Get("state") != "app-state:/page" || back.Query().Get("code") != "" {
				t.Fatalf("callback sent the browser to %s", back)
			}
			at, rt, idt, exp := br.cookie("app.at"), br.cookie("app.rt"), br.cookie("app.idt"), br.cookie("app.at_exp")
			if at == "" || rt == "" || idt == "" || exp == "" {
				t.Fatalf("cookies: at %q rt %q idt %q exp %q", at, rt, idt, exp)
			}
			if claimsOf(t, idt)["sub"] != uid || claimsOf(t, at)["sub"] != uid {
				t.Fatalf("tokens of another user")
			}
			me := br.get("/app/me/")
			if me.status != 200 || !strings.Contains(me.body, `"sub":"`+uid+`"`) || !strings.Contains(me.body, "spa@example.com") {
				t.Fatalf("/app/me: %d %s", me.status, me.body)
			}
			e.clock.Advance(5e9)
			ref := br.post("/app/refresh/?client_id="+c.id, url.Values{})
			if ref.status != 200 || br.cookie("app.at") == "" || br.cookie("app.at") == at || br.cookie("app.at_exp") == exp {
				t.Fatalf("/app/refresh: %d %s", ref.status, ref.body)
			}
			if me := br.get("/app/me"); me.status != 200 {
				t.Fatalf("/app/me after refresh: %d", me.status)
			}
			out := br.get("/app/logout/?" + url.Values{"client_id": {c.id}, "post_logout_redirect_uri": {redirectURL}}.Encode())
			next := e.redirected(out, 302)
			if next.Path != "/oauth2/logout" || br.cookie("app.at") != "" || br.cookie("app.rt") != "" {
				t.Fatalf("/app/logout: %s, cookies at %q rt %q", next, br.cookie("app.at"), br.cookie("app.rt"))
			}
			if u := e.redirected(br.get(next.String()), 302); u.String() != redirectURL {
				t.Fatalf("/oauth2/logout sent the browser to %s", u)
			}
			if me := br.get("/app/me"); me.status != 401 {
				t.Fatalf("/app/me after logout: %d", me.status)
			}
			// The refresh token was revoked, not only forgotten.
			st, _, m := e.postForm("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, c.id, c.secret)
			if st != 400 || m["error"] != "invalid_grant" {
				t.Fatalf("refresh token after /app/logout: %d %v", st, m)
			}
		})

		t.Run("client-id-in-the-path", func(t *testing.T) {
			br := e.browser()
			back := br.appSignIn("/app/login/"+c.id+"?"+url.Values{"redirect_uri": {redirectURL}, "scope": {"offline_access"}}.Encode(), "spa@example.com")
			if back.String() != redirectURL || br.cookie("app.idt") != "" || br.cookie("app.rt") == "" {
				t.Fatalf("callback %s, idt %q", back, br.cookie("app.idt"))
			}
			if ref := br.post("/app/refresh/"+c.id, url.Values{}); ref.status != 200 {
				t.Fatalf("/app/refresh/{clientId}: %d %s", ref.status, ref.body)
			}
		})

		t.Run("errors", func(t *testing.T) {
			br := e.browser()
			for _, u := range []string{
				"/app/login/?client_id=" + c.id + "&redirect_uri=" + url.QueryEscape("https://evil.example/cb"),
				"/app/login/?client_id=00000000-0000-0000-0000-000000000000",
				"/app/login/",
				"/app/callback?code=x&state=y", // no sign-in was started in this browser
			} {
				if p := br.get(u); p.status != 400 || p.location != "" || !strings.Contains(p.body, "<html") {
					t.Errorf("%s: %d %q", u, p.status, p.location)
				}
			}
			// A started sign-in whose callback carries another state.
			start := e.redirected(br.get("/app/login/?"+q.Encode()), 302)
			cb := br.signIn(start.String(), "spa@example.com")
			cq := cb.Query()
			cq.Set("state", "forged")
			if p := br.get("/app/callback?" + cq.Encode()); p.status != 400 {
				t.Errorf("callback with another state: %d %s", p.status, p.location)
			}
			if p := br.get("/app/me/"); p.status != 401 {
				t.Errorf("/app/me without cookies: %d", p.status)
			}
			if p := br.post("/app/refresh/?client_id="+c.id, url.Values{}); p.status != 400 {
				t.Errorf("/app/refresh without app.rt: %d", p.status)
			}
			if p := br.post("/app/refresh/", url.Values{}); p.status != 400 {
				t.Errorf("/app/refresh without a client: %d", p.status)
			}
			if p := br.get("/app/nothing"); p.status != 404 {
				t.Errorf("/app/nothing: %d", p.status)
			}
		})
	})
}

// TestCORS: the system configuration's corsConfiguration, applied to the
// OAuth surface; round trip of the members Latch does not interpret.
func TestCORS(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		const app = "http://app.example:3000"
		preflight := func(path, origin, method, headers string) *http.Response {
			t.Helper()
			req, _ := http.NewRequest("OPTIONS", e.s.URL+path, nil)
			req.Header.Set("Origin", origin)
			req.Header.Set("Access-Control-Request-Method", method)
			if headers != "" {
				req.Header.Set("Access-Control-Request-Headers", headers)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res
		}
		get := func(path, origin string) *http.Response {
			t.Helper()
			req, _ := http.NewRequest("GET", e.s.URL+path, nil)
			req.Header.Set("Origin", origin)
			res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res
		}

		m := e.want("default", e.api("GET", "/api/system-configuration", nil), 200).obj()
		cors := m["systemConfiguration"].(map[string]any)["corsConfiguration"].(map[string]any)
		if cors["enabled"] != false {
			t.Fatalf("default CORS: %v", cors)
		}
		if res := preflight("/oauth2/token", app, "POST", ""); res.StatusCode != 403 || res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("preflight with CORS off: %d %v", res.StatusCode, res.Header)
		}

		bad := e.api("PUT", "/api/system-configuration", map[string]any{"systemConfiguration": map[string]any{
			"corsConfiguration": map[string]any{"enabled": true, "allowedOrigins": []string{"ftp://x"}, "allowedMethods": []string{"FETCH"}}}})
		if bad.Status != 400 || !strings.Contains(string(bad.Body), "systemConfiguration.corsConfiguration.allowedOrigins") ||
			!strings.Contains(string(bad.Body), "systemConfiguration.corsConfiguration.allowedMethods") {
			t.Fatalf("bad CORS: %d %s", bad.Status, bad.Body)
		}

		m = e.want("put", e.api("PUT", "/api/system-configuration", map[string]any{"systemConfiguration": map[string]any{
			"corsConfiguration": map[string]any{"enabled": true, "allowCredentials": true, "allowedOrigins": []string{app},
				"allowedMethods": []string{"GET", "POST"}, "allowedHeaders": []string{"Authorization"}, "preflightMaxAgeInSeconds": 600},
			"uiConfiguration": map[string]any{"headerColor": "303030"}}}), 200).obj()
		if m["systemConfiguration"].(map[string]any)["uiConfiguration"].(map[string]any)["headerColor"] != "303030" {
			t.Fatalf("put answer: %v", m)
		}

		res := preflight("/oauth2/token", app, "POST", "authorization, content-type")
		if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") != app || res.Header.Get("Access-Control-Allow-Credentials") != "true" ||
			res.Header.Get("Access-Control-Max-Age") != "600" {
			t.Fatalf("allowed preflight: %d %v", res.StatusCode, res.Header)
		}
		for _, c := range []struct {
			name            string
			res             *http.Response
			status          int
			allowOriginSent bool
		}{
			{"other origin", preflight("/oauth2/token", "http://evil.example", "POST", ""), 403, false},
			{"method not allowed", preflight("/oauth2/token", app, "DELETE", ""), 403, false},
			{"header not allowed", preflight("/oauth2/token", app, "POST", "x-secret"), 403, false},
			{"discovery", get("/.well-known/openid-configuration", app), 200, true},
			{"jwks", get("/.well-known/jwks.json", app), 200, true},
			{"me", get("/app/me/", app), 401, true},
			{"discovery, other origin", get("/.well-known/openid-configuration", "http://evil.example"), 200, false},
			{"authorize never", get("/oauth2/authorize?client_id=x", app), 400, false},
			{"api untouched", get("/api/status", app), 200, false},
		} {
			if c.res.StatusCode != c.status || (c.res.Header.Get("Access-Control-Allow-Origin") == app) != c.allowOriginSent {
				t.Errorf("%s: %d, Access-Control-Allow-Origin %q", c.name, c.res.StatusCode, c.res.Header.Get("Access-Control-Allow-Origin"))
			}
		}

		// A merge patch changes the origins; the rest stays.
		r := e.s.Do(t, "PATCH", "/api/system-configuration", e.key, map[string]any{"systemConfiguration": map[string]any{
			"corsConfiguration": map[string]any{"allowedOrigins": []string{"*"}, "allowCredentials": false}}})
		if r.Status != 200 {
			t.Fatalf("patch: %d %s", r.Status, r.Body)
		}
		if res := get("/.well-known/openid-configuration", "http://anyone.example"); res.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("after the patch: %v", res.Header)
		}
		m = e.want("get", e.api("GET", "/api/system-configuration", nil), 200).obj()
		sc := m["systemConfiguration"].(map[string]any)
		if sc["uiConfiguration"].(map[string]any)["headerColor"] != "303030" || sc["corsConfiguration"].(map[string]any)["preflightMaxAgeInSeconds"] != float64(600) {
			t.Errorf("after the patch: %v", sc)
		}
	})
}

// TestSignInFormAction: browsers check the redirects after a form post
// against the page's form-action, so the sign-in pages name the origin the
// sign-in ends at (Chromium blocked every sign-in to a client on another
// origin while they said only 'self').
func TestSignInFormAction(t *testing.T) {
	e := start(t, testutil.Backend{Name: "sqlite"})
	c := e.app(appOpts{redirects: []string{redirectURL, "http://127.0.0.1:8080/cb", "https://*.wild.example/cb"}, wildcards: true})
	e.user("csp@example.com", nil, c.id)
	auth := func(redirect string) string {
		return "/oauth2/authorize?" + url.Values{"client_id": {c.id}, "redirect_uri": {redirect}, "response_type": {"code"}, "scope": {"openid"}}.Encode()
	}
	for _, tc := range []struct {
		name, path string
		want       []string
	}{
		{"https redirect", auth(redirectURL), []string{"https://app.example"}},
		{"loopback redirect, any port", auth("http://127.0.0.1:9999/cb"), []string{"http://127.0.0.1:*"}},
		{"hosted backend: every registered origin", "/app/login/?client_id=" + c.id, []string{"https://app.example", "http://127.0.0.1:*"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			br := e.browser()
			p := br.get(tc.path)
			if p.status == 302 {
				p = br.get(p.location)
			}
			csp := p.header.Get("Content-Security-Policy")
			if p.status != 200 || !strings.Contains(p.body, `name="loginId"`) {
				t.Fatalf("no sign-in page: %d %s", p.status, p.body)
			}
			for _, w := range tc.want {
				if !strings.Contains(csp, "form-action 'self' ") || !strings.Contains(csp, " "+w) {
					t.Errorf("CSP %q does not name %s", csp, w)
				}
			}
			if strings.Contains(csp, "wild.example") {
				t.Errorf("CSP %q names a wildcard URL", csp)
			}
			// The two-factor and password-change steps carry the same list.
			wrong := br.submit(p, "loginId", "csp@example.com", "password", "wrong")
			if got := wrong.header.Get("Content-Security-Policy"); got != csp {
				t.Errorf("after a wrong password: CSP %q, want %q", got, csp)
			}
		})
	}
}
