package api_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

type auditSearchBody struct {
	AuditLogs []model.AuditLog `json:"auditLogs"`
	Total     int              `json:"total"`
}

func searchAudit(t *testing.T, s *testutil.Server, key string, criteria map[string]any) auditSearchBody {
	t.Helper()
	r := s.Do(t, "POST", "/api/system/audit-log/search", key, map[string]any{"search": criteria})
	if r.Status != 200 {
		t.Fatalf("audit search %v: %d %s", criteria, r.Status, r.Body)
	}
	var out auditSearchBody
	r.JSON(t, &out)
	return out
}

// TestAuditOfKeyCalls: every change made with a key is audited with the key's
// id and name, the request's method and path, the object's id and the source
// address; the audit API finds each entry; a refused change writes none.
func TestAuditOfKeyCalls(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s, full := startWithKey(t, b, testutil.WithEnv("LATCH_TRUSTED_PROXIES", "127.0.0.1"))
		ops, opsID := insertTestKey(t, s, model.APIKey{Name: "ops automation", Permissions: model.APIKeyPermissions{Endpoints: map[string][]string{
			"/api/ip-acl": {"POST", "PUT", "PATCH", "DELETE"},
		}}})
		const via = "192.0.2.44" // the client address a trusted proxy reports
		xff := []string{"X-Forwarded-For", via}

		r := s.Do(t, "POST", "/api/ip-acl", ops, aclWith("Audited", aclAllowAll), xff...)
		var created aclBody
		r.JSON(t, &created)
		id := created.IPAccessControlList.ID
		s.Clock.Advance(time.Second)
		s.Do(t, "PUT", "/api/ip-acl/"+id, ops, aclWith("Audited 2", aclAllowAll), xff...)
		s.Clock.Advance(time.Second)
		s.Do(t, "PATCH", "/api/ip-acl/"+id, ops, `{"ipAccessControlList":{"name":"Audited 3"}}`, xff...)
		s.Clock.Advance(time.Second)
		if r := s.Do(t, "DELETE", "/api/ip-acl/"+id, ops, nil, xff...); r.Status != 200 {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}

		got := searchAudit(t, s, full, map[string]any{"user": "ops automation", "orderBy": "insertInstant ASC"})
		want := []struct{ method, path, message string }{
			{"POST", "/api/ip-acl", "Created IP access control list [Audited]"},
			{"PUT", "/api/ip-acl/" + id, "Updated IP access control list [Audited 2]"},
			{"PATCH", "/api/ip-acl/" + id, "Updated IP access control list [Audited 3]"},
			{"DELETE", "/api/ip-acl/" + id, "Deleted IP access control list [Audited 3]"},
		}
		if got.Total != len(want) || len(got.AuditLogs) != len(want) {
			t.Fatalf("entries by the key: %d (total %d), want %d: %+v", len(got.AuditLogs), got.Total, len(want), got.AuditLogs)
		}
		for i, w := range want {
			e := got.AuditLogs[i]
			if e.ActorType != "apiKey" || e.ActorID != opsID || !strings.Contains(e.InsertUser, "ops automation") ||
				!strings.Contains(e.InsertUser, opsID) || e.Method != w.method || e.Path != w.path || e.TargetID != id ||
				e.IPAddress != via || !strings.HasPrefix(e.Message, w.message) || e.ID == 0 || e.InsertInstant == 0 {
				t.Errorf("entry %d: %+v, want %s %s by %s from %s", i, e, w.method, w.path, opsID, via)
			}
		}
		// Old and new values tell what changed.
		if got.AuditLogs[0].OldValue != nil || !strings.Contains(string(got.AuditLogs[0].NewValue), `"Audited"`) {
			t.Errorf("create entry values: old %s new %s", got.AuditLogs[0].OldValue, got.AuditLogs[0].NewValue)
		}
		if !strings.Contains(string(got.AuditLogs[1].OldValue), `"Audited"`) || !strings.Contains(string(got.AuditLogs[1].NewValue), `"Audited 2"`) {
			t.Errorf("update entry values: old %s new %s", got.AuditLogs[1].OldValue, got.AuditLogs[1].NewValue)
		}

		// Retrieval by id returns the same entry, in FusionAuth's wrapper.
		first := got.AuditLogs[0]
		r = s.Do(t, "GET", fmt.Sprintf("/api/system/audit-log/%d", first.ID), full, nil)
		var one struct {
			AuditLog model.AuditLog `json:"auditLog"`
		}
		r.JSON(t, &one)
		if r.Status != 200 || one.AuditLog.ID != first.ID || one.AuditLog.Message != first.Message || one.AuditLog.TargetID != id {
			t.Errorf("retrieve %d: %d %s", first.ID, r.Status, r.Body)
		}

		// Refused changes write nothing: validation, a missing list, a list in use.
		used := createACL(t, s, full, "In use", aclAllowAll)
		insertTestKey(t, s, model.APIKey{Name: "user of the list", IPAccessControlListID: used.ID})
		before := searchAudit(t, s, full, map[string]any{}).Total
		refused := []struct {
			method, path string
			body         any
		}{
			{"POST", "/api/ip-acl", aclWith("", aclAllowAll)},
			{"POST", "/api/ip-acl", aclWith("No default")},
			{"PUT", "/api/ip-acl/" + used.ID, aclWith("In use", aclEntry("Nope", "*", ""))},
			{"PATCH", "/api/ip-acl/" + used.ID, `{"ipAccessControlList":{"name":""}}`},
			{"DELETE", "/api/ip-acl/" + used.ID, nil},
			{"DELETE", "/api/ip-acl/" + id, nil},
		}
		for _, c := range refused {
			if r := s.Do(t, c.method, c.path, ops, c.body); r.Status == 200 {
				t.Errorf("%s %s succeeded", c.method, c.path)
			}
		}
		if after := searchAudit(t, s, full, map[string]any{}).Total; after != before {
			t.Errorf("refused changes wrote %d audit entries", after-before)
		}
	})
}

