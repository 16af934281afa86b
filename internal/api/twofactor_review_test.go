package api_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchid/latch/internal/testutil"
)

// tfEnable enables an authenticator method for a user and returns its
// secret and recovery codes.
func (e *lgEnv) tfEnable(uid string) ([]byte, []string) {
	e.t.Helper()
	secret, _ := e.tfSecret(e.root)
	m := e.want("enable", e.do("POST", "/api/user/two-factor/"+uid, e.root,
		map[string]any{"method": "authenticator", "secret": secret, "code": tfCode([]byte(secret), e.clock.Now())}), 200)
	var rec []string
	for _, c := range m["recoveryCodes"].([]any) {
		rec = append(rec, c.(string))
	}
	return []byte(secret), rec
}

// tfParallel posts the bodies at once and returns the statuses.
func (e *lgEnv) tfParallel(bodies []map[string]any) []int {
	e.t.Helper()
	out := make([]int, len(bodies))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, b := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = e.s.Do(e.t, "POST", "/api/two-factor/login", "", b).Status
		}()
	}
	close(start)
	wg.Wait()
	return out
}

func tfCount(statuses []int, want int) int {
	n := 0
	for _, s := range statuses {
		if s == want {
			n++
		}
	}
	return n
}

// Of parallel two-factor logins with one twoFactorId, one TOTP code or one
// recovery code, exactly one succeeds; the others never 500.
func TestTwoFactorLoginConcurrentOnce(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		e.lgLockout(1000, 5, 60) // the losers' wrong codes must not lock the user
		app := e.app("App", lgAppOpts{refresh: true})
		email := lgEmail("race")
		uid := e.user(email, lgPassword, nil)
		e.register(uid, app)
		key, recovery := e.tfEnable(uid)
		const n = 8
		check := func(what string, st []int) {
			t.Helper()
			if tfCount(st, 200) != 1 {
				t.Errorf("%s: %d successes, want 1: %v", what, tfCount(st, 200), st)
			}
			for _, s := range st {
				if s != 200 && s != 404 && s != 421 {
					t.Errorf("%s: status %d: %v", what, s, st)
				}
			}
		}

		// One twoFactorId, one code.
		e.clock.Advance(30 * time.Second)
		id := e.tfLogin(email, app)
		code := tfCode(key, e.clock.Now())
		bodies := make([]map[string]any, n)
		for i := range bodies {
			bodies[i] = map[string]any{"twoFactorId": id, "code": code}
		}
		check("one twoFactorId", e.tfParallel(bodies))

		// One TOTP code, n twoFactorIds.
		e.clock.Advance(30 * time.Second)
		code = tfCode(key, e.clock.Now())
		for i := range bodies {
			bodies[i] = map[string]any{"twoFactorId": e.tfLogin(email, app), "code": code}
		}
		check("one TOTP code", e.tfParallel(bodies))

		// One recovery code, n twoFactorIds.
		for i := range bodies {
			bodies[i] = map[string]any{"twoFactorId": e.tfLogin(email, app), "code": recovery[0]}
		}
		check("one recovery code", e.tfParallel(bodies))
	})
}

// A twoFactorId takes at most maxTwoFactorAttempts (5) wrong codes, also
// when they come at once: each wrong code counts on the count the id holds
// when it is used, not on one read before.
func TestTwoFactorIDAttemptsConcurrent(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		e.lgLockout(1000, 5, 60) // count the id's attempts, not the user's lockout
		app := e.app("App", lgAppOpts{})
		email := lgEmail("attempts")
		uid := e.user(email, lgPassword, nil)
		e.register(uid, app)
		key, _ := e.tfEnable(uid)
		e.clock.Advance(30 * time.Second)
		wrong := "000000"
		for i := 0; slices.Contains([]string{tfCode(key, e.clock.Now().Add(-30*time.Second)), tfCode(key, e.clock.Now()),
			tfCode(key, e.clock.Now().Add(30*time.Second))}, wrong); i++ {
			wrong = fmt.Sprintf("%06d", i)
		}
		for round := range 3 {
			id := e.tfLogin(email, app)
			bodies := make([]map[string]any, 12)
			for i := range bodies {
				bodies[i] = map[string]any{"twoFactorId": id, "code": wrong}
			}
			// A 404 is a try that found the id in use by another and tested
			// nothing; each 421 tested a code against it.
			st := e.tfParallel(bodies)
			if tfCount(st, 421)+tfCount(st, 404) != len(st) || tfCount(st, 421) > 5 {
				t.Fatalf("round %d: %d wrong codes at once with one twoFactorId answered %v, want at most 5 × 421 and the rest 404", round, len(st), st)
			}
			for tried := tfCount(st, 421); tried < 5; tried++ {
				e.want("one more wrong code", e.tfFinish(id, wrong), 421)
			}
			e.want("the right code after 5 wrong ones", e.tfFinish(id, tfCode(key, e.clock.Now())), 404)
			e.clock.Advance(30 * time.Second)
		}
	})
}

