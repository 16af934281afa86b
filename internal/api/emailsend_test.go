package api_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/testutil"
)

// A template that runs past its limits is refused with a clear 400 by the
// preview and the send, within a moment, and a flow's keyed call is told
// the same; the template itself parses and is stored. Seen failing before:
// the preview of {{range 10000000000}}{{end}} ran for minutes.
func TestTemplateLimitsRefused(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		email := lgEmail("limits-" + b.Name)
		uid := e.user(email, lgPassword, nil)
		for _, c := range []struct{ name, text string }{
			{"endless loop", "{{range 10000000000}}{{end}}"},
			{"recursion", `{{define "a"}}{{template "a" .}}{{template "a" .}}{{end}}{{template "a" .}}`},
			{"output", `{{range 100000}}{{printf "%09999d" 1}}{{end}}`},
		} {
			tpl := map[string]any{"name": "Limits " + c.name, "defaultSubject": "s", "defaultTextTemplate": c.text}
			start := time.Now()
			r := e.do("POST", "/api/email/template/preview", e.root, map[string]any{"emailTemplate": tpl})
			if r.Status != 400 || !slices.Contains(errorCodes(t, r), "[invalid]emailTemplate.defaultTextTemplate") ||
				!strings.Contains(string(r.Body), "The template was stopped") || time.Since(start) > 10*time.Second {
				t.Fatalf("%s: preview %d %s after %v", c.name, r.Status, r.Body, time.Since(start))
			}
			id := e.emailTemplate(tpl["name"].(string), c.text)
			r = e.do("POST", "/api/email/send/"+id, e.root, map[string]any{"userIds": []string{uid}})
			if r.Status != 400 || !strings.Contains(string(r.Body), "The template was stopped") {
				t.Fatalf("%s: send %d %s", c.name, r.Status, r.Body)
			}
			e.patchTenant(map[string]any{"emailConfiguration": map[string]any{"forgotPasswordEmailTemplateId": id}})
			if r := e.do("POST", "/api/user/forgot-password", e.root, map[string]any{"loginId": email}); r.Status != 400 ||
				!strings.Contains(string(r.Body), "The template was stopped") {
				t.Fatalf("%s: keyed forgot %d %s", c.name, r.Status, r.Body)
			}
		}
	})
}

// POST /api/email/send/{id} takes FusionAuth's SendRequest: each user's
// message is in the user's preferredLanguages, the toAddresses' in the
// request's; applicationId gives {{.application}}; a recipient whose
// message does not render is answered in its result (renderErrors) and the
// others are sent. Seen failing before: locales was read instead of
// preferredLanguages, the user's own languages and applicationId were
// ignored, and one failing recipient failed the request.
func TestEmailSendRequest(t *testing.T) {
	t.Parallel()
	mp := testutil.StartMailpit(t)
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		e.useMailpit(mp, nil)
		app := e.app("Send app "+b.Name, lgAppOpts{})
		tagged, untagged := lgEmail("tagged-"+b.Name), lgEmail("untagged-"+b.Name)
		withTags := e.user(tagged, lgPassword, map[string]any{"preferredLanguages": []string{"fr", "de_AT"}, "data": map[string]any{"tags": []string{"blue"}}})
		withoutTags := e.user(untagged, lgPassword, nil)
		tpl := e.want("template", e.do("POST", "/api/email/template", e.root, map[string]any{"emailTemplate": map[string]any{
			"name": "Send " + b.Name, "defaultSubject": "Hello", "localizedSubjects": map[string]string{"de": "Hallo"},
			"defaultTextTemplate": "{{.application.name}}: {{index .user.data.tags 0}}"}}), 200)
		id := tpl["emailTemplate"].(map[string]any)["id"].(string)

		before := len(mp.Messages(t))
		anon := "anon-" + b.Name + "@example.com"
		r := e.want("send", e.do("POST", "/api/email/send/"+id, e.root, map[string]any{"applicationId": app,
			"userIds": []string{withTags, withoutTags}, "toAddresses": []map[string]string{{"address": anon}}}), 200)
		results, _ := r["results"].(map[string]any)
		anonymous, _ := r["anonymousResults"].(map[string]any)
		ok, _ := results[withTags].(map[string]any)
		failed, _ := results[withoutTags].(map[string]any)
		anonFailed, _ := anonymous[anon].(map[string]any)
		if ok == nil || len(ok) != 0 || failed["renderErrors"] == nil || anonFailed["renderErrors"] == nil {
			body, _ := json.Marshal(r)
			t.Fatalf("results: %s", body)
		}
		if m := mailTo(t, mp, before, tagged); m.Subject != "Hallo" || strings.TrimSpace(m.Text) != "Send app "+b.Name+": blue" {
			t.Fatalf("user's message: %q %q", m.Subject, m.Text)
		}

		// The request's languages for toAddresses.
		plain := e.emailTemplate("Send plain "+b.Name, "Hi from {{.application.name}}")
		e.want("localize", e.do("PATCH", "/api/email/template/"+plain, e.root, map[string]any{"emailTemplate": map[string]any{
			"localizedSubjects": map[string]string{"de": "Hallo"}}}), 200)
		before = len(mp.Messages(t))
		e.want("send to an address", e.do("POST", "/api/email/send/"+plain, e.root, map[string]any{"applicationId": app,
			"preferredLanguages": []string{"de"}, "toAddresses": []map[string]string{{"address": anon, "display": "Anon"}}}), 200)
		if m := mailTo(t, mp, before, anon); m.Subject != "Hallo" || strings.TrimSpace(m.Text) != "Hi from Send app "+b.Name {
			t.Fatalf("address's message: %q %q", m.Subject, m.Text)
		}
		want400(t, "unknown application", e.do("POST", "/api/email/send/"+plain, e.root, map[string]any{"applicationId": uuid.NewString(),
			"toAddresses": []map[string]string{{"address": anon}}}), "[invalid]applicationId")
	})
}

