package oauth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/latchid/latch/internal/testutil"
)

// Helpers of the OAuth provider's tests: a set-up server with a fake clock,
// applications registered as OAuth clients, users, and a cookie-keeping
// "browser" that fills in the hosted sign-in forms.

const (
	testPassword = "correct horse battery staple"
	redirectURL  = "https://app.example/callback"
)

type env struct {
	t      *testing.T
	s      *testutil.Server
	key    string
	clock  *testutil.FakeClock
	tenant string
}

func start(t *testing.T, b testutil.Backend, opts ...testutil.Option) *env {
	t.Helper()
	clock := testutil.NewFakeClock()
	s := testutil.StartServer(t, append([]testutil.Option{testutil.WithBackend(b), testutil.WithClock(clock), testutil.WithEnv("LATCH_MASTER_KEY", testutil.TestMasterKey)}, opts...)...)
	e := &env{t: t, s: s, key: s.Setup(t), clock: clock}
	var ts struct {
		Tenants []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"tenants"`
	}
	e.want("tenants", e.api("GET", "/api/tenant", nil), 200).decode(&ts)
	for _, tn := range ts.Tenants {
		if tn.Name == "Default" {
			e.tenant = tn.ID
		}
	}
	if e.tenant == "" {
		t.Fatalf("no Default tenant in %+v", ts)
	}
	return e
}

type resp struct {
	t *testing.T
	*testutil.Response
}

func (r resp) decode(v any) {
	r.t.Helper()
	r.JSON(r.t, v)
}

func (r resp) obj() map[string]any {
	r.t.Helper()
	var m map[string]any
	r.JSON(r.t, &m)
	return m
}

func (e *env) api(method, path string, body any) resp {
	e.t.Helper()
	return resp{e.t, e.s.Do(e.t, method, path, e.key, body)}
}

func (e *env) want(what string, r resp, status int) resp {
	e.t.Helper()
	if r.Status != status {
		e.t.Fatalf("%s: status %d, want %d: %s", what, r.Status, status, r.Body)
	}
	return r
}

// appOpts configure a test application's OAuth client.
type appOpts struct {
	public       bool     // clientAuthenticationPolicy NotRequired (PKCE then required)
	grants       []string // enabledGrants (default authorization_code, refresh_token)
	redirects    []string // authorizedRedirectURLs (default redirectURL)
	wildcards    bool
	pkce         string // proofKeyForCodeExchangePolicy
	noRefresh    bool   // generateRefreshTokens false
	usage        string // refreshTokenUsagePolicy (application JWT configuration)
	logoutURL    string
	requireReg   bool
	name         string
	clientSecret string
	deviceURL    string
	relationship string // oauthConfiguration.relationship
	consentMode  string // oauthConfiguration.consentMode
}

type client struct {
	id, secret string
}

func (e *env) app(o appOpts) client {
	e.t.Helper()
	if o.grants == nil {
		o.grants = []string{"authorization_code", "refresh_token"}
	}
	if o.redirects == nil {
		o.redirects = []string{redirectURL}
	}
	policy := "Required"
	if o.public {
		policy = "NotRequired"
	}
	if o.pkce == "" {
		o.pkce = "NotRequired"
	}
	if o.name == "" {
		o.name = "App " + randomSuffix()
	}
	urlPolicy := "ExactMatch"
	if o.wildcards {
		urlPolicy = "AllowWildcards"
	}
	oc := map[string]any{"authorizedRedirectURLs": o.redirects, "enabledGrants": o.grants,
		"clientAuthenticationPolicy": policy, "proofKeyForCodeExchangePolicy": o.pkce,
		"generateRefreshTokens": !o.noRefresh, "authorizedURLValidationPolicy": urlPolicy, "logoutURL": o.logoutURL,
		"requireRegistration": o.requireReg}
	if o.deviceURL != "" {
		oc["deviceVerificationURL"] = o.deviceURL
	}
	if o.relationship != "" {
		oc["relationship"] = o.relationship
	}
	if o.consentMode != "" {
		oc["consentMode"] = o.consentMode
	}
	if o.clientSecret != "" {
		oc["clientSecret"] = o.clientSecret
	}
	a := map[string]any{"name": o.name, "tenantId": e.tenant, "oauthConfiguration": oc,
		"roles":              []any{map[string]any{"name": "admin"}, map[string]any{"name": "user"}},
		"loginConfiguration": map[string]any{"allowTokenRefresh": true, "generateRefreshTokens": true}}
	if o.usage != "" {
		a["jwtConfiguration"] = map[string]any{"enabled": true, "timeToLiveInSeconds": 600, "refreshTokenTimeToLiveInMinutes": 60,
			"refreshTokenExpirationPolicy": "Fixed", "refreshTokenUsagePolicy": o.usage}
	}
	m := e.want("create application", e.api("POST", "/api/application", map[string]any{"application": a}), 200).obj()
	app := m["application"].(map[string]any)
	oauthCfg := app["oauthConfiguration"].(map[string]any)
	secret, _ := oauthCfg["clientSecret"].(string)
	return client{id: app["id"].(string), secret: secret}
}

var suffix int

func randomSuffix() string {
	suffix++
	return strings.Repeat("x", 0) + string(rune('A'+suffix%26)) + base64.RawURLEncoding.EncodeToString([]byte{byte(suffix), byte(suffix >> 8)})
}

// user creates a verified user registered for the apps.
func (e *env) user(email string, extra map[string]any, apps ...string) string {
	e.t.Helper()
	u := map[string]any{"email": email, "password": testPassword, "tenantId": e.tenant, "firstName": "Ada", "lastName": "Lovelace",
		"username": strings.Split(email, "@")[0]}
	for k, v := range extra {
		u[k] = v
	}
	m := e.want("create user", e.api("POST", "/api/user", map[string]any{"user": u, "skipVerification": true}), 200).obj()
	id := m["user"].(map[string]any)["id"].(string)
	for _, a := range apps {
		e.want("register", e.api("POST", "/api/user/registration/"+id, map[string]any{
			"registration": map[string]any{"applicationId": a, "roles": []string{"user"}}, "skipRegistrationVerification": true}), 200)
	}
	return id
}

// browser is a cookie-keeping HTTP client that does not follow redirects.
type browser struct {
	e *env
	c *http.Client
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status   int
	header   http.Header
	body     string
	location string
}

func (b *browser) do(req *http.Request) *page {
	b.e.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return &page{status: res.StatusCode, header: res.Header, body: string(body), location: res.Header.Get("Location")}
}

func (b *browser) get(u string) *page {
	b.e.t.Helper()
	if strings.HasPrefix(u, "/") {
		u = b.e.s.URL + u
	}
	req, _ := http.NewRequest("GET", u, nil)
	return b.do(req)
}

func (b *browser) post(u string, form url.Values) *page {
	b.e.t.Helper()
	if strings.HasPrefix(u, "/") {
		u = b.e.s.URL + u
	}
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var (
	formPattern   = regexp.MustCompile(`(?s)<form[^>]*action="([^"]*)"[^>]*>(.*?)</form>`)
	hiddenPattern = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// form reads a page's (first) form: its action and hidden fields.
