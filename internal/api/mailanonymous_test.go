package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/email"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

// emailTemplate creates a template whose text is text and returns its id.
func (e *lgEnv) emailTemplate(name, text string) string {
	e.t.Helper()
	m := e.want("create template "+name, e.do("POST", "/api/email/template", e.root, map[string]any{"emailTemplate": map[string]any{
		"name": name, "defaultSubject": "Reset", "defaultTextTemplate": text}}), 200)
	return m["emailTemplate"].(map[string]any)["id"].(string)
}

// eventLogWith returns the event log's messages that contain text.
func (e *lgEnv) eventLogWith(text string) []string {
	e.t.Helper()
	var logs struct {
		EventLogs []struct{ Message, Type string }
	}
	e.do("POST", "/api/system/event-log/search", e.root, map[string]any{"search": map[string]any{"message": text, "numberOfResults": 100}}).JSON(e.t, &logs)
	var out []string
	for _, l := range logs.EventLogs {
		out = append(out, l.Type+": "+l.Message)
	}
	return out
}

func (e *lgEnv) forgotForm(address string) *testutil.Response {
	e.t.Helper()
	return e.do("POST", "/password/forgot", "", "email="+address, "Content-Type", "application/x-www-form-urlencoded")
}

// An anonymous forgot-password call (the API without a key, and the hosted
// page) answers a known address exactly as an unknown one when the email
// cannot be built for the user: a template that does not render with the
// user's values, one that runs past its limits, one that is gone. The
// failure goes to the event log; a key holder is told why (400). A nested
// value the user lacks renders empty and the email goes out. Seen failing
// before: a real user got 400 with the template's error, an unknown one
// 200 {}, and {{.user.data.company}} failed for a user without data.
func TestAnonymousForgotPasswordSameAnswerWhenMailFails(t *testing.T) {
	t.Parallel()
	mp := testutil.StartMailpit(t)
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		e.useMailpit(mp, nil)
		known := lgEmail("anon-" + b.Name)
		e.user(known, lgPassword, nil)
		unknown := "nobody-" + b.Name + "@example.com"
		for _, c := range []struct {
			name, text string
			gone       bool
		}{
			{name: "does not render", text: "Hi {{.user.email.domain}}"},
			{name: "runs past its limits", text: "{{range 200000000}}{{end}}x"},
			{name: "is gone", text: "Reset: {{.changePasswordId}}", gone: true},
		} {
			id := e.emailTemplate("Forgot "+c.name, c.text)
			e.patchTenant(map[string]any{"emailConfiguration": map[string]any{"forgotPasswordEmailTemplateId": id}})
			if c.gone {
				err := e.st.InTx(context.Background(), func(tx *store.Tx) error { return tx.DeleteEmailTemplate(context.Background(), id) })
				if err != nil {
					t.Fatal(err)
				}
			}
			k := e.do("POST", "/api/user/forgot-password", "", map[string]any{"loginId": known})
			u := e.do("POST", "/api/user/forgot-password", "", map[string]any{"loginId": unknown})
			if k.Status != 200 || u.Status != 200 || string(k.Body) != string(u.Body) {
				t.Fatalf("%s: API: known %d %s, unknown %d %s", c.name, k.Status, k.Body, u.Status, u.Body)
			}
			kp, up := e.forgotForm(known), e.forgotForm(unknown)
			if kp.Status != 200 || up.Status != 200 || string(kp.Body) != string(up.Body) {
				t.Fatalf("%s: page: known %d %s, unknown %d", c.name, kp.Status, kp.Body, up.Status)
			}
			if logs := e.eventLogWith(id); len(logs) != 2 || !strings.HasPrefix(logs[0], "Error: The forgot password email of user [") {
				t.Fatalf("%s: event log: %q", c.name, logs)
			}
			if r := e.do("POST", "/api/user/forgot-password", e.root, map[string]any{"loginId": known}); r.Status != 400 {
				t.Fatalf("%s: keyed: %d %s", c.name, r.Status, r.Body)
			}
		}
		{ // a nested value the user lacks
			id := e.emailTemplate("Forgot nested", "Hi {{.user.data.company}}{{.user.data.address.city}}! {{.changePasswordId}}")
			e.patchTenant(map[string]any{"emailConfiguration": map[string]any{"forgotPasswordEmailTemplateId": id}})
			before := len(mp.Messages(t))
			e.want("anonymous", e.do("POST", "/api/user/forgot-password", "", map[string]any{"loginId": known}), 200)
			if m := mailTo(t, mp, before, known); !strings.HasPrefix(m.Text, "Hi ! ") {
				t.Fatalf("email: %q", m.Text)
			}
		}
	})
}