// Bad input to the two-factor routes is 400, 404 or 421, never 500.
func TestTwoFactorBadInput(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		app := e.app("App", lgAppOpts{})
		email := lgEmail("bad")
		uid := e.user(email, lgPassword, nil)
		e.register(uid, app)
		e.tfEnable(uid)
		id := e.tfLogin(email, app)
		huge := strings.Repeat("9", 100_000)
		cases := []struct {
			name, method, path string
			key                bool
			body               any
			want               []int
		}{
			{"login: twoFactorId a number", "POST", "/api/two-factor/login", false, `{"twoFactorId": 5, "code": "1"}`, []int{400}},
			{"login: code a number", "POST", "/api/two-factor/login", false, `{"twoFactorId": "` + id + `", "code": 123456}`, []int{400}},
			{"login: metaData an array", "POST", "/api/two-factor/login", false, `{"twoFactorId": "x", "code": "1", "metaData": []}`, []int{400}},
			{"login: noJWT a string", "POST", "/api/two-factor/login", false, `{"twoFactorId": "x", "code": "1", "noJWT": "yes"}`, []int{400}},
			{"login: array body", "POST", "/api/two-factor/login", false, `[]`, []int{400}},
			{"login: null body", "POST", "/api/two-factor/login", false, `null`, []int{400}},
			{"login: empty body", "POST", "/api/two-factor/login", false, ``, []int{400}},
			{"login: huge twoFactorId", "POST", "/api/two-factor/login", false, map[string]any{"twoFactorId": huge, "code": "1"}, []int{404}},
			{"login: unknown twoFactorId", "POST", "/api/two-factor/login", false, map[string]any{"twoFactorId": "nope", "code": "123456"}, []int{404}},
			{"login: malformed userId", "POST", "/api/two-factor/login", false, map[string]any{"twoFactorId": id, "code": "123456", "userId": "not-a-uuid"}, []int{404}},
			{"login: unknown userId", "POST", "/api/two-factor/login", false, map[string]any{"twoFactorId": id, "code": "123456", "userId": "00000000-0000-0000-0000-00000000dead"}, []int{404}},
			{"login: malformed applicationId", "POST", "/api/two-factor/login", false, map[string]any{"twoFactorId": id, "code": "123456", "applicationId": "garbage"}, []int{401}},
			{"login: unknown applicationId", "POST", "/api/two-factor/login", false, map[string]any{"twoFactorId": id, "code": "123456", "applicationId": "00000000-0000-0000-0000-00000000dead"}, []int{401}},
			{"login: huge code", "POST", "/api/two-factor/login", false, map[string]any{"twoFactorId": id, "code": huge}, []int{421}},
			{"enable: secret a number", "POST", "/api/user/two-factor/" + uid, true, `{"method": "authenticator", "secret": 5, "code": "1"}`, []int{400}},
			{"enable: bad base32", "POST", "/api/user/two-factor/" + uid, true, map[string]any{"method": "authenticator", "secretBase32Encoded": "!!!", "code": "123456"}, []int{400}},
			{"enable: huge code", "POST", "/api/user/two-factor/" + uid, true, map[string]any{"method": "authenticator", "secret": "abcdefghijklmnopqrst", "code": huge}, []int{421}},
			{"enable: huge secret", "POST", "/api/user/two-factor/" + uid, true, map[string]any{"method": "authenticator", "secret": huge, "code": "123456"}, []int{400}},
			{"enable: huge base32 secret", "POST", "/api/user/two-factor/" + uid, true, map[string]any{"method": "authenticator", "secretBase32Encoded": strings.Repeat("A", 100_000), "code": "123456"}, []int{400, 421}},
			{"enable: malformed user id", "POST", "/api/user/two-factor/xyz", true, map[string]any{"method": "authenticator", "secret": "abcdefghijklmnopqrst", "code": "123456"}, []int{404}},
			{"enable: no body", "POST", "/api/user/two-factor/" + uid, true, nil, []int{400}},
			{"disable: malformed user id", "DELETE", "/api/user/two-factor/xyz?code=123456&methodId=x", true, nil, []int{404}},
			{"disable: code a number", "DELETE", "/api/user/two-factor/" + uid, true, `{"code": 5}`, []int{400}},
			{"disable: huge code", "DELETE", "/api/user/two-factor/" + uid, true, map[string]any{"code": huge, "methodId": "x"}, []int{400, 421}},
			{"disable: no code", "DELETE", "/api/user/two-factor/" + uid, true, nil, []int{400}},
		}
		for _, c := range cases {
			key := ""
			if c.key {
				key = e.root
			}
			r := e.do(c.method, c.path, key, c.body)
			ok := false
			for _, w := range c.want {
				ok = ok || r.Status == w
			}
			if !ok {
				t.Errorf("%s: status %d, want %v; body %.200s", c.name, r.Status, c.want, r.Body)
			}
		}
	})
}

