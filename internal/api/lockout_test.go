package api_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/testutil"
)

// tfWrong is the i-th wrong code for a key at an instant: none of the codes
// the server accepts then (one step either way).
func tfWrong(t *testing.T, key []byte, at time.Time, i int) string {
	t.Helper()
	valid := map[string]bool{}
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		valid[tfCode(key, at.Add(d))] = true
	}
	n := mustAtoi(t, tfCode(key, at))
	for k := 1; ; k++ {
		c := fmt.Sprintf("%06d", (n+k+i*7)%1_000_000)
		if !valid[c] {
			return c
		}
	}
}

// The guessing cycle of issue 15 (password → 242 → four wrong codes, again
// and again): a correct password must not clear the wrong codes, so the
// tenant's tooManyAttempts wrong codes in total lock the user, whatever
// password steps come between them. While locked, the password step, a
// wrong code and a right code all answer 409; a full login (password and
// code) after the lockout clears the count.
func TestTwoFactorGuessCycleLocks(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		const attempts = 5
		e.lgLockout(attempts, 5, 600)
		app := e.app("App", lgAppOpts{})
		email := lgEmail("cycle")
		uid := e.user(email, lgPassword, nil)
		e.register(uid, app)
		key, _ := e.tfEnable(uid)
		e.clock.Advance(30 * time.Second) // past the code that enabled

		wrong := 0
		var lastID string
		for cycle := 0; cycle < 4; cycle++ {
			r := e.login("", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app})
			if wrong >= attempts {
				e.want(fmt.Sprintf("cycle %d: password step after %d wrong codes", cycle, wrong), r, 409)
				break
			}
			id := lgStr(e.want(fmt.Sprintf("cycle %d: password step after %d wrong codes", cycle, wrong), r, 242)["twoFactorId"])
			lastID = id
			for i := 0; i < attempts-1; i++ {
				want := 421 // the code that reaches tooManyAttempts still answers 421, as a login's 404
				if wrong >= attempts {
					want = 409
				}
				r := e.tfFinish(id, tfWrong(t, key, e.clock.Now(), wrong))
				if r.Status != want {
					t.Fatalf("cycle %d: wrong code %d (of %d in total): %d, want %d; %s", cycle, i+1, wrong+1, r.Status, want, r.Body)
				}
				if r.Status == 421 {
					wrong++
				}
			}
		}
		if wrong != attempts {
			t.Fatalf("%d wrong codes were answered 421, want %d", wrong, attempts)
		}

		// Locked: a right code with a twoFactorId from before is refused too,
		// and the 409 carries the lockout's end.
		m := e.want("right code while locked", e.tfFinish(lastID, tfCode(key, e.clock.Now())), 409)
		actions, _ := m["actions"].([]any)
		if len(actions) != 1 || actions[0].(map[string]any)["reasonCode"] != "failed_authentication_lockout" {
			t.Errorf("409 actions: %v", m)
		}

		// After the lockout: a full login clears the count; the wrong codes
		// of the next cycle count from one again.
		e.clock.Advance(5 * time.Minute)
		e.want("full login after the lockout", e.tfFinish(e.tfLogin(email, app), tfCode(key, e.clock.Now())), 200)
		for cycle := 0; cycle < 2; cycle++ {
			id := e.tfLogin(email, app)
			for i := 0; i < 2; i++ {
				e.want("wrong code after a full login", e.tfFinish(id, tfWrong(t, key, e.clock.Now(), i)), 421)
			}
		}
		e.want("fifth wrong code in total", e.tfFinish(e.tfLogin(email, app), tfWrong(t, key, e.clock.Now(), 9)), 421)
		e.want("locked again", e.login("", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app}), 409)
	})
}

