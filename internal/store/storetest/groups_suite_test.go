package storetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/groups"
	"github.com/latchid/latch/internal/store"
)

// Groups is the contract of groups.Storage.
func Groups(t *testing.T, st *store.Store) {
	type S = groups.Storage
	ctx := context.Background()
	f, other := newFixture(t, st), newFixture(t, st)
	roleIDs := map[string]string{}
	for _, r := range []struct{ name, app string }{{"admin", f.App}, {"viewer", f.App}, {"elsewhere", other.App}} {
		id := uuid.NewString()
		roleIDs[r.name] = id
		if _, err := st.DB().ExecContext(ctx, `INSERT INTO application_roles (id, application_id, name, insert_instant, last_update_instant)
			VALUES ($1, $2, $3, 1, 1)`, id, r.app, r.name); err != nil {
			t.Fatal(err)
		}
	}
	group := func(tenant, name string, at int64) *store.GroupRow {
		return &store.GroupRow{ID: uuid.NewString(), TenantID: tenant, Name: name, Data: `{"data":{"n":1}}`, InsertInstant: at, LastUpdateInstant: at}
	}
	ops, devs, far := group(f.Tenant, "Ops", 1), group(f.Tenant, "devs_1", 2), group(other.Tenant, "Ops", 3)
	mustWrite(t, st, func(s S) error {
		return errors.Join(s.InsertGroupRow(ctx, ops), s.InsertGroupRow(ctx, devs), s.InsertGroupRow(ctx, far))
	})
	got, err := read[S](st).GroupByID(ctx, ops.ID)
	ok(t, "by id", err)
	if *got != *ops {
		t.Errorf("by id: %+v, want %+v", got, ops)
	}
	_, err = read[S](st).GroupByID(ctx, "nope")
	noRows(t, "unknown group", err)
	byIDs, err := read[S](st).GroupsByIDs(ctx, []string{ops.ID, far.ID, "nope"})
	ok(t, "by ids", err)
	if len(byIDs) != 2 || byIDs[ops.ID] == nil || byIDs[far.ID] == nil {
		t.Errorf("by ids: %v", byIDs)
	}

	// Names are unique within a tenant in any case; the tenant must exist.
	for _, c := range []struct {
		name  string
		g     *store.GroupRow
		is    func(error) bool
		field string
	}{
		{"same name in other case", group(f.Tenant, "OPS", 4), store.IsUnique, "name"},
		{"same id", func() *store.GroupRow { g := group(f.Tenant, "x", 4); g.ID = ops.ID; return g }(), store.IsUnique, "id"},
		{"unknown tenant", group("nope", "x", 4), store.IsForeignKey, ""},
	} {
		err := write(st, func(s S) error { return s.InsertGroupRow(ctx, c.g) })
		if !c.is(err) {
			t.Errorf("%s: %v", c.name, err)
		} else if got := store.GroupUniqueField(err); got != c.field {
			t.Errorf("%s: unique field %q, want %q", c.name, got, c.field)
		}
	}
	for _, c := range []struct {
		tenant, name, except string
		want                 bool
	}{{f.Tenant, "ops", "", true}, {f.Tenant, "ops", ops.ID, false}, {other.Tenant, "DEVS_1", "", false}} {
		taken, err := read[S](st).GroupNameTaken(ctx, c.tenant, c.name, c.except)
		ok(t, "name taken", err)
		if taken != c.want {
			t.Errorf("name %q taken in %s except %q = %v", c.name, c.tenant, c.except, taken)
		}
	}

	// Update name and data; the tenant stays.
	upd := *devs
	upd.Name, upd.Data, upd.LastUpdateInstant, upd.TenantID = "Developers", `{}`, 9, other.Tenant
	mustWrite(t, st, func(s S) error { return s.UpdateGroupRow(ctx, &upd) })
	got, err = read[S](st).GroupByID(ctx, devs.ID)
	ok(t, "after update", err)
	if got.Name != "Developers" || got.Data != "{}" || got.LastUpdateInstant != 9 || got.TenantID != f.Tenant {
		t.Errorf("after update: %+v", got)
	}
	devs = got
	if err := write(st, func(s S) error { g := *devs; g.Name = "ops"; return s.UpdateGroupRow(ctx, &g) }); !store.IsUnique(err) {
		t.Errorf("update to a taken name: %v", err)
	}

	// List and search: name substring (wildcards literal), tenants, order, page.
	names := func(rows []*store.GroupRow) string {
		var out []string
		for _, g := range rows {
			out = append(out, g.Name+"@"+map[string]string{f.Tenant: "f", other.Tenant: "o"}[g.TenantID])
		}
		return strings.Join(out, ",")
	}
	for _, c := range []struct {
		q    store.GroupQuery
		want string
	}{
		{store.GroupQuery{TenantIDs: []string{f.Tenant, other.Tenant}, OrderBy: "insertInstant"}, "Ops@f,Developers@f,Ops@o"},
		{store.GroupQuery{TenantIDs: []string{f.Tenant}, Descending: true}, "Ops@f,Developers@f"},
		{store.GroupQuery{TenantIDs: []string{}}, ""},
		{store.GroupQuery{Name: "OPS", TenantIDs: []string{f.Tenant, other.Tenant}, OrderBy: "insertInstant", Descending: true}, "Ops@o,Ops@f"},
		{store.GroupQuery{Name: "_", TenantIDs: []string{f.Tenant}}, ""},
	} {
		rows, err := read[S](st).ListGroups(ctx, c.q)
		ok(t, "list", err)
		if names(rows) != c.want {
			t.Errorf("list %+v: %s, want %s", c.q, names(rows), c.want)
		}
	}
	rows, total, err := read[S](st).SearchGroups(ctx, store.GroupQuery{TenantIDs: []string{f.Tenant, other.Tenant}, OrderBy: "insertInstant"}, 1, 1)
	ok(t, "search", err)
	if names(rows) != "Developers@f" || total != 3 {
		t.Errorf("search page: %s (total %d)", names(rows), total)
	}
	if _, err := read[S](st).ListGroups(ctx, store.GroupQuery{OrderBy: "data"}); err == nil {
		t.Error("an unknown order was accepted")
	}

	// Roles: only the tenant's applications' roles are found; set replaces.
	inTenant, err := read[S](st).RolesInTenant(ctx, f.Tenant, []string{roleIDs["admin"], roleIDs["elsewhere"], "nope"})
	ok(t, "roles in tenant", err)
	if len(inTenant) != 1 || inTenant[roleIDs["admin"]].Role.Name != "admin" || inTenant[roleIDs["admin"]].ApplicationID != f.App {
		t.Errorf("roles in tenant: %+v", inTenant)
	}
	mustWrite(t, st, func(s S) error { return s.SetGroupRoles(ctx, ops.ID, []string{roleIDs["viewer"], roleIDs["admin"]}) })
	mustWrite(t, st, func(s S) error { return s.SetGroupRoles(ctx, devs.ID, []string{roleIDs["viewer"]}) })
	mustWrite(t, st, func(s S) error { return s.SetGroupRoles(ctx, devs.ID, []string{roleIDs["admin"]}) })
	if err := write(st, func(s S) error { return s.SetGroupRoles(ctx, ops.ID, []string{"nope"}) }); !store.IsForeignKey(err) {
		t.Errorf("an unknown role: %v", err)
	}
	roles, err := read[S](st).RolesOfGroups(ctx, []string{ops.ID, devs.ID, far.ID})
	ok(t, "roles of groups", err)
	roleNames := func(gr []store.GroupRole) string {
		var out []string
		for _, r := range gr {
			out = append(out, r.Role.Name)
		}
		return strings.Join(out, ",")
	}
	if roleNames(roles[ops.ID]) != "admin,viewer" || roleNames(roles[devs.ID]) != "admin" || len(roles[far.ID]) != 0 {
		t.Errorf("roles of groups: ops %s, devs %s, far %v", roleNames(roles[ops.ID]), roleNames(roles[devs.ID]), roles[far.ID])
	}

	// Members: unique per group and user; the user and group must exist.
	member := func(g, u string, at int64) *store.GroupMemberRow {
		return &store.GroupMemberRow{ID: uuid.NewString(), GroupID: g, UserID: u, Data: `{}`, InsertInstant: at}
	}
	m1, m2, m3 := member(ops.ID, f.User, 1), member(ops.ID, f.User2, 2), member(devs.ID, f.User, 3)
	mustWrite(t, st, func(s S) error {
		return errors.Join(s.InsertGroupMember(ctx, m1), s.InsertGroupMember(ctx, m2), s.InsertGroupMember(ctx, m3))
	})
	for _, c := range []struct {
		name string
		m    *store.GroupMemberRow
		is   func(error) bool
	}{
		{"twice in a group", member(ops.ID, f.User, 4), store.IsUnique},
		{"unknown user", member(ops.ID, "nope", 4), store.IsForeignKey},
		{"unknown group", member("nope", f.User, 4), store.IsForeignKey},
	} {
		if err := write(st, func(s S) error { return s.InsertGroupMember(ctx, c.m) }); !c.is(err) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	byID, err := read[S](st).MembersByIDs(ctx, []string{m2.ID, "nope"})
	ok(t, "members by ids", err)
	if len(byID) != 1 || *byID[m2.ID] != *m2 {
		t.Errorf("members by ids: %v", byID)
	}
	memberIDs := func(rows []*store.GroupMemberRow) []string {
		var out []string
		for _, m := range rows {
			out = append(out, m.ID)
		}
		return out
	}
	ofGroup, err := read[S](st).MembersOfGroup(ctx, ops.ID)
	ok(t, "members of group", err)
	if !slices.Equal(memberIDs(ofGroup), []string{m1.ID, m2.ID}) {
		t.Errorf("members of ops: %v", memberIDs(ofGroup))
	}
	ofUsers, err := read[S](st).MembershipsOfUsers(ctx, []string{f.User, f.User2, other.User})
	ok(t, "memberships of users", err)
	if !slices.Equal(memberIDs(ofUsers[f.User]), []string{m1.ID, m3.ID}) || len(ofUsers[f.User2]) != 1 || len(ofUsers[other.User]) != 0 {
		t.Errorf("memberships of users: %v", ofUsers)
	}
	for _, c := range []struct {
		q     store.MemberQuery
		want  []string
		total int
	}{
		{store.MemberQuery{GroupID: ops.ID}, []string{m1.ID, m2.ID}, 2},
		{store.MemberQuery{UserID: f.User, Descending: true}, []string{m3.ID, m1.ID}, 2},
		{store.MemberQuery{UserID: f.User, TenantIDs: []string{other.Tenant}}, nil, 0},
		{store.MemberQuery{UserID: f.User, TenantIDs: []string{}}, nil, 0},
	} {
		rows, total, err := read[S](st).SearchGroupMembers(ctx, c.q, 0, 10)
		ok(t, "search members", err)
		if !slices.Equal(memberIDs(rows), c.want) || total != c.total {
			t.Errorf("search members %+v: %v (total %d), want %v (total %d)", c.q, memberIDs(rows), total, c.want, c.total)
		}
	}
	tenants, err := read[S](st).UserTenantIDs(ctx, []string{f.User, other.User, "nope"})
	ok(t, "user tenants", err)
	if len(tenants) != 2 || tenants[f.User] != f.Tenant || tenants[other.User] != other.Tenant {
		t.Errorf("user tenants: %v", tenants)
	}

	mustWrite(t, st, func(s S) error { return s.DeleteGroupMembers(ctx, []string{m2.ID, "nope"}) })
	if rest, _ := read[S](st).MembersOfGroup(ctx, ops.ID); !slices.Equal(memberIDs(rest), []string{m1.ID}) {
		t.Errorf("after removing a member: %v", memberIDs(rest))
	}

	// Two transactions adding one user to one group: one membership.
	oneWinner(t, "add the same member", race(st, 3, func(i int, g *gate, s S) error {
		g.wait()
		err := s.InsertGroupMember(ctx, member(devs.ID, f.User2, 10))
		if store.IsUnique(err) {
			return errLost
		}
		return err
	}))

	// Deleting a group takes its roles and members along.
	mustWrite(t, st, func(s S) error { return s.DeleteGroupRow(ctx, ops.ID) })
	_, err = read[S](st).GroupByID(ctx, ops.ID)
	noRows(t, "deleted group", err)
	if rs, _ := read[S](st).RolesOfGroups(ctx, []string{ops.ID}); len(rs) != 0 {
		t.Errorf("a deleted group's roles stayed: %v", rs)
	}
	if ms, _ := read[S](st).MembersByIDs(ctx, []string{m1.ID}); len(ms) != 0 {
		t.Errorf("a deleted group's members stayed: %v", ms)
	}
	if err := write(st, func(s S) error { return s.DeleteGroupRow(ctx, ops.ID) }); !errors.Is(err, store.ErrNotOne) {
		t.Errorf("delete twice: %v", err)
	}
}
