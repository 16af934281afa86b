package groups

import (
	"encoding/json"
	"testing"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// A group read from its row is the stored document with the row's columns
// and roles over it: data as stored ({} for none), unknown members as sent,
// stale or case-variant owned members gone.
func TestGroupOf(t *testing.T) {
	roles := []store.GroupRole{
		{ApplicationID: "a", Role: model.ApplicationRole{ID: "r1", Name: "x<y", Description: "d&"}},
		{ApplicationID: "b", Role: model.ApplicationRole{ID: "r2", Name: "q", IsSuperRole: true, InsertInstant: 5}},
	}
	for _, c := range []struct {
		stored string
		roles  []store.GroupRole
		want   string
	}{
		{`{}`, nil, `{"data":{},"id":"g","insertInstant":0,"lastUpdateInstant":1,"name":"n \u003c\u0026\u003e","roles":{},"tenantId":"t"}`},
		{`{"data":null}`, roles, `{"data":{},"id":"g","insertInstant":0,"lastUpdateInstant":1,"name":"n \u003c\u0026\u003e",` +
			`"roles":{"a":[{"description":"d\u0026","id":"r1","insertInstant":0,"isDefault":false,"isSuperRole":false,"lastUpdateInstant":0,"name":"x\u003cy"}],` +
			`"b":[{"id":"r2","insertInstant":5,"isDefault":false,"isSuperRole":true,"lastUpdateInstant":0,"name":"q"}]},"tenantId":"t"}`},
		{`{"data":{"n":1.50,"big":123456789012345678901234567890},"x":{"y":[1e21,-0]},"Name":"v"}`, nil,
			`{"data":{"big":123456789012345678901234567890,"n":1.50},"id":"g","insertInstant":0,"lastUpdateInstant":1,"name":"n \u003c\u0026\u003e","roles":{},"tenantId":"t","x":{"y":[1e21,-0]}}`},
		{`{"id":"stale","roles":"bad","name":"old","insertInstant":"x","z":null}`, nil,
			`{"data":{},"id":"g","insertInstant":0,"lastUpdateInstant":1,"name":"n \u003c\u0026\u003e","roles":{},"tenantId":"t","z":null}`},
	} {
		t.Run(c.stored, func(t *testing.T) {
			row := &store.GroupRow{ID: "g", TenantID: "t", Name: "n <&>", Data: c.stored, LastUpdateInstant: 1}
			g, err := groupOf(row, c.roles)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range []any{g, &g} {
				if got, err := json.Marshal(v); err != nil || string(got) != c.want {
					t.Errorf("got %s (%v)\nwant %s", got, err, c.want)
				}
			}
		})
	}
}

// The stored document is the group as sent, without the members Latch owns.
func TestStoredGroup(t *testing.T) {
	for _, c := range []struct{ sent, stored string }{
		{`{"name":" a "}`, `{}`},
		{`{"name":"a","data":null}`, `{"data":null}`},
		{`{"name":"a","data":{"n":1.50,"s":"<&>"},"x":[1e21],"roles":"bad","id":"x","tenantId":"t","insertInstant":"q"}`,
			`{"data":{"n":1.50,"s":"\u003c\u0026\u003e"},"x":[1e21]}`},
		{`{"name":"a","data":{},"z":null,"w":{"v":{}}}`, `{"data":{},"w":{"v":{}},"z":null}`},
	} {
		t.Run(c.sent, func(t *testing.T) {
			v, err := model.DecodeJSONValue([]byte(c.sent))
			if err != nil {
				t.Fatal(err)
			}
			req := ReadGroupRequest(map[string]any{"group": v})
			verrs := &model.Errors{}
			name, _ := req.check(verrs)
			if err := verrs.Err(); err != nil {
				t.Fatal(err)
			}
			g, err := req.decoded(name)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := storedGroup(&g); err != nil || got != c.stored {
				t.Errorf("got %s (%v)\nwant %s", got, err, c.stored)
			}
			if g.Name != "a" {
				t.Errorf("name %q", g.Name)
			}
		})
	}
}

// A member read from its row is FusionAuth's GroupMember: data as stored ({}
// for none), userId only when asked for, members in name order.
func TestMemberOf(t *testing.T) {
	for _, c := range []struct {
		data       string
		withUserID bool
		want       string
	}{
		{``, false, `{"data":{},"groupId":"g\u003c","id":"m","insertInstant":1733600000000}`},
		{`{}`, true, `{"data":{},"groupId":"g\u003c","id":"m","insertInstant":1733600000000,"userId":"u\u0026"}`},
		{`{"n":1.50,"big":123456789012345678901234567890,"s":"<&>","x":{"y":[1e21,-0,null]},"z":null}`, true,
			`{"data":{"big":123456789012345678901234567890,"n":1.50,"s":"\u003c\u0026\u003e","x":{"y":[1e21,-0,null]},"z":null},` +
				`"groupId":"g\u003c","id":"m","insertInstant":1733600000000,"userId":"u\u0026"}`},
		{`{"id":"x","userId":"y","groupId":"q","insertInstant":"s"}`, false,
			`{"data":{"groupId":"q","id":"x","insertInstant":"s","userId":"y"},"groupId":"g\u003c","id":"m","insertInstant":1733600000000}`},
	} {
		t.Run(c.data, func(t *testing.T) {
			row := &store.GroupMemberRow{ID: "m", GroupID: "g<", UserID: "u&", Data: c.data, InsertInstant: 1733600000000}
			m, err := memberOf(row, c.withUserID)
			if err != nil {
				t.Fatal(err)
			}
			if m.ID != "m" || m.GroupID != "g<" || m.InsertInstant != row.InsertInstant || (m.UserID != "") != c.withUserID {
				t.Errorf("typed %+v", m)
			}
			tree, err := m.Tree()
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range []any{m, &m, tree} {
				if got, err := json.Marshal(v); err != nil || string(got) != c.want {
					t.Errorf("got %s (%v)\nwant %s", got, err, c.want)
				}
			}
		})
	}
	if _, err := memberOf(&store.GroupMemberRow{ID: "m", Data: `[1]`}, true); err == nil {
		t.Error("data not an object: no error")
	}
}

// A member event's body is the group and the members concerned, with their
// userId.
func TestMembersOf(t *testing.T) {
	rows := []*store.GroupMemberRow{{ID: "a", GroupID: "g", UserID: "u1", Data: `{"k":"<"}`, InsertInstant: 1}, {ID: "b", GroupID: "g", UserID: "u2", InsertInstant: 2}}
	list, err := membersOf(rows)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"members":[{"data":{"k":"\u003c"},"groupId":"g","id":"a","insertInstant":1,"userId":"u1"},{"data":{},"groupId":"g","id":"b","insertInstant":2,"userId":"u2"}]}`
	if got, err := json.Marshal(map[string]any{"members": list}); err != nil || string(got) != want {
		t.Errorf("got %s (%v)\nwant %s", got, err, want)
	}
	if got, err := membersOf(nil); err != nil || got == nil {
		t.Errorf("no rows: %v %v", got, err)
	}
}
