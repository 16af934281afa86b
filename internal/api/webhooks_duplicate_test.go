package api_test

import (
	"strings"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

// A create or an update refused because its email or username is another
// user's login id emits user.loginId.duplicate.create or .update: the user
// as asked for, the existing user and the value in use. A look-alike in
// other letters is refused too but emits nothing; nor does a change that
// goes through.
func TestWebhookLoginIDDuplicateEvents(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s, key := startWithKey(t, b)
		tenant := defaultTenantID(t, s, key)
		app := createApp(t, s, key, "Duplicates")
		rc := newSignedReceiver(t, s, key, "user.loginId.duplicate.create", "user.loginId.duplicate.update")
		var a struct{ User struct{ ID string } }
		mustDo(t, s, "POST", "/api/user", key, map[string]any{"user": map[string]any{"email": "taken@example.com", "username": "alpha",
			"password": "correct horse battery"}}).JSON(t, &a)
		other := createTestUser(t, s, key, "other@example.com")
		refused := func(method, path string, body any) {
			t.Helper()
			if r := s.Do(t, method, path, key, body); r.Status != 400 || !strings.Contains(string(r.Body), "[duplicate]") {
				t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Body)
			}
		}
		steps := []struct {
			name, method, path string
			body               any
			event, email, dup  string // the event, the user's email as asked, duplicateEmail or duplicateUsername
			byUsername         bool
		}{
			{"create with a taken email", "POST", "/api/user", map[string]any{"user": map[string]any{"email": "TAKEN@example.com", "password": "correct horse battery"}},
				"user.loginId.duplicate.create", "TAKEN@example.com", "TAKEN@example.com", false},
			{"create with a registration and a taken username", "POST", "/api/user/registration", map[string]any{
				"user": map[string]any{"email": "fresh@example.com", "username": "alpha", "password": "correct horse battery"}, "registration": map[string]any{"applicationId": app}},
				"user.loginId.duplicate.create", "fresh@example.com", "alpha", true},
			{"create with a look-alike username", "POST", "/api/user", map[string]any{"user": map[string]any{"email": "look@example.com", "username": "\u0251lpha", "password": "correct horse battery"}},
				"", "", "", false},
			{"update to a taken email", "PATCH", "/api/user/" + other, map[string]any{"user": map[string]any{"email": "taken@example.com"}},
				"user.loginId.duplicate.update", "taken@example.com", "taken@example.com", false},
		}
		n := 0
		for _, st := range steps {
			refused(st.method, st.path, st.body)
			if st.event == "" {
				continue
			}
			n++
			got := rc.waitVerified(t, n)[n-1]
			ev := got.Event
			user, existing := member(ev, "user"), member(ev, "existing")
			member := "duplicateEmail"
			if st.byUsername {
				member = "duplicateUsername"
			}
			if ev["type"] != st.event || ev["tenantId"] != tenant || user["email"] != st.email || existing["id"] != a.User.ID ||
				existing["email"] != "taken@example.com" || ev[member] != st.dup || strings.Contains(string(got.Body), "password\"") {
				t.Errorf("%s: %s", st.name, got.Body)
			}
			if (st.event == "user.loginId.duplicate.update") != (user["id"] == other) {
				t.Errorf("%s: user id %v", st.name, user["id"])
			}
		}
		// Changes that go through emit nothing.
		createTestUser(t, s, key, "unique@example.com")
		mustDo(t, s, "PATCH", "/api/user/"+other, key, map[string]any{"user": map[string]any{"username": "beta"}})
		var logs struct{ Total int }
		mustDo(t, s, "POST", "/api/system/webhook-event-log/search", key, `{"search":{"eventType":"user.loginId.duplicate.create"}}`).JSON(t, &logs)
		if logs.Total != 2 {
			t.Errorf("%d duplicate create events, want 2", logs.Total)
		}
		if all := rc.all(); len(all) != n {
			t.Errorf("%d events, want %d: %v", len(all), n, eventTypes(all))
		}
	})
}