// The forgot-password events come in FusionAuth's order, start then send,
// both with the caller's address. Seen failing before: send came first,
// without info.ipAddress.
func TestForgotPasswordEventOrder(t *testing.T) {
	t.Parallel()
	mp := testutil.StartMailpit(t)
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		e.useMailpit(mp, nil)
		rc := newReceiver(t)
		createWebhook(t, e.s, e.root, map[string]any{"url": rc.URL, "global": true, "allowPrivateNetworks": true,
			"eventsEnabled": map[string]bool{"user.password.reset.start": true, "user.password.reset.send": true}})
		email := lgEmail("events-" + b.Name)
		e.user(email, lgPassword, nil)
		for _, key := range []string{"", e.root} {
			n := len(rc.all())
			e.want("forgot", e.do("POST", "/api/user/forgot-password", key, map[string]any{"loginId": email}), 200)
			got := rc.waitFor(t, n+2)[n:]
			if types := eventTypes(got); !slices.Equal(types, []string{"user.password.reset.start", "user.password.reset.send"}) {
				t.Fatalf("key %q: events %v", key, types)
			}
			for _, g := range got {
				if info, _ := g.Event["info"].(map[string]any); info["ipAddress"] != "127.0.0.1" {
					t.Fatalf("key %q: %s without the caller's address: %s", key, g.Event["type"], g.Body)
				}
			}
		}
	})
}

// The From and To headers parse back as sent through a real SMTP server:
// display names with commas, parentheses, colons, at signs and letters
// beyond ASCII. Seen failing before: `From: ACME, Inc. (Support) <…>` and
// `To: Doe, John <…>` were written unquoted, and read as other mailboxes.
func TestAddressHeadersThroughMailpit(t *testing.T) {
	t.Parallel()
	mp := testutil.StartMailpit(t)
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		e.useMailpit(mp, nil)
		for i, c := range []struct{ from, to string }{
			{"ACME, Inc. (Support)", "Doe, John"},
			{"Müller: Support@Home", "Zoë (née Smith), Esq."},
			{`The "Team"`, "日本語"},
		} {
			tpl := e.want("template", e.do("POST", "/api/email/template", e.root, map[string]any{"emailTemplate": map[string]any{
				"name": fmt.Sprintf("Names %d", i), "defaultSubject": "Names", "defaultTextTemplate": "x", "fromEmail": "noreply@example.com",
				"defaultFromName": c.from}}), 200)
			to := fmt.Sprintf("names-%d-%s@example.com", i, b.Name)
			before := len(mp.Messages(t))
			e.want("send", e.do("POST", "/api/email/send/"+lgStr(tpl["emailTemplate"].(map[string]any)["id"]), e.root,
				map[string]any{"toAddresses": []map[string]string{{"address": to, "display": c.to}}}), 200)
			m := mp.WaitMessages(t, before+1)[0] // this test's Mailpit: the newest is this message
			if m.From.Name != c.from || m.From.Address != "noreply@example.com" || len(m.To) != 1 || m.To[0].Name != c.to {
				t.Fatalf("%d: from %+v to %+v", i, m.From, m.To)
			}
		}
	})
}

// The template's fromEmail and defaultFromName each win over the tenant's,
// one without the other too. Seen failing before: a template's
// defaultFromName without a fromEmail was replaced by the tenant's name.
func TestTemplateFromWinsOverTenant(t *testing.T) {
	t.Parallel()
	mp := testutil.StartMailpit(t)
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		e.useMailpit(mp, map[string]any{"defaultFromEmail": "tenant@example.com", "defaultFromName": "Tenant"})
		for i, c := range []struct{ fromEmail, fromName, wantEmail, wantName string }{
			{"", "Support", "tenant@example.com", "Support"},
			{"template@example.com", "", "template@example.com", "Tenant"},
			{"template@example.com", "Support", "template@example.com", "Support"},
			{"", "", "tenant@example.com", "Tenant"},
		} {
			tpl := map[string]any{"name": fmt.Sprintf("From %d", i), "defaultSubject": "From", "defaultTextTemplate": "x"}
			if c.fromEmail != "" {
				tpl["fromEmail"] = c.fromEmail
			}
			if c.fromName != "" {
				tpl["defaultFromName"] = c.fromName
			}
			id := lgStr(e.want("template", e.do("POST", "/api/email/template", e.root, map[string]any{"emailTemplate": tpl}), 200)["emailTemplate"].(map[string]any)["id"])
			before := len(mp.Messages(t))
			e.want("send", e.do("POST", "/api/email/send/"+id, e.root, map[string]any{"toAddresses": []map[string]string{{"address": "from@example.com"}}}), 200)
			if m := mp.WaitMessages(t, before+1)[0]; m.From.Address != c.wantEmail || m.From.Name != c.wantName {
				t.Errorf("%d: from %+v, want %s <%s>", i, m.From, c.wantName, c.wantEmail)
			}
		}
	})
}
