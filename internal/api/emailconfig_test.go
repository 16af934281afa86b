package api_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/email"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

func defaultTenantID(t *testing.T, s *testutil.Server, key string) string {
	t.Helper()
	var tenants struct{ Tenants []struct{ ID, Name string } }
	s.Do(t, "GET", "/api/tenant", key, nil).JSON(t, &tenants)
	for _, tn := range tenants.Tenants {
		if tn.Name == "Default" {
			return tn.ID
		}
	}
	t.Fatal("no Default tenant")
	return ""
}

// The tenant's SMTP password is sealed and never read back by a client; a
// PUT of what a client read keeps it; the mailer authenticates with it and
// writes the tenant's additional headers. Seen failing before: GET returned
// the password, a PUT without it erased it, no additional headers were sent
// and there was no test-send call.
func TestTenantEmailConfiguration(t *testing.T) {
	t.Parallel()
	mp := testutil.StartMailpit(t, testutil.MailpitAuth("smtp-user", "smtp-secret-pass"))
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s, key := startWithKey(t, b)
		tid := defaultTenantID(t, s, key)
		r := s.Do(t, "PATCH", "/api/tenant/"+tid, key, map[string]any{"tenant": map[string]any{
			"emailConfiguration": map[string]any{"host": mp.SMTPHost, "port": mp.SMTPPort, "security": "NONE",
				"username": "smtp-user", "password": "smtp-secret-pass", "defaultFromEmail": "from@example.com", "defaultFromName": "Latch Test",
				"additionalHeaders": []map[string]string{{"name": "X-SES-CONFIGURATION-SET", "value": "latch-set"}}}}})
		if r.Status != 200 || strings.Contains(string(r.Body), "smtp-secret-pass") {
			t.Fatalf("patch: %d %s", r.Status, r.Body)
		}
		for _, path := range []string{"/api/tenant/" + tid, "/api/tenant", "/api/tenant/search?name=Default"} {
			if r := s.Do(t, "GET", path, key, nil); r.Status != 200 || strings.Contains(string(r.Body), "smtp-secret-pass") {
				t.Fatalf("GET %s returns the password: %d %s", path, r.Status, r.Body)
			}
		}
		// PUT back what was read: the password stays.
		var got map[string]any
		s.Do(t, "GET", "/api/tenant/"+tid, key, nil).JSON(t, &got)
		if r := s.Do(t, "PUT", "/api/tenant/"+tid, key, got); r.Status != 200 {
			t.Fatalf("put: %d %s", r.Status, r.Body)
		}
		before := len(mp.Messages(t))
		if r := s.Do(t, "POST", "/api/email/send", key, map[string]any{"toAddress": "admin-" + b.Name + "@example.com"}); r.Status != 200 {
			t.Fatalf("test send: %d %s", r.Status, r.Body)
		}
		msgs := mp.WaitMessages(t, before+1)
		if msgs[0].To[0].Address != "admin-"+b.Name+"@example.com" || msgs[0].From.Address != "from@example.com" || msgs[0].From.Name != "Latch Test" {
			t.Fatalf("test message: %+v", msgs[0])
		}
		if h := mp.Headers(t, msgs[0].ID); !slices.Equal(h["X-Ses-Configuration-Set"], []string{"latch-set"}) && !slices.Equal(h["X-SES-CONFIGURATION-SET"], []string{"latch-set"}) {
			t.Fatalf("additional header missing: %v", h)
		}
		// A wrong password given for a try is the SMTP server's refusal, a 400.
		r = s.Do(t, "POST", "/api/email/send", key, map[string]any{"toAddress": "admin@example.com", "emailConfiguration": map[string]any{
			"host": mp.SMTPHost, "port": mp.SMTPPort, "security": "NONE", "username": "smtp-user", "password": "wrong", "defaultFromEmail": "from@example.com"}})
		if r.Status != 400 || !slices.Contains(errorCodes(t, r), "["+email.ErrTestSendFailed+"]") {
			t.Fatalf("wrong password: %d %s", r.Status, r.Body)
		}
		if r := s.Do(t, "POST", "/api/email/send", key, map[string]any{"toAddress": "nope"}); r.Status != 400 {
			t.Fatalf("bad address: %d %s", r.Status, r.Body)
		}
		// A header that would inject another is refused.
		r = s.Do(t, "PATCH", "/api/tenant/"+tid, key, map[string]any{"tenant": map[string]any{
			"emailConfiguration": map[string]any{"additionalHeaders": []map[string]string{{"name": "X-A", "value": "a\r\nBcc: x@example.com"}}}}})
		if r.Status != 400 || !slices.Contains(errorCodes(t, r), "[invalid]tenant.emailConfiguration.additionalHeaders") {
			t.Fatalf("injected header: %d %s", r.Status, r.Body)
		}
	})
}

