package admin_test

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

var tenantLink = regexp.MustCompile(`/admin/tenants/([0-9a-f-]{36})`)

func TestTenantPages(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		e.admin("tenants@example.com", "tenant_manager")
		e.admin("deleter@example.com", "tenant_deleter")
		var key struct{ Key struct{ ID string } }
		e.api("POST", "/api/key/generate", map[string]any{"key": map[string]any{"name": "Acme key", "algorithm": "ES256"}}, 200).JSON(t, &key)

		br := e.browser()
		br.signIn("tenants@example.com", testPassword)
		form := br.get("/admin/tenants/new")
		if p := br.submit(form, "/admin/tenants", "name", "Acme", "ttl", "soon"); p.status != 400 || !strings.Contains(p.body, "number of seconds") {
			t.Fatalf("bad ttl on create: %d", p.status)
		}
		created := br.submit(form, "/admin/tenants", "name", "Acme", "issuer", "https://acme.test", "ttl", "600")
		m := tenantLink.FindStringSubmatch(created.url.Path)
		if created.status != 200 || m == nil || !strings.Contains(created.body, "The tenant was saved") {
			t.Fatalf("create: %d at %s: %s", created.status, created.url, created.body)
		}
		id := m[1]
		if strings.Contains(created.body, "Delete this tenant") {
			t.Error("a tenant_manager is offered deletion")
		}
		page := br.get("/admin/tenants/" + id)
		// On edit the lifetimes are shown, and changed on the tokens page only.
		if strings.Contains(page.body, `name="ttl"`) || strings.Contains(page.body, `name="refreshTTL"`) ||
			!strings.Contains(page.body, "Tokens live 600 seconds") || !strings.Contains(page.body, `href="/admin/tenants/`+id+`/tokens"`) {
			t.Fatalf("edit page offers the lifetimes or hides them: %s", page.body)
		}
		if p := br.submit(page, "/admin/tenants/"+id, "name", "", "ttl", "0"); p.status != 400 || !strings.Contains(p.body, "Tokens live 600 seconds") {
			t.Fatalf("refused edit: %d, want 400 still showing the stored lifetime", p.status)
		}
		saved := br.submit(page, "/admin/tenants/"+id, "name", "Acme Inc", "issuer", "https://acme.test", "accessTokenKeyId", key.Key.ID, "ttl", "5")
		if saved.status != 200 || !strings.Contains(saved.body, "The tenant was saved") {
			t.Fatalf("save: %d %s", saved.status, saved.body)
		}
		var got struct {
			Tenant struct {
				Name, Issuer     string
				JWTConfiguration struct {
					AccessTokenKeyID    string `json:"accessTokenKeyId"`
					TimeToLiveInSeconds int
				} `json:"jwtConfiguration"`
			}
		}
		e.api("GET", "/api/tenant/"+id, nil, 200).JSON(t, &got)
		if got.Tenant.Name != "Acme Inc" || got.Tenant.Issuer != "https://acme.test" || got.Tenant.JWTConfiguration.AccessTokenKeyID != key.Key.ID ||
			got.Tenant.JWTConfiguration.TimeToLiveInSeconds != 600 {
			t.Fatalf("stored: %+v", got)
		}
		list := br.get("/admin/tenants")
		if !strings.Contains(list.body, "Acme Inc") || !strings.Contains(list.body, "Acme key") {
			t.Fatalf("list: %s", list.body)
		}

		// Deletion: the name typed; never the admin application's tenant.
		db := e.browser()
		dp := db.signIn("deleter@example.com", testPassword)
		csrf := dp.csrf(t)
		if p := db.post("/admin/tenants/"+id+"/delete", url.Values{"csrf_token": {csrf}, "confirm": {"Acme"}}); p.status != 400 {
			t.Fatalf("delete without the exact name: %d", p.status)
		}
		e.api("GET", "/api/tenant/"+id, nil, 200)
		var def struct{ Tenants []struct{ ID, Name string } }
		e.api("GET", "/api/tenant", nil, 200).JSON(t, &def)
		for _, tn := range def.Tenants {
			if tn.Name == "Default" {
				if p := db.get("/admin/tenants/" + tn.ID); strings.Contains(p.body, "Delete this tenant") {
					t.Error("the Default tenant offers deletion")
				}
				if p := db.post("/admin/tenants/"+tn.ID+"/delete", url.Values{"csrf_token": {csrf}, "confirm": {"Default"}}); p.status != 400 {
					t.Errorf("delete of the Default tenant: %d", p.status)
				}
			}
		}
		if p := db.post("/admin/tenants/"+id+"/delete", url.Values{"csrf_token": {csrf}, "confirm": {"Acme Inc"}}); p.status != 200 || p.url.Path != "/admin/tenants" {
			t.Fatalf("delete: %d at %s", p.status, p.url)
		}
		e.api("GET", "/api/tenant/"+id, nil, 404)
		for _, c := range []struct{ actor, text string }{{"tenants@example.com", "Created tenant"}, {"tenants@example.com", "Updated tenant [Acme Inc]"},
			{"deleter@example.com", "Deleted tenant [Acme Inc]"}} {
			if !e.auditedBy(c.actor, c.text) {
				t.Errorf("no audit entry by %s containing %q", c.actor, c.text)
			}
		}
	})
}

