package admin_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

func TestIPACLPages(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		br := e.browser()
		home := br.signIn("admin@example.com", testPassword)
		csrf := home.csrf(t)

		created := br.post("/admin/ip-acls", url.Values{"csrf_token": {csrf}, "name": {"office"}, "entries": {"Block *\r\nAllow 192.0.2.1 192.0.2.255\r\n"}})
		if created.status != 200 || !strings.Contains(created.body, "The list was saved") {
			t.Fatalf("create: %d %s", created.status, created.body)
		}
		id := strings.TrimPrefix(created.url.Path, "/admin/ip-acls/")
		var got struct {
			IPAccessControlList struct {
				Name    string
				Entries []struct{ Action, StartIPAddress, EndIPAddress string }
			}
		}
		e.api("GET", "/api/ip-acl/"+id, nil, 200).JSON(t, &got)
		if got.IPAccessControlList.Name != "office" || len(got.IPAccessControlList.Entries) != 2 {
			t.Fatalf("stored: %+v", got)
		}
		// The rules' own validation, in words; nothing saved.
		bad := br.post("/admin/ip-acls/"+id, url.Values{"csrf_token": {csrf}, "name": {"office"}, "entries": {"Allow 192.0.2.1"}})
		if bad.status != 400 || !strings.Contains(bad.body, "Nothing was saved") {
			t.Fatalf("a list without *: %d", bad.status)
		}
		// A list a key uses cannot be deleted.
		e.api("POST", "/api/api-key", map[string]any{"apiKey": map[string]any{"name": "bound", "ipAccessControlListId": id,
			"permissions": map[string]any{"endpoints": map[string]any{"/api/user": []string{"GET"}}}}}, 200)
		if p := br.post("/admin/ip-acls/"+id+"/delete", url.Values{"csrf_token": {csrf}}); p.status != 400 {
			t.Fatalf("delete of a list in use: %d", p.status)
		}
		e.api("GET", "/api/ip-acl/"+id, nil, 200)
		// The creation is audited with the admin as the actor.
		var logs struct {
			AuditLogs []struct{ InsertUser, Message string } `json:"auditLogs"`
		}
		e.api("GET", "/api/system/audit-log/search?message=office&numberOfResults=50", nil, 200).JSON(t, &logs)
		audited := false
		for _, l := range logs.AuditLogs {
			audited = audited || (l.InsertUser == "admin@example.com" && strings.Contains(l.Message, "Created IP access control list [office]"))
		}
		if !audited {
			t.Errorf("no audit entry with the admin as actor: %+v", logs)
		}
		list := br.get("/admin/ip-acls")
		if !strings.Contains(list.body, "office") || !strings.Contains(list.body, "Allow 192.0.2.1–192.0.2.255") {
			t.Fatalf("list page: %s", list.body)
		}
	})
}