// FusionAuth's default templates exist from the start, in text and HTML with
// localized variants, and the Default tenant names them. Seen failing
// before: there were none.
func TestDefaultEmailTemplates(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s, key := startWithKey(t, b)
		var list struct{ EmailTemplates []model.EmailTemplate }
		s.Do(t, "GET", "/api/email/template", key, nil).JSON(t, &list)
		names := map[string]model.EmailTemplate{}
		for _, tpl := range list.EmailTemplates {
			names[tpl.Name] = tpl
		}
		for _, n := range []string{"[FusionAuth Default] Email Verification", "[FusionAuth Default] Forgot Password",
			"[FusionAuth Default] Passwordless Login", "[FusionAuth Default] Setup Password", "[FusionAuth Default] Two Factor Authentication"} {
			tpl, ok := names[n]
			if !ok || tpl.DefaultTextTemplate == "" || tpl.DefaultHTMLTemplate == "" || tpl.LocalizedSubjects["de"] == "" {
				t.Fatalf("%s: %+v", n, tpl)
			}
		}
		var tn struct {
			Tenant struct{ EmailConfiguration map[string]any }
		}
		s.Do(t, "GET", "/api/tenant/"+defaultTenantID(t, s, key), key, nil).JSON(t, &tn)
		if tn.Tenant.EmailConfiguration["forgotPasswordEmailTemplateId"] != email.DefaultForgotPasswordTemplateID ||
			tn.Tenant.EmailConfiguration["verificationEmailTemplateId"] != email.DefaultVerificationTemplateID {
			b, _ := json.Marshal(tn)
			t.Fatalf("default tenant: %s", b)
		}
		var pv struct{ Email model.Email }
		s.Do(t, "POST", "/api/email/template/preview", key, map[string]any{"emailTemplate": names["[FusionAuth Default] Forgot Password"], "locale": "de"}).JSON(t, &pv)
		if pv.Email.Subject != "Passwort zurücksetzen" || !strings.Contains(pv.Email.Text, "/password/change/EXAMPLE-CHANGE-PASSWORD-ID") {
			t.Fatalf("preview: %+v", pv.Email)
		}
	})
}

