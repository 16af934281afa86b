package oauth_test

import (
	"testing"

	"golang.org/x/oauth2"

	"github.com/latchid/latch/internal/testutil"
)

// TestSSOSessionsThroughAPI: a user's SSO sessions are listed with its
// refresh tokens (GET /api/jwt/refresh?userId, without an applicationId),
// retrieved and revoked by id, and ended with every token of the user, but
// not by revoking one application's tokens; an ended session no longer
// signs in with prompt=none.
func TestSSOSessionsThroughAPI(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		c := e.app(appOpts{})
		uid := e.user("sessions@example.com", nil, c.id)
		r := e.rp(c)

		// signIn starts an SSO session in a new browser; it returns the browser and the session id (sid).
		signIn := func() (*browser, string) {
			t.Helper()
			br := e.browser()
			_, idt := e.codeFlow(br, r, "sessions@example.com")
			var claims struct {
				Sid string `json:"sid"`
			}
			if err := idt.Claims(&claims); err != nil || claims.Sid == "" {
				t.Fatalf("sid %v %v", claims, err)
			}
			return br, claims.Sid
		}
		// silent reports whether prompt=none still signs the browser in.
		silent := func(br *browser) bool {
			t.Helper()
			u := e.redirected(br.get(r.conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()),
				oauth2.SetAuthURLParam("prompt", "none"))), 302)
			return u.Query().Get("code") != ""
		}
		type listed struct {
			ID            string         `json:"id"`
			ApplicationID *string        `json:"applicationId"`
			UserID        string         `json:"userId"`
			TenantID      string         `json:"tenantId"`
			MetaData      map[string]any `json:"metaData"`
		}
		list := func() map[string]listed {
			t.Helper()
			var res struct {
				RefreshTokens []listed `json:"refreshTokens"`
			}
			e.want("list", e.api("GET", "/api/jwt/refresh?userId="+uid, nil), 200).decode(&res)
			out := map[string]listed{}
			for _, l := range res.RefreshTokens {
				out[l.ID] = l
			}
			return out
		}

		br, sid := signIn()
		got := list()
		s, ok := got[sid]
		if !ok || s.ApplicationID != nil || s.UserID != uid || s.TenantID != e.tenant {
			t.Fatalf("the SSO session %s in %+v", sid, got)
		}
		if data, _ := s.MetaData["data"].(map[string]any); data["sso"] != true {
			t.Fatalf("session metaData %v", s.MetaData)
		}
		if len(got) != 2 {
			t.Fatalf("want the session and the application's refresh token, got %+v", got)
		}
		var one struct {
			RefreshToken listed `json:"refreshToken"`
		}
		e.want("retrieve by id", e.api("GET", "/api/jwt/refresh/"+sid, nil), 200).decode(&one)
		if one.RefreshToken.ID != sid || one.RefreshToken.ApplicationID != nil {
			t.Fatalf("retrieved %+v", one)
		}
		if !silent(br) {
			t.Fatal("prompt=none before revocation: not signed in")
		}

		// Revoked by id: the session ends, the application's refresh token stays.
		e.want("revoke by id", e.api("DELETE", "/api/jwt/refresh/"+sid, nil), 200)
		e.want("retrieve revoked", e.api("GET", "/api/jwt/refresh/"+sid, nil), 404)
		e.want("revoke again", e.api("DELETE", "/api/jwt/refresh/"+sid, nil), 404)
		if silent(br) {
			t.Fatal("prompt=none after the session was revoked: still signed in")
		}
		if got := list(); len(got) != 1 {
			t.Fatalf("after revoking the session: %+v", got)
		}

		// One application's tokens: the session stays. Every token of the user: it ends.
		br, sid = signIn()
		e.want("revoke for the application", e.api("DELETE", "/api/jwt/refresh?userId="+uid+"&applicationId="+c.id, nil), 200)
		if !silent(br) {
			t.Fatal("revoking an application's tokens ended the SSO session")
		}
		if _, ok := list()[sid]; !ok {
			t.Fatal("the session is no longer listed")
		}
		e.want("revoke the user's", e.api("DELETE", "/api/jwt/refresh?userId="+uid, nil), 200)
		if silent(br) {
			t.Fatal("revoking every token of the user left the SSO session")
		}
		if got := list(); len(got) != 0 {
			t.Fatalf("after revoking everything: %+v", got)
		}
	})
}
