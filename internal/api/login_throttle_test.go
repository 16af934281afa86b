package api_test

import (
	"sync"
	"testing"
	"time"

	"github.com/latchid/latch/internal/testutil"
)

// lgLockout sets the Default tenant's lockout policy.
func (e *lgEnv) lgLockout(attempts, minutes, resetSeconds int) {
	e.t.Helper()
	e.patchTenant(map[string]any{"failedAuthenticationConfiguration": map[string]any{
		"tooManyAttempts": attempts, "actionDuration": minutes, "actionDurationUnit": "MINUTES", "resetCountInSeconds": resetSeconds}})
}

// Failures are counted per user (email and username together) in the
// database; tooManyAttempts of them lock the user for the configured time,
// during which even the right password answers 409; then it works again.
// Unknown login ids are throttled alike.
func TestLoginLockout(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		e.lgLockout(3, 5, 60)
		app := e.app("App", lgAppOpts{})
		email := lgEmail("lock")
		uid := e.user(email, lgPassword, map[string]any{"username": "lockme"})
		e.register(uid, app)
		try := func(loginID, pw string) *testutil.Response {
			return e.login("", map[string]any{"loginId": loginID, "password": pw, "applicationId": app})
		}

		// Two failures, then the window passes: the count starts again.
		e.want("failure 1", try(email, "wrong"), 404)
		e.want("failure 2", try("lockme", "wrong"), 404)
		e.clock.Advance(61 * time.Second)
		e.want("failure 1 of a new window", try(email, "wrong"), 404)
		e.want("failure 2 of a new window", try("lockme", "wrong"), 404)
		// A success clears the count.
		e.want("right password", try(email, lgPassword), 200)
		e.want("failure 1 after success", try(email, "wrong"), 404)
		e.want("failure 2 after success", try("lockme", "wrong"), 404)
		e.want("failure 3 (by username) locks", try("lockme", "wrong"), 404)
		locked := e.login("", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app})
		m := e.want("right password while locked", locked, 409)
		actions, _ := m["actions"].([]any)
		if len(actions) != 1 || int64(actions[0].(map[string]any)["expiry"].(float64)) != e.clock.Now().UnixMilli()+millis(5*time.Minute) {
			t.Errorf("409 actions: %v", m)
		}
		e.want("wrong password while locked", try(email, "wrong"), 409)
		e.want("username while locked", try("lockme", lgPassword), 409)
		e.clock.Advance(5*time.Minute - time.Millisecond)
		e.want("a millisecond before the end", try(email, lgPassword), 409)
		e.clock.Advance(time.Millisecond)
		e.want("right password after the lockout", try(email, lgPassword), 200)
		e.want("failure after the lockout counts from 1", try(email, "wrong"), 404)
		e.want("and succeeds again", try(email, lgPassword), 200)

		// An unknown login id locks exactly like a known one.
		ghost := lgEmail("ghost")
		for i := 0; i < 3; i++ {
			e.want("unknown login id", try(ghost, "whatever"), 404)
		}
		e.want("unknown login id, locked", try(ghost, "whatever"), 409)
	})
}

// A burst of wrong passwords in parallel is counted exactly: tooManyAttempts
// of them answer 404, every other one 409.
func TestLoginLockoutBurst(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		e.lgLockout(5, 10, 600)
		app := e.app("App", lgAppOpts{})
		email := lgEmail("burst")
		e.register(e.user(email, lgPassword, nil), app)
		const n = 16
		statuses := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i] = e.s.Do(t, "POST", "/api/login", "", map[string]any{"loginId": email, "password": "wrong", "applicationId": app}).Status
			}()
		}
		wg.Wait()
		count := map[int]int{}
		for _, s := range statuses {
			count[s]++
		}
		if count[404] != 5 || count[409] != n-5 {
			t.Errorf("burst of %d wrong passwords: %v, want 5×404 and %d×409", n, count, n-5)
		}
	})
}

// Two nodes on one PostgreSQL share the count and the lockout.
func TestLoginLockoutAcrossNodes(t *testing.T) {
	t.Parallel()
	pg := testutil.Backend{Name: "postgres", DatabaseURL: testutil.PostgresURL(t)}
	e := lgStart(t, pg)
	nodeB := testutil.StartServer(t, testutil.WithBackend(pg), testutil.WithClock(e.clock))
	e.lgLockout(4, 3, 60)
	app := e.app("App", lgAppOpts{})
	email := lgEmail("nodes")
	e.register(e.user(email, lgPassword, nil), app)
	req := func(pw string) map[string]any {
		return map[string]any{"loginId": email, "password": pw, "applicationId": app}
	}
	for i, node := range []*testutil.Server{e.s, nodeB, e.s, nodeB} {
		if r := node.Do(t, "POST", "/api/login", "", req("wrong")); r.Status != 404 {
			t.Fatalf("failure %d on %s: %d", i+1, node.Addr, r.Status)
		}
	}
	for _, node := range []*testutil.Server{e.s, nodeB} {
		if r := node.Do(t, "POST", "/api/login", "", req(lgPassword)); r.Status != 409 {
			t.Errorf("node %s after 4 failures spread over both nodes: %d, want 409", node.Addr, r.Status)
		}
	}
	e.clock.Advance(3 * time.Minute)
	if r := nodeB.Do(t, "POST", "/api/login", "", req(lgPassword)); r.Status != 200 {
		t.Errorf("after the lockout: %d", r.Status)
	}
}
