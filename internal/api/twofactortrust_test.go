package api_test

import (
	"testing"
	"time"

	"github.com/latchid/latch/internal/testutil"
)

// "Trust this computer": a two-factor login with trustComputer answers a
// twoFactorTrustId; a password login presenting it skips the second factor,
// /api/two-factor/status tells so; a change of password or of the methods,
// expiry, another user or a made-up id all bring the 242 back.
func TestTwoFactorTrustID(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		app := e.app("Trust app", lgAppOpts{refresh: true})
		email, plain := lgEmail("trust"), lgEmail("trust-plain")
		uid := e.user(email, lgPassword, nil)
		plainID := e.user(plain, lgPassword, nil)
		e.register(uid, app)
		e.register(plainID, app)
		e.want("trust ttl", e.do("PATCH", "/api/tenant/"+e.tenant, e.root, map[string]any{"tenant": map[string]any{
			"externalIdentifierConfiguration": map[string]any{"twoFactorTrustIdTimeToLiveInSeconds": 3600}}}), 200)

		secret, _ := e.tfSecret(e.root)
		totp := func() string { return tfCode([]byte(secret), e.clock.Now()) }
		e.want("enable", e.do("POST", "/api/user/two-factor/"+uid, e.root, map[string]any{"method": "authenticator", "secret": secret, "code": totp()}), 200)
		email2 := lgEmail("trust2")
		uid2 := e.user(email2, lgPassword, nil)
		e.register(uid2, app)
		e.want("enable 2", e.do("POST", "/api/user/two-factor/"+uid2, e.root, map[string]any{"method": "authenticator", "secret": secret, "code": totp()}), 200)
		e.clock.Advance(31 * time.Second)

		status := func(what, trustID, user string, want int) map[string]any {
			t.Helper()
			path := "/api/two-factor/status?userId=" + user + "&applicationId=" + app
			if trustID != "" {
				path = "/api/two-factor/status/" + trustID + "?userId=" + user
			}
			return e.want(what, e.do("GET", path, e.root, nil), want)
		}
		loginWith := func(what, trustID string, want int) map[string]any {
			t.Helper()
			return e.loginOK(what, "", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app, "twoFactorTrustId": trustID}, want)
		}

		// Without a trust: status 242 for the 2FA user, 200 for the other.
		status("status without trust", "", uid, 242)
		status("status of a user without two-factor", "", plainID, 200)
		e.want("status without a key", e.do("GET", "/api/two-factor/status?userId="+uid, "", nil), 401)
		want400(t, "status without a user", e.do("GET", "/api/two-factor/status", e.root, nil), "[invalid]userId")
		e.want("status of an unknown user", e.do("GET", "/api/two-factor/status?userId=00000000-0000-0000-0000-00000000dead", e.root, nil), 404)
		want400(t, "status with an unknown application", e.do("POST", "/api/two-factor/status", e.root,
			map[string]any{"userId": uid, "applicationId": "00000000-0000-0000-0000-00000000beef"}), "[invalid]applicationId")

		// A two-factor login without trustComputer earns no trust id.
		m := e.want("2FA login", e.tfFinish(e.tfLogin(email, app), totp(), "applicationId", app), 200)
		if m["twoFactorTrustId"] != nil {
			t.Errorf("a trust id without trustComputer: %v", m["twoFactorTrustId"])
		}
		e.clock.Advance(31 * time.Second)
		m = e.want("2FA login trusting the computer", e.tfFinish(e.tfLogin(email, app), totp(), "applicationId", app, "trustComputer", true), 200)
		trust := lgStr(m["twoFactorTrustId"])
		if trust == "" || lgStr(m["token"]) == "" {
			t.Fatalf("trusted two-factor login: %v", m)
		}

		// The trust skips the second factor, for this user only.
		m = loginWith("login with the trust", trust, 200)
		if lgStr(m["token"]) == "" || lgStr(m["twoFactorTrustId"]) != trust {
			t.Errorf("trusted login: %v", m)
		}
		loginWith("login with a made-up trust", "made-up", 242)
		e.want("another 2FA user with the trust", e.login("", map[string]any{"loginId": email2, "password": lgPassword, "applicationId": app, "twoFactorTrustId": trust}), 242)
		if r := e.login("", map[string]any{"loginId": email, "password": "wrong password", "applicationId": app, "twoFactorTrustId": trust}); r.Status != 404 {
			t.Errorf("wrong password with a trust: %d %s", r.Status, r.Body)
		}
		st := status("status with the trust", trust, uid, 200)
		trusts, _ := st["trusts"].([]any)
		if lgStr(st["twoFactorTrustId"]) != trust || len(trusts) != 1 || trusts[0].(map[string]any)["applicationId"] != app {
			t.Errorf("status with the trust: %v", st)
		}
		status("status with the trust, another user", trust, plainID, 200) // no 2FA: 200, but no trust shown
		if st := status("no trust of another user", trust, plainID, 200); st["twoFactorTrustId"] != nil {
			t.Errorf("another user's status shows the trust: %v", st)
		}
		e.want("POST status", e.do("POST", "/api/two-factor/status", e.root, map[string]any{"userId": uid, "twoFactorTrustId": trust}), 200)

		// Expiry ends it.
		e.clock.Advance(time.Hour + time.Second)
		loginWith("login with an expired trust", trust, 242)
		status("status of an expired trust", trust, uid, 242)

		// A fresh trust ends with a change of methods, another with a change of password.
		fresh := func() string {
			e.clock.Advance(31 * time.Second)
			m := e.want("trusted 2FA login", e.tfFinish(e.tfLogin(email, app), totp(), "applicationId", app, "trustComputer", true), 200)
			return lgStr(m["twoFactorTrustId"])
		}
		trust = fresh()
		loginWith("fresh trust", trust, 200)
		e.clock.Advance(31 * time.Second)
		e.want("second method", e.do("POST", "/api/user/two-factor/"+uid, e.root, map[string]any{"method": "authenticator", "secret": secret, "code": totp()}), 200)
		loginWith("trust after a change of methods", trust, 242)

		trust = fresh()
		e.clock.Advance(time.Second)
		e.want("new password", e.do("PATCH", "/api/user/"+uid, e.root, map[string]any{"user": map[string]any{"password": lgPassword + "!"}}), 200)
		if r := e.login("", map[string]any{"loginId": email, "password": lgPassword + "!", "applicationId": app, "twoFactorTrustId": trust}); r.Status != 242 {
			t.Errorf("trust after a change of password: %d %s", r.Status, r.Body)
		}
	})
}
