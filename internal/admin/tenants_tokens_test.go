package admin_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

// TestTenantTokens: a tenant_manager edits a tenant's token settings
// (jwtConfiguration: lifetimes, refresh-token expiry and use, revocation
// policy) through the rules of PATCH /api/tenant; a value the API refuses,
// or one that is not a number, shows the reason, marks the field, keeps
// what was typed and writes nothing; the save is audited with the admin as
// the actor and leaves the signing keys alone. A tenant_deleter sees the
// page read-only and is refused.
func TestTenantTokens(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e, id, raw := startTenantPages(t, b)
		type jwtConfig struct {
			AccessTokenKeyID                string `json:"accessTokenKeyId"`
			IDTokenKeyID                    string `json:"idTokenKeyId"`
			TimeToLiveInSeconds             int
			RefreshTokenTimeToLiveInMinutes int
			RefreshTokenExpirationPolicy    string
			RefreshTokenUsagePolicy         string
			RefreshTokenRevocationPolicy    struct {
				OnLoginPrevented, OnMultiFactorEnable, OnOneTimeTokenReuse, OnPasswordChanged bool
			}
			RefreshTokenSlidingWindowConfiguration struct{ MaximumTimeToLiveInMinutes int }
			RefreshTokenOneTimeUseConfiguration    struct{ GracePeriodInSeconds int }
		}
		load := func() (out struct {
			Tenant struct {
				Data             map[string]any
				JWTConfiguration jwtConfig `json:"jwtConfiguration"`
			}
		}) {
			if err := json.Unmarshal([]byte(raw()), &out); err != nil {
				t.Fatal(err)
			}
			return out
		}
		br := e.browser()
		csrf := br.signIn("tenants@example.com", testPassword).csrf(t)
		if p := br.get("/admin/tenants/" + id); !strings.Contains(p.body, `href="/admin/tenants/`+id+`/tokens"`) {
			t.Error("the tenant page does not link to the tokens page")
		}
		path := "/admin/tenants/" + id + "/tokens"
		stored := load().Tenant.JWTConfiguration
		page := br.get(path)
		for _, want := range []string{"Tokens (JWT) of Acme", `name="timeToLiveInSeconds"`, `name="gracePeriodInSeconds"`,
			`name="maximumTimeToLiveInMinutes"`, `<option value="SlidingWindowWithMaximumLifetime"`, `<option value="` + stored.RefreshTokenUsagePolicy + `" selected>`,
			`id="onLoginPrevented" name="onLoginPrevented" type="checkbox" value="on" checked>`, `name="onMultiFactorEnable"`} {
			if page.status != 200 || !strings.Contains(page.body, want) {
				t.Fatalf("tokens page: %d, missing %q", page.status, want)
			}
		}
		if strings.Contains(page.body, "onOneTimeTokenReuse") || strings.Contains(page.body, `name="accessTokenKeyId"`) {
			t.Error("the page offers a setting Latch does not apply, or the signing keys")
		}

		// form is a full form as the page posts it, with changes.
		form := func(changes ...string) url.Values {
			v := url.Values{"csrf_token": {csrf}, "timeToLiveInSeconds": {"1800"}, "refreshTokenTimeToLiveInMinutes": {"20160"},
				"refreshTokenExpirationPolicy": {"SlidingWindowWithMaximumLifetime"}, "maximumTimeToLiveInMinutes": {"43200"},
				"refreshTokenUsagePolicy": {"OneTimeUse"}, "gracePeriodInSeconds": {"30"}, "onPasswordChanged": {"on"}, "onMultiFactorEnable": {"on"}}
			for i := 0; i+1 < len(changes); i += 2 {
				v.Set(changes[i], changes[i+1])
			}
			return v
		}
		for _, c := range []struct {
			name, input, value, says string
		}{
			{"not a number", "timeToLiveInSeconds", "soon", "The access token lifetime must be a whole number of seconds."},
			{"a zero lifetime", "timeToLiveInSeconds", "0", "Time to live in seconds must be between 1 and"},
			{"a grace period over a day", "gracePeriodInSeconds", "86401",
				"Grace period in seconds must be between 0 and 86400."},
			{"a negative grace period", "gracePeriodInSeconds", "-1", "Grace period in seconds must be between 0 and 86400."},
			{"a maximum below the lifetime", "maximumTimeToLiveInMinutes", "60",
				"Maximum time to live in minutes must not be less than refreshTokenTimeToLiveInMinutes."},
			{"an unknown use", "refreshTokenUsagePolicy", "Forever", "Refresh token usage policy must be one of"},
		} {
			before := raw()
			p := br.post(path, form(c.input, c.value))
			if p.status != 400 || !strings.Contains(p.body, "Nothing was changed") || !strings.Contains(p.body, c.says) {
				t.Errorf("%s: %d, want 400 saying %q", c.name, p.status, c.says)
			}
			if !inputMarked(p.body, c.input) {
				t.Errorf("%s: the field %s is not marked", c.name, c.input)
			}
			if typed := c.input != "refreshTokenUsagePolicy"; typed && !strings.Contains(p.body, `value="`+c.value+`"`) {
				t.Errorf("%s: the form lost what was entered", c.name)
			}
			if raw() != before {
				t.Errorf("%s: a refused change was written", c.name)
			}
		}
		if p := br.post(path, form("gracePeriodInSeconds", "a minute")); !strings.Contains(p.body, `value="a minute"`) {
			t.Error("a refused form lost what was entered")
		}

		p := br.post(path, form())
		if p.status != 200 || !strings.Contains(p.body, "The tenant was saved") || !strings.Contains(p.body, `value="43200"`) {
			t.Fatalf("save: %d", p.status)
		}
		got := load().Tenant
		j := got.JWTConfiguration
		rp := j.RefreshTokenRevocationPolicy
		if j.TimeToLiveInSeconds != 1800 || j.RefreshTokenTimeToLiveInMinutes != 20160 || j.RefreshTokenExpirationPolicy != "SlidingWindowWithMaximumLifetime" ||
			j.RefreshTokenSlidingWindowConfiguration.MaximumTimeToLiveInMinutes != 43200 || j.RefreshTokenUsagePolicy != "OneTimeUse" ||
			j.RefreshTokenOneTimeUseConfiguration.GracePeriodInSeconds != 30 {
			t.Fatalf("stored: %+v", j)
		}
		if rp.OnLoginPrevented || !rp.OnPasswordChanged || !rp.OnMultiFactorEnable || rp.OnOneTimeTokenReuse != stored.RefreshTokenRevocationPolicy.OnOneTimeTokenReuse {
			t.Errorf("revocation policy: %+v", rp)
		}
		if j.AccessTokenKeyID != stored.AccessTokenKeyID || j.IDTokenKeyID != stored.IDTokenKeyID || got.Data["keep"] != "me" {
			t.Error("settings the page does not show were changed")
		}
		if !e.auditedBy("tenants@example.com", "Updated tenant [Acme]") {
			t.Error("the save is not audited with the admin as actor")
		}

		e.readOnlyForDeleter(raw, path)
		db := e.browser()
		db.signIn("deleter@example.com", testPassword)
		if p := db.get(path); !strings.Contains(p.body, `<fieldset disabled>`) || !strings.Contains(p.body, `value="1800"`) {
			t.Error("a tenant_deleter does not see the values read-only")
		}
		if p := br.get("/admin/tenants/00000000-0000-4000-8000-0000000000ff/tokens"); p.status != 404 {
			t.Errorf("tokens of a missing tenant: %d", p.status)
		}
	})
}

// inputMarked reports whether the input or select with id carries
// aria-invalid="true".
func inputMarked(body, id string) bool {
	_, rest, ok := strings.Cut(body, `id="`+id+`"`)
	if !ok {
		return false
	}
	tag, _, _ := strings.Cut(rest, ">")
	return strings.Contains(tag, `aria-invalid="true"`)
}
