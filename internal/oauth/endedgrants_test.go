package oauth_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/latchid/latch/internal/testutil"
)

// TestEndedSessionsEndPendingGrants: deactivating a user, deleting the
// user's registration and changing the password end what was granted
// before, as they end access and refresh tokens: an authorization code
// issued before is refused at its exchange, an approved device grant at
// the device's poll, and the browser's SSO session no longer signs in to
// the application (the user signs in again, and that works), even after
// reactivation or a new registration.
func TestEndedSessionsEndPendingGrants(t *testing.T) {
	const newPassword = "another horse battery staple"
	cases := []struct {
		name     string
		end      func(e *env, userID, appID string)
		password string // to sign in with afterwards
	}{
		{"deactivate then reactivate", func(e *env, userID, _ string) {
			e.want("deactivate", e.api("DELETE", "/api/user/"+userID, nil), 200)
			e.want("reactivate", e.api("PUT", "/api/user/"+userID+"?reactivate=true", nil), 200)
		}, testPassword},
		{"delete registration then register again", func(e *env, userID, appID string) {
			e.want("delete registration", e.api("DELETE", "/api/user/registration/"+userID+"/"+appID, nil), 200)
			e.want("register again", e.api("POST", "/api/user/registration/"+userID, map[string]any{
				"registration": map[string]any{"applicationId": appID}, "skipRegistrationVerification": true}), 200)
		}, testPassword},
		{"password change", func(e *env, userID, _ string) {
			e.want("change password", e.api("PATCH", "/api/user/"+userID, map[string]any{"user": map[string]any{"password": newPassword}}), 200)
		}, newPassword},
	}
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c := e.app(appOpts{grants: []string{"authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"},
					deviceURL: e.s.URL + "/oauth2/device"})
				email := "ended" + string(rune('a'+i)) + "@example.com"
				uid := e.user(email, nil, c.id)
				r := e.rp(c)
				signIn := func(br *browser, p *page, password string) *page {
					t.Helper()
					if p.status != 200 || !strings.Contains(p.body, `name="loginId"`) {
						t.Fatalf("want the sign-in page, got %d %q %s", p.status, p.location, p.body)
					}
					return br.submit(p, "loginId", email, "password", password)
				}
				authURL := func(v string) string { return r.conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(v)) }

				// An authorization code, not exchanged yet, from a browser that keeps its SSO session.
				br := e.browser()
				v := oauth2.GenerateVerifier()
				code := e.redirected(signIn(br, br.get(authURL(v)), testPassword), 303)
				// A device grant, approved by signing in on the device page.
				st, _, da := e.postForm("/oauth2/device_authorize", url.Values{"scope": {"openid offline_access"}}, c.id, c.secret)
				if st != 200 {
					t.Fatalf("device_authorize: %d %v", st, da)
				}
				dev := e.browser()
				p := dev.submit(dev.get("/oauth2/device"), "user_code", da["user_code"].(string))
				if p = signIn(dev, p, testPassword); !strings.Contains(p.body, "Device connected") {
					t.Fatalf("device approval: %d %s", p.status, p.body)
				}

				e.clock.Advance(2 * time.Second)
				tc.end(e, uid, c.id)
				e.clock.Advance(2 * time.Second)

				st, _, body := e.postForm("/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code.Query().Get("code")},
					"redirect_uri": {redirectURL}, "code_verifier": {v}}, c.id, c.secret)
				if st != 400 || body["error"] != "invalid_grant" {
					t.Errorf("code issued before: %d %v", st, body)
				}
				st, _, body = e.postForm("/oauth2/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
					"device_code": {da["device_code"].(string)}}, c.id, c.secret)
				if st != 400 || body["error"] != "invalid_grant" {
					t.Errorf("device grant approved before: %d %v", st, body)
				}
				// The SSO session from before no longer signs in to the application;
				// signing in again does, and its code is exchanged.
				v = oauth2.GenerateVerifier()
				u := e.redirected(signIn(br, br.get(authURL(v)), tc.password), 303)
				tok, err := r.conf.Exchange(r.ctx, u.Query().Get("code"), oauth2.VerifierOption(v))
				if err != nil || tok.RefreshToken == "" {
					t.Fatalf("a sign-in after: %v", err)
				}
			})
		}
	})
}
