package api_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/testutil"
)

// tfCode is an authenticator app's code (RFC 6238, HMAC-SHA1, 6 digits,
// 30 s) for a key at an instant; written here apart from the server's.
func tfCode(key []byte, at time.Time) string {
	mac := hmac.New(sha1.New, key)
	_ = binary.Write(mac, binary.BigEndian, uint64(at.Unix()/30))
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:]) & 0x7fffffff
	return fmt.Sprintf("%06d", v%1_000_000)
}

// tfSecret asks the server for a secret and checks its two forms agree.
func (e *lgEnv) tfSecret(key string, headers ...string) (secret string, b32 string) {
	e.t.Helper()
	m := e.want("two-factor secret", e.do("GET", "/api/two-factor/secret", key, nil, headers...), 200)
	secret, b32 = lgStr(m["secret"]), lgStr(m["secretBase32Encoded"])
	raw, err := base32.StdEncoding.DecodeString(b32)
	if err != nil || string(raw) != secret || len(secret) < 16 {
		e.t.Fatalf("secret %q and base32 %q disagree (%v)", secret, b32, err)
	}
	return secret, b32
}

// tfLogin answers 242 and returns the twoFactorId.
func (e *lgEnv) tfLogin(email, app string) string {
	e.t.Helper()
	m := e.loginOK("password step", "", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app}, 242)
	id := lgStr(m["twoFactorId"])
	if id == "" {
		e.t.Fatalf("242 without twoFactorId: %v", m)
	}
	return id
}

func (e *lgEnv) tfFinish(id, code string, extra ...any) *testutil.Response {
	e.t.Helper()
	body := map[string]any{"twoFactorId": id, "code": code}
	for i := 0; i+1 < len(extra); i += 2 {
		body[extra[i].(string)] = extra[i+1]
	}
	return e.do("POST", "/api/two-factor/login", "", body)
}

