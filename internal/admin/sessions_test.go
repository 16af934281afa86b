package admin_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

// authorizeURL is the hosted sign-in of an application whose redirect URL is
// on the test server, so the browser lands there with the code or error.
func (e *env) authorizeURL(clientID, redirect string, params ...string) string {
	q := url.Values{"client_id": {clientID}, "redirect_uri": {redirect}, "response_type": {"code"}, "scope": {"openid"}, "state": {"st4te"}}
	for i := 0; i+1 < len(params); i += 2 {
		q.Set(params[i], params[i+1])
	}
	return "/oauth2/authorize?" + q.Encode()
}

// TestEndSessionsEndsSSO: "End sessions" ends the user's SSO session of the
// hosted pages too (the next prompt=none is login_required), through the
// same rule as DELETE /api/jwt/refresh?userId=, while the admin's own
// session and SSO session go on.
func TestEndSessionsEndsSSO(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		redirect := e.s.URL + "/shop/callback"
		var app struct{ Application struct{ ID string } }
		e.api("POST", "/api/application", map[string]any{"application": map[string]any{"name": "Shop",
			"oauthConfiguration": map[string]any{"authorizedRedirectURLs": []string{redirect}, "enabledGrants": []string{"authorization_code"}}}}, 200).JSON(t, &app)
		var sam userOut
		e.api("POST", "/api/user/registration", map[string]any{"user": map[string]any{"email": "sam@example.com", "password": testPassword},
			"registration": map[string]any{"applicationId": app.Application.ID}}, 200).JSON(t, &sam)

		ub := e.browser()
		signIn := ub.get(e.authorizeURL(app.Application.ID, redirect))
		if p := ub.submit(signIn, "/oauth2/authorize", "loginId", "sam@example.com", "password", testPassword); p.url.Query().Get("code") == "" {
			t.Fatalf("sign-in: %d at %s", p.status, p.url)
		}
		silent := e.authorizeURL(app.Application.ID, redirect, "prompt", "none")
		if p := ub.get(silent); p.url.Query().Get("code") == "" {
			t.Fatalf("prompt=none with an SSO session: %d at %s", p.status, p.url)
		}

		e.admin("support@example.com", "user_manager")
		ab := e.browser()
		csrf := ab.signIn("support@example.com", testPassword).csrf(t)
		if p := ab.get("/admin/users/" + sam.User.ID); !strings.Contains(p.body, "<li>Hosted sign-in pages (SSO), started") {
			t.Fatalf("the SSO session is not listed: %s", p.body)
		}
		if p := ab.post("/admin/users/"+sam.User.ID+"/end-sessions", url.Values{"csrf_token": {csrf}}); p.status != 200 || !strings.Contains(p.body, "sessions were ended") {
			t.Fatalf("end sessions: %d %s", p.status, p.body)
		}
		if p := ab.get("/admin/users/" + sam.User.ID); !strings.Contains(p.body, "No sessions") {
			t.Fatalf("sessions after ending them: %s", p.body)
		}
		if p := ub.get(silent); p.url.Query().Get("error") != "login_required" {
			t.Fatalf("prompt=none after the sessions ended: %d at %s", p.status, p.url)
		}
		if !e.auditedBy("support@example.com", "SSO session") {
			t.Error("ending the SSO session is not audited with the admin as actor")
		}

		// The admin's own session and SSO session are untouched.
		if p := ab.get("/admin/users/" + sam.User.ID); p.status != 200 || p.url.Path != "/admin/users/"+sam.User.ID {
			t.Fatalf("the admin's session ended: %d at %s", p.status, p.url)
		}
		if p := ab.get("/admin/login"); p.url.Path != "/admin" || strings.Contains(p.body, `name="loginId"`) {
			t.Fatalf("the admin's SSO session ended: %d at %s", p.status, p.url)
		}
	})
}
