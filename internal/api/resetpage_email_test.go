package api_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

// The hosted reset page of a user whose only second factor is email: the
// page offers "Email me a code" and mails one (through Mailpit); that code
// earns the change, once; a code it did not mail is refused. Seen failing
// before: such a user could not get a code on the page at all.
func TestResetPageEmailsStepUpCode(t *testing.T) {
	t.Parallel()
	mp := testutil.StartMailpit(t)
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		e.useMailpit(mp, nil)
		email := lgEmail("reset-email-" + b.Name)
		uid := e.user(email, lgPassword, nil)
		codeTo := func(before int) string {
			t.Helper()
			msg := mailTo(t, mp, before, email)
			if msg.Subject != "Your verification code" {
				t.Fatalf("two-factor email: %q", msg.Subject)
			}
			return mailedTwoFactorCode.FindStringSubmatch(msg.Text)[1]
		}
		before := len(mp.Messages(t))
		e.want("send enrolment code", e.do("POST", "/api/two-factor/send", e.root, map[string]any{"userId": uid, "method": "email", "email": email}), 200)
		e.want("enable", e.do("POST", "/api/user/two-factor/"+uid, e.root, map[string]any{"method": "email", "email": email, "code": codeTo(before)}), 200)

		form := func(path string, v url.Values) *testutil.Response {
			return e.do("POST", path, "", v.Encode(), "Content-Type", "application/x-www-form-urlencoded")
		}
		before = len(mp.Messages(t))
		form("/password/forgot", url.Values{"email": {email}})
		id := changeLink.FindStringSubmatch(mailTo(t, mp, before, email).Text)[1]
		page := "/password/change/" + id
		if r := e.do("GET", page, "", nil); r.Status != 200 || !strings.Contains(string(r.Body), `value="send-code"`) || !strings.Contains(string(r.Body), `name="code"`) {
			t.Fatalf("change page of an email-factor user: %d %s", r.Status, r.Body)
		}
		pw := url.Values{"password": {"one new password"}, "passwordConfirm": {"one new password"}, "code": {"123456"}}
		if r := form(page, pw); r.Status != 400 || !strings.Contains(string(r.Body), "code is not correct") {
			t.Fatalf("a code never mailed: %d %s", r.Status, r.Body)
		}
		before = len(mp.Messages(t))
		if r := form(page, url.Values{"action": {"send-code"}}); r.Status != 200 || !strings.Contains(string(r.Body), "We sent a code") {
			t.Fatalf("send code: %d %s", r.Status, r.Body)
		}
		code := codeTo(before)
		e.want("old password still works", e.login(e.root, map[string]any{"loginId": email, "password": lgPassword}), 242)
		pw.Set("code", code)
		if r := form(page, pw); r.Status != 200 || !strings.Contains(string(r.Body), "Password changed") {
			t.Fatalf("change with the mailed code: %d %s", r.Status, r.Body)
		}
		e.want("new password", e.login(e.root, map[string]any{"loginId": email, "password": "one new password"}), 242)

		// The mailed code worked once: a second reset cannot reuse it.
		before = len(mp.Messages(t))
		form("/password/forgot", url.Values{"email": {email}})
		id2 := changeLink.FindStringSubmatch(mailTo(t, mp, before, email).Text)[1]
		again := url.Values{"password": {"another new password"}, "passwordConfirm": {"another new password"}, "code": {code}}
		if r := form("/password/change/"+id2, again); r.Status != 400 || !regexp.MustCompile(`code is not correct`).MatchString(string(r.Body)) {
			t.Fatalf("mailed code reused: %d %s", r.Status, r.Body)
		}
	})
}
