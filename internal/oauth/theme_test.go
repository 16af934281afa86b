package oauth_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/latchid/latch/internal/testutil"
)

// TestLoginTheme: a tenant's loginTheme (product name, logo, primary
// colour, custom CSS, overridden texts) styles its hosted pages, through
// a stylesheet of its own and a CSP that allows the logo's origin only;
// bad themes are 400s; a tenant without one keeps Latch's look.
func TestLoginTheme(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		c := e.app(appOpts{})
		e.user("theme@example.com", nil, c.id)
		r := e.rp(c)
		signInPage := func() *page {
			t.Helper()
			p := e.browser().get(r.conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
			if p.status != 200 || !strings.Contains(p.body, `name="loginId"`) {
				t.Fatalf("sign-in page: %d %s", p.status, p.body)
			}
			return p
		}

		plain := signInPage()
		if !strings.Contains(plain.body, "<title>Sign in · Latch</title>") || strings.Contains(plain.body, "/static/theme/") {
			t.Fatalf("unthemed page: %s", plain.body)
		}

		for _, bad := range []struct {
			name  string
			theme map[string]any
			field string
		}{
			{"colour not hex", map[string]any{"primaryColor": "red; background: url(x)"}, "tenant.loginTheme.primaryColor"},
			{"logo over http", map[string]any{"logoURL": "http://cdn.example/logo.png"}, "tenant.loginTheme.logoURL"},
			{"logo with a quote", map[string]any{"logoURL": "https://cdn.example/a'b.png"}, "tenant.loginTheme.logoURL"},
			{"unknown message", map[string]any{"messages": map[string]any{"nope": "x"}}, "tenant.loginTheme.messages"},
			{"name too long", map[string]any{"productName": strings.Repeat("x", 101)}, "tenant.loginTheme.productName"},
			{"css too long", map[string]any{"customCSS": strings.Repeat("a", 33<<10)}, "tenant.loginTheme.customCSS"},
		} {
			res := e.api("PATCH", "/api/tenant/"+e.tenant, map[string]any{"tenant": map[string]any{"loginTheme": bad.theme}})
			if res.Status != 400 || !strings.Contains(string(res.Body), `"`+bad.field) {
				t.Errorf("%s: %d %s", bad.name, res.Status, res.Body)
			}
		}

		e.want("set theme", e.api("PATCH", "/api/tenant/"+e.tenant, map[string]any{"tenant": map[string]any{"loginTheme": map[string]any{
			"productName": "Acme <ID>", "logoURL": "https://cdn.acme.example/logo.svg", "primaryColor": "#ff6600",
			"customCSS": ".card { border-radius: 0; }", "messages": map[string]any{"signInTitle": "Welcome back", "signInButton": "Continue", "footer": "Acme Corp"},
		}}}), 200)
		themed := signInPage()
		for _, want := range []string{
			"<title>Sign in · Acme &lt;ID&gt;</title>",
			`<img class="brand-logo" src="https://cdn.acme.example/logo.svg"`,
			"<h1>Welcome back</h1>",
			`<button class="button" type="submit">Continue</button>`,
			"<p>Acme Corp</p>",
		} {
			if !strings.Contains(themed.body, want) {
				t.Errorf("themed page lacks %q:\n%s", want, themed.body)
			}
		}
		if csp := themed.header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' data: https://cdn.acme.example;") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("CSP %q", csp)
		}
		m := regexp.MustCompile(`<link rel="stylesheet" href="(/static/theme/[^"]+)">`).FindStringSubmatch(themed.body)
		if m == nil {
			t.Fatalf("no theme stylesheet: %s", themed.body)
		}
		res, err := http.Get(e.s.URL + strings.ReplaceAll(m[1], "&amp;", "&"))
		if err != nil {
			t.Fatal(err)
		}
		css, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") ||
			!strings.Contains(string(css), "--accent: #ff6600") || !strings.Contains(string(css), ".card { border-radius: 0; }") {
			t.Fatalf("theme stylesheet %d %q: %s", res.StatusCode, res.Header.Get("Content-Type"), css)
		}
		if res, err := http.Get(e.s.URL + "/static/theme/00000000-0000-0000-0000-000000000000.css"); err != nil || res.StatusCode != 404 {
			t.Fatalf("unknown tenant's stylesheet: %v %v", res, err)
		}

		// The theme is echoed back whole.
		var got struct {
			Tenant struct {
				LoginTheme map[string]any `json:"loginTheme"`
			} `json:"tenant"`
		}
		e.want("tenant", e.api("GET", "/api/tenant/"+e.tenant, nil), 200).decode(&got)
		if got.Tenant.LoginTheme["primaryColor"] != "#ff6600" || got.Tenant.LoginTheme["productName"] != "Acme <ID>" {
			t.Fatalf("loginTheme echoed %v", got.Tenant.LoginTheme)
		}
	})
}

