package api_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

// A user's refresh tokens are revoked when its password changes (each way it
// can), when it is deactivated or deleted; the revocation is audited and a
// revoked token fails on another node at once. The tenant's onPasswordChanged
// off keeps them.
func TestRefreshTokensRevokedOnUserChanges(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		var opts []testutil.Option
		if b.DatabaseURL == "" {
			opts = append(opts, testutil.WithDataDir(t.TempDir())) // one SQLite file for both nodes
		}
		e := lgStart(t, b, opts...)
		nodeB := testutil.StartServer(t, append(opts, testutil.WithBackend(b), testutil.WithClock(e.clock),
			testutil.WithEnv("LATCH_MASTER_KEY", testutil.TestMasterKey), testutil.WithSharedDataDir(e.s.DataDir))...)
		refreshOnB := func(rt string) *testutil.Response {
			return nodeB.Do(t, "POST", "/api/jwt/refresh", "", map[string]any{"refreshToken": rt})
		}
		app, uid, email, _ := e.lgRefreshApp("Revocation", nil)
		pw := lgPassword
		login := func() (token, rt string) {
			t.Helper()
			m := e.loginOK("login", "", map[string]any{"loginId": email, "password": pw, "applicationId": app}, 200)
			return lgStr(m["token"]), lgStr(m["refreshToken"])
		}
		revokedAudits := func() int {
			n := 0
			for _, m := range e.lgAuditMessages(uid) {
				if strings.HasPrefix(m, "Revoked ") && strings.Contains(m, "refresh tokens of user") {
					n++
				}
			}
			return n
		}

		steps := []struct {
			name   string
			change func()
		}{
			{"change password by login id", func() {
				e.want("change", e.do("POST", "/api/user/change-password", e.root, map[string]any{"loginId": email, "currentPassword": pw, "password": "second password 2"}), 200)
				pw = "second password 2"
			}},
			{"change password by change-password id", func() {
				m := e.want("forgot", e.do("POST", "/api/user/forgot-password", e.root, map[string]any{"loginId": email, "sendForgotPasswordEmail": false}), 200)
				e.want("change", e.do("POST", "/api/user/change-password/"+lgStr(m["changePasswordId"]), "", map[string]any{"password": "third password 3"}), 200)
				pw = "third password 3"
			}},
			{"PUT user with a password", func() {
				e.want("put", e.do("PUT", "/api/user/"+uid, e.root, map[string]any{"user": map[string]any{"email": email, "password": "fourth password 4"}}), 200)
				pw = "fourth password 4"
			}},
			{"PATCH user with a password", func() {
				e.want("patch", e.do("PATCH", "/api/user/"+uid, e.root, map[string]any{"user": map[string]any{"password": "fifth password 5"}}), 200)
				pw = "fifth password 5"
			}},
		}
		for _, st := range steps {
			_, rt := login()
			before := revokedAudits()
			e.want(st.name+": refresh before", refreshOnB(rt), 200)
			st.change()
			e.refused(st.name+": on the other node", refreshOnB(rt))
			e.refused(st.name, e.refresh(rt))
			if revokedAudits() != before+1 {
				t.Errorf("%s: revocation not audited: %v", st.name, e.lgAuditMessages(uid))
			}
		}

		// A PATCH that leaves the password alone revokes nothing.
		_, rt := login()
		e.want("patch name", e.do("PATCH", "/api/user/"+uid, e.root, map[string]any{"user": map[string]any{"firstName": "Kept"}}), 200)
		e.want("token kept", refreshOnB(rt), 200)

		// onPasswordChanged off: a password change keeps the tokens.
		e.patchTenant(map[string]any{"jwtConfiguration": map[string]any{"refreshTokenRevocationPolicy": map[string]any{"onPasswordChanged": false}}})
		e.want("patch password", e.do("PATCH", "/api/user/"+uid, e.root, map[string]any{"user": map[string]any{"password": "sixth password 6"}}), 200)
		pw = "sixth password 6"
		e.want("token kept under onPasswordChanged false", refreshOnB(rt), 200)

		// Deactivation: refresh tokens revoked (also after reactivation) and
		// access tokens refused, on both nodes.
		token, rt := login()
		e.want("deactivate", e.do("DELETE", "/api/user/"+uid, e.root, nil), 200)
		e.refused("deactivated", refreshOnB(rt))
		e.want("JWT of a deactivated user", nodeB.Do(t, "GET", "/api/jwt/validate", "", nil, "Authorization", "Bearer "+token), 401)
		e.want("JWT of a deactivated user, node A", e.validate(token), 401)
		if msgs := e.lgAuditMessages(uid); !slices.ContainsFunc(msgs, func(m string) bool { return strings.HasSuffix(m, "user deactivated") }) {
			t.Errorf("deactivation revocation not audited: %v", msgs)
		}
		e.want("reactivate", e.do("PUT", "/api/user/"+uid+"?reactivate=true", e.root, nil), 200)
		e.refused("reactivated, old token", refreshOnB(rt))
		e.want("JWT after reactivation", e.validate(token), 200)

		// Bulk deactivation too.
		_, rt = login()
		e.want("bulk deactivate", e.do("DELETE", "/api/user/bulk?userId="+uid, e.root, nil), 200)
		e.refused("bulk deactivated", refreshOnB(rt))
		e.want("reactivate", e.do("PUT", "/api/user/"+uid+"?reactivate=true", e.root, nil), 200)

		// Hard delete.
		token, rt = login()
		e.want("delete", e.do("DELETE", "/api/user/"+uid+"?hardDelete=true", e.root, nil), 200)
		e.refused("deleted", refreshOnB(rt))
		e.want("JWT of a deleted user", e.validate(token), 401)
		if msgs := e.lgAuditMessages(uid); !slices.ContainsFunc(msgs, func(m string) bool { return strings.HasSuffix(m, "user deleted") }) {
			t.Errorf("deletion revocation not audited: %v", msgs)
		}
	})
}

