package admin_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

func TestSignInThroughHostedPage(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		br := e.browser()
		p := br.signIn("admin@example.com", testPassword)
		if p.status != 200 || p.url.Path != "/admin" || !strings.Contains(p.body, "<h1>Dashboard</h1>") {
			t.Fatalf("after sign-in: want the dashboard, got %d at %s: %s\n%s", p.status, p.url, p.body, e.s.Stderr.String())
		}
		for _, h := range []string{"Content-Security-Policy", "X-Frame-Options"} {
			if p.header.Get(h) == "" {
				t.Errorf("dashboard without %s", h)
			}
		}
		if !strings.Contains(p.header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("CSP %q", p.header.Get("Content-Security-Policy"))
		}
		// The session cookie is HttpOnly and scoped to /admin.
		u, _ := url.Parse(e.s.URL + "/admin")
		found := false
		for _, c := range br.c.Jar.Cookies(u) {
			found = found || c.Name == "latch.admin"
		}
		if !found {
			t.Fatal("no admin session cookie")
		}

		// A POST without the CSRF token is refused and changes nothing.
		if got := br.post("/admin/logout", url.Values{}); got.status != 403 {
			t.Fatalf("logout without CSRF: want 403, got %d", got.status)
		}
		if got := br.get("/admin"); got.url.Path != "/admin" {
			t.Fatalf("the refused logout ended the session: %s", got.url)
		}

		// Sign out ends the admin session and the SSO session: /admin asks for the password again.
		out := br.submit(p, "/admin/logout")
		if out.status != 200 || out.url.Path != "/admin/signed-out" {
			t.Fatalf("sign out: got %d at %s: %s", out.status, out.url, out.body)
		}
		again := br.get("/admin")
		if again.url.Path != "/oauth2/authorize" || !strings.Contains(again.body, `name="loginId"`) {
			t.Fatalf("after sign-out /admin should show the sign-in page, got %d at %s", again.status, again.url)
		}
	})
}

func TestSignInRefusesNonAdmins(t *testing.T) {
	e := start(t, testutil.Backend{})
	var out struct {
		User struct{ ID string } `json:"user"`
	}
	// A registered user without an admin role, and a user with no registration at all.
	e.api("POST", "/api/user/registration", map[string]any{
		"user":         map[string]any{"email": "plain@example.com", "password": testPassword},
		"registration": map[string]any{"applicationId": adminAppID},
	}, 200).JSON(t, &out)
	e.api("POST", "/api/user", map[string]any{"user": map[string]any{"email": "other@example.com", "password": testPassword}}, 200)
	for _, email := range []string{"plain@example.com", "other@example.com"} {
		br := e.browser()
		p := br.signIn(email, testPassword)
		if p.status != 403 || !strings.Contains(p.body, "not an administrator") {
			t.Fatalf("%s: want 403 not an administrator, got %d at %s: %s", email, p.status, p.url, p.body)
		}
		if got := br.get("/admin/api-keys"); got.url.Path == "/admin/api-keys" {
			t.Fatalf("%s reached the API keys page", email)
		}
	}
}

func TestCallbackRefusesForeignState(t *testing.T) {
	e := start(t, testutil.Backend{})
	br := e.browser()
	p := br.get("/admin/callback?code=abc&state=forged")
	if p.status != 400 || !strings.Contains(p.body, "expired") {
		t.Fatalf("want 400, got %d: %s", p.status, p.body)
	}
}

// latch recover admin's temporary password works on the sign-in page and
// leads through a forced password change into the admin UI.
func TestRecoverAdminLeadsIntoTheUI(t *testing.T) {
	e := start(t, testutil.Backend{})
	out, errOut, code := e.s.CLI(t, "recover", "admin", "--email", "rescue@example.com")
	if code != 0 {
		t.Fatalf("recover admin: %d %s", code, errOut)
	}
	temp := strings.TrimSpace(out)
	br := e.browser()
	p := br.signIn("rescue@example.com", temp)
	if p.status != 200 || !strings.Contains(p.body, `name="changePasswordId"`) {
		t.Fatalf("want the change-password step, got %d at %s: %s", p.status, p.url, p.body)
	}
	done := br.submit(p, "/oauth2/change-password", "password", "a brand new passphrase 42", "passwordConfirm", "a brand new passphrase 42")
	if done.status != 200 || done.url.Path != "/admin" || !strings.Contains(done.body, "<h1>Dashboard</h1>") {
		t.Fatalf("after the password change: want the dashboard, got %d at %s: %s", done.status, done.url, done.body)
	}
	// The temporary password no longer works.
	br2 := e.browser()
	if p := br2.signIn("rescue@example.com", temp); strings.Contains(p.body, "<h1>Dashboard</h1>") {
		t.Fatal("the temporary password still signs in")
	}
}
