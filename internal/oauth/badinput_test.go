package oauth_test

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/oauth"
	"github.com/latchid/latch/internal/testutil"
)

// TestBadInputNeverFails sends malformed requests to every endpoint: each
// gets an RFC error or the error page, never a 500.
func TestBadInputNeverFails(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		c := e.app(appOpts{})
		long := strings.Repeat("a", 70000)
		for _, tc := range []struct {
			method, path, ctype, body, auth string
			want                            int // 0: any 4xx
		}{
			{"GET", "/.well-known/openid-configuration/not-a-uuid", "", "", "", 404},
			{"GET", "/.well-known/openid-configuration/00000000-0000-0000-0000-000000000009", "", "", "", 404},
			{"GET", "/oauth2/authorize", "", "", "", 400},
			{"GET", "/oauth2/authorize?client_id=%ZZ", "", "", "", 400},
			{"GET", "/oauth2/authorize?client_id=" + c.id, "", "", "", 400},
			{"GET", "/oauth2/authorize?client_id=" + c.id + "&client_id=" + c.id + "&redirect_uri=" + redirectURL, "", "", "", 400},
			{"GET", "/oauth2/authorize?client_id=" + c.id + "&redirect_uri=" + redirectURL + "&max_age=-1&response_type=code", "", "", "", 302},
			{"GET", "/oauth2/authorize?client_id=" + c.id + "&redirect_uri=" + redirectURL + "&prompt=none%20login&response_type=code", "", "", "", 302},
			{"GET", "/oauth2/authorize?client_id=" + c.id + "&redirect_uri=" + redirectURL + "&response_mode=bogus&response_type=code", "", "", "", 302},
			{"GET", "/oauth2/authorize?client_id=" + c.id + "&redirect_uri=" + redirectURL + "&state=" + long[:5000], "", "", "", 302},
			{"POST", "/oauth2/authorize", "application/x-www-form-urlencoded", "%%%", "", 400},
			{"POST", "/oauth2/authorize", "application/x-www-form-urlencoded", "latch_step=login&client_id=" + c.id + "&redirect_uri=" + redirectURL + "&response_type=code&code_challenge=E9Melhoe2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256", "", 403},
			{"POST", "/oauth2/two-factor", "application/x-www-form-urlencoded", "", "", 403},
			{"GET", "/oauth2/passwordless", "", "", "", 400},
			{"GET", "/oauth2/passwordless?client_id=" + c.id + "&redirect_uri=" + redirectURL + "&response_type=code", "", "", "", 400},
			{"POST", "/oauth2/passwordless", "application/x-www-form-urlencoded", "%%%", "", 400},
			{"POST", "/oauth2/passwordless", "application/x-www-form-urlencoded", "loginId=" + long[:5000], "", 400},
			{"GET", "/oauth2/passwordless/" + long[:5000], "", "", "", 404},
			{"POST", "/oauth2/passwordless/nope", "application/x-www-form-urlencoded", "%%%", "", 404},
			{"POST", "/oauth2/passwordless/nope", "text/plain", long[:9000], "", 404},
			{"POST", "/oauth2/change-password", "text/plain", "x", "", 403},
			{"PUT", "/oauth2/authorize", "", "", "", 405},
			{"POST", "/oauth2/token", "", "", "", 400},
			{"POST", "/oauth2/token", "application/json", `{"grant_type":"password"}`, "", 400},
			{"POST", "/oauth2/token", "application/x-www-form-urlencoded", "grant_type=implicit", "", 400},
			{"POST", "/oauth2/token", "application/x-www-form-urlencoded", "grant_type=authorization_code&grant_type=password", "", 400},
			{"POST", "/oauth2/token", "application/x-www-form-urlencoded", "grant_type=authorization_code", "", 401},
			{"POST", "/oauth2/token", "application/x-www-form-urlencoded", "grant_type=authorization_code&client_id=not-a-uuid", "", 401},
			{"POST", "/oauth2/token", "application/x-www-form-urlencoded", "grant_type=authorization_code", "Basic !!!", 401},
			{"POST", "/oauth2/token", "application/x-www-form-urlencoded", "grant_type=authorization_code", "Bearer x", 401},
			{"POST", "/oauth2/token", "application/x-www-form-urlencoded", "grant_type=authorization_code&code=" + long[:3000], basic(c), 400},
			{"POST", "/oauth2/token", "application/x-www-form-urlencoded", "grant_type=refresh_token&refresh_token=" + long[:3000], basic(c), 400},
			{"POST", "/oauth2/token", "application/x-www-form-urlencoded", "grant_type=refresh_token", basic(c), 400},
			{"POST", "/oauth2/token", "application/x-www-form-urlencoded", "grant_type=password", basic(c), 400},
			{"POST", "/oauth2/token", "application/x-www-form-urlencoded", long, basic(c), 400},
			{"GET", "/oauth2/token", "", "", "", 405},
			{"GET", "/oauth2/userinfo", "", "", "", 401},
			{"GET", "/oauth2/userinfo", "", "", "Bearer", 401},
			{"GET", "/oauth2/userinfo", "", "", "Bearer not.a.jwt", 401},
			{"GET", "/oauth2/userinfo", "", "", "Basic eDp5", 401},
			{"POST", "/oauth2/userinfo", "application/x-www-form-urlencoded", "access_token=" + long[:9000], "", 401},
			{"POST", "/oauth2/introspect", "application/x-www-form-urlencoded", "", basic(c), 400},
			{"POST", "/oauth2/introspect", "application/x-www-form-urlencoded", "token=x&token_type_hint=weird", basic(c), 400},
			// No client named: FusionAuth's introspectClientCredentialsAccessToken.
			{"POST", "/oauth2/introspect", "application/x-www-form-urlencoded", "token=x", "", 200},
			{"POST", "/oauth2/introspect", "application/x-www-form-urlencoded", "token=x&tenantId=nope", "", 400},
			{"POST", "/oauth2/introspect", "application/x-www-form-urlencoded", "", "", 400},
			{"POST", "/oauth2/introspect", "application/x-www-form-urlencoded", "token=x&client_id=" + c.id, "", 401},
			{"POST", "/oauth2/token", "application/x-www-form-urlencoded", "grant_type=client_credentials", "", 401},
			{"POST", "/oauth2/token", "application/x-www-form-urlencoded", "grant_type=client_credentials&client_id=x&client_secret=y&tenantId=bad", "", 400},
			{"POST", "/oauth2/token", "application/x-www-form-urlencoded", "grant_type=client_credentials&scope=" + long[:9000], "Basic eDp5", 401},
			{"POST", "/oauth2/token", "application/x-www-form-urlencoded", "grant_type=client_credentials", "Bearer x", 401},
			{"POST", "/oauth2/revoke", "application/x-www-form-urlencoded", "", basic(c), 400},
			{"POST", "/oauth2/revoke", "application/x-www-form-urlencoded", "token=" + long[:5000], basic(c), 200},
			{"GET", "/oauth2/logout?id_token_hint=garbage", "", "", "", 400},
			{"GET", "/oauth2/logout?client_id=not-a-uuid", "", "", "", 400},
			{"GET", "/oauth2/logout?post_logout_redirect_uri=https://attacker.example/", "", "", "", 400},
			{"GET", "/oauth2/logout?client_id=" + c.id + "&client_id=" + c.id, "", "", "", 400},
			{"GET", "/oauth2/logout", "", "", "", 200},
			{"GET", "/oauth2/nothing-here", "", "", "", 404},
			{"POST", "/oauth2/device/user-code", "application/json", "{}", basic(c), 400},
			{"POST", "/oauth2/device/user-code", "application/x-www-form-urlencoded", "user_code=" + long[:3000], basic(c), 400},
			{"GET", "/oauth2/device/user-code?user_code=%ZZ", "", "", "", 401},
			{"POST", "/oauth2/device/approve", "application/x-www-form-urlencoded", "user_code=ABCD&token=" + long[:9000], basic(c), 400},
			{"POST", "/oauth2/device/approve", "application/x-www-form-urlencoded", "", "", 401},
			{"GET", "/app/login/?client_id=%ZZ", "", "", "", 400},
			{"GET", "/app/login/not-a-uuid?redirect_uri=" + long[:5000], "", "", "", 400},
			{"GET", "/app/callback?state=" + long[:5000], "", "", "", 400},
			{"POST", "/app/refresh/not-a-uuid", "text/plain", "", "", 400},
			{"GET", "/app/me/", "", "", "Bearer x", 401},
			{"GET", "/app/logout/?client_id=" + long[:3000], "", "", "", 400},
			{"DELETE", "/app/me", "", "", "", 405},
			{"GET", "/oauth2/register", "", "", "", 400},
			{"GET", "/oauth2/register?client_id=%ZZ", "", "", "", 400},
			{"POST", "/oauth2/register", "application/x-www-form-urlencoded", "%%%", "", 400},
			{"POST", "/oauth2/register", "application/x-www-form-urlencoded", "email=a@b.c&password=x", "", 403},
			{"POST", "/oauth2/consent", "application/x-www-form-urlencoded", "decision=allow", "", 403},
			{"OPTIONS", "/oauth2/token", "", "", "", 405},
		} {
			req, _ := http.NewRequest(tc.method, e.s.URL+tc.path, strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode >= 500 || (tc.want != 0 && res.StatusCode != tc.want) {
				t.Errorf("%s %.120s: status %d, want %d", tc.method, tc.path, res.StatusCode, tc.want)
			}
		}
	})
}