// A tenant's emailConfiguration is checked as FusionAuth checks it:
// defaultFromEmail an address on one line, host without control characters
// or spaces, and every *EmailTemplateId (Latch's and FusionAuth's others)
// the id of an existing template; else 400 naming the member. Seen failing
// before: all of these were stored (200).
func TestTenantEmailConfigurationValidation(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s, key := startWithKey(t, b)
		tid := defaultTenantID(t, s, key)
		patch := func(ec map[string]any) *testutil.Response {
			return s.Do(t, "PATCH", "/api/tenant/"+tid, key, map[string]any{"tenant": map[string]any{"emailConfiguration": ec}})
		}
		nowhere := uuid.NewString()
		for _, c := range []struct {
			name  string
			ec    map[string]any
			field string // "" when accepted
		}{
			{"from address", map[string]any{"defaultFromEmail": "bad"}, "defaultFromEmail"},
			{"from address with a line break", map[string]any{"defaultFromEmail": "a@example.com\r\nBcc: b@example.com"}, "defaultFromEmail"},
			{"from name with a line break", map[string]any{"defaultFromName": "Latch\r\nBcc: b@example.com"}, "defaultFromName"},
			{"host with a line break", map[string]any{"host": "smtp.example.com\r\nRCPT TO:<x@example.com>"}, "host"},
			{"host with a control character", map[string]any{"host": "smtp\x00.example.com"}, "host"},
			{"host with a space", map[string]any{"host": "smtp example.com"}, "host"},
			{"template id not a UUID", map[string]any{"forgotPasswordEmailTemplateId": "forgot"}, "forgotPasswordEmailTemplateId"},
			{"template that does not exist", map[string]any{"verificationEmailTemplateId": nowhere}, "verificationEmailTemplateId"},
			{"FusionAuth's other template ids", map[string]any{"passwordUpdateEmailTemplateId": nowhere}, "passwordUpdateEmailTemplateId"},
			{"template id of another type", map[string]any{"emailUpdateEmailTemplateId": 7}, "emailUpdateEmailTemplateId"},
			{"valid", map[string]any{"defaultFromEmail": "from@example.com", "defaultFromName": "ACME, Inc.", "host": "smtp.example.com",
				"forgotPasswordEmailTemplateId": email.DefaultForgotPasswordTemplateID, "emailVerifiedEmailTemplateId": email.DefaultVerificationTemplateID,
				"passwordlessEmailTemplateId": nil, "setPasswordEmailTemplateId": ""}, ""},
		} {
			r := patch(c.ec)
			if c.field == "" {
				if r.Status != 200 {
					t.Errorf("%s: %d %s", c.name, r.Status, r.Body)
				}
				continue
			}
			want400(t, c.name, r, "[invalid]tenant.emailConfiguration."+c.field)
		}
		// A reference stored before (its template gone below the API) does
		// not block other changes; setting it again does.
		var tpl struct{ EmailTemplate model.EmailTemplate }
		s.Do(t, "POST", "/api/email/template", key, map[string]any{"emailTemplate": welcomeTemplate}).JSON(t, &tpl)
		if r := patch(map[string]any{"passwordUpdateEmailTemplateId": tpl.EmailTemplate.ID}); r.Status != 200 {
			t.Fatalf("name a template: %d %s", r.Status, r.Body)
		}
		st := openServerStore(t, s)
		if err := st.InTx(context.Background(), func(tx *store.Tx) error { return tx.DeleteEmailTemplate(context.Background(), tpl.EmailTemplate.ID) }); err != nil {
			t.Fatal(err)
		}
		if r := patch(map[string]any{"defaultFromName": "Other"}); r.Status != 200 {
			t.Errorf("other change beside a stored reference: %d %s", r.Status, r.Body)
		}
		want400(t, "set again", patch(map[string]any{"passwordUpdateEmailTemplateId": strings.ToUpper(tpl.EmailTemplate.ID)}),
			"[invalid]tenant.emailConfiguration.passwordUpdateEmailTemplateId")
		// A new tenant is checked too.
		want400(t, "create", s.Do(t, "POST", "/api/tenant", key, map[string]any{"tenant": map[string]any{"name": "Checked",
			"emailConfiguration": map[string]any{"forgotPasswordEmailTemplateId": nowhere}}}), "[invalid]tenant.emailConfiguration.forgotPasswordEmailTemplateId")
	})
}

// An email template a tenant or an application names cannot be deleted:
// 400 [EmailTemplateInUse] saying where; once nothing names it, it can.
// Seen failing before: the Default tenant's forgot-password template could
// be deleted, and every forgot-password call failed after.
func TestEmailTemplateInUse(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s, key := startWithKey(t, b)
		tid := defaultTenantID(t, s, key)
		r := s.Do(t, "DELETE", "/api/email/template/"+email.DefaultForgotPasswordTemplateID, key, nil)
		if r.Status != 400 || !slices.Contains(errorCodes(t, r), "[EmailTemplateInUse]") ||
			!strings.Contains(string(r.Body), "tenant [Default] ("+tid+") as emailConfiguration.forgotPasswordEmailTemplateId") {
			t.Fatalf("delete the Default tenant's template: %d %s", r.Status, r.Body)
		}
		var tpl struct{ EmailTemplate model.EmailTemplate }
		s.Do(t, "POST", "/api/email/template", key, map[string]any{"emailTemplate": welcomeTemplate}).JSON(t, &tpl)
		id := tpl.EmailTemplate.ID
		var app struct{ Application struct{ ID string } }
		s.Do(t, "POST", "/api/application", key, map[string]any{"application": map[string]any{"name": "Names a template",
			"verificationEmailTemplateId": id, "verifyRegistration": true}}).JSON(t, &app)
		r = s.Do(t, "DELETE", "/api/email/template/"+id, key, nil)
		if r.Status != 400 || !strings.Contains(string(r.Body), "application [Names a template] ("+app.Application.ID+") as verificationEmailTemplateId") {
			t.Fatalf("delete an application's template: %d %s", r.Status, r.Body)
		}
		if r := s.Do(t, "DELETE", "/api/application/"+app.Application.ID+"?hardDelete=true", key, nil); r.Status != 200 {
			t.Fatalf("delete application: %d %s", r.Status, r.Body)
		}
		if r := s.Do(t, "DELETE", "/api/email/template/"+id, key, nil); r.Status != 200 {
			t.Fatalf("delete a template nothing names: %d %s", r.Status, r.Body)
		}
	})
}
