package oauth_test

import (
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/latchid/latch/internal/testutil"
)

// TestConsent: third-party applications ask the user on the consent page as
// their consentMode says; first-party applications never do.
func TestConsent(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		remember := e.app(appOpts{name: "Remembering third party", relationship: "ThirdParty", consentMode: "RememberDecision"})
		always := e.app(appOpts{name: "Always asking third party", relationship: "ThirdParty", consentMode: "AlwaysPrompt"})
		never := e.app(appOpts{name: "Never asking third party", relationship: "ThirdParty", consentMode: "NeverPrompt"})
		first := e.app(appOpts{name: "First party", relationship: "FirstParty"})
		e.user("consent@example.com", nil, remember.id, always.id, never.id, first.id)
		e.user("fresh@example.com", nil, remember.id)

		authURL := func(c client, scope string, extra ...string) string {
			r := e.rp(c, strings.Fields(scope)...)
			opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(oauth2.GenerateVerifier())}
			for i := 0; i+1 < len(extra); i += 2 {
				opts = append(opts, oauth2.SetAuthURLParam(extra[i], extra[i+1]))
			}
			return r.conf.AuthCodeURL("st4te", opts...)
		}
		isConsent := func(p *page) bool { return p.status == 200 && strings.Contains(p.body, "Allow access?") }
		gotCode := func(t *testing.T, p *page, status int) {
			t.Helper()
			if u := e.redirected(p, status); u.Query().Get("code") == "" || u.Query().Get("state") != "st4te" {
				t.Fatalf("want a code, got %s", p.location)
			}
		}

		br := e.browser()
		p := br.submit(br.get(authURL(remember, "openid profile")), "loginId", "consent@example.com", "password", testPassword)
		if !isConsent(p) || !strings.Contains(p.body, "Remembering third party") || !strings.Contains(p.body, "Read your name") {
			t.Fatalf("after sign-in to a third party: %d %s", p.status, p.body)
		}
		// No CSRF token, no consent.
		action, v := p.form(t)
		v.Del("csrf_token")
		v.Set("decision", "allow")
		if bad := br.post(action, v); bad.status != 403 {
			t.Fatalf("consent without CSRF token: %d", bad.status)
		}
		gotCode(t, br.submit(p, "decision", "allow"), 303)

		t.Run("remembered", func(t *testing.T) {
			gotCode(t, br.get(authURL(remember, "profile openid")), 302)
			gotCode(t, br.get(authURL(remember, "openid", "prompt", "none")), 302)
		})
		t.Run("prompt-consent-asks-again", func(t *testing.T) {
			if p := br.get(authURL(remember, "openid profile", "prompt", "consent")); !isConsent(p) {
				t.Fatalf("prompt=consent: %d %s", p.status, p.location)
			}
		})
		t.Run("a-wider-scope-asks-again", func(t *testing.T) {
			p := br.get(authURL(remember, "openid email"))
			if !isConsent(p) || !strings.Contains(p.body, "Read your email address") {
				t.Fatalf("wider scope: %d %s", p.status, p.location)
			}
			gotCode(t, br.submit(p, "decision", "allow"), 303)
			gotCode(t, br.get(authURL(remember, "openid email profile")), 302)
		})
		t.Run("deny", func(t *testing.T) {
			p := br.get(authURL(always, "openid"))
			if !isConsent(p) {
				t.Fatalf("AlwaysPrompt: %d %s", p.status, p.location)
			}
			u := e.redirected(br.submit(p, "decision", "deny"), 303)
			if u.Query().Get("error") != "access_denied" || u.Query().Get("error_reason") != "consent_canceled" || u.Query().Get("state") != "st4te" {
				t.Fatalf("deny: %s", u)
			}
		})
		t.Run("always-prompt-asks-every-time", func(t *testing.T) {
			gotCode(t, br.submit(br.get(authURL(always, "openid")), "decision", "allow"), 303)
			if p := br.get(authURL(always, "openid")); !isConsent(p) {
				t.Fatalf("AlwaysPrompt, second time: %d %s", p.status, p.location)
			}
			u := e.redirected(br.get(authURL(always, "openid", "prompt", "none")), 302)
			if u.Query().Get("error") != "consent_required" {
				t.Fatalf("prompt=none without consent: %s", u)
			}
		})
		t.Run("never-prompt-and-first-party", func(t *testing.T) {
			gotCode(t, br.get(authURL(never, "openid")), 302)
			gotCode(t, br.get(authURL(first, "openid", "prompt", "consent")), 302)
		})
		t.Run("consents-are-per-user", func(t *testing.T) {
			other := e.browser()
			p := other.submit(other.get(authURL(remember, "openid")), "loginId", "fresh@example.com", "password", testPassword)
			if !isConsent(p) {
				t.Fatalf("another user: %d %s", p.status, p.location)
			}
			// From another browser (no CSRF cookie, no session) nothing is granted.
			anon := e.browser()
			_, v := p.form(t)
			v.Set("decision", "allow")
			if got := anon.post("/oauth2/consent", v); got.status == 303 {
				t.Fatalf("consent from another browser: %d %s", got.status, got.location)
			}
		})
	})
}
