package api_test

import (
	"testing"
	"time"

	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

// A plain successful login (no refresh token, nothing to clear, no re-hash)
// buffers its login record and lastLoginInstant (authentication/loginbuffer.go): its
// answer shows the new instant at once, the database has both after the
// next flush (every second), and a graceful shutdown flushes what is left.
func TestBufferedLoginRecords(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		app := e.app("Buffered", lgAppOpts{})
		email := lgEmail("buffered")
		uid := e.user(email, lgPassword, nil)
		e.register(uid, app)
		e.clock.Advance(time.Minute)
		now := e.clock.Now().UnixMilli()

		m := e.loginOK("plain login", "", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app,
			"ipAddress": "192.0.2.7"}, 200)
		if u := m["user"].(map[string]any); int64(u["lastLoginInstant"].(float64)) != now {
			t.Errorf("answer's lastLoginInstant %v, want %d", u["lastLoginInstant"], now)
		}
		if lgStr(m["refreshToken"]) != "" {
			t.Fatalf("a refresh token from an application without them: %v", m)
		}
		var recs []*store.LoginRecord
		start := time.Now()
		for recs = e.loginRecords(uid); len(recs) == 0; recs = e.loginRecords(uid) {
			if time.Since(start) > 10*time.Second {
				t.Fatalf("no login record 10s after the login")
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Logf("login record written %v after the login", time.Since(start))
		if len(recs) != 1 || recs[0].IPAddress != "192.0.2.7" || recs[0].ApplicationID != app || recs[0].Instant != now ||
			recs[0].LoginID != email {
			t.Errorf("login records: %+v", recs)
		}
		got := e.want("get user", e.do("GET", "/api/user/"+uid, e.root, nil), 200)["user"].(map[string]any)
		if int64(got["lastLoginInstant"].(float64)) != now {
			t.Errorf("stored lastLoginInstant %v, want %d", got["lastLoginInstant"], now)
		}
		if regs := got["registrations"].([]any); int64(regs[0].(map[string]any)["lastLoginInstant"].(float64)) != now {
			t.Errorf("stored registration lastLoginInstant %v", regs[0])
		}

		// A login right before a graceful shutdown is written by it.
		e.clock.Advance(time.Minute)
		e.loginOK("login before shutdown", "", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app,
			"noJWT": true}, 200)
		if code := e.s.Stop(t); code != 0 {
			t.Fatalf("server exit code %d", code)
		}
		if recs := e.loginRecords(uid); len(recs) != 2 || recs[0].Instant != now+60_000 {
			t.Errorf("login records after a graceful shutdown: %+v", recs)
		}
	})
}