// The authenticator flow end to end on both databases: secret, enable with
// recovery codes, the 242 and its completion, replay, recovery codes,
// expiry, lockout, disable.
func TestTwoFactorAuthenticator(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		app := e.app("MFA app", lgAppOpts{refresh: true, roles: []string{"r"}})
		email := lgEmail("mfa")
		uid := e.user(email, lgPassword, nil)
		e.register(uid, app, "r")

		// A secret needs a key or a JWT.
		e.want("secret without credentials", e.do("GET", "/api/two-factor/secret", "", nil), 401)
		secret, b32 := e.tfSecret(e.root)
		key := []byte(secret)
		now := func() string { return tfCode(key, e.clock.Now()) }

		// Enabling: validation, a wrong code (421), email/SMS refused.
		enable := "/api/user/two-factor/" + uid
		if r := e.do("POST", enable, e.root, map[string]any{"method": "email", "email": email, "code": "123456"}); r.Status != 400 ||
			!slices.Contains(errorCodes(t, r), "[invalid]method") || !strings.Contains(string(r.Body), "message delivery") {
			t.Errorf("email method: %d %s", r.Status, r.Body)
		}
		if r := e.do("POST", enable, e.root, map[string]any{"method": "authenticator", "secret": secret}); r.Status != 400 || !slices.Contains(errorCodes(t, r), "[blank]code") {
			t.Errorf("no code: %d %s", r.Status, r.Body)
		}
		wrong := fmt.Sprintf("%06d", (mustAtoi(t, now())+1)%1_000_000)
		if r := e.do("POST", enable, e.root, map[string]any{"method": "authenticator", "secret": secret, "code": wrong}); r.Status != 421 || len(r.Body) != 0 {
			t.Errorf("wrong code on enable: %d %s", r.Status, r.Body)
		}
		e.want("unknown user", e.do("POST", "/api/user/two-factor/"+"00000000-0000-0000-0000-00000000dead", e.root,
			map[string]any{"method": "authenticator", "secret": secret, "code": now()}), 404)
		enabledWith := now()
		m := e.want("enable", e.do("POST", enable, e.root, map[string]any{"method": "authenticator", "secretBase32Encoded": strings.ToLower(b32), "code": enabledWith}), 200)
		recovery := []string{}
		for _, c := range m["recoveryCodes"].([]any) {
			recovery = append(recovery, c.(string))
		}
		if len(recovery) != 10 || len(slices.Compact(slices.Sorted(slices.Values(recovery)))) != 10 {
			t.Fatalf("recovery codes: %v", recovery)
		}
		if msgs := e.lgAuditMessages(uid); !slices.ContainsFunc(msgs, func(s string) bool { return strings.HasPrefix(s, "Enabled two-factor method") }) {
			t.Errorf("enable not audited: %v", msgs)
		}
		user := e.want("get user", e.do("GET", "/api/user/"+uid, e.root, nil), 200)
		if raw := string(e.do("GET", "/api/user/"+uid, e.root, nil).Body); strings.Contains(raw, secret) || strings.Contains(raw, recovery[0]) {
			t.Errorf("the user object shows a secret or a recovery code: %s", raw)
		}
		methods := user["user"].(map[string]any)["twoFactor"].(map[string]any)["methods"].([]any)
		methodID := lgStr(methods[0].(map[string]any)["id"])
		if len(methods) != 1 || methodID == "" {
			t.Fatalf("methods: %v", methods)
		}

		// The 242 carries the method and its settings, never the secret.
		r := e.login("", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app})
		m = e.want("242", r, 242)
		ms := m["methods"].([]any)[0].(map[string]any)
		if ms["id"] != methodID || ms["method"] != "authenticator" || ms["authenticator"].(map[string]any)["algorithm"] != "HmacSHA1" ||
			strings.Contains(string(r.Body), secret) || m["token"] != nil {
			t.Errorf("242: %s", r.Body)
		}
		id := lgStr(m["twoFactorId"])

		// The code used to enable cannot be used again in its window.
		if r := e.tfFinish(id, enabledWith, "applicationId", app); r.Status != 421 || len(r.Body) != 0 {
			t.Errorf("replayed enable code: %d %s", r.Status, r.Body)
		}
		e.clock.Advance(30 * time.Second)
		if r := e.tfFinish(id, wrong, "applicationId", app); r.Status != 421 {
			t.Errorf("wrong code: %d %s", r.Status, r.Body)
		}
		good := now()
		m = e.want("two-factor login", e.tfFinish(id, good, "applicationId", app, "ipAddress", "10.9.8.7"), 200)
		if lgStr(m["token"]) == "" || lgStr(m["refreshToken"]) == "" || m["user"].(map[string]any)["id"] != uid {
			t.Fatalf("two-factor login answer: %v", m)
		}
		if c := lgClaims(t, lgStr(m["token"])); c["sub"] != uid || c["applicationId"] != app || c["authenticationType"] != "PASSWORD" {
			t.Errorf("claims: %v", c)
		}
		rt := lgStr(m["refreshToken"])
		e.want("validate", e.validate(lgStr(m["token"])), 200)
		e.want("refresh", e.refresh(rt), 200)
		if recs := e.loginRecords(uid); len(recs) != 1 || recs[0].IPAddress != "10.9.8.7" {
			t.Errorf("login records: %+v", recs)
		}
		e.want("twoFactorId used", e.tfFinish(id, now(), "applicationId", app), 404)

		// Replay of a code that logged in: refused on the next login too.
		id = e.tfLogin(email, app)
		e.want("replayed login code", e.tfFinish(id, good), 421)
		e.clock.Advance(30 * time.Second)
		e.want("next code", e.tfFinish(id, now()), 200) // the login's applicationId is kept

		// A recovery code works once, in any spelling.
		id = e.tfLogin(email, app)
		e.want("recovery code", e.tfFinish(id, strings.ToLower(strings.ReplaceAll(recovery[0], "-", ""))), 200)
		id = e.tfLogin(email, app)
		e.want("recovery code again", e.tfFinish(id, recovery[0]), 421)
		if msgs := e.lgAuditMessages(uid); !slices.ContainsFunc(msgs, func(s string) bool { return strings.Contains(s, "recovery code to log in (9 left)") }) {
			t.Errorf("recovery code use not audited: %v", msgs)
		}

		// A twoFactorId expires (tenant default 300 s).
		e.clock.Advance(10 * time.Minute)
		id = e.tfLogin(email, app)
		e.clock.Advance(301 * time.Second)
		e.want("expired twoFactorId", e.tfFinish(id, now()), 404)
		e.want("blank", e.do("POST", "/api/two-factor/login", "", map[string]any{"code": "1"}), 400)

		// Wrong codes count toward the lockout (5 by default); the lockout
		// revokes the user's refresh tokens (onLoginPrevented).
		e.clock.Advance(10 * time.Minute)
		m = e.want("fresh login", e.tfFinish(e.tfLogin(email, app), now(), "applicationId", app), 200)
		rt = lgStr(m["refreshToken"])
		id = e.tfLogin(email, app)
		for i := range 5 {
			if r := e.tfFinish(id, fmt.Sprintf("%06d", (mustAtoi(t, now())+1+i)%1_000_000)); r.Status != 421 {
				t.Fatalf("wrong code %d: %d %s", i, r.Status, r.Body)
			}
		}
		e.want("password while locked", e.login("", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app}), 409)
		e.refused("refresh token after the lockout", e.refresh(rt))

		// Disabling: a wrong code is 421, the right one removes the method;
		// the user then logs in with a password alone.
		e.clock.Advance(4 * time.Minute)
		e.clock.Advance(30 * time.Second)
		del := "/api/user/two-factor/" + uid + "?methodId=" + methodID + "&code="
		e.want("disable, wrong code", e.do("DELETE", del+wrong, e.root, nil), 421)
		e.want("disable, unknown method", e.do("DELETE", "/api/user/two-factor/"+uid+"?methodId=NOPE&code="+now(), e.root, nil), 400)
		e.want("disable", e.do("DELETE", del+now(), e.root, nil), 200)
		e.loginOK("no second factor", "", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app}, 200)

		// Enabled again: new recovery codes (the old ones went with the last
		// method); a recovery code disables every method.
		e.clock.Advance(30 * time.Second)
		m = e.want("enable again", e.do("POST", enable, e.root, map[string]any{"method": "authenticator", "secret": secret, "code": now()}), 200)
		again := m["recoveryCodes"].([]any)
		if len(again) != 10 || slices.Contains(recovery, again[0].(string)) {
			t.Errorf("recovery codes after re-enabling: %v", again)
		}
		secret2, _ := e.tfSecret(e.root)
		e.clock.Advance(30 * time.Second)
		m = e.want("second method", e.do("POST", enable, e.root, map[string]any{"method": "authenticator", "secret": secret2, "code": tfCode([]byte(secret2), e.clock.Now()), "name": "Backup"}), 200)
		if m["recoveryCodes"] != nil {
			t.Errorf("a second method brought recovery codes: %v", m)
		}
		e.want("second method's code logs in", e.tfFinish(e.tfLogin(email, app), tfCode([]byte(secret2), e.clock.Now().Add(30*time.Second))), 200)
		e.want("old recovery code", e.do("DELETE", "/api/user/two-factor/"+uid+"?code="+recovery[1], e.root, nil), 421)
		e.want("disable all by recovery code", e.do("DELETE", "/api/user/two-factor/"+uid, e.root, map[string]any{"code": again[0]}), 200)
		u := e.want("get user", e.do("GET", "/api/user/"+uid, e.root, nil), 200)["user"].(map[string]any)
		if tf, _ := u["twoFactor"].(map[string]any); tf != nil && len(tf["methods"].([]any)) != 0 {
			t.Errorf("methods left: %v", tf)
		}
		e.loginOK("no methods", "", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app}, 200)
	})
}

