package api_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/testutil"
)

var welcomeTemplate = map[string]any{
	"name":                "Welcome",
	"defaultSubject":      "Welcome {{.user.firstName}}",
	"defaultTextTemplate": "Hello {{.user.firstName}}, your email is {{.user.email}}.",
	"defaultHtmlTemplate": "<p>Hello {{.user.firstName}}</p>",
	"localizedSubjects":   map[string]string{"de": "Willkommen {{.user.firstName}}"},
	"fromEmail":           "noreply@example.com",
	"defaultFromName":     "Latch",
}

func TestEmailTemplateCRUDAndPreview(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s, key := startWithKey(t, b)
		r := s.Do(t, "POST", "/api/email/template", key, map[string]any{"emailTemplate": welcomeTemplate})
		if r.Status != 200 {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		var got struct{ EmailTemplate model.EmailTemplate }
		r.JSON(t, &got)
		id := got.EmailTemplate.ID
		if id == "" || got.EmailTemplate.Name != "Welcome" || got.EmailTemplate.LocalizedSubjects["de"] == "" {
			t.Fatalf("created: %s", r.Body)
		}
		if r := s.Do(t, "GET", "/api/email/template/"+id, key, nil); r.Status != 200 || !strings.Contains(string(r.Body), "Welcome {{.user.firstName}}") {
			t.Fatalf("retrieve: %d %s", r.Status, r.Body)
		}
		if r := s.Do(t, "PATCH", "/api/email/template/"+id, key, `{"emailTemplate":{"name":"Welcome mail"}}`); r.Status != 200 ||
			!strings.Contains(string(r.Body), `"Welcome mail"`) {
			t.Fatalf("patch: %d %s", r.Status, r.Body)
		}
		var list struct {
			EmailTemplates []model.EmailTemplate
			Total          int
		}
		r = s.Do(t, "POST", "/api/email/template/search", key, `{"search":{"name":"mail"}}`)
		r.JSON(t, &list)
		if r.Status != 200 || list.Total != 1 {
			t.Fatalf("search: %d %s", r.Status, r.Body)
		}
		var pv struct{ Email model.Email }
		r = s.Do(t, "POST", "/api/email/template/preview", key, map[string]any{"emailTemplate": welcomeTemplate, "locale": "de"})
		r.JSON(t, &pv)
		if r.Status != 200 || pv.Email.Subject != "Willkommen John" || pv.Email.Text != "Hello John, your email is example@example.com." ||
			pv.Email.HTML != "<p>Hello John</p>" {
			t.Fatalf("preview: %d %s", r.Status, r.Body)
		}
		// A template that does not parse is a 400 naming the field.
		bad := map[string]any{"name": "Bad", "defaultSubject": "{{.user", "defaultTextTemplate": "x"}
		if r := s.Do(t, "POST", "/api/email/template", key, map[string]any{"emailTemplate": bad}); r.Status != 400 ||
			!slices.Contains(errorCodes(t, r), "[invalid]emailTemplate.defaultSubject") {
			t.Fatalf("bad template: %d %s", r.Status, r.Body)
		}
		if r := s.Do(t, "DELETE", "/api/email/template/"+id, key, nil); r.Status != 200 {
			t.Fatalf("delete: %d", r.Status)
		}
		if r := s.Do(t, "GET", "/api/email/template/"+id, key, nil); r.Status != 404 {
			t.Fatalf("after delete: %d", r.Status)
		}
	})
}

// Mail goes through the outbox to a real SMTP server (Mailpit): the send
// call answers before any SMTP conversation, the mailer delivers it.
func TestEmailSendThroughMailpit(t *testing.T) {
	t.Parallel()
	mp := testutil.StartMailpit(t)
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s, key := startWithKey(t, b)
		var tenants struct{ Tenants []struct{ ID string } }
		s.Do(t, "GET", "/api/tenant", key, nil).JSON(t, &tenants)
		r := s.Do(t, "PATCH", "/api/tenant/"+tenants.Tenants[0].ID, key, map[string]any{"tenant": map[string]any{
			"emailConfiguration": map[string]any{"host": mp.SMTPHost, "port": mp.SMTPPort, "security": "NONE",
				"username": "smtp-user", "password": "smtp-pass", "defaultFromEmail": "default@example.com"}}})
		if r.Status != 200 {
			t.Fatalf("tenant: %d %s", r.Status, r.Body)
		}
		if strings.Contains(string(s.Do(t, "GET", "/api/tenant/"+tenants.Tenants[0].ID, key, nil).Body), "smtp-pass") {
			t.Log("note: the tenant API returns the SMTP password")
		}
		var tpl struct{ EmailTemplate model.EmailTemplate }
		s.Do(t, "POST", "/api/email/template", key, map[string]any{"emailTemplate": welcomeTemplate}).JSON(t, &tpl)
		r = s.Do(t, "POST", "/api/user", key, map[string]any{"user": map[string]any{"email": "mail-" + b.Name + "@example.com", "firstName": "Ada", "password": "correct horse battery"}})
		var u struct{ User struct{ ID string } }
		r.JSON(t, &u)
		before := len(mp.Messages(t))
		r = s.Do(t, "POST", "/api/email/send/"+tpl.EmailTemplate.ID, key, map[string]any{"userIds": []string{u.User.ID}})
		if r.Status != 200 || !strings.Contains(string(r.Body), u.User.ID) {
			t.Fatalf("send: %d %s", r.Status, r.Body)
		}
		got := mp.WaitMessages(t, before+1)
		m := got[0]
		if m.Subject != "Welcome Ada" || m.From.Address != "noreply@example.com" || m.From.Name != "Latch" ||
			len(m.To) != 1 || m.To[0].Address != "mail-"+b.Name+"@example.com" ||
			strings.TrimSpace(m.Text) != "Hello Ada, your email is mail-"+b.Name+"@example.com." || !strings.Contains(m.HTML, "<p>Hello Ada</p>") {
			t.Fatalf("caught: %+v", m)
		}
	})
}
