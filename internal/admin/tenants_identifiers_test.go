package admin_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

// TestTenantIdentifiers: a tenant_manager edits a tenant's identifier
// settings (externalIdentifierConfiguration: lifetimes, generators' length
// and kind) through the rules of PATCH /api/tenant; a value the API refuses,
// or one that is not a number, shows the reason and marks the field, and
// nothing is written; the save is audited with the admin as the actor. A
// tenant_deleter sees the page without a form and is refused.
func TestTenantIdentifiers(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e, id, raw := startTenantPages(t, b)
		type generator struct {
			Length int
			Type   string
		}
		load := func() (out struct {
			Tenant struct {
				Data                            map[string]any
				ExternalIdentifierConfiguration struct {
					TrustTokenTimeToLiveInSeconds        int
					PasswordlessLoginTimeToLiveInSeconds int
					ChangePasswordIDGenerator            generator `json:"changePasswordIdGenerator"`
					TwoFactorOneTimeCodeIDGenerator      generator `json:"twoFactorOneTimeCodeIdGenerator"`
				}
			}
		}) {
			if err := json.Unmarshal([]byte(raw()), &out); err != nil {
				t.Fatal(err)
			}
			return out
		}
		br := e.browser()
		csrf := br.signIn("tenants@example.com", testPassword).csrf(t)
		if p := br.get("/admin/tenants/" + id); !strings.Contains(p.body, `href="/admin/tenants/`+id+`/identifiers"`) {
			t.Error("the tenant page does not link to the identifiers page")
		}
		path := "/admin/tenants/" + id + "/identifiers"
		stored := load().Tenant.ExternalIdentifierConfiguration
		page := br.get(path)
		for _, want := range []string{"Identifiers of Acme", `name="trustTokenTimeToLiveInSeconds"`, `name="changePasswordIdGenerator.length"`,
			`<option value="randomDigits"`, "Password reset link"} {
			if page.status != 200 || !strings.Contains(page.body, want) {
				t.Fatalf("identifiers page: %d, missing %q", page.status, want)
			}
		}
		if !strings.Contains(page.body, `<option value="`+stored.ChangePasswordIDGenerator.Type+`" selected>`) {
			t.Errorf("the stored generator kind %q is not selected", stored.ChangePasswordIDGenerator.Type)
		}

		for _, c := range []struct {
			name string
			form url.Values
			says string
		}{
			{"not a number", url.Values{"trustTokenTimeToLiveInSeconds": {"soon"}}, "Trust token, time to live: enter a whole number"},
			{"a zero lifetime", url.Values{"trustTokenTimeToLiveInSeconds": {"0"}}, "Trust token time to live in seconds must be between 1 and"},
			{"a lifetime past a year", url.Values{"passwordlessLoginTimeToLiveInSeconds": {"40000000"}}, "Passwordless login time to live in seconds must be between"},
			{"a zero length", url.Values{"changePasswordIdGenerator.length": {"0"}}, "Length must be greater than 0"},
			{"an unknown kind", url.Values{"changePasswordIdGenerator.type": {"randomEmoji"}}, "Type must be one of"},
		} {
			before := raw()
			c.form.Set("csrf_token", csrf)
			p := br.post(path, c.form)
			if p.status != 400 || !strings.Contains(p.body, "Nothing was changed") || !strings.Contains(p.body, c.says) || !strings.Contains(p.body, `aria-invalid="true"`) {
				t.Errorf("%s: %d, want 400 saying %q with the field marked", c.name, p.status, c.says)
			}
			if raw() != before {
				t.Errorf("%s: a refused change was written", c.name)
			}
		}
		if p := br.post(path, url.Values{"csrf_token": {csrf}, "trustTokenTimeToLiveInSeconds": {"soon"}}); !strings.Contains(p.body, `value="soon"`) {
			t.Error("a refused form lost what was entered")
		}

		p := br.submit(page, path, "trustTokenTimeToLiveInSeconds", "600", "passwordlessLoginTimeToLiveInSeconds", "300",
			"changePasswordIdGenerator.length", "48", "changePasswordIdGenerator.type", "randomAlphaNumeric",
			"twoFactorOneTimeCodeIdGenerator.length", "8", "twoFactorOneTimeCodeIdGenerator.type", "randomDigits")
		if p.status != 200 || !strings.Contains(p.body, "The tenant was saved") || !strings.Contains(p.body, `value="600"`) {
			t.Fatalf("save: %d", p.status)
		}
		got := load().Tenant
		ei := got.ExternalIdentifierConfiguration
		if ei.TrustTokenTimeToLiveInSeconds != 600 || ei.PasswordlessLoginTimeToLiveInSeconds != 300 ||
			ei.ChangePasswordIDGenerator != (generator{48, "randomAlphaNumeric"}) || ei.TwoFactorOneTimeCodeIDGenerator != (generator{8, "randomDigits"}) {
			t.Fatalf("stored: %+v", ei)
		}
		if got.Data["keep"] != "me" {
			t.Error("settings the page does not show were lost")
		}
		if !e.auditedBy("tenants@example.com", "Updated tenant [Acme]") {
			t.Error("the save is not audited with the admin as actor")
		}

		e.readOnlyForDeleter(raw, path)
		if p := br.get("/admin/tenants/00000000-0000-4000-8000-0000000000ff/identifiers"); p.status != 404 {
			t.Errorf("identifiers of a missing tenant: %d", p.status)
		}
	})
}
