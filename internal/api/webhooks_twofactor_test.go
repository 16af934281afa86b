package api_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/testutil"
)

// A second factor's login steps reach a webhook as FusionAuth's
// user.two-factor.challenge (a login answered 242, /api/two-factor/start),
// user.two-factor.failed-attempt (a wrong code) and user.two-factor.success
// (with the method that verified), each with the user and the login's
// application, never a secret or a code.
func TestWebhookTwoFactorLoginEvents(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		app := e.app("MFA events", lgAppOpts{roles: []string{"r"}})
		email := lgEmail("mfa-events")
		uid := e.user(email, lgPassword, nil)
		e.register(uid, app, "r")
		secret, _ := e.tfSecret(e.root)
		now := func() string { return tfCode([]byte(secret), e.clock.Now()) }
		enabled := e.want("enable", e.do("POST", "/api/user/two-factor/"+uid, e.root,
			map[string]any{"method": "authenticator", "secret": secret, "code": now()}), 200)
		recovery := lgStr(enabled["recoveryCodes"].([]any)[0])
		rc := newReceiver(t)
		createWebhook(t, e.s, e.root, map[string]any{"url": rc.URL, "global": true, "allowPrivateNetworks": true,
			"eventsEnabled": map[string]bool{"user.two-factor.challenge": true, "user.two-factor.failed-attempt": true, "user.two-factor.success": true}})

		e.clock.Advance(30 * time.Second) // past the window of the code that enabled
		id := e.tfLogin(email, app)
		e.want("wrong code", e.tfFinish(id, fmt.Sprintf("%06d", (mustAtoi(t, now())+1)%1_000_000)), 421)
		e.want("authenticator code", e.tfFinish(id, now()), 200)
		e.want("recovery code", e.tfFinish(e.tfLogin(email, app), recovery), 200)
		st := e.want("start", e.do("POST", "/api/two-factor/start", e.root, map[string]any{"loginId": email, "applicationId": app}), 200)
		e.want("start's code", e.tfFinish(lgStr(st["twoFactorId"]), lgStr(st["code"])), 200)

		want := []struct{ typ, method string }{
			{"user.two-factor.challenge", ""}, {"user.two-factor.failed-attempt", ""}, {"user.two-factor.success", "authenticator"},
			{"user.two-factor.challenge", ""}, {"user.two-factor.success", "recoveryCode"},
			{"user.two-factor.challenge", ""}, {"user.two-factor.success", ""},
		}
		got := rc.waitFor(t, len(want))
		var types, wantTypes []string
		for _, w := range want {
			wantTypes = append(wantTypes, w.typ)
		}
		if types = eventTypes(got); !slices.Equal(types, wantTypes) {
			t.Fatalf("events %v\nwant %v", types, wantTypes)
		}
		for i, g := range got {
			ev := g.Event
			if member(ev, "user")["id"] != uid || ev["tenantId"] != e.tenant || ev["applicationId"] != app || ev["id"] == nil ||
				ev["createInstant"] == nil || strings.Contains(string(g.Body), secret) || strings.Contains(string(g.Body), recovery) {
				t.Errorf("%s: %s", ev["type"], g.Body)
			}
			if m, _ := ev["method"].(string); m != want[i].method {
				t.Errorf("%s: method %q, want %q", ev["type"], m, want[i].method)
			}
		}
		if n := len(rc.all()); n != len(want) {
			t.Errorf("%d events, want %d", n, len(want))
		}
	})
}
