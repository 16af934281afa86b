package storetest

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/entities"
	"github.com/latchid/latch/internal/store"
)

// Entities is the contract of entities.Storage: entity types and their
// permissions, entities (the client_credentials clients) and grants. Its
// signing-key and user reads have suites of their own.
func Entities(t *testing.T, st *store.Store) {
	type S = entities.Storage
	ctx := context.Background()
	f, other := newFixture(t, st), newFixture(t, st)

	// Types: read back, names unique in any case.
	typ := func(name string, at int64) *store.EntityTypeRow {
		return &store.EntityTypeRow{ID: uuid.NewString(), Name: name, Data: `{"jwtConfiguration":{}}`, InsertInstant: at, LastUpdateInstant: at}
	}
	api, device := typ("API", 10), typ("device_1", 20)
	mustWrite(t, st, func(s S) error { return errors.Join(s.InsertEntityType(ctx, api), s.InsertEntityType(ctx, device)) })
	if got, err := read[S](st).EntityTypeByID(ctx, api.ID); err != nil || !reflect.DeepEqual(got, api) {
		t.Errorf("type by id: %+v %v", got, err)
	}
	_, err := read[S](st).EntityTypeByID(ctx, "nope")
	noRows(t, "unknown type", err)
	if got, err := read[S](st).EntityTypesByIDs(ctx, []string{device.ID, "nope"}); err != nil || len(got) != 1 || !reflect.DeepEqual(got[device.ID], device) {
		t.Errorf("types by ids: %v %v", got, err)
	}
	for _, c := range []struct {
		name  string
		row   *store.EntityTypeRow
		field string
	}{
		{"same name in other case", typ("api", 30), "name"},
		{"same id", func() *store.EntityTypeRow { r := typ("x", 30); r.ID = api.ID; return r }(), "id"},
	} {
		err := write(st, func(s S) error { return s.InsertEntityType(ctx, c.row) })
		if !store.IsUnique(err) || store.EntityTypeUniqueField(err) != c.field {
			t.Errorf("type with %s: %v (field %q)", c.name, err, store.EntityTypeUniqueField(err))
		}
	}
	for _, c := range []struct {
		name, except string
		want         bool
	}{{"Api", "", true}, {"API", api.ID, false}, {"ap", "", false}} {
		if taken, err := read[S](st).EntityTypeNameTaken(ctx, c.name, c.except); err != nil || taken != c.want {
			t.Errorf("type name %q taken except %q: %v %v", c.name, c.except, taken, err)
		}
	}
	updType := *device
	updType.Name, updType.Data, updType.LastUpdateInstant, updType.InsertInstant = "Device", `{}`, 25, 1
	mustWrite(t, st, func(s S) error { return s.UpdateEntityType(ctx, &updType) })
	updType.InsertInstant = device.InsertInstant
	if got, err := read[S](st).EntityTypeByID(ctx, device.ID); err != nil || !reflect.DeepEqual(got, &updType) {
		t.Errorf("after type update: %+v %v", got, err)
	}
	device = &updType
	if err := write(st, func(s S) error { r := *device; r.Name = "api"; return s.UpdateEntityType(ctx, &r) }); !store.IsUnique(err) {
		t.Errorf("rename a type to a taken name: %v", err)
	}
	mustWrite(t, st, func(s S) error { return s.TouchEntityType(ctx, api.ID, 40) })
	if got, _ := read[S](st).EntityTypeByID(ctx, api.ID); got == nil || got.LastUpdateInstant != 40 || got.Name != "API" {
		t.Errorf("after touch: %+v", got)
	}
	api.LastUpdateInstant = 40
	typeNames := func(rows []*store.EntityTypeRow) string {
		var out []string
		for _, r := range rows {
			out = append(out, r.Name)
		}
		return strings.Join(out, ",")
	}
	for _, c := range []struct {
		q             store.EntityTypeQuery
		offset, limit int
		want          string
		total         int
	}{
		{store.EntityTypeQuery{}, 0, 10, "API,Device", 2},
		{store.EntityTypeQuery{Name: "VIC"}, 0, 10, "Device", 1},
		{store.EntityTypeQuery{Name: "_"}, 0, 10, "", 0},
		{store.EntityTypeQuery{OrderBy: "lastUpdateInstant"}, 0, 10, "Device,API", 2},
		{store.EntityTypeQuery{Descending: true}, 1, 1, "API", 2},
		{store.EntityTypeQuery{Name: "e"}, 0, -1, "Device", 1},
	} {
		rows, total, err := read[S](st).SearchEntityTypes(ctx, c.q, c.offset, c.limit)
		ok(t, "search types", err)
		if typeNames(rows) != c.want || total != c.total {
			t.Errorf("search types %+v: %s (total %d), want %s (total %d)", c.q, typeNames(rows), total, c.want, c.total)
		}
	}
	if _, _, err := read[S](st).SearchEntityTypes(ctx, store.EntityTypeQuery{OrderBy: "data"}, 0, 1); err == nil {
		t.Error("an unknown type order was accepted")
	}

	// Permissions: unique names per type in any case, of an existing type.
	perm := func(typeID, name string, at int64) *store.PermissionRow {
		return &store.PermissionRow{ID: uuid.NewString(), TypeID: typeID, Name: name, Data: `{}`, InsertInstant: at, LastUpdateInstant: at}
	}
	read1, write1, readD := perm(api.ID, "read", 1), perm(api.ID, "Write", 2), perm(device.ID, "read", 3)
	read1.Description, read1.IsDefault = "reads", true
	mustWrite(t, st, func(s S) error {
		return errors.Join(s.InsertPermission(ctx, write1), s.InsertPermission(ctx, read1), s.InsertPermission(ctx, readD))
	})
	for _, c := range []struct {
		name  string
		p     *store.PermissionRow
		is    func(error) bool
		field string
	}{
		{"same name in other case", perm(api.ID, "READ", 4), store.IsUnique, "name"},
		{"same id", func() *store.PermissionRow { p := perm(device.ID, "x", 4); p.ID = read1.ID; return p }(), store.IsUnique, "id"},
		{"unknown type", perm("nope", "x", 4), store.IsForeignKey, ""},
	} {
		err := write(st, func(s S) error { return s.InsertPermission(ctx, c.p) })
		if !c.is(err) || store.PermissionUniqueField(err) != c.field {
			t.Errorf("permission with %s: %v (field %q)", c.name, err, store.PermissionUniqueField(err))
		}
	}
	perms, err := read[S](st).PermissionsOfTypes(ctx, []string{api.ID, device.ID, "nope"})
	ok(t, "permissions of types", err)
	if len(perms) != 2 || len(perms[api.ID]) != 2 || !reflect.DeepEqual(perms[api.ID][0], read1) || !reflect.DeepEqual(perms[api.ID][1], write1) ||
		len(perms[device.ID]) != 1 {
		t.Errorf("permissions of types: %+v", perms)
	}
	updPerm := *write1
	updPerm.Name, updPerm.Description, updPerm.IsDefault, updPerm.LastUpdateInstant, updPerm.TypeID = "write", "writes", true, 9, device.ID
	mustWrite(t, st, func(s S) error { return s.UpdatePermission(ctx, &updPerm) })
	updPerm.TypeID = api.ID
	if perms, _ := read[S](st).PermissionsOfTypes(ctx, []string{api.ID}); len(perms[api.ID]) != 2 || !reflect.DeepEqual(perms[api.ID][1], &updPerm) {
		t.Errorf("after permission update: %+v", perms[api.ID])
	}
	write1 = &updPerm
	if err := write(st, func(s S) error { p := *write1; p.Name = "Read"; return s.UpdatePermission(ctx, &p) }); !store.IsUnique(err) {
		t.Errorf("rename a permission to a taken name: %v", err)
	}

	// Entities: read back by id and client id; client ids are unique
	// everywhere; tenant and type must exist.
	entity := func(tenant, typeID, name string, at int64) *store.EntityRow {
		id := uuid.NewString()
		return &store.EntityRow{ID: id, TenantID: tenant, TypeID: typeID, Name: name, ClientID: "client-" + id, SecretSealed: "sealed",
			SecretMAC: "mac", Data: `{"data":{}}`, InsertInstant: at, LastUpdateInstant: at}
	}
	svc, svc2, farE := entity(f.Tenant, api.ID, "Billing Service", 10), entity(f.Tenant, device.ID, "billing*2", 20), entity(other.Tenant, api.ID, "Far", 30)
	svc2.ParentID = svc.ID
	mustWrite(t, st, func(s S) error {
		return errors.Join(s.InsertEntity(ctx, svc), s.InsertEntity(ctx, svc2), s.InsertEntity(ctx, farE))
	})
	if got, err := read[S](st).EntityByID(ctx, svc2.ID); err != nil || !reflect.DeepEqual(got, svc2) {
		t.Errorf("entity by id: %+v %v", got, err)
	}
	_, err = read[S](st).EntityByID(ctx, "nope")
	noRows(t, "unknown entity", err)
	if tid, err := read[S](st).EntityTenant(ctx, farE.ID); err != nil || tid != other.Tenant {
		t.Errorf("entity tenant: %q %v", tid, err)
	}
	_, err = read[S](st).EntityTenant(ctx, "nope")
	noRows(t, "tenant of an unknown entity", err)
	if got, err := read[S](st).EntitiesByIDs(ctx, []string{svc.ID, farE.ID, "nope"}); err != nil || len(got) != 2 || !reflect.DeepEqual(got[farE.ID], farE) {
		t.Errorf("entities by ids: %v %v", got, err)
	}
	if got, typeData, err := read[S](st).EntityClient(ctx, svc2.ClientID); err != nil || !reflect.DeepEqual(got, svc2) || typeData != device.Data {
		t.Errorf("entity client: %+v %q %v", got, typeData, err)
	}
	_, _, err = read[S](st).EntityClient(ctx, "nope")
	noRows(t, "unknown client", err)
	for _, c := range []struct {
		name  string
		e     *store.EntityRow
		is    func(error) bool
		field string
	}{
		{"same client id", func() *store.EntityRow {
			e := entity(other.Tenant, api.ID, "x", 40)
			e.ClientID = svc.ClientID
			return e
		}(), store.IsUnique, "clientId"},
		{"same id", func() *store.EntityRow { e := entity(f.Tenant, api.ID, "x", 40); e.ID = svc.ID; return e }(), store.IsUnique, "id"},
		{"unknown tenant", entity("nope", api.ID, "x", 40), store.IsForeignKey, ""},
		{"unknown type", entity(f.Tenant, "nope", "x", 40), store.IsForeignKey, ""},
	} {
		err := write(st, func(s S) error { return s.InsertEntity(ctx, c.e) })
		if !c.is(err) || store.EntityUniqueField(err) != c.field {
			t.Errorf("entity with %s: %v (field %q)", c.name, err, store.EntityUniqueField(err))
		}
	}
	for _, c := range []struct {
		clientID, except string
		want             bool
	}{{svc.ClientID, "", true}, {svc.ClientID, svc.ID, false}, {strings.ToUpper(svc.ClientID), "", false}} {
		if taken, err := read[S](st).ClientIDTaken(ctx, c.clientID, c.except); err != nil || taken != c.want {
			t.Errorf("client id %q taken except %q: %v %v", c.clientID, c.except, taken, err)
		}
	}
	updE := *svc2
	updE.Name, updE.ClientID, updE.SecretSealed, updE.SecretMAC, updE.ParentID, updE.Data, updE.LastUpdateInstant = "Billing 2", "c2", "s2", "m2", "", `{}`, 50
	updE.TenantID, updE.TypeID, updE.InsertInstant = other.Tenant, api.ID, 1
	mustWrite(t, st, func(s S) error { return s.UpdateEntity(ctx, &updE) })
	updE.TenantID, updE.TypeID, updE.InsertInstant = svc2.TenantID, svc2.TypeID, svc2.InsertInstant
	if got, err := read[S](st).EntityByID(ctx, svc2.ID); err != nil || !reflect.DeepEqual(got, &updE) {
		t.Errorf("after entity update:\n got %+v\nwant %+v (%v)", got, &updE, err)
	}
	svc2 = &updE
	if err := write(st, func(s S) error { e := *svc2; e.ClientID = farE.ClientID; return s.UpdateEntity(ctx, &e) }); !store.IsUnique(err) {
		t.Errorf("update to a taken client id: %v", err)
	}
	entityNames := func(rows []*store.EntityRow) string {
		var out []string
		for _, e := range rows {
			out = append(out, e.Name)
		}
		return strings.Join(out, ",")
	}
	for _, c := range []struct {
		q     store.EntityQuery
		want  string
		total int
	}{
		{store.EntityQuery{}, "Billing 2,Billing Service,Far", 3},
		{store.EntityQuery{TenantIDs: []string{f.Tenant}, OrderBy: "insertInstant", Descending: true}, "Billing 2,Billing Service", 2},
		{store.EntityQuery{TypeIDs: []string{api.ID}, NameWildcards: []string{"b*"}}, "Billing Service", 1},
		{store.EntityQuery{NameWildcards: []string{"*SERVICE", "billing?service"}}, "Billing Service", 1},
		{store.EntityQuery{NameWildcards: []string{"billing%"}}, "", 0},
		{store.EntityQuery{ClientIDs: []string{"c2", farE.ClientID}, IDs: []string{svc2.ID, svc.ID}}, "Billing 2", 1},
		{store.EntityQuery{TenantIDs: []string{}}, "", 0},
	} {
		rows, total, err := read[S](st).SearchEntities(ctx, c.q, 0, 10)
		ok(t, "search entities", err)
		if entityNames(rows) != c.want || total != c.total {
			t.Errorf("search entities %+v: %s (total %d), want %s (total %d)", c.q, entityNames(rows), total, c.want, c.total)
		}
	}
	if _, _, err := read[S](st).SearchEntities(ctx, store.EntityQuery{OrderBy: "secret"}, 0, 1); err == nil {
		t.Error("an unknown entity order was accepted")
	}

	// Grants: to a user or an entity (exactly one), one per pair.
	grant := func(entityID, userID, recipient string, at int64) *store.GrantRow {
		return &store.GrantRow{ID: uuid.NewString(), EntityID: entityID, UserID: userID, RecipientEntityID: recipient, Data: `{}`,
			InsertInstant: at, LastUpdateInstant: at}
	}
	gUser, gEntity, gUser2 := grant(svc.ID, f.User, "", 1), grant(svc.ID, "", svc2.ID, 2), grant(farE.ID, f.User, "", 3)
	gUser.Data = `{"data":{"k":"v"}}`
	mustWrite(t, st, func(s S) error {
		return errors.Join(s.InsertGrant(ctx, gUser), s.InsertGrant(ctx, gEntity), s.InsertGrant(ctx, gUser2))
	})
	for _, c := range []struct {
		entity, user, recipient string
		want                    *store.GrantRow
	}{{svc.ID, f.User, "", gUser}, {svc.ID, "", svc2.ID, gEntity}, {svc.ID, f.User2, "", nil}, {svc2.ID, "", svc.ID, nil}} {
		got, err := read[S](st).GrantOf(ctx, c.entity, c.user, c.recipient)
		if c.want == nil {
			noRows(t, "no grant", err)
		} else if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("grant of %s to %s%s: %+v %v", c.entity, c.user, c.recipient, got, err)
		}
	}
	for _, c := range []struct {
		name string
		g    *store.GrantRow
		is   func(error) bool
	}{
		{"a second grant to the user", grant(svc.ID, f.User, "", 4), store.IsUnique},
		{"a second grant to the entity", grant(svc.ID, "", svc2.ID, 4), store.IsUnique},
		{"no recipient", grant(svc.ID, "", "", 4), store.IsCheck},
		{"two recipients", grant(svc.ID, f.User2, farE.ID, 4), store.IsCheck},
		{"unknown user", grant(svc.ID, "nope", "", 4), store.IsForeignKey},
		{"unknown entity", grant("nope", f.User, "", 4), store.IsForeignKey},
	} {
		if err := write(st, func(s S) error { return s.InsertGrant(ctx, c.g) }); !c.is(err) {
			t.Errorf("grant with %s: %v", c.name, err)
		}
	}
	mustWrite(t, st, func(s S) error {
		return errors.Join(s.SetGrantPermissions(ctx, gEntity.ID, []string{write1.ID}),
			s.SetGrantPermissions(ctx, gEntity.ID, []string{write1.ID, read1.ID}), s.SetGrantPermissions(ctx, gUser.ID, []string{read1.ID}))
	})
	if err := write(st, func(s S) error { return s.SetGrantPermissions(ctx, gUser.ID, []string{"nope"}) }); !store.IsForeignKey(err) {
		t.Errorf("an unknown permission: %v", err)
	}
	names, err := read[S](st).PermissionNamesOfGrants(ctx, []string{gUser.ID, gEntity.ID, gUser2.ID})
	ok(t, "permission names", err)
	if !reflect.DeepEqual(names, map[string][]string{gUser.ID: {"read"}, gEntity.ID: {"read", "write"}}) {
		t.Errorf("permission names of grants: %v", names)
	}
	for _, c := range []struct {
		recipient, tenant string
		targets           []string
		want              map[string][]string
	}{
		{svc2.ID, f.Tenant, []string{svc.ID, farE.ID, "nope"}, map[string][]string{svc.ID: {"read", "write"}}},
		{svc2.ID, other.Tenant, []string{svc.ID}, map[string][]string{}},
		{svc.ID, f.Tenant, []string{svc2.ID}, map[string][]string{}},
		{svc2.ID, f.Tenant, nil, map[string][]string{}},
	} {
		got, err := read[S](st).GrantedPermissions(ctx, c.recipient, c.tenant, c.targets)
		ok(t, "granted permissions", err)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("granted to %s in %s on %v: %v, want %v", c.recipient, c.tenant, c.targets, got, c.want)
		}
	}
	// A permission renamed follows into grants; one deleted leaves them.
	mustWrite(t, st, func(s S) error { p := *write1; p.Name = "modify"; return s.UpdatePermission(ctx, &p) })
	mustWrite(t, st, func(s S) error { return s.DeletePermission(ctx, read1.ID) })
	if err := write(st, func(s S) error { return s.DeletePermission(ctx, read1.ID) }); !errors.Is(err, store.ErrNotOne) {
		t.Errorf("delete a permission twice: %v", err)
	}
	names, _ = read[S](st).PermissionNamesOfGrants(ctx, []string{gUser.ID, gEntity.ID})
	if !reflect.DeepEqual(names, map[string][]string{gEntity.ID: {"modify"}}) {
		t.Errorf("after renaming and deleting permissions: %v", names)
	}
	if got, _ := read[S](st).GrantedPermissions(ctx, svc2.ID, f.Tenant, []string{svc.ID}); !reflect.DeepEqual(got, map[string][]string{svc.ID: {"modify"}}) {
		t.Errorf("granted after the changes: %v", got)
	}
	mustWrite(t, st, func(s S) error { return s.SetGrantPermissions(ctx, gEntity.ID, nil) })
	if got, _ := read[S](st).GrantedPermissions(ctx, svc2.ID, f.Tenant, []string{svc.ID}); !reflect.DeepEqual(got, map[string][]string{svc.ID: {}}) {
		t.Errorf("a grant without permissions: %v", got)
	}
	updG := *gUser
	updG.Data, updG.LastUpdateInstant, updG.UserID, updG.InsertInstant = `{}`, 9, f.User2, 0
	mustWrite(t, st, func(s S) error { return s.UpdateGrant(ctx, &updG) })
	updG.UserID, updG.InsertInstant = gUser.UserID, gUser.InsertInstant
	if got, err := read[S](st).GrantOf(ctx, svc.ID, f.User, ""); err != nil || !reflect.DeepEqual(got, &updG) {
		t.Errorf("after grant update: %+v %v", got, err)
	}
	grantIDs := func(rows []*store.GrantRow) []string {
		var out []string
		for _, g := range rows {
			out = append(out, g.ID)
		}
		return out
	}
	for _, c := range []struct {
		q     store.GrantQuery
		want  []string
		total int
	}{
		{store.GrantQuery{}, []string{gUser.ID, gEntity.ID, gUser2.ID}, 3},
		{store.GrantQuery{EntityID: svc.ID, Desc: true}, []string{gEntity.ID, gUser.ID}, 2},
		{store.GrantQuery{UserID: f.User}, []string{gUser.ID, gUser2.ID}, 2},
		{store.GrantQuery{UserID: f.User, TenantIDs: []string{other.Tenant}}, []string{gUser2.ID}, 1},
		{store.GrantQuery{Name: "SERV"}, []string{gUser.ID, gEntity.ID}, 2},
		{store.GrantQuery{OrderBy: "name", Desc: true, UserID: f.User}, []string{gUser2.ID, gUser.ID}, 2},
		{store.GrantQuery{TenantIDs: []string{}}, nil, 0},
	} {
		rows, total, err := read[S](st).SearchGrants(ctx, c.q, 0, 10)
		ok(t, "search grants", err)
		if !slices.Equal(grantIDs(rows), c.want) || total != c.total {
			t.Errorf("search grants %+v: %v (total %d), want %v (total %d)", c.q, grantIDs(rows), total, c.want, c.total)
		}
	}
	if _, _, err := read[S](st).SearchGrants(ctx, store.GrantQuery{OrderBy: "data"}, 0, 1); err == nil {
		t.Error("an unknown grant order was accepted")
	}
	for name, change := range map[string]func(s S) error{
		"update grant":      func(s S) error { g := *gUser; g.ID = "nope"; return s.UpdateGrant(ctx, &g) },
		"delete grant":      func(s S) error { return s.DeleteGrant(ctx, "nope") },
		"update entity":     func(s S) error { e := *svc; e.ID = "nope"; return s.UpdateEntity(ctx, &e) },
		"delete entity":     func(s S) error { return s.DeleteEntity(ctx, "nope") },
		"update type":       func(s S) error { r := *api; r.ID = "nope"; return s.UpdateEntityType(ctx, &r) },
		"delete type":       func(s S) error { return s.DeleteEntityType(ctx, "nope") },
		"update permission": func(s S) error { p := *write1; p.ID = "nope"; return s.UpdatePermission(ctx, &p) },
	} {
		if err := write(st, change); !errors.Is(err, store.ErrNotOne) {
			t.Errorf("%s of an unknown row: %v", name, err)
		}
	}

	// Races: one client id, one grant per pair, one type name.
	for _, c := range []struct {
		name   string
		insert func(s S, i int) error
	}{
		{"client id", func(s S, i int) error {
			e := entity(f.Tenant, api.ID, "r", 60)
			e.ClientID = "raced"
			return s.InsertEntity(ctx, e)
		}},
		{"grant", func(s S, i int) error { return s.InsertGrant(ctx, grant(farE.ID, f.User2, "", 60)) }},
		{"type name", func(s S, i int) error {
			return s.InsertEntityType(ctx, typ([]string{"Raced", "RACED", "raced"}[i], 60))
		}},
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

	// Deletes cascade: a grant; an entity with the grants on it and to it; a
	// type with its permissions and entities.
	mustWrite(t, st, func(s S) error { return s.DeleteGrant(ctx, gUser2.ID) })
	mustWrite(t, st, func(s S) error { return s.DeleteEntity(ctx, svc2.ID) })
	if rows, _, _ := read[S](st).SearchGrants(ctx, store.GrantQuery{EntityID: svc.ID}, 0, 10); !slices.Equal(grantIDs(rows), []string{gUser.ID}) {
		t.Errorf("grants after deleting their recipient: %v", grantIDs(rows))
	}
	mustWrite(t, st, func(s S) error { return s.DeleteEntityType(ctx, api.ID) })
	for _, id := range []string{svc.ID, farE.ID} {
		_, err := read[S](st).EntityByID(ctx, id)
		noRows(t, "an entity of a deleted type", err)
	}
	if perms, _ := read[S](st).PermissionsOfTypes(ctx, []string{api.ID}); len(perms) != 0 {
		t.Errorf("a deleted type's permissions stayed: %v", perms)
	}
	if rows, total, _ := read[S](st).SearchGrants(ctx, store.GrantQuery{}, 0, 10); total != 0 {
		t.Errorf("grants on deleted entities stayed: %v", grantIDs(rows))
	}
}
