package api_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/testutil"
)

// Every status of FusionAuth's Login API, on both databases.
func TestLoginStatuses(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		app := e.app("Open app", lgAppOpts{refresh: true, roles: []string{"admin", "viewer"}})
		email := lgEmail("ok")
		uid := e.user(email, lgPassword, map[string]any{"username": "okuser", "firstName": "Ok"})
		e.register(uid, app, "viewer")
		now := e.clock.Now().UnixMilli()

		// 200: token, refresh token, user; by email and by username.
		m := e.loginOK("login by email", "", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app, "ipAddress": "10.1.2.3"}, 200)
		token, rt := lgStr(m["token"]), lgStr(m["refreshToken"])
		if token == "" || rt == "" || lgStr(m["refreshTokenId"]) == "" {
			t.Fatalf("200 without token, refreshToken or refreshTokenId: %v", m)
		}
		if got := int64(m["tokenExpirationInstant"].(float64)); got != now+3600_000 {
			t.Errorf("tokenExpirationInstant %d, want %d", got, now+3600_000)
		}
		u := m["user"].(map[string]any)
		if u["id"] != uid || int64(u["lastLoginInstant"].(float64)) != now {
			t.Errorf("user in the answer: %v", u)
		}
		c := lgClaims(t, token)
		if c["sub"] != uid || c["aud"] != app || c["applicationId"] != app || c["tid"] != e.tenant || c["iss"] != "acme.com" ||
			c["authenticationType"] != "PASSWORD" || c["email"] != email || c["email_verified"] != true ||
			c["preferred_username"] != "okuser" || lgStr(c["jti"]) == "" || lgStr(c["sid"]) == "" {
			t.Errorf("claims: %v", c)
		}
		if c["iat"].(float64) != float64(now/1000) || c["exp"].(float64) != float64(now/1000+3600) || c["auth_time"].(float64) != float64(now/1000) {
			t.Errorf("iat/exp/auth_time: %v", c)
		}
		if roles, _ := c["roles"].([]any); len(roles) != 1 || roles[0] != "viewer" {
			t.Errorf("roles: %v", c["roles"])
		}
		if h := lgHeader(t, token); h["alg"] != "ES256" || lgStr(h["kid"]) == "" || h["typ"] != "JWT" {
			t.Errorf("header: %v", h)
		}
		if ck, ok := lgCookie(e.login("", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app}), "access_token"); !ok || !ck.HttpOnly || ck.Value == "" {
			t.Errorf("no HttpOnly access_token cookie: %v", ck)
		}
		m = e.loginOK("login by username", "", map[string]any{"loginId": "OKUSER", "password": lgPassword, "applicationId": app}, 200)
		if m["user"].(map[string]any)["id"] != uid {
			t.Errorf("username login found another user")
		}
		// The user's lastLoginInstant and a login record were written.
		e.clock.Advance(time.Minute)
		e.loginOK("login later", "", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app}, 200)
		got := e.want("get user", e.do("GET", "/api/user/"+uid, e.root, nil), 200)["user"].(map[string]any)
		if int64(got["lastLoginInstant"].(float64)) != now+60_000 {
			t.Errorf("lastLoginInstant %v, want %d", got["lastLoginInstant"], now+60_000)
		}
		regs := got["registrations"].([]any)
		if int64(regs[0].(map[string]any)["lastLoginInstant"].(float64)) != now+60_000 {
			t.Errorf("registration lastLoginInstant %v", regs[0])
		}
		recs := e.loginRecords(uid)
		if len(recs) != 4 || recs[len(recs)-1].IPAddress != "10.1.2.3" || recs[0].ApplicationID != app {
			t.Errorf("login records: %+v", recs)
		}

		// loginIdTypes restricts the lookup.
		e.want("email with loginIdTypes [username]", e.login("", map[string]any{"loginId": email, "password": lgPassword,
			"applicationId": app, "loginIdTypes": []string{"username"}}), 404)

		// noJWT: no token, no refresh token, no cookies.
		r := e.login("", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app, "noJWT": true})
		m = e.want("noJWT", r, 200)
		if m["token"] != nil || m["refreshToken"] != nil || m["user"] == nil {
			t.Errorf("noJWT answered %v", m)
		}
		if _, ok := lgCookie(r, "access_token"); ok {
			t.Errorf("noJWT set a cookie")
		}

		// No applicationId: a token without application claims.
		e.patchTenant(map[string]any{"loginConfiguration": map[string]any{"requireAuthentication": false}})
		m = e.loginOK("no application", "", map[string]any{"loginId": email, "password": lgPassword}, 200)
		if c := lgClaims(t, lgStr(m["token"])); c["aud"] != nil || c["applicationId"] != nil || c["roles"] != nil || m["refreshToken"] != nil {
			t.Errorf("token without an application: %v, %v", c, m)
		}

		// 202: not registered; a token without roles or applicationId.
		m = e.loginOK("not registered", "", map[string]any{"loginId": got["email"], "password": lgPassword, "applicationId": e.app("Other", lgAppOpts{})}, 202)
		if c := lgClaims(t, lgStr(m["token"])); c["roles"] != nil || c["applicationId"] != nil || m["refreshToken"] != nil || m["user"] == nil {
			t.Errorf("202 token %v / body %v", c, m)
		}

		// 404: unknown user and wrong password answer exactly alike.
		wrong := e.login("", map[string]any{"loginId": email, "password": "wrong password", "applicationId": app})
		unknown := e.login("", map[string]any{"loginId": lgEmail("nobody"), "password": "wrong password", "applicationId": app})
		for _, r := range []*testutil.Response{wrong, unknown} {
			if r.Status != 404 || len(r.Body) != 0 {
				t.Errorf("404 expected with an empty body: %d %q", r.Status, r.Body)
			}
		}
		if !bytes.Equal(wrong.Body, unknown.Body) || wrong.Header.Get("Content-Type") != unknown.Header.Get("Content-Type") ||
			wrong.Header.Get("Content-Length") != unknown.Header.Get("Content-Length") || len(wrong.Header) != len(unknown.Header) {
			t.Errorf("wrong password %v and unknown user %v differ", wrong.Header, unknown.Header)
		}

		// 203: password change required; the change-password id works once.
		pcr := lgEmail("change")
		pcrID := e.user(pcr, lgPassword, map[string]any{"passwordChangeRequired": true})
		e.register(pcrID, app)
		m = e.loginOK("password change required", "", map[string]any{"loginId": pcr, "password": lgPassword, "applicationId": app}, 203)
		if m["changePasswordReason"] != "Administrative" || lgStr(m["changePasswordId"]) == "" || m["token"] != nil {
			t.Fatalf("203 body: %v", m)
		}
		cp := e.want("change password", e.do("POST", "/api/user/change-password/"+lgStr(m["changePasswordId"]), "",
			map[string]any{"password": "a brand new password"}), 200)
		// The one-time password it answers logs in once.
		otp := map[string]any{"oneTimePassword": cp["oneTimePassword"], "applicationId": app}
		m = e.loginOK("one-time password", "", otp, 200)
		if c := lgClaims(t, lgStr(m["token"])); c["authenticationType"] != "ONE_TIME_PASSWORD" {
			t.Errorf("one-time password token: %v", c)
		}
		e.want("one-time password again", e.login("", otp), 404)
		e.loginOK("new password", "", map[string]any{"loginId": pcr, "password": "a brand new password", "applicationId": app}, 200)

		// 423: deactivated, told only with the right password.
		locked := lgEmail("deactivated")
		lockedID := e.user(locked, lgPassword, nil)
		e.want("deactivate", e.do("DELETE", "/api/user/"+lockedID, e.root, nil), 200)
		e.want("deactivated, right password", e.login("", map[string]any{"loginId": locked, "password": lgPassword, "applicationId": app}), 423)
		e.want("deactivated, wrong password", e.login("", map[string]any{"loginId": locked, "password": "nope nope", "applicationId": app}), 404)

		// 410: expired, told only with the right password.
		expired := lgEmail("expired")
		e.user(expired, lgPassword, map[string]any{"expiry": now - 1})
		e.want("expired, right password", e.login("", map[string]any{"loginId": expired, "password": lgPassword, "applicationId": app}), 410)
		e.want("expired, wrong password", e.login("", map[string]any{"loginId": expired, "password": "nope nope", "applicationId": app}), 404)

		// 212: the tenant verifies email and the user has not; with the
		// Gated behavior, no token.
		e.patchTenant(map[string]any{"emailConfiguration": map[string]any{"verifyEmail": true, "unverified": map[string]any{"behavior": "Allow"}}})
		unverified := lgEmail("unverified")
		uvID := e.want("create unverified", e.do("POST", "/api/user", e.root, map[string]any{"user": map[string]any{"email": unverified, "password": lgPassword}}), 200)["user"].(map[string]any)["id"].(string)
		e.register(uvID, app)
		m = e.loginOK("email not verified", "", map[string]any{"loginId": unverified, "password": lgPassword, "applicationId": app}, 212)
		if m["token"] == nil || m["user"] == nil {
			t.Errorf("212 (Allow) without token or user: %v", m)
		}
		e.patchTenant(map[string]any{"emailConfiguration": map[string]any{"unverified": map[string]any{"behavior": "Gated"}}})
		m = e.loginOK("email not verified, gated", "", map[string]any{"loginId": unverified, "password": lgPassword, "applicationId": app}, 212)
		if m["token"] != nil || m["refreshToken"] != nil || m["user"] == nil {
			t.Errorf("212 (Gated): %v", m)
		}
		e.patchTenant(map[string]any{"emailConfiguration": map[string]any{"verifyEmail": false}})

		// 213: the application verifies registrations.
		va := e.app("Verifying app", lgAppOpts{verifyRegistration: true})
		vu := lgEmail("regunverified")
		vuID := e.user(vu, lgPassword, nil)
		e.want("register unverified", e.do("POST", "/api/user/registration/"+vuID, e.root,
			map[string]any{"registration": map[string]any{"applicationId": va}}), 200)
		e.want("registration not verified", e.login("", map[string]any{"loginId": vu, "password": lgPassword, "applicationId": va}), 213)

		// 400: what is required.
		r = e.login("", map[string]any{"loginId": email, "applicationId": app})
		if codes := errorCodes(t, r); r.Status != 400 || !slices.Contains(codes, "[blank]password") {
			t.Errorf("no password: %d %v", r.Status, codes)
		}
		if r := e.do("POST", "/api/login", "", `{"loginId": 5}`); r.Status != 400 {
			t.Errorf("bad JSON: %d", r.Status)
		}
	})
}

