package oauth_test

import (
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/latchid/latch/internal/testutil"
)

// TestLogoutBehavior: under AllApplications (FusionAuth's default) the
// sign-out page loads the tenant's other applications' logout URLs in
// frames before it continues; under RedirectOnly the browser goes straight
// to the application's logout URL. Both end the SSO session.
func TestLogoutBehavior(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		all := e.app(appOpts{name: "All", logoutURL: "https://a.example/bye"})
		other := e.app(appOpts{name: "Other", logoutURL: "https://b.example/out"})
		only := e.app(appOpts{name: "Only", logoutURL: "https://c.example/bye"})
		e.want("redirect only", e.api("PATCH", "/api/application/"+only.id, map[string]any{"application": map[string]any{
			"oauthConfiguration": map[string]any{"logoutBehavior": "RedirectOnly"}}}), 200)
		e.user("front@example.com", nil, all.id, other.id, only.id)
		signedOut := func(br *browser, c client) bool {
			p := br.get(e.rp(c).conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("prompt", "none")))
			return e.redirected(p, 302).Query().Get("error") == "login_required"
		}

		br := e.browser()
		e.codeFlow(br, e.rp(all), "front@example.com")
		p := br.get("/oauth2/logout?client_id=" + all.id + "&state=s1")
		csp := p.header.Get("Content-Security-Policy")
		if p.status != 200 || !strings.Contains(p.body, `<iframe class="logout-frame" src="https://b.example/out"`) ||
			!strings.Contains(p.body, `src="https://c.example/bye"`) || strings.Contains(p.body, `src="https://a.example/bye"`) ||
			!strings.Contains(p.body, `id="continue" class="button" href="https://a.example/bye?state=s1"`) {
			t.Fatalf("front-channel logout page: %d %s", p.status, p.body)
		}
		_, frameSrc, _ := strings.Cut(csp, "frame-src ")
		if !strings.Contains(frameSrc, "https://b.example") || !strings.Contains(frameSrc, "https://c.example") || strings.Contains(frameSrc, "a.example") ||
			!strings.Contains(csp, "frame-ancestors 'none'") {
			t.Fatalf("CSP %q", csp)
		}
		if !signedOut(br, other) {
			t.Fatal("the SSO session survived the logout")
		}

		br = e.browser()
		e.codeFlow(br, e.rp(only), "front@example.com")
		if u := e.redirected(br.get("/oauth2/logout?client_id="+only.id), 302); u.String() != "https://c.example/bye" {
			t.Fatalf("RedirectOnly: %s", u)
		}
		if !signedOut(br, all) {
			t.Fatal("the SSO session survived a RedirectOnly logout")
		}
	})
}
