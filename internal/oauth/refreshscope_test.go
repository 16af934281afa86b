package oauth_test

import (
	"net/url"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

// TestRefreshScope: a refresh_token grant's scope may narrow what the
// access token (and the ID token, which comes only with openid) carries,
// never widen it (RFC 6749 6); the refresh token keeps its scope. A
// refused refresh changes nothing: under OneTimeUse the token it named is
// not rotated, so the client's next refresh works.
func TestRefreshScope(t *testing.T) {
	const granted = "openid offline_access email profile"
	cases := []struct {
		name      string
		scope     string
		status    int
		err       string
		wantScope string
		idToken   bool
		email     bool // the ID token carries email
		name_     bool // the ID token carries name
	}{
		{name: "wider is refused", scope: "openid offline_access phone", status: 400, err: "invalid_scope"},
		{name: "unknown is refused", scope: "openid nope", status: 400, err: "invalid_scope"},
		{name: "none keeps the grant", scope: "", status: 200, wantScope: granted, idToken: true, email: true, name_: true},
		{name: "narrower", scope: "openid email", status: 200, wantScope: "openid email", idToken: true, email: true},
		{name: "without openid no ID token", scope: "offline_access", status: 200, wantScope: "offline_access"},
		{name: "the same, reordered", scope: "profile openid", status: 200, wantScope: "profile openid", idToken: true, name_: true},
	}
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		for _, usage := range []string{"OneTimeUse", "Reusable"} {
			t.Run(usage, func(t *testing.T) {
				c := e.app(appOpts{usage: usage})
				email := "scope-" + usage + "@example.com"
				e.user(email, nil, c.id)
				tok, _ := e.codeFlow(e.browser(), e.rp(c), email)
				rt := tok.RefreshToken
				refresh := func(scope string) (int, map[string]any) {
					t.Helper()
					form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
					if scope != "" {
						form.Set("scope", scope)
					}
					st, _, body := e.postForm("/oauth2/token", form, c.id, c.secret)
					if st == 200 {
						rt = body["refresh_token"].(string)
					}
					return st, body
				}
				for _, tc := range cases {
					st, body := refresh(tc.scope)
					if st != tc.status || (tc.err != "" && (body["error"] != tc.err || body["error_reason"] == nil)) {
						t.Fatalf("%s: %d %v", tc.name, st, body)
					}
					if tc.status != 200 {
						continue
					}
					at := claimsOf(t, body["access_token"].(string))
					if body["scope"] != tc.wantScope || at["scope"] != tc.wantScope {
						t.Errorf("%s: answered scope %v, access token scope %v, want %q", tc.name, body["scope"], at["scope"], tc.wantScope)
					}
					idt, _ := body["id_token"].(string)
					if (idt != "") != tc.idToken {
						t.Errorf("%s: id_token %q, want one: %v", tc.name, idt, tc.idToken)
					}
					if idt == "" {
						continue
					}
					claims := claimsOf(t, idt)
					if _, ok := claims["email"]; ok != tc.email {
						t.Errorf("%s: ID token email %v, want %v", tc.name, claims["email"], tc.email)
					}
					if _, ok := claims["name"]; ok != tc.name_ {
						t.Errorf("%s: ID token name %v, want %v", tc.name, claims["name"], tc.name_)
					}
				}
				// The refresh token kept the scope it was granted.
				if st, body := refresh(""); st != 200 || body["scope"] != granted {
					t.Fatalf("after the narrowed refreshes: %d %v", st, body)
				}
			})
		}
	})
}