func TestAuditLogAPI(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s, full := startWithKey(t, b)
		ctx := context.Background()
		st := openServerStore(t, s)
		base := s.Clock.Now().UnixMilli() + 60_000 // after setup's entries
		// 600 entries, one a second, by two users.
		err := st.InTx(ctx, func(tx *store.Tx) error {
			for i := range 600 {
				user := "alice@example.com"
				if i%3 == 0 {
					user = "bob@example.com"
				}
				if _, err := tx.InsertAudit(ctx, &model.AuditLog{InsertInstant: base + int64(i)*1000, InsertUser: user,
					Message: fmt.Sprintf("Changed thing %03d", i), ActorType: "user", Severity: "info"}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		messages := func(b auditSearchBody) []string {
			var out []string
			for _, a := range b.AuditLogs {
				out = append(out, a.Message)
			}
			return out
		}
		cases := []struct {
			name      string
			criteria  map[string]any
			wantFirst string
			wantCount int
			wantTotal int
		}{
			{"newest first by default, 25 a page", map[string]any{"message": "thing"}, "Changed thing 599", 25, 600},
			{"oldest first", map[string]any{"message": "thing", "orderBy": "insertInstant ASC"}, "Changed thing 000", 25, 600},
			{"paged", map[string]any{"message": "thing", "orderBy": "id asc", "startRow": 10, "numberOfResults": 5}, "Changed thing 010", 5, 600},
			{"capped at 500", map[string]any{"message": "thing", "numberOfResults": 10_000}, "Changed thing 599", 500, 600},
			{"by user", map[string]any{"user": "BOB@", "orderBy": "insertInstant"}, "Changed thing 000", 25, 200},
			{"message, any case", map[string]any{"message": "THING 12"}, "Changed thing 129", 10, 10},
			{"time window, inclusive", map[string]any{"message": "thing", "start": base + 10_000, "end": base + 19_000}, "Changed thing 019", 10, 10},
			{"by message order", map[string]any{"message": "thing", "orderBy": "message DESC", "numberOfResults": 1}, "Changed thing 599", 1, 600},
			{"LIKE characters are literal", map[string]any{"message": "%"}, "", 0, 0},
		}
		for _, c := range cases {
			got := searchAudit(t, s, full, c.criteria)
			msgs := messages(got)
			first := ""
			if len(msgs) > 0 {
				first = msgs[0]
			}
			if first != c.wantFirst || len(msgs) != c.wantCount || got.Total != c.wantTotal {
				t.Errorf("%s: first %q, %d results, total %d; want %q, %d, %d", c.name, first, len(msgs), got.Total, c.wantFirst, c.wantCount, c.wantTotal)
			}
		}
		// The same search by query parameters.
		q := url.Values{"message": {"thing"}, "start": {fmt.Sprint(base + 10_000)}, "end": {fmt.Sprint(base + 19_000)},
			"orderBy": {"insertInstant ASC"}, "numberOfResults": {"3"}}
		r := s.Do(t, "GET", "/api/system/audit-log/search?"+q.Encode(), full, nil)
		var viaGET auditSearchBody
		r.JSON(t, &viaGET)
		if r.Status != 200 || viaGET.Total != 10 || len(viaGET.AuditLogs) != 3 || viaGET.AuditLogs[0].Message != "Changed thing 010" {
			t.Errorf("GET search: %d %s", r.Status, r.Body)
		}
		// An empty result is a list.
		r = s.Do(t, "GET", "/api/system/audit-log/search?message=nothing-like-this", full, nil)
		if r.Status != 200 || string(r.Body) != `{"auditLogs":[],"total":0}`+"\n" {
			t.Errorf("empty search: %d %s", r.Status, r.Body)
		}

		bad := []struct {
			name, method, path string
			body               any
			want               string
		}{
			{"unknown orderBy", "POST", "/api/system/audit-log/search", `{"search":{"orderBy":"severity"}}`, "[invalid]search.orderBy"},
			{"SQL in orderBy", "GET", "/api/system/audit-log/search?orderBy=" + url.QueryEscape("id; DROP TABLE audit_log"), nil, "[invalid]search.orderBy"},
			{"bad direction", "GET", "/api/system/audit-log/search?orderBy=" + url.QueryEscape("id UP"), nil, "[invalid]search.orderBy"},
			{"negative startRow", "POST", "/api/system/audit-log/search", `{"search":{"startRow":-1}}`, "[invalid]search.startRow"},
			{"end before start", "POST", "/api/system/audit-log/search", `{"search":{"start":2000,"end":1000}}`, "[invalid]search.end"},
			{"start not a number", "GET", "/api/system/audit-log/search?start=yesterday", nil, "[invalid]search.start"},
			{"start of the wrong type", "POST", "/api/system/audit-log/search", `{"search":{"start":"yesterday"}}`, "[invalidJSON]"},
		}
		for _, c := range bad {
			r := s.Do(t, c.method, c.path, full, c.body)
			if codes := errorCodes(t, r); r.Status != 400 || len(codes) != 1 || codes[0] != c.want {
				t.Errorf("%s: %d %v, want 400 %s", c.name, r.Status, codes, c.want)
			}
		}
		// Ids that cannot exist are 404 with an empty body, never 500.
		for _, id := range []string{"999999999", "0", "-1", "abc", "1.5", "99999999999999999999999", "0x10"} {
			if r := s.Do(t, "GET", "/api/system/audit-log/"+id, full, nil); r.Status != 404 || len(r.Body) != 0 {
				t.Errorf("GET audit log %s: %d %q, want an empty 404", id, r.Status, r.Body)
			}
		}
		// Reading the log needs its permission.
		reader, _ := insertTestKey(t, s, model.APIKey{Name: "search only", Permissions: keyPerms("/api/system/audit-log/search", "POST")})
		if r := s.Do(t, "POST", "/api/system/audit-log/search", reader, `{}`); r.Status != 200 {
			t.Errorf("search with the search permission: %d", r.Status)
		}
		for _, c := range []struct{ method, path string }{{"GET", "/api/system/audit-log/search"}, {"GET", "/api/system/audit-log/1"}} {
			if r := s.Do(t, c.method, c.path, reader, nil); r.Status != 401 {
				t.Errorf("%s %s without its permission: %d", c.method, c.path, r.Status)
			}
		}
	})
}

// TestAuditLogAppendAndExport: POST /api/system/audit-log writes an entry a
// client sends (still attributed to its key), validation answers 400, and
// the export (POST and GET) is a zip holding the matching entries as CSV.
func TestAuditLogAppendAndExport(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s, full := startWithKey(t, b)
		r := s.Do(t, "POST", "/api/system/audit-log", full, map[string]any{"auditLog": map[string]any{
			"insertUser": "deploy-bot@example.com", "message": "=HYPERLINK(\"x\") rotated the CDN certificate", "reason": "expiring",
			"data": map[string]any{"ticket": "OPS-7"}}})
		if r.Status != 200 {
			t.Fatalf("append: %d %s", r.Status, r.Body)
		}
		var created struct{ AuditLog model.AuditLog }
		r.JSON(t, &created)
		if created.AuditLog.ID == 0 || created.AuditLog.InsertUser != "deploy-bot@example.com" || created.AuditLog.ActorType != "apiKey" || created.AuditLog.ActorID == "" {
			t.Fatalf("appended entry: %+v", created.AuditLog)
		}
		for _, c := range []struct{ body, field string }{
			{`{"auditLog":{"insertUser":"x"}}`, "auditLog.message"},
			{`{"auditLog":{"message":"x"}}`, "auditLog.insertUser"},
			{`{}`, "auditLog"},
			{`{"auditLog":{"insertUser":"x","message":"y","data":[1]}}`, "auditLog.data"},
		} {
			r := s.Do(t, "POST", "/api/system/audit-log", full, c.body)
			if r.Status != 400 || !strings.Contains(string(r.Body), `"`+c.field+`"`) {
				t.Errorf("%s: want 400 on %s, got %d %s", c.body, c.field, r.Status, r.Body)
			}
		}
		reader, _ := insertTestKey(t, s, model.APIKey{Name: "reader", Permissions: model.APIKeyPermissions{Endpoints: map[string][]string{
			"/api/system/audit-log/search": {"GET"}}}})
		if r := s.Do(t, "POST", "/api/system/audit-log", reader, `{"auditLog":{"insertUser":"x","message":"y"}}`); r.Status != 401 {
			t.Errorf("a key without the permission appended: %d", r.Status)
		}
		if r := s.Do(t, "GET", "/api/system/audit-log/export", reader, nil); r.Status != 401 {
			t.Errorf("a key without the permission exported: %d", r.Status)
		}

		for _, req := range []struct {
			method, path string
			body         any
		}{
			{"POST", "/api/system/audit-log/export", map[string]any{"criteria": map[string]any{"user": "deploy-bot"}, "zoneId": "UTC"}},
			{"GET", "/api/system/audit-log/export?user=deploy-bot", nil},
		} {
			r := s.Do(t, req.method, req.path, full, req.body)
			if r.Status != 200 || r.Header.Get("Content-Type") != "application/zip" {
				t.Fatalf("%s export: %d %s", req.method, r.Status, r.Header.Get("Content-Type"))
			}
			zr, err := zip.NewReader(bytes.NewReader(r.Body), int64(len(r.Body)))
			if err != nil || len(zr.File) != 1 || zr.File[0].Name != "audit_log.csv" {
				t.Fatalf("%s export: not a zip with audit_log.csv: %v", req.method, err)
			}
			f, _ := zr.File[0].Open()
			rows, err := csv.NewReader(f).ReadAll()
			if err != nil || len(rows) != 2 || rows[1][2] != "deploy-bot@example.com" || !strings.HasPrefix(rows[1][3], "'=HYPERLINK") {
				t.Fatalf("%s export CSV: %v %q", req.method, err, rows)
			}
		}
		if r := s.Do(t, "POST", "/api/system/audit-log/export", full, `{"zoneId":"Mars/Olympus"}`); r.Status != 400 {
			t.Errorf("unknown zone: %d", r.Status)
		}
	})
}