// requireAuthentication: the application's (or, without one, the tenant's)
// setting decides whether the Login API needs a key with /api/login.
func TestLoginRequiresKey(t *testing.T) {
	t.Parallel()
	e := lgStart(t, testutil.Backend{Name: "sqlite"})
	closed := e.app("Closed app", lgAppOpts{requireKey: true})
	open := e.app("Open app", lgAppOpts{})
	email := lgEmail("key")
	uid := e.user(email, lgPassword, nil)
	e.register(uid, closed)
	e.register(uid, open)
	req := func(app string) map[string]any {
		return map[string]any{"loginId": email, "password": lgPassword, "applicationId": app}
	}
	loginKey := e.loginKey("/api/login", "POST")
	userKey := e.loginKey("/api/user", "GET", "POST")
	pingOnly := e.loginKey("/api/login", "PUT")

	e.want("closed, no key", e.login("", req(closed)), 401)
	e.want("closed, key without /api/login", e.login(userKey, req(closed)), 401)
	e.want("closed, key with PUT only", e.login(pingOnly, req(closed)), 401)
	e.want("closed, bad key", e.login("not a key", req(closed)), 401)
	e.want("closed, login key", e.login(loginKey, req(closed)), 200)
	e.want("closed, full key", e.login(e.root, req(closed)), 200)
	e.want("open, no key", e.login("", req(open)), 200)
	e.want("open, unrelated key", e.login(userKey, req(open)), 200)

	// An application an anonymous caller cannot resolve needs a key first:
	// nothing tells it which applications exist.
	e.want("unknown app, no key", e.login("", req("6c7d0a2c-1d9e-4d3e-9a3f-1f5b8f3c0a11")), 401)
	e.want("not a UUID, no key", e.login("", req("nope")), 401)
	if r := e.login(loginKey, req("6c7d0a2c-1d9e-4d3e-9a3f-1f5b8f3c0a11")); r.Status != 400 || !slices.Contains(errorCodes(t, r), "[invalid]applicationId") {
		t.Errorf("unknown app with a key: %d %s", r.Status, r.Body)
	}
	// Without an application, the tenant's loginConfiguration decides (on by default).
	e.want("no app, no key", e.login("", map[string]any{"loginId": email, "password": lgPassword}), 401)
	e.want("no app, login key", e.login(loginKey, map[string]any{"loginId": email, "password": lgPassword}), 200)

	// A tenant-scoped key sees no application of another tenant (as for
	// every object of another tenant: it does not exist for that key).
	other, _ := e.insertKey(model.APIKey{TenantID: e.akEnv.tenant(uuid.NewString())})
	for _, app := range []string{closed, open} {
		if r := e.login(other, req(app)); r.Status != 400 || !slices.Contains(errorCodes(t, r), "[invalid]applicationId") {
			t.Errorf("other tenant's key: %d %s", r.Status, r.Body)
		}
	}
}