// A user manages its own second factor with its access token; another
// user's token cannot reach it, nor can no credentials.
func TestTwoFactorWithJWT(t *testing.T) {
	t.Parallel()
	e := lgStart(t, testutil.Backend{Name: "sqlite"})
	app := e.app("App", lgAppOpts{})
	email := lgEmail("self")
	uid := e.user(email, lgPassword, nil)
	e.register(uid, app)
	token := lgStr(e.loginOK("login", "", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app}, 200)["token"])
	bearer := []string{"Authorization", "Bearer " + token}
	secret, _ := e.tfSecret("", bearer...)
	code := tfCode([]byte(secret), e.clock.Now())
	e.want("enable without credentials", e.do("POST", "/api/user/two-factor", "", map[string]any{"method": "authenticator", "secret": secret, "code": code}), 401)
	m := e.want("enable with JWT", e.do("POST", "/api/user/two-factor", "", map[string]any{"method": "authenticator", "secret": secret, "code": code}, bearer...), 200)
	if len(m["recoveryCodes"].([]any)) != 10 {
		t.Errorf("recovery codes: %v", m)
	}
	if msgs := e.lgAuditMessages(uid); !slices.ContainsFunc(msgs, func(s string) bool { return strings.HasPrefix(s, "Enabled two-factor") }) {
		t.Errorf("not audited: %v", msgs)
	}
	id := e.tfLogin(email, app)
	e.clock.Advance(30 * time.Second)
	e.want("finish", e.tfFinish(id, tfCode([]byte(secret), e.clock.Now())), 200)
	e.clock.Advance(30 * time.Second)
	e.want("disable with JWT", e.do("DELETE", "/api/user/two-factor?code="+tfCode([]byte(secret), e.clock.Now())+"&methodId="+
		lgStr(e.want("user", e.do("GET", "/api/user/"+uid, e.root, nil), 200)["user"].(map[string]any)["twoFactor"].(map[string]any)["methods"].([]any)[0].(map[string]any)["id"]),
		"", nil, bearer...), 200)
	e.loginOK("password alone", "", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app}, 200)
}

