package oauth_test

import (
	"net/url"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

// TestPasswordGrantRequiresRegistration: the password grant holds
// oauthConfiguration.requireRegistration as the hosted pages and the device
// approval do: an unregistered user is refused with access_denied
// (registration_required), after the password is checked.
func TestPasswordGrantRequiresRegistration(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		grants := []string{"password", "refresh_token"}
		required := e.app(appOpts{grants: grants, requireReg: true})
		optional := e.app(appOpts{grants: grants})
		e.user("registered@example.com", nil, required.id, optional.id)
		e.user("stranger@example.com", nil)
		for _, tc := range []struct {
			name     string
			c        client
			email    string
			password string
			status   int
			err      string
			reason   string
		}{
			{"registered user", required, "registered@example.com", testPassword, 200, "", ""},
			{"unregistered user", required, "stranger@example.com", testPassword, 400, "access_denied", "registration_required"},
			{"unregistered user, wrong password", required, "stranger@example.com", "wrong", 400, "invalid_grant", "invalid_user_credentials"},
			{"unregistered user, registration not required", optional, "stranger@example.com", testPassword, 200, "", ""},
		} {
			st, _, body := e.postForm("/oauth2/token", url.Values{"grant_type": {"password"}, "username": {tc.email},
				"password": {tc.password}, "scope": {"openid offline_access"}}, tc.c.id, tc.c.secret)
			if st != tc.status || (tc.err != "" && (body["error"] != tc.err || body["error_reason"] != tc.reason || body["error_description"] == nil)) {
				t.Errorf("%s: %d %v, want %d %s/%s", tc.name, st, body, tc.status, tc.err, tc.reason)
			}
			if st == 400 && body["access_token"] != nil {
				t.Errorf("%s: a refusal carries tokens: %v", tc.name, body)
			}
		}
	})
}
