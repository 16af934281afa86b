package oauth_test

import (
	"net/url"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/latchid/latch/internal/testutil"
)

// TestCodeReplayRevokesAccessTokens: a second use of an authorization code
// is refused and revokes what the first exchange issued: its refresh token
// (with the tokens refreshed from it) and its access tokens, which
// introspection, userinfo and /api/jwt/validate then refuse on every node
// (at once on the node that saw the replay, within a poll on the others).
// The user's other sessions are untouched.
func TestCodeReplayRevokesAccessTokens(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		var shared []testutil.Option
		if b.DatabaseURL == "" {
			shared = append(shared, testutil.WithSharedDataDir(t.TempDir())) // one SQLite file for both nodes
		}
		e := start(t, b, shared...)
		nodeB := testutil.StartServer(t, append(shared, testutil.WithBackend(b), testutil.WithClock(e.clock),
			testutil.WithEnv("LATCH_MASTER_KEY", testutil.TestMasterKey), testutil.WithSharedDataDir(e.s.DataDir))...)
		onB := *e
		onB.s = nodeB
		c := e.app(appOpts{})
		e.user("replay@example.com", nil, c.id)

		// active reports what a node's three checks say of an access token.
		active := func(t *testing.T, n *env, at string) (introspected, userinfo, validated bool) {
			t.Helper()
			_, _, in := n.postForm("/oauth2/introspect", url.Values{"token": {at}}, c.id, c.secret)
			st, _, _ := n.resource("GET", "/oauth2/userinfo", "Bearer", at)
			v := n.s.Do(t, "GET", "/api/jwt/validate", "", nil, "Authorization", "Bearer "+at)
			return in["active"] == true, st == 200, v.Status == 200
		}
		want := func(t *testing.T, n *env, node, what, at string, live bool) {
			t.Helper()
			deadline := time.Now().Add(5 * time.Second)
			for {
				i, u, v := active(t, n, at)
				if i == live && u == live && v == live {
					return
				}
				if n == e || time.Now().After(deadline) { // the replaying node must see it at once
					t.Fatalf("%s on node %s: introspection %v, userinfo %v, validate %v; want %v", what, node, i, u, v, live)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}

		for _, tc := range []struct {
			name    string
			scope   string
			refresh bool // refresh once before the replay
		}{
			{"with a refresh token", "openid offline_access", false},
			{"without a refresh token", "openid", false},
			{"refreshed before the replay", "openid offline_access", true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.rp(c, tc.scope)
				other, _ := e.codeFlow(e.browser(), r, "replay@example.com") // another session of the user
				v := oauth2.GenerateVerifier()
				u := e.browser().signIn(r.conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(v)), "replay@example.com")
				tok, _ := e.exchange(r, u, v)
				issued := []string{tok.AccessToken}
				if tc.refresh {
					st, _, body := e.postForm("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, c.id, c.secret)
					if st != 200 {
						t.Fatalf("refresh: %d %v", st, body)
					}
					issued = append(issued, body["access_token"].(string))
				}
				for _, at := range issued {
					want(t, e, "A", "before the replay", at, true)
					want(t, &onB, "B", "before the replay", at, true)
				}

				st, _, body := e.postForm("/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {u.Query().Get("code")},
					"redirect_uri": {redirectURL}, "code_verifier": {v}}, c.id, c.secret)
				if st != 400 || body["error"] != "invalid_grant" {
					t.Fatalf("replay: %d %v", st, body)
				}
				for _, at := range issued {
					want(t, e, "A", "after the replay", at, false)
					want(t, &onB, "B", "after the replay", at, false)
				}
				if tok.RefreshToken != "" {
					if st, _, body := onB.postForm("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, c.id, c.secret); st != 400 {
						t.Errorf("refresh after the replay: %d %v", st, body)
					}
				}
				want(t, e, "A", "the user's other session", other.AccessToken, true)
				want(t, &onB, "B", "the user's other session", other.AccessToken, true)
			})
		}
	})
}
