package storetest

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// Audit is the contract of audit.Storage.
func Audit(t *testing.T, st *store.Store) {
	type S = audit.Storage
	ctx := context.Background()
	entries := []*model.AuditLog{
		{InsertInstant: 100, InsertUser: "admin@example.com", Message: "Created the tenant Acme", ActorType: "apiKey",
			ActorID: "key-1", Method: "POST", Path: "/api/tenant", TargetID: "t-1", IPAddress: "10.0.0.1", Severity: "info",
			Data: []byte(`{"a":1}`), NewValue: []byte(`{"name":"Acme"}`)},
		{InsertInstant: 200, InsertUser: "ops", Message: "Deleted 100% of the keys", Reason: "forced", ActorType: "cli",
			Severity: "critical", OldValue: []byte(`{"keys":2}`)},
		{InsertInstant: 300, InsertUser: "Admin@Example.com", Message: "Updated the tenant Acme", ActorID: "key-2", Severity: "info"},
	}
	var ids []int64
	for _, e := range entries {
		mustWrite(t, st, func(s S) error {
			id, err := s.InsertAudit(ctx, e)
			if err == nil && id != e.ID {
				t.Errorf("InsertAudit returned %d but set ID %d", id, e.ID)
			}
			ids = append(ids, id)
			return err
		})
	}
	if !slices.IsSorted(ids) || ids[0] == ids[1] || ids[1] == ids[2] {
		t.Errorf("ids %v do not follow insertion order", ids)
	}
	for _, e := range entries {
		got, err := read[S](st).AuditByID(ctx, e.ID)
		ok(t, "by id", err)
		if !reflect.DeepEqual(got, e) {
			t.Errorf("by id:\n got %+v\nwant %+v", got, e)
		}
	}
	_, err := read[S](st).AuditByID(ctx, -1)
	noRows(t, "unknown id", err)

	for _, c := range []struct {
		name          string
		f             store.AuditFilter
		offset, limit int
		want          []int64
		total         int
	}{
		{"all", store.AuditFilter{}, 0, 10, ids, 3},
		{"page", store.AuditFilter{}, 1, 1, ids[1:2], 3},
		{"message in any case", store.AuditFilter{Message: "TENANT acme"}, 0, 10, []int64{ids[0], ids[2]}, 2},
		{"message with a literal %", store.AuditFilter{Message: "100%"}, 0, 10, ids[1:2], 1},
		{"user", store.AuditFilter{User: "admin@"}, 0, 10, []int64{ids[0], ids[2]}, 2},
		{"instants inclusive", store.AuditFilter{Start: 200, End: 300}, 0, 10, ids[1:], 2},
		{"actor", store.AuditFilter{ActorID: "key-2"}, 0, 10, ids[2:], 1},
		{"severity", store.AuditFilter{Severity: "critical"}, 0, 10, ids[1:2], 1},
		{"ordered by message, descending", store.AuditFilter{OrderBy: "message", Descending: true}, 0, 10, []int64{ids[2], ids[1], ids[0]}, 3},
		{"ordered by instant", store.AuditFilter{OrderBy: "INSERTINSTANT"}, 0, 10, ids, 3},
	} {
		got, total, err := read[S](st).SearchAudit(ctx, c.f, c.offset, c.limit)
		ok(t, c.name, err)
		var gotIDs []int64
		for _, a := range got {
			gotIDs = append(gotIDs, a.ID)
		}
		if !slices.Equal(gotIDs, c.want) || total != c.total {
			t.Errorf("search %s: %v (total %d), want %v (total %d)", c.name, gotIDs, total, c.want, c.total)
		}
	}
	if _, _, err := read[S](st).SearchAudit(ctx, store.AuditFilter{OrderBy: "reason; --"}, 0, 1); err == nil {
		t.Error("an unknown order was accepted")
	}

	// Event log entries (deliveries and emails given up) get increasing ids.
	logs := []*store.EventLogRow{{InsertInstant: 100, Type: "Error", Message: "SMTP refused"}, {InsertInstant: 100, Type: "Error", Message: "Webhook down"}}
	for _, e := range logs {
		mustWrite(t, st, func(s S) error { return s.InsertEventLog(ctx, e) })
	}
	for _, e := range logs {
		var msg string
		if err := st.DB().QueryRowContext(ctx, "SELECT message FROM event_logs WHERE id = $1", e.ID).Scan(&msg); err != nil || msg != e.Message {
			t.Errorf("event log entry %d: %q %v", e.ID, msg, err)
		}
	}
	if logs[0].ID == 0 || logs[1].ID <= logs[0].ID {
		t.Errorf("event log ids: %d %d", logs[0].ID, logs[1].ID)
	}
}
