package oauth_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

// TestDeviceConfirmation: on the device page, a user who is signed in
// already is shown which application the device asks for (RFC 8628 5.4)
// and nothing is approved until the user allows it; cancelling approves
// nothing. A user who signs in on the page has seen the application's name
// on the sign-in form, and signing in approves.
func TestDeviceConfirmation(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		const name = "Living Room Television"
		c := e.app(appOpts{name: name, grants: []string{"urn:ietf:params:oauth:grant-type:device_code", "authorization_code"},
			deviceURL: e.s.URL + "/oauth2/device"})
		e.user("couch@example.com", nil, c.id)
		signedIn := e.browser()
		e.codeFlow(signedIn, e.rp(c), "couch@example.com")
		poll := func(deviceCode string) string {
			t.Helper()
			e.clock.Advance(6e9) // past the interval
			_, _, body := e.postForm("/oauth2/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
				"device_code": {deviceCode}}, c.id, c.secret)
			if body["access_token"] != nil {
				return "tokens"
			}
			return body["error"].(string)
		}
		for _, tc := range []struct {
			name     string
			browser  *browser
			steps    [][]string // fields posted to each page's form in turn
			pages    []string   // what each page says (after entering the code, then after each step)
			wantPoll string
		}{
			{"signed in, allowed", signedIn, [][]string{{"decision", "allow"}},
				[]string{name, "Device connected"}, "tokens"},
			{"signed in, cancelled", signedIn, [][]string{{"decision", "deny"}},
				[]string{name, "not connected"}, "authorization_pending"},
			{"signed in, left on the confirmation", signedIn, nil,
				[]string{name}, "authorization_pending"},
			{"signing in on the page", e.browser(), [][]string{{"loginId", "couch@example.com", "password", testPassword}},
				[]string{"to continue to " + name, "Device connected"}, "tokens"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				st, _, da := e.postForm("/oauth2/device_authorize", url.Values{"scope": {"openid email"}}, c.id, c.secret)
				if st != 200 {
					t.Fatalf("device_authorize: %d %v", st, da)
				}
				p := tc.browser.submit(tc.browser.get("/oauth2/device"), "user_code", da["user_code"].(string))
				for i, says := range tc.pages {
					if p.status != 200 || !strings.Contains(p.body, says) {
						t.Fatalf("page %d: want %q, got %d %s", i, says, p.status, p.body)
					}
					if i == 0 && tc.browser == signedIn && !strings.Contains(p.body, da["user_code"].(string)) {
						t.Errorf("the confirmation does not show the code: %s", p.body)
					}
					if i < len(tc.steps) {
						p = tc.browser.submit(p, tc.steps[i]...)
					}
				}
				if got := poll(da["device_code"].(string)); got != tc.wantPoll {
					t.Errorf("the device's poll: %s, want %s", got, tc.wantPoll)
				}
			})
		}
	})
}