// TestTenantSettings: a tenant_manager edits the password rules, lockout,
// email server and lifetimes; the SMTP password is write-only (never on the
// page, kept when left blank, removed on request); bad input shows the
// reason and writes nothing.
func TestTenantSettings(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		e.admin("tenants@example.com", "tenant_manager")
		var created struct{ Tenant struct{ ID string } }
		e.api("POST", "/api/tenant", map[string]any{"tenant": map[string]any{"name": "Acme"}}, 200).JSON(t, &created)
		id := created.Tenant.ID
		type settings struct {
			Tenant struct {
				Name, Issuer                   string
				HTTPSessionMaxInactiveInterval int `json:"httpSessionMaxInactiveInterval"`
				JWTConfiguration               struct {
					TimeToLiveInSeconds             int `json:"timeToLiveInSeconds"`
					RefreshTokenTimeToLiveInMinutes int `json:"refreshTokenTimeToLiveInMinutes"`
				} `json:"jwtConfiguration"`
				PasswordValidationRules struct {
					MinLength, MaxLength                             int
					RequireMixedCase, RequireNonAlpha, RequireNumber bool
				} `json:"passwordValidationRules"`
				FailedAuthenticationConfiguration struct {
					TooManyAttempts, ResetCountInSeconds, ActionDuration int
					ActionDurationUnit                                   string
					ActionCancelPolicy                                   struct{ OnPasswordReset bool }
				} `json:"failedAuthenticationConfiguration"`
				EmailConfiguration struct {
					Host, Security, Username, DefaultFromEmail, DefaultFromName string
					Port                                                        int
				} `json:"emailConfiguration"`
			}
		}
		load := func() settings {
			var out settings
			e.api("GET", "/api/tenant/"+id, nil, 200).JSON(t, &out)
			return out
		}
		const smtpSecret = "smtp-pass-never-shown"
		br := e.browser()
		br.signIn("tenants@example.com", testPassword)
		page := br.get("/admin/tenants/" + id)
		if page.status != 200 || !strings.Contains(page.body, "No password is stored") {
			t.Fatalf("tenant page: %d", page.status)
		}
		fields := []string{"name", "Acme", "issuer", "https://acme.test", "sessionIdle", "1800",
			"minLength", "12", "maxLength", "64", "requireMixedCase", "on", "requireNumber", "on",
			"tooManyAttempts", "3", "resetCountInSeconds", "120", "actionDuration", "10", "actionDurationUnit", "HOURS", "unlockOnPasswordReset", "on",
			"smtpHost", "smtp.acme.test", "smtpPort", "587", "smtpSecurity", "TLS", "smtpUsername", "mailer", "smtpPassword", smtpSecret,
			"defaultFromEmail", "noreply@acme.test", "defaultFromName", "Acme"}
		with := func(k, v string) []string {
			out := append([]string{}, fields...)
			for i := 0; i < len(out); i += 2 {
				if out[i] == k {
					out[i+1] = v
				}
			}
			return out
		}
		before := load()
		for _, c := range []struct {
			name, field, value, says string
		}{
			{"minLength not a number", "minLength", "twelve", "minimum password length must be a whole number"},
			{"port not a number", "smtpPort", "25a", "SMTP port must be a whole number"},
			{"max below min", "maxLength", "6", "maxLength"},
			{"unknown security", "smtpSecurity", "STARTTLS", "Security must be one of"},
			{"unknown lockout unit", "actionDurationUnit", "FORTNIGHTS", "actionDurationUnit"},
			{"zero attempts", "tooManyAttempts", "0", "tooManyAttempts"},
		} {
			p := br.submit(page, "/admin/tenants/"+id, with(c.field, c.value)...)
			if p.status != 400 || !strings.Contains(p.body, "Nothing was changed") || !strings.Contains(p.body, c.says) {
				t.Errorf("%s: %d, want 400 saying %q", c.name, p.status, c.says)
			}
			if strings.Contains(p.body, smtpSecret) {
				t.Errorf("%s: the SMTP password was rendered back", c.name)
			}
			if !strings.Contains(p.body, `value="`+c.value+`"`) && c.field != "smtpSecurity" && c.field != "actionDurationUnit" {
				t.Errorf("%s: the form lost what was entered", c.name)
			}
		}
		if got := load(); got != before {
			t.Fatalf("a refused change was written: %+v", got)
		}
		saved := br.submit(page, "/admin/tenants/"+id, fields...)
		if saved.status != 200 || !strings.Contains(saved.body, "The tenant was saved") {
			t.Fatalf("save: %d %s", saved.status, saved.body)
		}
		if strings.Contains(saved.body, smtpSecret) || !strings.Contains(saved.body, "A password is stored") {
			t.Fatal("the SMTP password is rendered, or not stored")
		}
		got := load().Tenant
		pv, fa, ec := got.PasswordValidationRules, got.FailedAuthenticationConfiguration, got.EmailConfiguration
		if got.Issuer != "https://acme.test" || got.JWTConfiguration != before.Tenant.JWTConfiguration ||
			got.HTTPSessionMaxInactiveInterval != 1800 || pv.MinLength != 12 || pv.MaxLength != 64 || !pv.RequireMixedCase || pv.RequireNonAlpha || !pv.RequireNumber ||
			fa.TooManyAttempts != 3 || fa.ResetCountInSeconds != 120 || fa.ActionDuration != 10 || fa.ActionDurationUnit != "HOURS" || !fa.ActionCancelPolicy.OnPasswordReset ||
			ec.Host != "smtp.acme.test" || ec.Port != 587 || ec.Security != "TLS" || ec.Username != "mailer" || ec.DefaultFromEmail != "noreply@acme.test" || ec.DefaultFromName != "Acme" {
			t.Fatalf("stored: %+v", got)
		}
		// The new rules apply: a short password is refused for this tenant.
		e.api("POST", "/api/user", map[string]any{"user": map[string]any{"email": "short@acme.test", "password": "Short1pass", "tenantId": id}}, 400)

		// Saving with the password left blank keeps it; unchecking a rule clears it.
		page = br.get("/admin/tenants/" + id)
		if p := br.submit(page, "/admin/tenants/"+id, with("smtpPassword", "")...); !strings.Contains(p.body, "A password is stored") {
			t.Fatal("a blank password field removed the stored password")
		}
		var unchecked []string
		for i := 0; i < len(fields); i += 2 {
			if fields[i] != "requireMixedCase" {
				unchecked = append(unchecked, fields[i], fields[i+1])
			}
		}
		if br.submit(page, "/admin/tenants/"+id, unchecked...); load().Tenant.PasswordValidationRules.RequireMixedCase {
			t.Error("unchecking a rule did not clear it")
		}
		if p := br.submit(page, "/admin/tenants/"+id, append(with("smtpPassword", ""), "clearSmtpPassword", "on")...); !strings.Contains(p.body, "No password is stored") {
			t.Fatal("the SMTP password was not removed")
		}
		if !e.auditedBy("tenants@example.com", "Updated tenant [Acme]") {
			t.Error("the settings change is not audited with the admin as actor")
		}
		var logs struct{ AuditLogs []map[string]any }
		e.api("GET", "/api/system/audit-log/search?numberOfResults=100", nil, 200).JSON(t, &logs)
		for _, l := range logs.AuditLogs {
			if raw, _ := json.Marshal(l); strings.Contains(string(raw), smtpSecret) {
				t.Fatal("the SMTP password is in the audit log")
			}
		}
	})
}