// A failed-login lockout revokes the user's refresh tokens (onLoginPrevented,
// default on); a password reset with a change-password id clears the
// failure count, and lifts a lockout in force when the tenant's
// actionCancelPolicy.onPasswordReset is on.
func TestLockoutAndPasswordReset(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		app, uid, email, m := e.lgRefreshApp("Lockout", nil)
		rt := lgStr(m["refreshToken"])
		wrong := map[string]any{"loginId": email, "password": "wrong password", "applicationId": app}
		reset := func(pw string) {
			t.Helper()
			m := e.want("forgot", e.do("POST", "/api/user/forgot-password", e.root, map[string]any{"loginId": email, "sendForgotPasswordEmail": false}), 200)
			e.want("change", e.do("POST", "/api/user/change-password", "", map[string]any{"changePasswordId": m["changePasswordId"], "password": pw}), 200)
		}
		ok := func(pw string) map[string]any {
			return map[string]any{"loginId": email, "password": pw, "applicationId": app}
		}

		// Four failures, a reset: the count starts again, so four more do
		// not lock (without the reset the fifth would).
		for range 4 {
			e.want("wrong", e.login("", wrong), 404)
		}
		reset("reset password 1")
		e.refused("refresh token after the password reset", e.refresh(rt))
		for range 4 {
			e.want("wrong after reset", e.login("", wrong), 404)
		}
		e.loginOK("not locked", "", ok("reset password 1"), 200)

		// Five failures lock and revoke the refresh tokens.
		rt = lgStr(e.loginOK("fresh token", "", ok("reset password 1"), 200)["refreshToken"])
		for range 5 {
			e.want("wrong", e.login("", wrong), 404)
		}
		e.want("locked", e.login("", ok("reset password 1")), 409)
		e.refused("refresh token after the lockout", e.refresh(rt))
		if msgs := e.lgAuditMessages(uid); !slices.ContainsFunc(msgs, func(m string) bool { return strings.Contains(m, "too many failed attempts") }) {
			t.Errorf("lockout revocation not audited: %v", msgs)
		}

		// onPasswordReset off (the default): a reset leaves the lockout.
		reset("reset password 2")
		e.want("still locked", e.login("", ok("reset password 2")), 409)

		// On: the reset lifts it, audited.
		e.patchTenant(map[string]any{"failedAuthenticationConfiguration": map[string]any{"actionCancelPolicy": map[string]any{"onPasswordReset": true}}})
		reset("reset password 3")
		e.loginOK("lockout lifted", "", ok("reset password 3"), 200)
		if msgs := e.lgAuditMessages(uid); !slices.ContainsFunc(msgs, func(m string) bool { return strings.HasPrefix(m, "Lifted the failed login lockout") }) {
			t.Errorf("lifting not audited: %v", msgs)
		}

		// onLoginPrevented off: a lockout keeps the tokens.
		e.patchTenant(map[string]any{"jwtConfiguration": map[string]any{"refreshTokenRevocationPolicy": map[string]any{"onLoginPrevented": false}}})
		rt = lgStr(e.loginOK("token", "", ok("reset password 3"), 200)["refreshToken"])
		for range 5 {
			e.want("wrong", e.login("", wrong), 404)
		}
		e.want("locked again", e.login("", ok("reset password 3")), 409)
		e.want("token kept under onLoginPrevented false", e.refresh(rt), 200)
	})
}