func (p *page) form(t *testing.T) (string, url.Values) {
	t.Helper()
	m := formPattern.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no form on the page (status %d): %s", p.status, p.body)
	}
	v := url.Values{}
	for _, h := range hiddenPattern.FindAllStringSubmatch(m[2], -1) {
		v.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	return html.UnescapeString(m[1]), v
}

// submit fills a page's form with fields and posts it.
func (b *browser) submit(p *page, fields ...string) *page {
	b.e.t.Helper()
	action, v := p.form(b.e.t)
	for i := 0; i+1 < len(fields); i += 2 {
		v.Set(fields[i], fields[i+1])
	}
	return b.post(action, v)
}

// signIn follows an authorization URL through the sign-in page and returns
// the redirect back to the client.
func (b *browser) signIn(authURL, loginID string) *url.URL {
	b.e.t.Helper()
	p := b.get(authURL)
	if p.status != 200 || !strings.Contains(p.body, `name="loginId"`) {
		b.e.t.Fatalf("authorize: want the sign-in page, got %d %s %s", p.status, p.location, p.body)
	}
	done := b.submit(p, "loginId", loginID, "password", testPassword)
	return b.e.redirected(done, 303)
}

// redirected checks a redirect's status and parses its target.
func (e *env) redirected(p *page, status int) *url.URL {
	e.t.Helper()
	if p.status != status || p.location == "" {
		e.t.Fatalf("want a %d redirect, got %d %q: %s", status, p.status, p.location, p.body)
	}
	u, err := url.Parse(p.location)
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// rp is a relying party: x/oauth2 config and a go-oidc provider from discovery.
type rp struct {
	conf     *oauth2.Config
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	ctx      context.Context
}

func (e *env) rp(c client, scopes ...string) *rp {
	e.t.Helper()
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, e.s.URL)
	if err != nil {
		e.t.Fatalf("discovery: %v", err)
	}
	if scopes == nil {
		scopes = []string{oidc.ScopeOpenID, "offline_access", "email", "profile"}
	}
	conf := &oauth2.Config{ClientID: c.id, ClientSecret: c.secret, Endpoint: provider.Endpoint(), RedirectURL: redirectURL, Scopes: scopes}
	return &rp{conf: conf, provider: provider, ctx: ctx,
		verifier: provider.Verifier(&oidc.Config{ClientID: c.id, Now: e.clock.Now})}
}

