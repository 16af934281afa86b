package admin_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

var userLink = regexp.MustCompile(`/admin/users/([0-9a-f-]{36})`)

func TestUsersPages(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		br := e.browser()
		br.signIn("admin@example.com", testPassword)

		form := br.get("/admin/users/new")
		_, v := form.form(t, "/admin/users")
		v.Set("email", "jane@example.com")
		v.Set("firstName", "Jane")
		v.Set("password", "a fine long password")
		v.Set("passwordChangeRequired", "on")
		created := br.post("/admin/users", v)
		m := userLink.FindStringSubmatch(created.url.Path)
		if created.status != 200 || m == nil || !strings.Contains(created.body, "The user was created") {
			t.Fatalf("create: %d at %s: %s", created.status, created.url, created.body)
		}
		id := m[1]
		// A bad one is refused in words.
		_, v = form.form(t, "/admin/users")
		v.Set("email", "not an email")
		if p := br.post("/admin/users", v); p.status != 400 || !strings.Contains(p.body, "Please correct the following") {
			t.Fatalf("bad user: %d", p.status)
		}

		list := br.get("/admin/users?q=" + url.QueryEscape("email:jane@example.com"))
		if list.status != 200 || !strings.Contains(list.body, "jane@example.com") || strings.Contains(list.body, ">admin@example.com</a>") {
			t.Fatalf("search: %d %s", list.status, list.body[strings.Index(list.body, "<main"):])
		}
		if p := br.get("/admin/users?q=" + url.QueryEscape("(((")); p.status == 500 {
			t.Fatalf("a bad query is a 500")
		}

		page := br.get("/admin/users/" + id)
		if page.status != 200 || !strings.Contains(page.body, "must change the password") || !strings.Contains(page.body, "Created user") {
			t.Fatalf("user page: %d %s", page.status, page.body)
		}
		csrf := page.csrf(t)
		var me struct{ User struct{ ID string } }
		e.api("GET", "/api/user?email=admin%40example.com", nil, 200).JSON(t, &me)
		if p := br.get("/admin/users/" + me.User.ID); !strings.Contains(p.body, `value="admin" checked`) {
			t.Errorf("the admin's page does not show the admin role: %s", p.body)
		}
		for _, c := range []struct{ action, notice string }{
			{"deactivate", "The user was deactivated"},
			{"reactivate", "The user was reactivated"},
			{"require-password-change", "must change their password"},
			{"end-sessions", "sessions were ended"},
		} {
			p := br.post("/admin/users/"+id+"/"+c.action, url.Values{"csrf_token": {csrf}})
			if p.status != 200 || !strings.Contains(p.body, c.notice) {
				t.Errorf("%s: %d %s", c.action, p.status, p.body)
			}
		}
		var logs struct {
			AuditLogs []struct{ Message, InsertUser string } `json:"auditLogs"`
		}
		e.api("GET", "/api/system/audit-log/search?user=admin%40example.com&numberOfResults=50", nil, 200).JSON(t, &logs)
		joined := ""
		for _, l := range logs.AuditLogs {
			joined += l.Message + "\n"
		}
		for _, want := range []string{"Deactivated", "Reactivated"} {
			if !strings.Contains(joined, want) {
				t.Errorf("no audit entry by the admin containing %q in:\n%s", want, joined)
			}
		}

		// Delete needs the email typed.
		if p := br.post("/admin/users/"+id+"/delete", url.Values{"csrf_token": {csrf}, "confirm": {"jane"}}); p.status != 400 {
			t.Fatalf("delete without the typed email: %d", p.status)
		}
		e.api("GET", "/api/user/"+id, nil, 200)
		if p := br.post("/admin/users/"+id+"/delete", url.Values{"csrf_token": {csrf}, "confirm": {"jane@example.com"}}); p.status != 200 || p.url.Path != "/admin/users" ||
			!strings.Contains(p.body, "The user was deleted") {
			t.Fatalf("delete: %d at %s", p.status, p.url)
		}
		e.api("GET", "/api/user/"+id, nil, 404)
	})
}
