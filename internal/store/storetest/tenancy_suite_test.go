package storetest

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/access"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/tenancy"
)

// Tenancy is the contract of tenancy.Storage: tenants, applications, their
// roles, the role names of registrations, system settings and the cache
// version every tenant and application write bumps. Its API key and signing
// key methods have suites of their own but for APIKeysOfTenant.
func Tenancy(t *testing.T, st *store.Store) {
	type S = tenancy.Storage
	ctx := context.Background()
	version := func() int64 {
		t.Helper()
		v, err := read[S](st).CacheVersion(ctx, store.CacheIdentityConfig)
		ok(t, "cache version", err)
		return v
	}
	// bumps checks that the transaction of fn bumped the identity
	// configuration's version exactly once (nodes drop their caches on it).
	bumps := func(what string, fn func(s S) error) {
		t.Helper()
		before := version()
		mustWrite(t, st, fn)
		if after := version(); after != before+1 {
			t.Errorf("%s: cache version %d → %d, want one bump", what, before, after)
		}
	}

	// Tenants: read back, unique names in any case, ids.
	tenant := func(name string, at int64) *store.TenantRow {
		return &store.TenantRow{ID: uuid.NewString(), Name: name, Data: `{"data":{"n":1}}`, InsertInstant: at, LastUpdateInstant: at}
	}
	acme, beta := tenant("Acme", 10), tenant("beta", 20)
	acme.SecretsSealed = "sealed"
	gamma := &model.Tenant{ID: uuid.NewString(), Name: "Gamma 50%", InsertInstant: 30, LastUpdateInstant: 30}
	bumps("insert tenants", func(s S) error {
		return errors.Join(s.InsertTenantRow(ctx, acme), s.InsertTenantRow(ctx, beta), s.InsertTenant(ctx, gamma, `{"g":true}`))
	})
	gammaRow := &store.TenantRow{ID: gamma.ID, Name: gamma.Name, Data: `{"g":true}`, InsertInstant: 30, LastUpdateInstant: 30}
	for _, want := range []*store.TenantRow{acme, beta, gammaRow} {
		got, err := read[S](st).TenantByID(ctx, want.ID)
		ok(t, "tenant", err)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("tenant:\n got %+v\nwant %+v", got, want)
		}
		if exists, err := read[S](st).TenantExists(ctx, want.ID); err != nil || !exists {
			t.Errorf("tenant %s exists: %v %v", want.Name, exists, err)
		}
	}
	_, err := read[S](st).TenantByID(ctx, "nope")
	noRows(t, "unknown tenant", err)
	if exists, err := read[S](st).TenantExists(ctx, "nope"); err != nil || exists {
		t.Errorf("unknown tenant exists: %v %v", exists, err)
	}
	if ids, err := read[S](st).TenantIDs(ctx); err != nil || !slices.Equal(ids, []string{acme.ID, beta.ID, gamma.ID}) {
		t.Errorf("tenant ids: %v %v", ids, err)
	}
	for _, c := range []struct {
		name  string
		row   *store.TenantRow
		field string
	}{
		{"same name in other case", tenant("ACME", 40), "name"},
		{"same id", func() *store.TenantRow { r := tenant("Delta", 40); r.ID = beta.ID; return r }(), "id"},
	} {
		err := write(st, func(s S) error { return s.InsertTenantRow(ctx, c.row) })
		if !store.IsUnique(err) || store.TenantUniqueField(err) != c.field {
			t.Errorf("%s: %v (field %q), want a unique violation of %s", c.name, err, store.TenantUniqueField(err), c.field)
		}
	}
	for _, c := range []struct {
		name, except string
		want         bool
	}{{"ACME", "", true}, {"acme", acme.ID, false}, {"Acm", "", false}, {"gamma 50%", beta.ID, true}} {
		if taken, err := read[S](st).TenantNameTaken(ctx, c.name, c.except); err != nil || taken != c.want {
			t.Errorf("tenant name %q taken except %q: %v %v, want %v", c.name, c.except, taken, err, c.want)
		}
	}

	// Update rewrites name, data and secrets; a taken name fails.
	upd := *acme
	upd.Name, upd.Data, upd.SecretsSealed, upd.LastUpdateInstant, upd.InsertInstant = "Acme Corp", `{}`, "", 50, 1
	bumps("update tenant", func(s S) error { return s.UpdateTenantRow(ctx, &upd) })
	upd.InsertInstant = acme.InsertInstant
	if got, err := read[S](st).TenantByID(ctx, acme.ID); err != nil || !reflect.DeepEqual(got, &upd) {
		t.Errorf("after update (%v):\n got %+v\nwant %+v", err, got, &upd)
	}
	acme = &upd
	if err := write(st, func(s S) error { r := *acme; r.Name = "BETA"; return s.UpdateTenantRow(ctx, &r) }); !store.IsUnique(err) {
		t.Errorf("rename to a taken name: %v", err)
	}
	if err := write(st, func(s S) error { r := *acme; r.ID = "nope"; return s.UpdateTenantRow(ctx, &r) }); !errors.Is(err, store.ErrNotOne) {
		t.Errorf("update an unknown tenant: %v", err)
	}

	// List and search: ids, name substring (wildcards literal), order, page.
	tenantNames := func(rows []*store.TenantRow) string {
		var out []string
		for _, r := range rows {
			out = append(out, r.Name)
		}
		return strings.Join(out, ",")
	}
	for _, c := range []struct {
		ids  []string
		want string
	}{{nil, "Acme Corp,beta,Gamma 50%"}, {[]string{gamma.ID, acme.ID, "nope"}, "Acme Corp,Gamma 50%"}, {[]string{}, ""}} {
		rows, err := read[S](st).ListTenants(ctx, c.ids)
		ok(t, "list tenants", err)
		if tenantNames(rows) != c.want {
			t.Errorf("list tenants %v: %s, want %s", c.ids, tenantNames(rows), c.want)
		}
	}
	for _, c := range []struct {
		q             store.TenantQuery
		offset, limit int
		want          string
		total         int
	}{
		{store.TenantQuery{}, 0, 10, "Acme Corp,beta,Gamma 50%", 3},
		{store.TenantQuery{Name: "A"}, 0, 10, "Acme Corp,beta,Gamma 50%", 3},
		{store.TenantQuery{Name: "ME"}, 0, 10, "Acme Corp", 1},
		{store.TenantQuery{Name: "%"}, 0, 10, "Gamma 50%", 1},
		{store.TenantQuery{Name: "_"}, 0, 10, "", 0},
		{store.TenantQuery{OrderBy: "insertInstant", Descending: true}, 0, 10, "Gamma 50%,beta,Acme Corp", 3},
		{store.TenantQuery{OrderBy: "lastUpdateInstant"}, 1, 1, "Gamma 50%", 3},
		{store.TenantQuery{IDs: []string{beta.ID, gamma.ID}, Name: "a"}, 0, 10, "beta,Gamma 50%", 2},
		{store.TenantQuery{IDs: []string{}}, 0, 10, "", 0},
	} {
		rows, total, err := read[S](st).SearchTenants(ctx, c.q, c.offset, c.limit)
		ok(t, "search tenants", err)
		if tenantNames(rows) != c.want || total != c.total {
			t.Errorf("search tenants %+v: %s (total %d), want %s (total %d)", c.q, tenantNames(rows), total, c.want, c.total)
		}
	}
	if _, _, err := read[S](st).SearchTenants(ctx, store.TenantQuery{OrderBy: "data"}, 0, 10); err == nil {
		t.Error("an unknown tenant order was accepted")
	}

	// Applications: read back; the tenant must exist; ids are unique.
	application := func(tenantID, name string, at int64) *store.ApplicationRow {
		return &store.ApplicationRow{ID: uuid.NewString(), TenantID: tenantID, Name: name, Active: true, Data: `{"oauth":{}}`,
			InsertInstant: at, LastUpdateInstant: at}
	}
	web, api, webB := application(acme.ID, "Web", 10), application(acme.ID, "api", 20), application(beta.ID, "Web", 30)
	web.SecretsSealed, api.Active = "sealed", false
	roleAt := func(name string, at int64) model.ApplicationRole {
		return model.ApplicationRole{ID: uuid.NewString(), Name: name, InsertInstant: at, LastUpdateInstant: at}
	}
	admin := roleAt("admin", 1)
	admin.Description, admin.IsSuperRole = "all of it", true
	viewer := roleAt("viewer", 2)
	viewer.IsDefault = true
	withRoles := &model.Application{ID: uuid.NewString(), TenantID: gamma.ID, Name: "Console", Active: true, InsertInstant: 40,
		LastUpdateInstant: 40, Roles: []model.ApplicationRole{viewer, admin}}
	bumps("insert applications", func(s S) error {
		return errors.Join(s.InsertApplicationRow(ctx, web), s.InsertApplicationRow(ctx, api), s.InsertApplicationRow(ctx, webB),
			s.InsertApplication(ctx, withRoles, `{"c":1}`))
	})
	console := &store.ApplicationRow{ID: withRoles.ID, TenantID: gamma.ID, Name: "Console", Active: true, Data: `{"c":1}`,
		InsertInstant: 40, LastUpdateInstant: 40}
	for _, want := range []*store.ApplicationRow{web, api, webB, console} {
		got, err := read[S](st).ApplicationByID(ctx, want.ID)
		ok(t, "application", err)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("application:\n got %+v\nwant %+v", got, want)
		}
		if tid, err := read[S](st).ApplicationTenantID(ctx, want.ID); err != nil || tid != want.TenantID {
			t.Errorf("tenant of %s: %q %v", want.Name, tid, err)
		}
	}
	_, err = read[S](st).ApplicationByID(ctx, "nope")
	noRows(t, "unknown application", err)
	_, err = read[S](st).ApplicationTenantID(ctx, "nope")
	noRows(t, "tenant of an unknown application", err)
	for _, c := range []struct {
		name string
		row  *store.ApplicationRow
		is   func(error) bool
	}{
		{"unknown tenant", application("nope", "x", 50), store.IsForeignKey},
		{"same id", func() *store.ApplicationRow { a := application(beta.ID, "x", 50); a.ID = web.ID; return a }(), store.IsUnique},
	} {
		if err := write(st, func(s S) error { return s.InsertApplicationRow(ctx, c.row) }); !c.is(err) {
			t.Errorf("application with %s: %v", c.name, err)
		}
	}

	// Update rewrites name, data and secrets, not the tenant or the active
	// flag; SetApplicationActive sets the flag.
	updApp := *api
	updApp.Name, updApp.Data, updApp.SecretsSealed, updApp.LastUpdateInstant = "API", `{}`, "s2", 60
	updApp.TenantID, updApp.Active, updApp.InsertInstant = beta.ID, true, 1
	bumps("update application", func(s S) error { return s.UpdateApplicationRow(ctx, &updApp) })
	wantApp := *api
	wantApp.Name, wantApp.Data, wantApp.SecretsSealed, wantApp.LastUpdateInstant = "API", `{}`, "s2", 60
	if got, err := read[S](st).ApplicationByID(ctx, api.ID); err != nil || !reflect.DeepEqual(got, &wantApp) {
		t.Errorf("after update (%v):\n got %+v\nwant %+v", err, got, &wantApp)
	}
	api = &wantApp
	bumps("deactivate", func(s S) error { return s.SetApplicationActive(ctx, webB.ID, false, 70) })
	if got, err := read[S](st).ApplicationByID(ctx, webB.ID); err != nil || got.Active || got.LastUpdateInstant != 70 || got.Name != "Web" {
		t.Errorf("after deactivating: %+v %v", got, err)
	}
	webB.Active, webB.LastUpdateInstant = false, 70
	for name, change := range map[string]func(s S) error{
		"update":     func(s S) error { a := *web; a.ID = "nope"; return s.UpdateApplicationRow(ctx, &a) },
		"set active": func(s S) error { return s.SetApplicationActive(ctx, "nope", true, 1) },
		"delete":     func(s S) error { return s.DeleteApplicationRow(ctx, "nope") },
	} {
		if err := write(st, change); !errors.Is(err, store.ErrNotOne) {
			t.Errorf("%s of an unknown application: %v", name, err)
		}
	}

	// List and search: name substring, tenants, active, order, page.
	appNames := func(rows []*store.ApplicationRow) string {
		var out []string
		for _, a := range rows {
			out = append(out, a.Name+"@"+map[string]string{acme.ID: "a", beta.ID: "b", gamma.ID: "g"}[a.TenantID])
		}
		return strings.Join(out, ",")
	}
	yes, no := true, false
	for _, c := range []struct {
		q     store.ApplicationQuery
		want  string
		total int
	}{
		{store.ApplicationQuery{OrderBy: "insertInstant"}, "Web@a,API@a,Web@b,Console@g", 4},
		{store.ApplicationQuery{Name: "WE", TenantIDs: []string{acme.ID, gamma.ID}}, "Web@a", 1},
		{store.ApplicationQuery{Active: &no}, "API@a,Web@b", 2},
		{store.ApplicationQuery{Active: &yes, Descending: true, OrderBy: "name"}, "Web@a,Console@g", 2},
		{store.ApplicationQuery{TenantIDs: []string{}}, "", 0},
		{store.ApplicationQuery{Name: "%"}, "", 0},
	} {
		rows, err := read[S](st).ListApplications(ctx, c.q)
		ok(t, "list applications", err)
		if appNames(rows) != c.want {
			t.Errorf("list applications %+v: %s, want %s", c.q, appNames(rows), c.want)
		}
		rows, total, err := read[S](st).SearchApplications(ctx, c.q, 0, 10)
		ok(t, "search applications", err)
		if appNames(rows) != c.want || total != c.total {
			t.Errorf("search applications %+v: %s (total %d), want %s (total %d)", c.q, appNames(rows), total, c.want, c.total)
		}
	}
	if rows, total, err := read[S](st).SearchApplications(ctx, store.ApplicationQuery{OrderBy: "insertInstant"}, 1, 2); err != nil ||
		appNames(rows) != "API@a,Web@b" || total != 4 {
		t.Errorf("page of applications: %s (total %d) %v", appNames(rows), total, err)
	}
	if _, err := read[S](st).ListApplications(ctx, store.ApplicationQuery{OrderBy: "data"}); err == nil {
		t.Error("an unknown application order was accepted")
	}
	if _, _, err := read[S](st).SearchApplications(ctx, store.ApplicationQuery{OrderBy: "data"}, 0, 1); err == nil {
		t.Error("an unknown application order was accepted by search")
	}

	// Roles: unique name per application, of an existing application.
	editor := roleAt("editor", 3)
	mustWrite(t, st, func(s S) error { return s.InsertApplicationRole(ctx, web.ID, &editor) })
	for _, c := range []struct {
		name, app string
		role      model.ApplicationRole
		is        func(error) bool
	}{
		{"same name in the application", web.ID, roleAt("editor", 4), store.IsUnique},
		{"unknown application", "nope", roleAt("x", 4), store.IsForeignKey},
		{"an id of another application's role", webB.ID, admin, store.IsUnique},
	} {
		if err := write(st, func(s S) error { return s.InsertApplicationRole(ctx, c.app, &c.role) }); !c.is(err) {
			t.Errorf("role with %s: %v", c.name, err)
		}
	}
	mustWrite(t, st, func(s S) error { r := roleAt("editor", 5); return s.InsertApplicationRole(ctx, webB.ID, &r) })
	roleNames := func(roles []model.ApplicationRole) string {
		var out []string
		for _, r := range roles {
			out = append(out, r.Name)
		}
		return strings.Join(out, ",")
	}
	roles, err := read[S](st).RolesOfApplications(ctx, []string{withRoles.ID, web.ID, webB.ID, api.ID})
	ok(t, "roles of applications", err)
	if len(roles) != 3 || roleNames(roles[withRoles.ID]) != "admin,viewer" || roleNames(roles[web.ID]) != "editor" ||
		roleNames(roles[webB.ID]) != "editor" || !reflect.DeepEqual(roles[withRoles.ID][0], admin) {
		t.Errorf("roles of applications: %+v", roles)
	}
	for _, c := range []struct {
		name string
		get  func(s S) (*model.ApplicationRole, error)
		want *model.ApplicationRole
	}{
		{"by id", func(s S) (*model.ApplicationRole, error) { return s.RoleByID(ctx, withRoles.ID, viewer.ID) }, &viewer},
		{"by name", func(s S) (*model.ApplicationRole, error) { return s.RoleByName(ctx, web.ID, "editor") }, &editor},
		{"by id of another application", func(s S) (*model.ApplicationRole, error) { return s.RoleByID(ctx, web.ID, viewer.ID) }, nil},
		{"by name in other case", func(s S) (*model.ApplicationRole, error) { return s.RoleByName(ctx, web.ID, "Editor") }, nil},
	} {
		got, err := c.get(read[S](st))
		if c.want == nil {
			noRows(t, c.name, err)
		} else if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("role %s: %+v %v, want %+v", c.name, got, err, c.want)
		}
	}
	for id, want := range map[string]bool{viewer.ID: true, editor.ID: true, "nope": false} {
		if exists, err := read[S](st).RoleIDExists(ctx, id); err != nil || exists != want {
			t.Errorf("role id %s exists: %v %v, want %v", id, exists, err, want)
		}
	}
	updRole := viewer
	updRole.Name, updRole.Description, updRole.IsDefault, updRole.IsSuperRole, updRole.LastUpdateInstant = "reader", "reads", false, true, 9
	mustWrite(t, st, func(s S) error { return s.UpdateApplicationRole(ctx, withRoles.ID, &updRole) })
	if got, err := read[S](st).RoleByName(ctx, withRoles.ID, "reader"); err != nil || !reflect.DeepEqual(got, &updRole) {
		t.Errorf("after role update: %+v %v", got, err)
	}
	for name, change := range map[string]func(s S) error{
		"update in another application": func(s S) error { return s.UpdateApplicationRole(ctx, web.ID, &updRole) },
		"delete in another application": func(s S) error { return s.DeleteApplicationRole(ctx, web.ID, updRole.ID) },
	} {
		if err := write(st, change); !errors.Is(err, store.ErrNotOne) {
			t.Errorf("role %s: %v", name, err)
		}
	}
	if err := write(st, func(s S) error { r := updRole; r.Name = "admin"; return s.UpdateApplicationRole(ctx, withRoles.ID, &r) }); !store.IsUnique(err) {
		t.Errorf("rename a role to a taken name: %v", err)
	}

	// Registrations by role name, and their role names rewritten without
	// a change of their last update.
	users := map[string]string{}
	for _, name := range []string{"u1", "u2", "u3", "u4"} {
		users[name] = uuid.NewString()
		sqlExec(t, st, "INSERT INTO users (id, tenant_id, insert_instant, last_update_instant) VALUES ($1, $2, 1, 1)", users[name], acme.ID)
	}
	regs := map[string]string{}
	for _, r := range []struct{ user, app, roles string }{
		{"u1", web.ID, `["editor","user"]`}, {"u2", web.ID, `["user"]`}, {"u3", web.ID, `["Editor","editors"]`},
		{"u4", web.ID, `["editor"]`}, {"u1", api.ID, `["editor"]`},
	} {
		id := uuid.NewString()
		regs[r.user+"@"+r.app] = id
		sqlExec(t, st, "INSERT INTO registrations (id, user_id, application_id, roles, insert_instant, last_update_instant) VALUES ($1, $2, $3, $4, 1, 1)",
			id, users[r.user], r.app, r.roles)
	}
	withRole, err := read[S](st).RegistrationsWithRole(ctx, web.ID, "editor")
	ok(t, "registrations with role", err)
	var gotRegs []string
	for _, r := range withRole {
		gotRegs = append(gotRegs, r.ID)
	}
	wantRegs := []string{regs["u1@"+web.ID], regs["u4@"+web.ID]}
	slices.Sort(wantRegs)
	if !slices.Equal(gotRegs, wantRegs) {
		t.Errorf("registrations with editor: %v, want %v", gotRegs, wantRegs)
	}
	mustWrite(t, st, func(s S) error {
		return s.SetRegistrationRoleNames(ctx, regs["u1@"+web.ID], []string{"author", "user"})
	})
	if rs, _ := read[S](st).RegistrationsWithRole(ctx, web.ID, "author"); len(rs) != 1 || !slices.Equal(rs[0].Roles, []string{"author", "user"}) ||
		rs[0].LastUpdateInstant != 1 {
		t.Errorf("after renaming a role name: %+v", rs)
	}
	if err := write(st, func(s S) error { return s.SetRegistrationRoleNames(ctx, "nope", nil) }); !errors.Is(err, store.ErrNotOne) {
		t.Errorf("role names of an unknown registration: %v", err)
	}

	// Deleting a role leaves registrations' names alone; deleting an
	// application takes its roles and registrations.
	mustWrite(t, st, func(s S) error { return s.DeleteApplicationRole(ctx, web.ID, editor.ID) })
	if err := write(st, func(s S) error { return s.DeleteApplicationRole(ctx, web.ID, editor.ID) }); !errors.Is(err, store.ErrNotOne) {
		t.Errorf("delete a role twice: %v", err)
	}
	if rs, _ := read[S](st).RegistrationsWithRole(ctx, web.ID, "editor"); len(rs) != 1 {
		t.Errorf("registrations lost a deleted role's name: %+v", rs)
	}
	bumps("delete application", func(s S) error { return s.DeleteApplicationRow(ctx, web.ID) })
	if exists, _ := read[S](st).RoleIDExists(ctx, admin.ID); !exists {
		t.Error("deleting one application took another's role")
	}
	if rs, err := read[S](st).RegistrationsWithRole(ctx, web.ID, "user"); err != nil || len(rs) != 0 {
		t.Errorf("a deleted application's registrations stayed: %+v %v", rs, err)
	}
	_, err = read[S](st).ApplicationByID(ctx, web.ID)
	noRows(t, "deleted application", err)

	// The default tenant is the admin application's.
	if _, _, err := read[S](st).DefaultTenantData(ctx, model.AdminApplicationID); !errors.Is(err, store.ErrNoRows) {
		t.Errorf("default tenant without the admin application: %v", err)
	}
	mustWrite(t, st, func(s S) error {
		a := application(beta.ID, "Latch", 80)
		a.ID = model.AdminApplicationID
		return s.InsertApplicationRow(ctx, a)
	})
	if id, data, err := read[S](st).DefaultTenantData(ctx, model.AdminApplicationID); err != nil || id != beta.ID || data != beta.Data {
		t.Errorf("default tenant: %s %s %v", id, data, err)
	}

	// API keys limited to a tenant, alone or among others.
	key := func(name string, tenants ...string) *store.APIKeyRow {
		id := uuid.NewString()
		k := &store.APIKeyRow{APIKey: model.APIKey{ID: id, Name: name, InsertInstant: int64(len(name)), LastUpdateInstant: 1},
			KeyHash: strings.ReplaceAll(id+id, "-", "")[:64]}
		k.TenantIDs = tenants
		return k
	}
	keys := []*store.APIKeyRow{key("all"), key("acme", acme.ID), key("acme+b", acme.ID, beta.ID), key("beta", beta.ID)}
	mustWrite(t, st, func(s access.KeyStorage) error {
		var errs []error
		for _, k := range keys {
			errs = append(errs, s.InsertAPIKey(ctx, k))
		}
		return errors.Join(errs...)
	})
	for tid, want := range map[string]string{acme.ID: "acme,acme+b", beta.ID: "beta,acme+b", gamma.ID: ""} {
		got, err := read[S](st).APIKeysOfTenant(ctx, tid)
		ok(t, "keys of tenant", err)
		var names []string
		for _, k := range got {
			names = append(names, k.Name)
		}
		if strings.Join(names, ",") != want {
			t.Errorf("keys of tenant: %v, want %s", names, want)
		}
	}

	// Deleting a tenant takes its users, applications and their rows.
	bumps("delete tenant", func(s S) error { return s.DeleteTenantCascade(ctx, acme.ID) })
	for what, err := range map[string]error{
		"tenant":      func() error { _, err := read[S](st).TenantByID(ctx, acme.ID); return err }(),
		"application": func() error { _, err := read[S](st).ApplicationByID(ctx, api.ID); return err }(),
	} {
		noRows(t, "deleted tenant's "+what, err)
	}
	var left int
	if err := st.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM users WHERE tenant_id = $1", acme.ID).Scan(&left); err != nil || left != 0 {
		t.Errorf("a deleted tenant's users: %d %v", left, err)
	}
	if err := write(st, func(s S) error { return s.DeleteTenantCascade(ctx, acme.ID) }); !errors.Is(err, store.ErrNotOne) {
		t.Errorf("delete a tenant twice: %v", err)
	}
	if ids, _ := read[S](st).TenantIDs(ctx); !slices.Equal(ids, []string{beta.ID, gamma.ID}) {
		t.Errorf("tenants after a delete: %v", ids)
	}

	// Settings are written once.
	if v, found, err := read[S](st).Setting(ctx, "contract"); err != nil || found || v != "" {
		t.Errorf("absent setting: %q %v %v", v, found, err)
	}
	mustWrite(t, st, func(s S) error { return s.InsertSetting(ctx, "contract", "1") })
	if v, found, err := read[S](st).Setting(ctx, "contract"); err != nil || !found || v != "1" {
		t.Errorf("setting: %q %v %v", v, found, err)
	}
	if err := write(st, func(s S) error { return s.InsertSetting(ctx, "contract", "2") }); !store.IsUnique(err) {
		t.Errorf("setting written twice: %v", err)
	}

	// Races: one tenant name, one role name in an application, one setting.
	for _, c := range []struct {
		name   string
		insert func(s S, i int) error
	}{
		{"tenant name", func(s S, i int) error { return s.InsertTenantRow(ctx, tenant([]string{"Race", "RACE", "race"}[i], 1)) }},
		{"role name", func(s S, i int) error { r := roleAt("racer", 1); return s.InsertApplicationRole(ctx, webB.ID, &r) }},
		{"setting", func(s S, i int) error { return s.InsertSetting(ctx, "raced", []string{"a", "b", "c"}[i]) }},
	} {
		oneWinner(t, c.name, race(st, 3, func(i int, g *gate, s S) error {
			g.wait()
			err := c.insert(s, i)
			if store.IsUnique(err) {
				return errLost
			}
			return err
		}))
	}
}
