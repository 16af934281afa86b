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

// TestUnknownKeyCallsAudited: calls presenting a key that is none (made up,
// or deleted) reach the audit log at most once a minute across all
// addresses and routes, the entry counting the calls it stands for; calls
// without any key are plain authentication failures and leave none.
func TestUnknownKeyCallsAudited(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := akStart(t, b)
		gone, goneID := e.insertKey(model.APIKey{Name: "deleted", Permissions: keyPerms("/api/user", "GET")})
		if r := e.do("DELETE", "/api/api-key/"+goneID, e.root, nil); r.Status != 200 {
			t.Fatalf("delete key: %d %s", r.Status, r.Body)
		}
		rejected := func() []*model.AuditLog {
			var out []*model.AuditLog
			for _, a := range e.audits("") {
				if strings.HasPrefix(a.Message, "Rejected an unknown or expired API key") {
					out = append(out, a)
				}
			}
			return out
		}
		steps := []struct {
			name    string
			key     string
			path    string
			advance time.Duration
			want    int    // entries after the step
			text    string // in the newest entry when it was just written
		}{
			{"no key at all", "", "/api/user", 0, 0, ""},
			{"a made-up key", "made-up-key-value", "/api/user", 0, 1, "GET /api/user from 127.0.0.1"},
			{"again, another route", "another-made-up-key", "/api/tenant", time.Second, 1, ""},
			{"the deleted key", gone, "/api/user", time.Second, 1, ""},
			{"after a minute", gone, "/api/application", time.Minute, 2, "(and 2 more such calls"},
		}
		for _, s := range steps {
			e.s.Clock.Advance(s.advance)
			if r := e.do("GET", s.path, s.key, nil); r.Status != 401 {
				t.Fatalf("%s: %d, want 401", s.name, r.Status)
			}
			got := rejected()
			if len(got) != s.want {
				t.Fatalf("%s: %d entries, want %d: %v", s.name, len(got), s.want, got)
			}
			if s.text != "" && !strings.Contains(got[len(got)-1].Message, s.text) {
				t.Errorf("%s: entry %q lacks %q", s.name, got[len(got)-1].Message, s.text)
			}
			for _, a := range got {
				if strings.Contains(a.Message, "made-up") || strings.Contains(a.Message, gone) {
					t.Errorf("an entry shows the presented key: %q", a.Message)
				}
			}
		}
	})
}