func basic(c client) string {
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(c.id, c.secret)
	return req.Header.Get("Authorization")
}

// TestRoutesHaveAccessRules: every provider route names its access rule, and
// docs/compatibility.md lists it.
func TestRoutesHaveAccessRules(t *testing.T) {
	doc, err := os.ReadFile("../../docs/compatibility.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range oauth.New(oauth.Deps{}).Routes() {
		if rt.Access == 0 || rt.Handler == nil {
			t.Errorf("%s has no access rule or handler", rt.Pattern)
		}
		if !strings.Contains(string(doc), "`"+rt.Pattern+"`") {
			t.Errorf("docs/compatibility.md does not list `%s`", rt.Pattern)
		}
	}
}

// TestDeviceBadInput: malformed device requests get RFC errors or the page.
func TestDeviceBadInput(t *testing.T) {
	e := start(t, testutil.Backend{Name: "sqlite"})
	c := e.app(appOpts{})
	for _, tc := range []struct {
		method, path, ctype, body string
		want                      int
	}{
		{"POST", "/oauth2/device_authorize", "", "", 400},
		{"POST", "/oauth2/device_authorize", "application/x-www-form-urlencoded", "client_id=nope", 401},
		{"POST", "/oauth2/device_authorize", "application/x-www-form-urlencoded", "client_id=" + c.id, 401},
		{"GET", "/oauth2/device/validate", "", "", 400},
		{"GET", "/oauth2/device/validate?user_code=" + strings.Repeat("Z", 5000), "", "", 400},
		{"GET", "/oauth2/device?user_code=" + strings.Repeat("Z", 5000), "", "", 200},
		{"POST", "/oauth2/device", "application/x-www-form-urlencoded", "user_code=BBBBBBBB", 403},
		{"POST", "/oauth2/token", "application/x-www-form-urlencoded", "grant_type=urn:ietf:params:oauth:grant-type:device_code&client_id=" + c.id, 401},
	} {
		req, _ := http.NewRequest(tc.method, e.s.URL+tc.path, strings.NewReader(tc.body))
		if tc.ctype != "" {
			req.Header.Set("Content-Type", tc.ctype)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.want {
			t.Errorf("%s %.80s: %d, want %d", tc.method, tc.path, res.StatusCode, tc.want)
		}
	}
}