// The second step makes the checks /api/login makes: a user deactivated,
// expired, deleted or locked out after the 242, and applications of another
// tenant, are refused.
func TestTwoFactorLoginGates(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		e.lgLockout(3, 5, 60)
		app := e.app("App", lgAppOpts{})
		mk := func(name string) (string, string, []byte) {
			email := lgEmail(name)
			uid := e.user(email, lgPassword, nil)
			e.register(uid, app)
			key, _ := e.tfEnable(uid)
			return email, uid, key
		}
		next := func(key []byte) string {
			e.clock.Advance(30 * time.Second)
			return tfCode(key, e.clock.Now())
		}

		// Deactivated after the 242.
		email, uid, key := mk("deact")
		id := e.tfLogin(email, app)
		e.want("deactivate", e.do("DELETE", "/api/user/"+uid, e.root, nil), 200)
		e.want("deactivated", e.tfFinish(id, next(key)), 423)

		// Expired after the 242.
		email, uid, key = mk("exp")
		id = e.tfLogin(email, app)
		e.want("expire", e.do("PATCH", "/api/user/"+uid, e.root, map[string]any{"user": map[string]any{"expiry": e.now() + 1000}}), 200)
		code := next(key)
		e.want("expired", e.tfFinish(id, code), 410)

		// Deleted after the 242.
		email, uid, key = mk("del")
		id = e.tfLogin(email, app)
		e.want("delete", e.do("DELETE", "/api/user/"+uid+"?hardDelete=true", e.root, nil), 200)
		if r := e.tfFinish(id, next(key)); r.Status != 404 {
			t.Errorf("deleted user: %d %s", r.Status, r.Body)
		}

		// Locked out by wrong passwords after the 242.
		email, _, key = mk("lock")
		id = e.tfLogin(email, app)
		for range 3 {
			e.login("", map[string]any{"loginId": email, "password": "wrong", "applicationId": app})
		}
		e.want("locked meanwhile", e.tfFinish(id, next(key)), 409)

		// An application of another tenant.
		email, _, key = mk("tenant")
		other := e.akEnv.tenant("Other")
		m := e.want("other app", e.do("POST", "/api/application", e.root, map[string]any{"application": map[string]any{"name": "Elsewhere", "tenantId": other}}), 200)
		otherApp := m["application"].(map[string]any)["id"].(string)
		id = e.tfLogin(email, app)
		code = next(key)
		if r := e.do("POST", "/api/two-factor/login", e.root, map[string]any{"twoFactorId": id, "code": code, "applicationId": otherApp}); r.Status == 200 {
			t.Errorf("another tenant's application: %d %s", r.Status, r.Body)
		}
		e.want("own application after", e.tfFinish(id, code), 200)
	})
}

// lastLoginInstant only moves forward: a login written at once whose
// instant is older than a buffered login already flushed (it took its
// instant before that one, or on a node whose clock is behind) does not
// move it back, as the buffer's own flush does not.
func TestLastLoginInstantNeverBackwards(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		plain := e.app("Plain", lgAppOpts{})
		withRefresh := e.app("Refresh", lgAppOpts{refresh: true})
		email := lgEmail("forward")
		uid := e.user(email, lgPassword, nil)
		e.register(uid, plain)
		e.register(uid, withRefresh)
		base := e.clock.Now()
		e.clock.Set(base.Add(time.Hour))
		later := e.clock.Now().UnixMilli()
		e.loginOK("buffered login", "", map[string]any{"loginId": email, "password": lgPassword, "applicationId": plain}, 200)
		start := time.Now()
		for len(e.loginRecords(uid)) == 0 {
			if time.Since(start) > 10*time.Second {
				t.Fatalf("no login record 10s after the login")
			}
			time.Sleep(20 * time.Millisecond)
		}
		e.clock.Set(base.Add(30 * time.Minute)) // an older instant, written at once
		m := e.loginOK("direct login", "", map[string]any{"loginId": email, "password": lgPassword, "applicationId": withRefresh}, 200)
		if lgStr(m["refreshToken"]) == "" {
			t.Fatalf("no refresh token: the login was not written at once: %v", m)
		}
		got := e.want("get user", e.do("GET", "/api/user/"+uid, e.root, nil), 200)["user"].(map[string]any)
		if at := int64(got["lastLoginInstant"].(float64)); at != later {
			t.Errorf("lastLoginInstant %d, want %d (it moved backwards by %v)", at, later, time.Duration(later-at)*time.Millisecond)
		}
	})
}