// TestThemedPages: the tenant's theme (its product name in the title and
// header, its stylesheet with the primary colour) styles the account pages
// the emails link to, the device pages and the error page wherever the
// tenant is known; a page that names no tenant keeps Latch's look.
func TestThemedPages(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		c := e.app(appOpts{grants: []string{"authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"}, deviceURL: e.s.URL + "/oauth2/device"})
		e.want("set theme", e.api("PATCH", "/api/tenant/"+e.tenant, map[string]any{"tenant": map[string]any{"loginTheme": map[string]any{
			"productName": "Acme ID", "primaryColor": "#ff6600"}, "emailConfiguration": map[string]any{"verifyEmail": true}}}), 200)
		email := "themed-" + b.Name + "@example.com"
		m := e.want("create user", e.api("POST", "/api/user", map[string]any{"user": map[string]any{"email": email, "password": testPassword}}), 200).obj()
		uid := m["user"].(map[string]any)["id"].(string)
		e.want("register", e.api("POST", "/api/user/registration/"+uid, map[string]any{"registration": map[string]any{"applicationId": c.id}}), 200)
		changeID := e.want("forgot", e.api("POST", "/api/user/forgot-password", map[string]any{"loginId": email, "sendForgotPasswordEmail": false}), 200).obj()["changePasswordId"].(string)
		verificationID := e.want("verification id", e.api("PUT", "/api/user/verify-email?sendVerifyEmail=false&email="+url.QueryEscape(email), nil), 200).obj()["verificationId"].(string)
		_, _, dev := e.postForm("/oauth2/device_authorize", url.Values{"client_id": {c.id}, "scope": {"openid"}}, c.id, c.secret)
		userCode, _ := dev["user_code"].(string)
		if userCode == "" {
			t.Fatalf("device_authorize: %v", dev)
		}

		themed := func(what string, p *page, status int) {
			t.Helper()
			if p.status != status || !strings.Contains(p.body, " · Acme ID</title>") || !strings.Contains(p.body, `<link rel="stylesheet" href="/static/theme/`+e.tenant+`.css?v=`) {
				t.Errorf("%s: %d, want %d in the tenant's theme:\n%s", what, p.status, status, p.body)
			}
		}
		br := e.browser()
		themed("forgot password by tenantId", br.get("/password/forgot?tenantId="+e.tenant), 200)
		themed("forgot password by client_id", br.get("/password/forgot?client_id="+c.id), 200)
		themed("change password", br.get("/password/change/"+changeID), 200)
		themed("verify email", br.get("/email/verify/"+verificationID), 200)
		themed("device page by client_id", br.get("/oauth2/device?client_id="+c.id), 200)
		themed("device page by user code", br.get("/oauth2/device?user_code="+userCode), 200)
		entry := br.get("/oauth2/device?tenantId=" + e.tenant)
		themed("device page by tenantId", entry, 200)
		themed("device page, a wrong code", br.submit(entry, "user_code", "BBBBBBBB"), 200)
		themed("error page", br.get("/oauth2/authorize?response_type=code&client_id="+c.id+"&redirect_uri=https%3A%2F%2Fevil.example%2F"), 400)
		themed("error page by tenantId", br.get("/oauth2/passwordless/nope?tenantId="+e.tenant), 404)

		if p := br.get("/password/forgot"); p.status != 200 || !strings.Contains(p.body, " · Latch</title>") || strings.Contains(p.body, "/static/theme/") {
			t.Errorf("a page without a tenant: %d %s", p.status, p.body)
		}
	})
}