// Two-factor login needs a key exactly when /api/login does.
func TestTwoFactorLoginRequiresKey(t *testing.T) {
	t.Parallel()
	e := lgStart(t, testutil.Backend{Name: "sqlite"})
	closed := e.app("Closed", lgAppOpts{requireKey: true})
	email := lgEmail("closed")
	uid := e.user(email, lgPassword, nil)
	e.register(uid, closed)
	secret, _ := e.tfSecret(e.root)
	e.want("enable", e.do("POST", "/api/user/two-factor/"+uid, e.root, map[string]any{"method": "authenticator", "secret": secret, "code": tfCode([]byte(secret), e.clock.Now())}), 200)
	key := e.loginKey("/api/login", "POST")
	m := e.want("242 with key", e.login(key, map[string]any{"loginId": email, "password": lgPassword, "applicationId": closed}), 242)
	id := lgStr(m["twoFactorId"])
	e.clock.Advance(30 * time.Second)
	c := tfCode([]byte(secret), e.clock.Now())
	e.want("without key", e.tfFinish(id, c), 401)
	e.want("with key", e.do("POST", "/api/two-factor/login", key, map[string]any{"twoFactorId": id, "code": c}), 200)
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The break-glass way out for a user who lost both the device and the
// recovery codes: an admin removes the methods with a user update, after
// which the password alone signs in and the old recovery codes are void.
func TestTwoFactorRemovedByAdmin(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		app := e.app("App", lgAppOpts{})
		email := lgEmail("lost")
		uid := e.user(email, lgPassword, nil)
		e.register(uid, app)
		secret, _ := e.tfSecret(e.root)
		m := e.want("enable", e.do("POST", "/api/user/two-factor/"+uid, e.root,
			map[string]any{"method": "authenticator", "secret": secret, "code": tfCode([]byte(secret), e.clock.Now())}), 200)
		recovery := lgStr(m["recoveryCodes"].([]any)[0])
		e.tfLogin(email, app)

		e.want("remove methods", e.do("PATCH", "/api/user/"+uid, e.root, map[string]any{"user": map[string]any{"twoFactor": map[string]any{"methods": []any{}}}},
			"Content-Type", "application/merge-patch+json"), 200)
		e.loginOK("password alone", "", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app}, 200)

		// A new method later: the recovery codes of the old one do not come back.
		e.clock.Advance(30 * time.Second)
		secret2, _ := e.tfSecret(e.root)
		e.want("enable again", e.do("POST", "/api/user/two-factor/"+uid, e.root,
			map[string]any{"method": "authenticator", "secret": secret2, "code": tfCode([]byte(secret2), e.clock.Now())}), 200)
		if r := e.tfFinish(e.tfLogin(email, app), recovery); r.Status != 421 {
			t.Errorf("an old recovery code after the methods were removed: %d %s", r.Status, r.Body)
		}
	})
}

