package admin_test

import (
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

func TestAuditLogPage(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		e.api("POST", "/api/ip-acl", map[string]any{"ipAccessControlList": map[string]any{"name": "office",
			"entries": []map[string]any{{"startIPAddress": "*", "action": "Allow"}}}}, 200)
		br := e.browser()
		br.signIn("admin@example.com", testPassword)
		form := br.get("/admin/api-keys/new")
		_, v := form.form(t, "/admin/api-keys")
		v.Set("name", "audited key")
		v.Set("access", "all")
		if p := br.post("/admin/api-keys", v); p.status != 200 {
			t.Fatalf("create: %d", p.status)
		}

		all := br.get("/admin/audit-log")
		for _, want := range []string{"Created API key [audited key]", "Created IP access control list [office]", "Created the first admin user"} {
			if !strings.Contains(all.body, want) {
				t.Errorf("the audit log page lacks %q", want)
			}
		}
		cases := []struct {
			query      string
			want, lack string
		}{
			{"actor=admin", "audited key", "[office]"},
			{"actor=apiKey", "[office]", "audited key"},
			{"actor=cli", "Created the first admin user", "audited key"},
			{"text=office", "[office]", "audited key"},
			{"user=admin%40example.com", "audited key", "[office]"},
			{"from=2026-01-02&to=2026-01-02", "audited key", ""},
			{"from=2027-01-01", "No entries match", "audited key"},
		}
		for _, c := range cases {
			p := br.get("/admin/audit-log?" + c.query)
			if p.status != 200 || !strings.Contains(p.body, c.want) || (c.lack != "" && strings.Contains(p.body, c.lack)) {
				t.Errorf("%s: status %d, want %q, lack %q", c.query, p.status, c.want, c.lack)
			}
		}
		if p := br.get("/admin/audit-log?from=yesterday"); p.status != 400 {
			t.Errorf("bad date: %d", p.status)
		}

		csvPage := br.get("/admin/audit-log/export?format=csv&actor=admin")
		rows, err := csv.NewReader(strings.NewReader(csvPage.body)).ReadAll()
		if csvPage.status != 200 || err != nil || len(rows) != 2 || !strings.Contains(rows[1][3], "audited key") ||
			!strings.Contains(csvPage.header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("CSV export: %d %v %q", csvPage.status, err, rows)
		}
		jsonPage := br.get("/admin/audit-log/export?format=json&text=office")
		var out struct {
			AuditLogs []struct{ Message string } `json:"auditLogs"`
		}
		if err := json.Unmarshal([]byte(jsonPage.body), &out); err != nil || len(out.AuditLogs) != 1 {
			t.Fatalf("JSON export: %v %s", err, jsonPage.body)
		}
	})
}
