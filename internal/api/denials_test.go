package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/testutil"
)

// TestDenialsAudited: a valid key calling a route it may not call leaves an
// audit entry naming the key, the route and the address; repeats of the same
// key and route within a minute are counted into the next entry, not each
// written.
func TestDenialsAudited(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := akStart(t, b)
		value, id := e.insertKey(model.APIKey{Name: "narrow", Permissions: keyPerms("/api/user", "GET")})
		denials := func() []*model.AuditLog {
			var out []*model.AuditLog
			for _, a := range e.audits(id) {
				if strings.HasPrefix(a.Message, "Denied ") {
					out = append(out, a)
				}
			}
			return out
		}
		steps := []struct {
			name    string
			method  string
			path    string
			advance time.Duration
			want    int // denial entries after the step
			route   string
		}{
			{"first denial", "GET", "/api/tenant", 0, 1, "GET /api/tenant"},
			{"same route again", "GET", "/api/tenant", time.Second, 1, ""},
			{"other method", "POST", "/api/tenant", time.Second, 2, "POST /api/tenant"},
			{"another route", "GET", "/api/application", 0, 3, "GET /api/application"},
			{"same route after a minute", "GET", "/api/tenant", time.Minute, 4, "GET /api/tenant"},
		}
		for _, s := range steps {
			e.s.Clock.Advance(s.advance)
			if r := e.do(s.method, s.path, value, nil); r.Status != 401 {
				t.Fatalf("%s: %d, want 401", s.name, r.Status)
			}
			got := denials()
			if len(got) != s.want {
				t.Fatalf("%s: %d denial entries, want %d: %v", s.name, len(got), s.want, got)
			}
			if s.route == "" {
				continue
			}
			last := got[len(got)-1]
			if !strings.Contains(last.Message, s.route) || !strings.Contains(last.Message, id) || last.IPAddress != "127.0.0.1" {
				t.Errorf("%s: entry %q from %q does not name the route %q, the key and the address", s.name, last.Message, last.IPAddress, s.route)
			}
		}
		// The last entry counts the repeat it stood for.
		got := denials()
		if msg := got[len(got)-1].Message; !strings.Contains(msg, "1 more") {
			t.Errorf("last entry does not count the suppressed repeat: %q", msg)
		}
		// Allowed calls leave no denial.
		if r := e.do("GET", "/api/user?email=nobody@example.com", value, nil); r.Status == 401 {
			t.Fatalf("allowed call refused")
		}
		if n := len(denials()); n != 4 {
			t.Errorf("%d denial entries after an allowed call, want 4", n)
		}
	})
}