// Disabling takes a code of the method disabled, and wrong codes there count
// as failed logins: five lock the user (the Default tenant's
// tooManyAttempts), after which neither the password nor a right code works.
func TestTwoFactorDisableThrottled(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		app := e.app("App", lgAppOpts{})
		email := lgEmail("guess")
		uid := e.user(email, lgPassword, nil)
		e.register(uid, app)
		enable := "/api/user/two-factor/" + uid
		secretA, _ := e.tfSecret(e.root)
		e.want("enable A", e.do("POST", enable, e.root, map[string]any{"method": "authenticator", "secret": secretA, "code": tfCode([]byte(secretA), e.clock.Now())}), 200)
		secretB, _ := e.tfSecret(e.root)
		e.want("enable B", e.do("POST", enable, e.root, map[string]any{"method": "authenticator", "secret": secretB, "code": tfCode([]byte(secretB), e.clock.Now())}), 200)
		methods := e.want("user", e.do("GET", "/api/user/"+uid, e.root, nil), 200)["user"].(map[string]any)["twoFactor"].(map[string]any)["methods"].([]any)
		if len(methods) != 2 {
			t.Fatalf("methods: %v", methods)
		}
		idB := lgStr(methods[1].(map[string]any)["id"])

		e.clock.Advance(30 * time.Second)
		codeA := tfCode([]byte(secretA), e.clock.Now())
		if r := e.do("DELETE", enable+"?methodId="+idB+"&code="+codeA, e.root, nil); r.Status != 421 {
			t.Errorf("disable B with A's code: %d %s", r.Status, r.Body)
		}
		for i := 0; i < 4; i++ {
			wrong := fmt.Sprintf("%06d", (mustAtoi(t, tfCode([]byte(secretB), e.clock.Now()))+1+i)%1_000_000)
			if r := e.do("DELETE", enable+"?methodId="+idB+"&code="+wrong, e.root, nil); r.Status != 421 {
				t.Errorf("wrong code %d: %d %s", i, r.Status, r.Body)
			}
		}
		// Five failures: locked. The right password answers 409, a right code 421.
		e.want("locked login", e.login("", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app}), 409)
		if r := e.do("DELETE", enable+"?methodId="+idB+"&code="+tfCode([]byte(secretB), e.clock.Now()), e.root, nil); r.Status != 421 {
			t.Errorf("right code while locked: %d %s", r.Status, r.Body)
		}
		// After the lockout, B's own code disables B.
		e.clock.Advance(time.Hour)
		e.want("disable B", e.do("DELETE", enable+"?methodId="+idB+"&code="+tfCode([]byte(secretB), e.clock.Now()), e.root, nil), 200)
	})
}