// Two nodes on one PostgreSQL: the password step on one and wrong codes on
// the other add up to one lockout, seen by both.
func TestTwoFactorGuessCycleAcrossNodes(t *testing.T) {
	t.Parallel()
	pg := testutil.Backend{Name: "postgres", DatabaseURL: testutil.PostgresURL(t)}
	e := lgStart(t, pg)
	nodeB := testutil.StartServer(t, testutil.WithBackend(pg), testutil.WithClock(e.clock))
	e.lgLockout(4, 5, 600)
	app := e.app("App", lgAppOpts{})
	email := lgEmail("nodes2fa")
	uid := e.user(email, lgPassword, nil)
	e.register(uid, app)
	key, _ := e.tfEnable(uid)
	e.clock.Advance(30 * time.Second)
	password := map[string]any{"loginId": email, "password": lgPassword, "applicationId": app}
	for cycle, nodes := range [][2]*testutil.Server{{e.s, nodeB}, {nodeB, e.s}} {
		r := nodes[0].Do(t, "POST", "/api/login", "", password)
		id := lgStr(e.want(fmt.Sprintf("cycle %d: password step", cycle), r, 242)["twoFactorId"])
		for i := 0; i < 2; i++ {
			r := nodes[1].Do(t, "POST", "/api/two-factor/login", "", map[string]any{"twoFactorId": id, "code": tfWrong(t, key, e.clock.Now(), 2*cycle+i)})
			e.want(fmt.Sprintf("cycle %d: wrong code %d", cycle, i+1), r, 421)
		}
	}
	for _, node := range []*testutil.Server{e.s, nodeB} {
		e.want("password step after 4 wrong codes on two nodes", node.Do(t, "POST", "/api/login", "", password), 409)
	}
}

// Wrong currentPassword guesses of change password count toward the same
// lockout as failed logins, and while locked change password answers 409
// (FusionAuth's Errors, [LoginPrevented]) without checking the password,
// right or wrong. A right current password does not clear the count.
func TestChangePasswordCountsFailures(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		e.lgLockout(3, 5, 600)
		app := e.app("App", lgAppOpts{})
		const newPassword = "a new password 42"
		type step struct {
			change bool // change password (else a login)
			right  bool // the current password (else a wrong one)
			want   int
		}
		var (
			loginWrong  = step{false, false, 404}
			loginLocked = step{false, true, 409}
			changeWrong = step{true, false, 400}
		)
		cases := []struct {
			name  string
			steps []step
		}{
			{"wrong current passwords lock", []step{changeWrong, changeWrong, changeWrong, {true, true, 409}, {true, false, 409}, loginLocked}},
			{"failed logins lock change password", []step{loginWrong, loginWrong, loginWrong, {true, true, 409}}},
			{"both count together", []step{changeWrong, loginWrong, changeWrong, {true, true, 409}, loginLocked}},
			{"a right current password does not clear", []step{changeWrong, changeWrong, {true, true, 200}, changeWrong, {true, true, 409}}},
		}
		for n, tc := range cases {
			email := lgEmail(fmt.Sprintf("cp%d", n))
			e.register(e.user(email, lgPassword, nil), app)
			current := lgPassword
			for i, s := range tc.steps {
				pw := "not the password"
				if s.right {
					pw = current
				}
				var r *testutil.Response
				if s.change {
					r = e.do("POST", "/api/user/change-password", e.root, map[string]any{"loginId": email, "currentPassword": pw, "password": newPassword + current})
				} else {
					r = e.login("", map[string]any{"loginId": email, "password": pw, "applicationId": app})
				}
				if r.Status != s.want {
					t.Fatalf("%s: step %d: %d, want %d; %s", tc.name, i+1, r.Status, s.want, r.Body)
				}
				switch {
				case s.change && r.Status == 200:
					current = newPassword + current
				case s.change && r.Status == 409:
					var errs model.Errors
					if err := json.Unmarshal(r.Body, &errs); err != nil || len(errs.GeneralErrors) != 1 || errs.GeneralErrors[0].Code != "[LoginPrevented]" {
						t.Errorf("%s: step %d: 409 body %s", tc.name, i+1, r.Body)
					}
				case s.change && r.Status == 400:
					want400(t, tc.name, r, "[invalid]currentPassword")
				}
			}
		}
	})
}
