package api_test

import (
	"testing"
	"time"

	"github.com/latchid/latch/internal/testutil"
)

// TestEndedSessionsStayEnded: deactivation, deleting a registration and a
// password change end the access and refresh tokens issued before them for
// good: reactivating, registering again or anything else later does not
// bring them back. Tokens issued afterwards work.
func TestEndedSessionsStayEnded(t *testing.T) {
	t.Parallel()
	const pw, pw2 = "correct horse battery", "another horse battery"
	cases := []struct {
		name      string
		end       func(e *lgEnv, userID, appID string) // ends the session
		restore   func(e *lgEnv, userID, appID string) // undoes the cause
		password  string                               // to log in again with
		checkBody func(e *lgEnv, userID, appID string)
	}{
		{
			name: "deactivate then reactivate",
			end: func(e *lgEnv, userID, _ string) {
				e.want("deactivate", e.do("DELETE", "/api/user/"+userID, e.root, nil), 200)
			},
			restore: func(e *lgEnv, userID, _ string) {
				e.want("reactivate", e.do("PUT", "/api/user/"+userID+"?reactivate=true", e.root, nil), 200)
			},
			password: pw,
		},
		{
			name: "delete registration then register again",
			end: func(e *lgEnv, userID, appID string) {
				e.want("delete registration", e.do("DELETE", "/api/user/registration/"+userID+"/"+appID, e.root, nil), 200)
			},
			restore:  func(e *lgEnv, userID, appID string) { e.register(userID, appID, "user") },
			password: pw,
		},
		{
			name: "password change",
			end: func(e *lgEnv, userID, _ string) {
				e.want("change password", e.do("PATCH", "/api/user/"+userID, e.root, map[string]any{"user": map[string]any{"password": pw2}}), 200)
			},
			restore:  func(*lgEnv, string, string) {},
			password: pw2,
		},
	}
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				appID := e.app("Sessions "+c.name, lgAppOpts{refresh: true, roles: []string{"user"}})
				email := lgEmail("sessions")
				userID := e.user(email, pw, nil)
				e.register(userID, appID, "user")
				login := func(password string) (string, string) {
					m := e.loginOK("login", "", map[string]any{"loginId": email, "password": password, "applicationId": appID}, 200)
					return lgStr(m["token"]), lgStr(m["refreshToken"])
				}
				access, refresh := login(pw)
				if r := e.validate(access); r.Status != 200 {
					t.Fatalf("fresh token: %d", r.Status)
				}
				e.clock.Advance(2 * time.Second)
				c.end(e, userID, appID)
				c.restore(e, userID, appID)
				e.clock.Advance(2 * time.Second)

				if r := e.validate(access); r.Status != 401 {
					t.Errorf("access token issued before: %d, want 401", r.Status)
				}
				if r := e.refresh(refresh); r.Status != 400 {
					t.Errorf("refresh token issued before: %d %s, want 400", r.Status, r.Body)
				}
				// Another node (or a restart) sees the same: the cut-off is in the database.
				newAccess, newRefresh := login(c.password)
				if r := e.validate(newAccess); r.Status != 200 {
					t.Errorf("token issued after: %d %s", r.Status, r.Body)
				}
				if r := e.refresh(newRefresh); r.Status != 200 {
					t.Errorf("refresh token issued after: %d %s", r.Status, r.Body)
				}
			})
		}
	})
}