// A user with two-factor methods is not logged in by a password alone: 242
// with a twoFactorId and the methods (no token), as FusionAuth answers.
func TestLoginTwoFactorRequired(t *testing.T) {
	t.Parallel()
	e := lgStart(t, testutil.Backend{Name: "sqlite"})
	app := e.app("App", lgAppOpts{refresh: true})
	email := lgEmail("mfa")
	uid := e.user(email, lgPassword, map[string]any{"twoFactor": map[string]any{"methods": []any{
		map[string]any{"method": "authenticator", "secret": "aGVsbG8Kd29ybGQKaGVsbG8gaGVsbG8=",
			"authenticator": map[string]any{"algorithm": "HmacSHA1", "codeLength": 6, "timeStep": 30}}}}})
	e.register(uid, app)
	m := e.loginOK("two-factor user", "", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app}, 242)
	methods, _ := m["methods"].([]any)
	if lgStr(m["twoFactorId"]) == "" || len(methods) != 1 || methods[0].(map[string]any)["method"] != "authenticator" ||
		m["token"] != nil || m["refreshToken"] != nil || m["user"] != nil {
		t.Errorf("242 body: %v", m)
	}
	if strings.Contains(string(e.login("", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app}).Body), "aGVsbG8K") {
		t.Errorf("the 242 answer carries the method's secret")
	}
	if recs := e.loginRecords(uid); len(recs) != 0 {
		t.Errorf("a 242 recorded a login: %+v", recs)
	}
	e.want("wrong password", e.login("", map[string]any{"loginId": email, "password": "wrong", "applicationId": app}), 404)
}