// An anonymous forgot-password call takes the same time for a known address
// and an unknown one: both answer after the same floor, longer than a known
// address's work. Seen failing before: an unknown address answered about
// 10 ms sooner.
func TestAnonymousForgotPasswordTiming(t *testing.T) {
	t.Parallel()
	mp := testutil.StartMailpit(t)
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		e.useMailpit(mp, nil)
		known := lgEmail("timing-" + b.Name)
		e.user(known, lgPassword, nil)
		const floor = 200 * time.Millisecond
		for _, c := range []struct {
			what string
			call func() *testutil.Response
		}{
			{"API known", func() *testutil.Response {
				return e.do("POST", "/api/user/forgot-password", "", map[string]any{"loginId": known})
			}},
			{"API unknown", func() *testutil.Response {
				return e.do("POST", "/api/user/forgot-password", "", map[string]any{"loginId": "nobody@example.com"})
			}},
			{"page known", func() *testutil.Response { return e.forgotForm(known) }},
			{"page unknown", func() *testutil.Response { return e.forgotForm("nobody@example.com") }},
		} {
			start := time.Now()
			r := c.call()
			if took := time.Since(start); r.Status != 200 || took < floor {
				t.Errorf("%s: %d after %v, want 200 after at least %v", c.what, r.Status, took, floor)
			}
		}
	})
}

// The other anonymous calls that mail a user (passwordless send with a
// code, two-factor send with a twoFactorId) answer 200 when the email
// cannot be built, and the event log says why; a key holder's call is
// told (400). Seen failing before: the anonymous caller got the template's
// error.
func TestAnonymousMailFlowsHideTemplateErrors(t *testing.T) {
	t.Parallel()
	mp := testutil.StartMailpit(t)
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		e.useMailpit(mp, nil)
		app, uid, address, _ := e.lgRefreshApp("Anonymous mail "+b.Name, nil)
		broken := map[string]any{"name": "Broken", "defaultSubject": "Code", "defaultTextTemplate": "{{.code}} {{.user.email.domain}}"}

		// Passwordless: the tenant's template does not render.
		pl := e.emailTemplate("Broken passwordless", "{{.code}} {{.user.email.domain}}")
		e.patchTenant(map[string]any{"emailConfiguration": map[string]any{"passwordlessEmailTemplateId": pl}})
		code := lgStr(e.want("start", e.do("POST", "/api/passwordless/start", e.root, map[string]any{"loginId": address, "applicationId": app}), 200)["code"])
		e.want("passwordless send", e.do("POST", "/api/passwordless/send", "", map[string]any{"code": code}), 200)
		if logs := e.eventLogWith(pl); len(logs) != 1 || !strings.Contains(logs[0], "passwordless login email of user ["+uid+"]") {
			t.Fatalf("passwordless event log: %q", logs)
		}

		// Two-factor: the user's email method works, then its template breaks.
		before := len(mp.Messages(t))
		e.want("enrol", e.do("POST", "/api/two-factor/send", e.root, map[string]any{"userId": uid, "method": "email", "email": address}), 200)
		enrol := mailedTwoFactorCode.FindStringSubmatch(mailTo(t, mp, before, address).Text)[1]
		e.want("enable", e.do("POST", "/api/user/two-factor/"+uid, e.root, map[string]any{"method": "email", "email": address, "code": enrol}), 200)
		m := e.want("login", e.login("", map[string]any{"loginId": address, "password": lgPassword, "applicationId": app}), 242)
		method := m["methods"].([]any)[0].(map[string]any)
		e.want("break the template", e.do("PUT", "/api/email/template/"+email.DefaultTwoFactorTemplateID, e.root, map[string]any{"emailTemplate": broken}), 200)
		e.want("send for the login", e.do("POST", "/api/two-factor/send/"+lgStr(m["twoFactorId"]), "", map[string]any{"methodId": method["id"]}), 200)
		if logs := e.eventLogWith(email.DefaultTwoFactorTemplateID); len(logs) != 1 || !strings.Contains(logs[0], "two-factor code email of user ["+uid+"]") {
			t.Fatalf("two-factor event log: %q", logs)
		}
		e.want("keyed send", e.do("POST", "/api/two-factor/send", e.root, map[string]any{"userId": uid, "methodId": method["id"]}), 400)
	})
}
