package admin_test

import (
	"strings"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

// TestApplicationRevocationPolicySettings: the application's token form
// shows its refreshTokenRevocationPolicy (FusionAuth's defaults for one that
// never set it) as the checkboxes of the members Latch applies, saves what
// is checked (a box left unchecked is off) through PATCH /api/application's
// rules, audited, and shows it read-only to who may only view.
func TestApplicationRevocationPolicySettings(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		e.admin("apps@example.com", "application_manager")
		e.admin("viewer@example.com", "application_deleter")
		const id = "b0b0b0b0-0000-4000-8000-000000000005"
		e.api("POST", "/api/application/"+id, map[string]any{"application": map[string]any{"name": "Till"}}, 200)
		type policy struct{ OnLoginPrevented, OnMultiFactorEnable, OnOneTimeTokenReuse, OnPasswordChanged bool }
		load := func() (enabled bool, p policy) {
			var out struct {
				Application struct {
					JWTConfiguration struct {
						Enabled                      bool
						RefreshTokenRevocationPolicy policy
					} `json:"jwtConfiguration"`
				}
			}
			e.api("GET", "/api/application/"+id, nil, 200).JSON(t, &out)
			j := out.Application.JWTConfiguration
			return j.Enabled, j.RefreshTokenRevocationPolicy
		}
		checkbox := func(member string, on bool) string {
			s := `<input id="` + member + `" name="` + member + `" type="checkbox" value="on"`
			if on {
				s += " checked"
			}
			return s + ">"
		}

		br := e.browser()
		br.signIn("apps@example.com", testPassword)
		page := br.get("/admin/applications/" + id)
		for _, want := range []string{"Revoke a user's refresh tokens of this application on",
			checkbox("onLoginPrevented", true), checkbox("onPasswordChanged", true), checkbox("onMultiFactorEnable", false)} {
			if !strings.Contains(page.body, want) {
				t.Errorf("the token form does not show %s", want)
			}
		}
		if strings.Contains(page.body, `name="onOneTimeTokenReuse"`) {
			t.Error("the form offers onOneTimeTokenReuse, which Latch does not apply")
		}

		// The page's form as a browser posts it: the checked boxes only.
		p := br.submit(page, "/admin/applications/"+id+"/tokens", "jwtEnabled", "on", "timeToLiveInSeconds", "3600",
			"refreshTokenTimeToLiveInMinutes", "43200", "onMultiFactorEnable", "on")
		if p.status != 200 || !strings.Contains(p.body, "The token settings were saved") {
			t.Fatalf("save: %d", p.status)
		}
		enabled, got := load()
		if want := (policy{OnMultiFactorEnable: true}); !enabled || got != want {
			t.Fatalf("stored enabled %v, policy %+v; want true, %+v", enabled, got, want)
		}
		for _, want := range []string{checkbox("onLoginPrevented", false), checkbox("onPasswordChanged", false), checkbox("onMultiFactorEnable", true)} {
			if !strings.Contains(p.body, want) {
				t.Errorf("the saved page does not show %s", want)
			}
		}
		if !e.auditedBy("apps@example.com", "Updated application [Till]") {
			t.Error("the change is not audited with the admin as actor")
		}
		// A number refused keeps the boxes as entered and writes nothing.
		p = br.submit(page, "/admin/applications/"+id+"/tokens", "jwtEnabled", "on", "timeToLiveInSeconds", "soon",
			"refreshTokenTimeToLiveInMinutes", "43200", "onPasswordChanged", "on")
		if p.status != 400 || !strings.Contains(p.body, checkbox("onPasswordChanged", true)) || !strings.Contains(p.body, checkbox("onMultiFactorEnable", false)) {
			t.Errorf("refused save: %d, or the boxes not as entered", p.status)
		}
		if _, after := load(); after != got {
			t.Fatalf("a refused change was written: %+v", after)
		}

		// Who may only view sees the policy without a form.
		vb := e.browser()
		vb.signIn("viewer@example.com", testPassword)
		v := vb.get("/admin/applications/" + id)
		if !strings.Contains(v.body, "Refresh tokens revoked on") || !strings.Contains(v.body, "Two-factor authentication turned on: the user&#39;s refresh tokens are revoked: yes") ||
			strings.Contains(v.body, `name="onMultiFactorEnable"`) {
			t.Error("an application_deleter's page: want the revocation policy shown, not editable")
		}
	})
}