// A login happens in the application's tenant: the same email in two
// tenants is two users. A tenant naming no signing key signs with the
// default key; its issuer is its own.
func TestLoginTenants(t *testing.T) {
	t.Parallel()
	e := lgStart(t, testutil.Backend{Name: "sqlite"})
	second := e.want("tenant", e.do("POST", "/api/tenant", e.root, map[string]any{"tenant": map[string]any{"name": "Second", "issuer": "second.example.com"}}), 200)["tenant"].(map[string]any)["id"].(string)
	appA := e.app("In Default", lgAppOpts{})
	appB := e.want("app in Second", e.do("POST", "/api/application", e.root, map[string]any{"application": map[string]any{
		"name": "In Second", "tenantId": second, "loginConfiguration": map[string]any{"requireAuthentication": false}}}), 200)["application"].(map[string]any)["id"].(string)
	email := lgEmail("twice")
	ua := e.user(email, "password in default", nil)
	ub := e.want("user in Second", e.do("POST", "/api/user", e.root, map[string]any{"user": map[string]any{"email": email, "password": "password in second", "tenantId": second},
		"skipVerification": true}), 200)["user"].(map[string]any)["id"].(string)
	e.register(ua, appA)
	e.register(ub, appB)

	ma := e.loginOK("default tenant", "", map[string]any{"loginId": email, "password": "password in default", "applicationId": appA}, 200)
	mb := e.loginOK("second tenant", "", map[string]any{"loginId": email, "password": "password in second", "applicationId": appB}, 200)
	e.want("other tenant's password", e.login("", map[string]any{"loginId": email, "password": "password in default", "applicationId": appB}), 404)
	ca, cb := lgClaims(t, lgStr(ma["token"])), lgClaims(t, lgStr(mb["token"]))
	if ca["sub"] != ua || cb["sub"] != ub || cb["tid"] != second || cb["iss"] != "second.example.com" {
		t.Errorf("claims: %v / %v", ca, cb)
	}
	if lgHeader(t, lgStr(ma["token"]))["kid"] != lgHeader(t, lgStr(mb["token"]))["kid"] {
		t.Errorf("a tenant without a key did not sign with the default key")
	}
	e.want("validate second tenant's token", e.validate(lgStr(mb["token"])), 200)

	// Without an application, several tenants need one named.
	loginKey := e.loginKey("/api/login", "POST")
	if r := e.login(loginKey, map[string]any{"loginId": email, "password": "password in second"}); r.Status != 400 || !slices.Contains(errorCodes(t, r), "[TenantIdRequired]") {
		t.Errorf("no tenant named: %d %s", r.Status, r.Body)
	}
	e.want("tenant named by header", e.login(loginKey, map[string]any{"loginId": email, "password": "password in second"}, "X-FusionAuth-TenantId", second), 200)
}
