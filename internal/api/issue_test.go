package api_test

import (
	"slices"
	"testing"
	"time"

	"github.com/latchid/latch/internal/testutil"
)

// /api/jwt/issue: a token for another application of the user, from a valid
// JWT, expiring with it; refused for unregistered users and bad tokens.
func TestIssueJWT(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		appA := e.app("A", lgAppOpts{refresh: true})
		appB := e.app("B", lgAppOpts{refresh: true, roles: []string{"editor"}})
		appC := e.app("C", lgAppOpts{})
		email := lgEmail("issue")
		uid := e.user(email, lgPassword, nil)
		e.register(uid, appA)
		e.register(uid, appB, "editor")
		m := e.loginOK("login", "", map[string]any{"loginId": email, "password": lgPassword, "applicationId": appA}, 200)
		token, rt := lgStr(m["token"]), lgStr(m["refreshToken"])
		src := lgClaims(t, token)

		e.clock.Advance(10 * time.Minute)
		issue := func(app string, headers ...string) *testutil.Response {
			return e.do("GET", "/api/jwt/issue?applicationId="+app, "", nil, headers...)
		}
		got := e.want("issue for B", issue(appB, "Authorization", "Bearer "+token), 200)
		c := lgClaims(t, lgStr(got["token"]))
		if c["aud"] != appB || c["applicationId"] != appB || c["sub"] != uid || c["authenticationType"] != "JWT_SSO" ||
			c["exp"] != src["exp"] || c["auth_time"] != src["auth_time"] || c["iat"].(float64) != float64(e.clock.Now().Unix()) {
			t.Errorf("issued claims %v (source %v)", c, src)
		}
		if roles, _ := c["roles"].([]any); len(roles) != 1 || roles[0] != "editor" {
			t.Errorf("issued roles: %v", c["roles"])
		}
		if got["refreshToken"] != nil {
			t.Errorf("a refresh token without asking for one")
		}
		e.want("issued token validates", e.validate(lgStr(got["token"])), 200)
		e.want("issue by cookie", issue(appB, "Cookie", "access_token="+token), 200)

		// With a refresh token of the user: one for B as well.
		got = e.want("issue with refresh token", e.do("GET", "/api/jwt/issue?applicationId="+appB+"&refreshToken="+rt, "", nil,
			"Authorization", "Bearer "+token), 200)
		if lgStr(got["refreshToken"]) == "" || got["refreshToken"] == rt {
			t.Fatalf("issue with a refresh token answered %v", got)
		}
		e.want("refresh for B", e.refresh(lgStr(got["refreshToken"])), 200)

		if r := issue(appC, "Authorization", "Bearer "+token); r.Status != 400 || !slices.Contains(errorCodes(t, r), "[UserNotRegistered]") {
			t.Errorf("not registered: %d %s", r.Status, r.Body)
		}
		if r := issue("6b1e0d44-52a4-4b5d-8d1c-0d7c2f6f0b55", "Authorization", "Bearer "+token); r.Status != 400 {
			t.Errorf("unknown application: %d", r.Status)
		}
		if r := e.do("GET", "/api/jwt/issue", "", nil, "Authorization", "Bearer "+token); r.Status != 400 {
			t.Errorf("no applicationId: %d", r.Status)
		}
		e.want("no token", issue(appB), 401)
		e.want("bad token", issue(appB, "Authorization", "Bearer nope"), 401)
		e.clock.Set(time.Unix(int64(src["exp"].(float64)), 0))
		e.want("expired token", issue(appB, "Authorization", "Bearer "+token), 401)
	})
}

// Login ping records a login for a user the application authenticated.
func TestLoginPing(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		closed := e.app("Closed", lgAppOpts{requireKey: true})
		open := e.app("Open", lgAppOpts{})
		email := lgEmail("ping")
		uid := e.user(email, lgPassword, nil)
		e.register(uid, closed)
		e.clock.Advance(time.Hour)
		now := e.clock.Now().UnixMilli()

		e.want("ping without key", e.do("PUT", "/api/login/"+uid+"/"+closed, "", nil), 401)
		pingKey := e.loginKey("/api/login", "PUT")
		m := e.want("ping", e.do("PUT", "/api/login/"+uid+"/"+closed+"?ipAddress=198.51.100.9", pingKey, nil), 200)
		if u := m["user"].(map[string]any); int64(u["lastLoginInstant"].(float64)) != now {
			t.Errorf("ping user: %v", u)
		}
		recs := e.loginRecords(uid)
		if len(recs) != 1 || recs[0].IPAddress != "198.51.100.9" || recs[0].ApplicationID != closed || recs[0].Instant != now {
			t.Errorf("login records after ping: %+v", recs)
		}
		e.want("ping, body form", e.do("PUT", "/api/login", pingKey, map[string]any{"userId": uid, "applicationId": closed}), 200)
		e.want("ping, not registered", e.do("PUT", "/api/login/"+uid+"/"+open, pingKey, nil), 202)
		e.want("ping, unknown user", e.do("PUT", "/api/login/6b1e0d44-52a4-4b5d-8d1c-0d7c2f6f0b55/"+open, pingKey, nil), 404)
		// Stricter than the Login API: a ping needs a key even where
		// requireAuthentication is off.
		e.want("ping without a key, open application", e.do("PUT", "/api/login/"+uid+"/"+open, "", nil), 401)
		e.want("ping, POST-only key", e.do("PUT", "/api/login/"+uid+"/"+closed, e.loginKey("/api/login", "POST"), nil), 401)
	})
}
