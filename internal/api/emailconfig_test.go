package api_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/email"
	"github.com/latchid/latch/internal/model"
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