// TestSearchWildcards: FusionAuth's searches take * as a wildcard; without
// one a text matches anywhere; LIKE's own % and _ match only themselves.
// Audit-log messages and users, and tenant names, on both databases.
func TestSearchWildcards(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s, full := startWithKey(t, b)
		for _, m := range []string{"wild: rotated the key", "wild: 100% done", "wild: snake_case name", "tame: nothing"} {
			if r := s.Do(t, "POST", "/api/system/audit-log", full, map[string]any{"auditLog": map[string]any{
				"insertUser": "ops@example.com", "message": m}}); r.Status != 200 {
				t.Fatalf("append %q: %d %s", m, r.Status, r.Body)
			}
		}
		for _, c := range []struct {
			criteria map[string]any
			want     int
		}{
			{map[string]any{"message": "wild:"}, 3},
			{map[string]any{"message": "WILD:*"}, 3},
			{map[string]any{"message": "*the key"}, 1},
			{map[string]any{"message": "rotated"}, 1},
			{map[string]any{"message": "rotated*"}, 0}, // anchored at the start
			{map[string]any{"message": "wild*done"}, 1},
			{map[string]any{"message": "100%"}, 1},
			{map[string]any{"message": "100% d*"}, 0},
			{map[string]any{"message": "snake_case"}, 1},
			{map[string]any{"message": "snake_"}, 1},
			{map[string]any{"message": "sna_e"}, 0}, // _ is not a wildcard
			{map[string]any{"message": "wild:*", "user": "ops@*"}, 3},
			{map[string]any{"message": "wild:*", "user": "*@example.org"}, 0},
		} {
			if got := searchAudit(t, s, full, c.criteria); got.Total != c.want {
				t.Errorf("%v: %d entries, want %d", c.criteria, got.Total, c.want)
			}
		}
		if r := s.Do(t, "POST", "/api/tenant", full, map[string]any{"tenant": map[string]any{"name": "Wildcard Corp"}}); r.Status != 200 {
			t.Fatalf("tenant: %d %s", r.Status, r.Body)
		}
		for _, c := range []struct {
			name string
			want int
		}{{"wildcard", 1}, {"wild*corp", 1}, {"*corp", 1}, {"corp*", 0}} {
			r := s.Do(t, "POST", "/api/tenant/search", full, map[string]any{"search": map[string]any{"name": c.name}})
			var out struct{ Total int }
			r.JSON(t, &out)
			if r.Status != 200 || out.Total != c.want {
				t.Errorf("tenant name %q: %d, %d tenants, want %d", c.name, r.Status, out.Total, c.want)
			}
		}
	})
}