// codeFlow runs the whole authorization code flow with PKCE for a user.
func (e *env) codeFlow(b *browser, r *rp, email string) (*oauth2.Token, *oidc.IDToken) {
	e.t.Helper()
	verifier := oauth2.GenerateVerifier()
	u := b.signIn(r.conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier), oidc.Nonce("n0nce")), email)
	return e.exchange(r, u, verifier)
}

func (e *env) exchange(r *rp, u *url.URL, verifier string) (*oauth2.Token, *oidc.IDToken) {
	e.t.Helper()
	q := u.Query()
	if q.Get("state") != "st4te" || q.Get("iss") != e.s.URL || q.Get("code") == "" {
		e.t.Fatalf("callback %s: want code, state and iss", u)
	}
	tok, err := r.conf.Exchange(r.ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		e.t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return tok, nil
	}
	idt, err := r.verifier.Verify(r.ctx, raw)
	if err != nil {
		e.t.Fatalf("verify ID token: %v", err)
	}
	return tok, idt
}

// postForm posts a form to the server with optional basic auth.
func (e *env) postForm(path string, form url.Values, basicID, basicSecret string) (int, http.Header, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.s.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicID != "" {
		req.SetBasicAuth(url.QueryEscape(basicID), url.QueryEscape(basicSecret))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var m map[string]any
	if len(body) > 0 {
		if err := json.Unmarshal(body, &m); err != nil {
			e.t.Fatalf("POST %s: status %d, body not JSON: %s", path, res.StatusCode, body)
		}
	}
	return res.StatusCode, res.Header, m
}

func claimsOf(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

// authTime reads an ID token's auth_time (epoch seconds).
func authTime(t *testing.T, idt *oidc.IDToken) int64 {
	t.Helper()
	var c struct {
		AuthTime int64 `json:"auth_time"`
	}
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	return c.AuthTime
}

// postFormNoFatal is postForm for other goroutines: errors are reported, not fatal.
func (e *env) postFormNoFatal(path string, form url.Values, basicID, basicSecret string) (int, http.Header, error) {
	req, _ := http.NewRequest("POST", e.s.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicID != "" {
		req.SetBasicAuth(url.QueryEscape(basicID), url.QueryEscape(basicSecret))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Error(err)
		return 0, nil, err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode, res.Header, nil
}
