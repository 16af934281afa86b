package api_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/testutil"
)

// A user with a second factor changes its password only with a trust token
// from a two-factor step-up (/api/two-factor/start, then /api/two-factor/login):
// not with the current password alone, not with a reset link alone, not with
// an access token alone. Each form of change password and of its check.
func TestChangePasswordNeedsTrustToken(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		app := e.app("Step-up app", lgAppOpts{refresh: true})
		email, plain := lgEmail("stepup"), lgEmail("plain")
		uid := e.user(email, lgPassword, nil)
		other := e.user(plain, lgPassword, nil)
		e.register(uid, app)
		e.register(other, app)

		secret, _ := e.tfSecret(e.root)
		totp := func() string { return tfCode([]byte(secret), e.clock.Now()) }
		e.want("enable", e.do("POST", "/api/user/two-factor/"+uid, e.root, map[string]any{"method": "authenticator", "secret": secret, "code": totp()}), 200)
		email2 := lgEmail("stepup2")
		uid2 := e.user(email2, lgPassword, nil)
		e.want("enable 2", e.do("POST", "/api/user/two-factor/"+uid2, e.root, map[string]any{"method": "authenticator", "secret": secret, "code": totp()}), 200)
		e.clock.Advance(31 * time.Second) // the enabling code is spent

		check := func(query string, key string) *testutil.Response {
			return e.do("GET", "/api/user/change-password?"+query, key, nil)
		}
		byLogin := func(loginID, current, pw string, extra ...string) *testutil.Response {
			body := map[string]any{"loginId": loginID, "currentPassword": current, "password": pw}
			for i := 0; i+1 < len(extra); i += 2 {
				body[extra[i]] = extra[i+1]
			}
			return e.do("POST", "/api/user/change-password", e.root, body)
		}

		// The checks: a user without a second factor may change at once.
		e.want("check plain user", check("loginId="+plain, e.root), 200)
		want400(t, "check 2FA user", check("loginId="+email, e.root), "[TrustTokenRequired]")
		e.want("check without a key", check("loginId="+email, ""), 401)

		// No trust token: refused, nothing changed, no failure counted.
		want400(t, "loginId form without trust", byLogin(email, lgPassword, "a new password 1"), "[TrustTokenRequired]")
		want400(t, "loginId form with a made-up trust token", byLogin(email, lgPassword, "a new password 1", "trustToken", "made-up"), "[TrustTokenRequired]")
		m := e.want("forgot", e.do("POST", "/api/user/forgot-password", e.root, map[string]any{"loginId": email, "sendForgotPasswordEmail": false}), 200)
		cpid := lgStr(m["changePasswordId"])
		want400(t, "check id form", check("changePasswordId="+cpid, ""), "[TrustTokenRequired]")
		want400(t, "id form without trust", e.do("POST", "/api/user/change-password/"+cpid, "", map[string]any{"password": "a new password 1"}), "[TrustTokenRequired]")
		want400(t, "id still valid after the refusal", check("changePasswordId="+cpid, ""), "[TrustTokenRequired]")
		e.tfLogin(email, app) // the old password still works

		// The step-up: a key call, answered with a code that finishes it.
		e.want("start without a key", e.do("POST", "/api/two-factor/start", "", map[string]any{"loginId": email}), 401)
		want400(t, "start without a user", e.do("POST", "/api/two-factor/start", e.root, map[string]any{}), "[blank]loginId")
		e.want("start for nobody", e.do("POST", "/api/two-factor/start", e.root, map[string]any{"loginId": "nobody@example.com"}), 404)
		st := e.want("start", e.do("POST", "/api/two-factor/start", e.root, map[string]any{"loginId": email, "trustChallenge": "change-pw", "applicationId": app,
			"state": map[string]any{"return": "/settings"}}), 200)
		code, tfID := lgStr(st["code"]), lgStr(st["twoFactorId"])
		methods, _ := st["methods"].([]any)
		if !regexp.MustCompile(`^[0-9]{6}$`).MatchString(code) || tfID == "" || len(methods) != 1 ||
			methods[0].(map[string]any)["method"] != "authenticator" || methods[0].(map[string]any)["secret"] != nil {
			t.Fatalf("start answer: %v", st)
		}
		if msgs := e.lgAuditMessages(uid); !slices.ContainsFunc(msgs, func(s string) bool { return strings.HasPrefix(s, "Started a two-factor step-up") }) {
			t.Errorf("start not audited: %v", msgs)
		}
		e.want("wrong code", e.tfFinish(tfID, "x"+code), 421)
		done := e.want("finish with the start code", e.tfFinish(tfID, code), 200)
		trust := lgStr(done["trustToken"])
		if trust == "" || lgStr(done["token"]) == "" || done["state"].(map[string]any)["return"] != "/settings" {
			t.Fatalf("two-factor login after start: %v", done)
		}

		// The trust token works once, for its user and its challenge.
		want400(t, "wrong challenge", byLogin(email, lgPassword, "a new password 1", "trustToken", trust, "trustChallenge", "other"), "[TrustTokenRequired]")
		want400(t, "another user's trust token", e.do("POST", "/api/user/change-password", e.root, map[string]any{
			"loginId": email2, "currentPassword": lgPassword, "password": "a new password 1", "trustToken": trust, "trustChallenge": "change-pw"}), "[TrustTokenRequired]")
		e.want("change with trust", byLogin(email, lgPassword, "a new password 1", "trustToken", trust, "trustChallenge", "change-pw"), 200)
		e.clock.Advance(time.Second)
		want400(t, "trust token spent", byLogin(email, "a new password 1", "a new password 2", "trustToken", trust, "trustChallenge", "change-pw"), "[TrustTokenRequired]")

		// A two-factor login of the Login API gives a trust token too; it
		// works with the reset link (no challenge), and expires.
		tf := e.loginOK("password step", "", map[string]any{"loginId": email, "password": "a new password 1", "applicationId": app}, 242)
		fin := e.want("finish with the app's code", e.tfFinish(lgStr(tf["twoFactorId"]), totp()), 200)
		trust2 := lgStr(fin["trustToken"])
		m = e.want("forgot again", e.do("POST", "/api/user/forgot-password", e.root, map[string]any{"loginId": email, "sendForgotPasswordEmail": false}), 200)
		cpid = lgStr(m["changePasswordId"])
		e.clock.Advance(181 * time.Second)
		want400(t, "expired trust token", e.do("POST", "/api/user/change-password/"+cpid, "", map[string]any{"password": "a new password 3", "trustToken": trust2}), "[TrustTokenRequired]")
		tf = e.loginOK("password step", "", map[string]any{"loginId": email, "password": "a new password 1", "applicationId": app}, 242)
		e.clock.Advance(31 * time.Second)
		fin = e.want("finish again", e.tfFinish(lgStr(tf["twoFactorId"]), totp()), 200)
		got := e.want("id form with trust", e.do("POST", "/api/user/change-password/"+cpid, "", map[string]any{"password": "a new password 3", "trustToken": lgStr(fin["trustToken"])}), 200)
		if lgStr(got["oneTimePassword"]) == "" {
			t.Errorf("id form answer: %v", got)
		}

		// The access-token form: the current password and, for this user, a
		// trust token; the answer's one-time password logs in.
		e.clock.Advance(31 * time.Second)
		tf = e.loginOK("password step", "", map[string]any{"loginId": email, "password": "a new password 3", "applicationId": app}, 242)
		fin = e.want("finish", e.tfFinish(lgStr(tf["twoFactorId"]), totp()), 200)
		bearer := "Bearer " + lgStr(fin["token"])
		want400(t, "check by token", e.do("GET", "/api/user/change-password", bearer, nil), "[TrustTokenRequired]")
		e.want("check with a bad token", e.do("GET", "/api/user/change-password", "Bearer not.a.jwt", nil), 401)
		byJWT := func(body map[string]any) *testutil.Response {
			return e.do("POST", "/api/user/change-password", bearer, body)
		}
		want400(t, "token form without the current password", byJWT(map[string]any{"password": "a new password 4", "trustToken": lgStr(fin["trustToken"])}), "[blank]currentPassword")
		want400(t, "token form without trust", byJWT(map[string]any{"currentPassword": "a new password 3", "password": "a new password 4"}), "[TrustTokenRequired]")
		want400(t, "token form, wrong current password", byJWT(map[string]any{"currentPassword": "wrong", "password": "a new password 4", "trustToken": lgStr(fin["trustToken"])}), "[invalid]currentPassword")
		got = e.want("token form", byJWT(map[string]any{"currentPassword": "a new password 3", "password": "a new password 4", "trustToken": lgStr(fin["trustToken"])}), 200)
		// (the trust token spent by the change stands for the second factor)
		e.want("one-time password login", e.login("", map[string]any{"oneTimePassword": lgStr(got["oneTimePassword"]), "applicationId": app}), 200)

		// A user without a second factor needs no trust token in any form.
		pl := e.loginOK("plain login", "", map[string]any{"loginId": plain, "password": lgPassword, "applicationId": app}, 200)
		e.want("plain check by token", e.do("GET", "/api/user/change-password", "Bearer "+lgStr(pl["token"]), nil), 200)
		e.want("plain token form", e.do("POST", "/api/user/change-password", "Bearer "+lgStr(pl["token"]),
			map[string]any{"currentPassword": lgPassword, "password": "plain new password"}), 200)
	})
}
