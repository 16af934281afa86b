package admin_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

// refreshJWT is what the refresh-token tests read back of an application.
type refreshJWT struct {
	Enabled                                bool
	RefreshTokenTimeToLiveInMinutes        int
	RefreshTokenExpirationPolicy           string
	RefreshTokenUsagePolicy                string
	RefreshTokenSlidingWindowConfiguration struct{ MaximumTimeToLiveInMinutes int }
	RefreshTokenOneTimeUseConfiguration    struct{ GracePeriodInSeconds int }
}

// invalidInputs are the ids of the inputs a page marks aria-invalid.
func invalidInputs(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<(?:input|select) id="([^"]+)"[^>]*aria-invalid="true"`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestApplicationRefreshTokenSettings: the refresh tokens' expiry (fixed,
// sliding, sliding with a maximum lifetime), that maximum, the usage policy
// and the one-use grace period are saved on the application's token form
// through the rules of PATCH /api/application, audited with the admin as
// the actor; a bad value is refused with the reason, the input marked and
// kept as typed, and nothing written. Roles that may not edit application
// settings are refused on the server.
func TestApplicationRefreshTokenSettings(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		e.admin("apps@example.com", "application_manager")
		e.admin("viewer@example.com", "application_deleter")
		const id = "b0b0b0b0-0000-4000-8000-000000000004"
		e.api("POST", "/api/application/"+id, map[string]any{"application": map[string]any{"name": "Kiosk"}}, 200)
		load := func() refreshJWT {
			var out struct {
				Application struct {
					JWTConfiguration refreshJWT `json:"jwtConfiguration"`
				}
			}
			e.api("GET", "/api/application/"+id, nil, 200).JSON(t, &out)
			return out.Application.JWTConfiguration
		}
		br := e.browser()
		br.signIn("apps@example.com", testPassword)
		page := br.get("/admin/applications/" + id)
		for _, label := range []string{"Refresh token expiry", "Maximum refresh token lifetime in minutes", "Reuse grace period in seconds"} {
			if !strings.Contains(page.body, label) {
				t.Errorf("the token form has no %q", label)
			}
		}
		good := []string{"jwtEnabled", "on", "timeToLiveInSeconds", "600", "refreshTokenTimeToLiveInMinutes", "1440",
			"refreshTokenExpirationPolicy", "SlidingWindowWithMaximumLifetime", "maximumTimeToLiveInMinutes", "2880",
			"refreshTokenUsagePolicy", "OneTimeUse", "gracePeriodInSeconds", "30"}
		with := func(kv ...string) []string {
			out := append([]string{}, good...)
			for j := 0; j < len(kv); j += 2 {
				for i := 0; i < len(out); i += 2 {
					if out[i] == kv[j] {
						out[i+1] = kv[j+1]
					}
				}
			}
			return out
		}

		before := load()
		for _, c := range []struct {
			name    string
			fields  []string
			invalid string // the input marked
			says    string
		}{
			{"maximum not a number", []string{"maximumTimeToLiveInMinutes", "two days"}, "maximumTimeToLiveInMinutes", "maximum refresh token lifetime must be a whole number"},
			{"grace period not a number", []string{"gracePeriodInSeconds", "30s"}, "gracePeriodInSeconds", "grace period must be a whole number"},
			{"unknown expiry", []string{"refreshTokenExpirationPolicy", "Forever"}, "refreshTokenExpirationPolicy", "refreshTokenExpirationPolicy"},
			{"maximum below the lifetime", []string{"maximumTimeToLiveInMinutes", "60"}, "maximumTimeToLiveInMinutes", "must not be less than refreshTokenTimeToLiveInMinutes"},
			{"maximum past the bound", []string{"maximumTimeToLiveInMinutes", "999999999"}, "maximumTimeToLiveInMinutes", "maximumTimeToLiveInMinutes"},
			{"refresh lifetime 0", []string{"refreshTokenTimeToLiveInMinutes", "0"}, "refreshTokenTimeToLiveInMinutes", "refreshTokenTimeToLiveInMinutes"},
		} {
			t.Run(c.name, func(t *testing.T) {
				p := br.submit(page, "/admin/applications/"+id+"/tokens", with(c.fields...)...)
				if p.status != 400 || !strings.Contains(p.body, "Nothing was changed") || !strings.Contains(p.body, c.says) {
					t.Fatalf("%d, want 400 saying %q", p.status, c.says)
				}
				if got := invalidInputs(p.body); len(got) != 1 || got[0] != c.invalid {
					t.Errorf("marked %v, want [%s]", got, c.invalid)
				}
				// A select offers only known policies; a text input keeps what was typed.
				if c.invalid != "refreshTokenExpirationPolicy" && !strings.Contains(p.body, `value="`+c.fields[1]+`"`) {
					t.Error("the form lost what was entered")
				}
			})
		}
		if got := load(); got != before {
			t.Fatalf("a refused change was written: %+v", got)
		}

		p := br.submit(page, "/admin/applications/"+id+"/tokens", good...)
		if p.status != 200 || !strings.Contains(p.body, "The token settings were saved") || len(invalidInputs(p.body)) != 0 {
			t.Fatalf("save: %d", p.status)
		}
		j := load()
		if !j.Enabled || j.RefreshTokenTimeToLiveInMinutes != 1440 || j.RefreshTokenExpirationPolicy != "SlidingWindowWithMaximumLifetime" ||
			j.RefreshTokenSlidingWindowConfiguration.MaximumTimeToLiveInMinutes != 2880 || j.RefreshTokenUsagePolicy != "OneTimeUse" ||
			j.RefreshTokenOneTimeUseConfiguration.GracePeriodInSeconds != 30 {
			t.Fatalf("stored: %+v", j)
		}
		for _, v := range []string{`value="2880"`, `value="30"`, `value="SlidingWindowWithMaximumLifetime" selected`} {
			if !strings.Contains(p.body, v) {
				t.Errorf("the saved page does not show %s", v)
			}
		}
		if !e.auditedBy("apps@example.com", "Updated application [Kiosk]") {
			t.Error("the change is not audited with the admin as actor")
		}
		// Back to a fixed expiry: the maximum is kept (it no longer applies).
		if p := br.submit(page, "/admin/applications/"+id+"/tokens", with("refreshTokenExpirationPolicy", "Fixed", "maximumTimeToLiveInMinutes", "60")...); p.status != 200 {
			t.Fatalf("fixed expiry: %d %v", p.status, invalidInputs(p.body))
		}
		if j := load(); j.RefreshTokenExpirationPolicy != "Fixed" || j.RefreshTokenSlidingWindowConfiguration.MaximumTimeToLiveInMinutes != 60 {
			t.Fatalf("stored after a fixed expiry: %+v", j)
		}

		// Who may only view sees the settings without a form and is refused.
		saved := load()
		vb := e.browser()
		vp := vb.signIn("viewer@example.com", testPassword)
		if v := vb.get("/admin/applications/" + id); !strings.Contains(v.body, "Refresh token expiry") || strings.Contains(v.body, `id="gracePeriodInSeconds"`) {
			t.Error("an application_deleter's page: want the refresh settings shown, not editable")
		}
		form := url.Values{"csrf_token": {vp.csrf(t)}}
		for i := 0; i < len(good); i += 2 {
			form.Set(good[i], good[i+1])
		}
		form.Set("gracePeriodInSeconds", "5")
		if p := vb.post("/admin/applications/"+id+"/tokens", form); p.status != 403 {
			t.Errorf("save by an application_deleter: %d", p.status)
		}
		// An application_manager may not change the admin application's.
		if p := br.post("/admin/applications/"+adminAppID+"/tokens", url.Values{"csrf_token": {page.csrf(t)}, "gracePeriodInSeconds": {"5"}}); p.status != 403 {
			t.Errorf("the admin application's by an application_manager: %d", p.status)
		}
		if got := load(); got != saved {
			t.Fatalf("a refused change was written: %+v", got)
		}
	})
}
