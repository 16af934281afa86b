package api_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/testutil"
)

var passwordlessLink = regexp.MustCompile(`/oauth2/passwordless/([A-Za-z0-9_-]+)`)

// Passwordless login end to end through Mailpit: start (a key call) issues
// a code for a known login id; send mails it (anonymous: the code is the
// authority); login with it answers as /api/login, once, with a
// user.login.success of authenticationType PASSWORDLESS; codes expire after
// the tenant's lifetime. Seen failing before: every route was 404.
func TestPasswordlessLogin(t *testing.T) {
	t.Parallel()
	mp := testutil.StartMailpit(t)
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		e.useMailpit(mp, nil)
		rc := newReceiver(t)
		createWebhook(t, e.s, e.root, map[string]any{"url": rc.URL, "global": true, "allowPrivateNetworks": true,
			"eventsEnabled": map[string]bool{"user.login.success": true}})
		app, uid, email, _ := e.lgRefreshApp("Passwordless", nil)
		rc.waitFor(t, 1) // the password login of lgRefreshApp
		start := func(key, loginID string) *testutil.Response {
			return e.do("POST", "/api/passwordless/start", key, map[string]any{"loginId": loginID, "applicationId": app, "state": map[string]any{"from": "test"}})
		}
		e.want("start without a key", start("", email), 401)
		e.want("start, unknown login id", start(e.root, "nobody@example.com"), 404)
		e.want("start without application", e.do("POST", "/api/passwordless/start", e.root, map[string]any{"loginId": email}), 400)
		code := lgStr(e.want("start", start(e.root, email), 200)["code"])

		before := len(mp.Messages(t))
		e.want("send, unknown code", e.do("POST", "/api/passwordless/send", "", map[string]any{"code": "nope"}), 400)
		e.want("send", e.do("POST", "/api/passwordless/send", "", map[string]any{"code": code}), 200)
		msg := mailTo(t, mp, before, email)
		if m := passwordlessLink.FindStringSubmatch(msg.Text); msg.Subject != "Your sign-in link" || m == nil || m[1] != code {
			t.Fatalf("passwordless email: %q %q", msg.Subject, msg.Text)
		}

		res := e.want("login", e.do("POST", "/api/passwordless/login", "", map[string]any{"code": code}), 200)
		if u, _ := res["user"].(map[string]any); res["token"] == nil || u["id"] != uid {
			t.Fatalf("login answer: %v", res)
		}
		e.want("code used", e.do("POST", "/api/passwordless/login", "", map[string]any{"code": code}), 404)
		got := rc.waitFor(t, 2)
		if ev := got[1].Event; ev["type"] != "user.login.success" || ev["authenticationType"] != "PASSWORDLESS" || ev["applicationId"] != app ||
			!registeredWith(ev["user"].(map[string]any), app) {
			t.Fatalf("login event: %s", got[1].Body)
		}

		late := lgStr(e.want("start again", start(e.root, email), 200)["code"])
		e.clock.Advance(181 * time.Second) // the Default tenant's passwordlessLoginTimeToLiveInSeconds is 180
		e.want("expired", e.do("POST", "/api/passwordless/login", "", map[string]any{"code": late}), 404)
		if strings.Contains(late, code) {
			t.Fatal("codes repeat")
		}
	})
}
