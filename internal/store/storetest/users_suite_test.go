package storetest

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/identity/userimport"
	"github.com/latchid/latch/internal/store"
)

// Users is the contract of identity.Storage and userimport.Storage: users,
// their registrations, search, the import's batch lookups and writes, and
// password history. Their one-time codes, group and lockout methods have
// suites of their own; tenants and applications are tenancy's.
func Users(t *testing.T, st *store.Store) {
	type S = interface {
		identity.Storage
		userimport.Storage
	}
	ctx := context.Background()
	f := newFixture(t, st)
	tenant, other := bareTenant(t, st), bareTenant(t, st)
	app := uuid.NewString()
	sqlExec(t, st, "INSERT INTO applications (id, tenant_id, name, active, data, insert_instant, last_update_instant) VALUES ($1, $2, 'app', TRUE, '{}', 1, 1)",
		app, tenant)
	lastLogin := int64(77)
	user := func(tenantID, email, username string, at int64) *store.UserRow {
		return &store.UserRow{ID: uuid.NewString(), TenantID: tenantID, Email: email, Username: username, Active: true,
			Data: `{"data":{"n":1}}`, InsertInstant: at, LastUpdateInstant: at}
	}
	// As read back: first and last names are search keys only.
	stored := func(u *store.UserRow) *store.UserRow {
		c := *u
		c.FirstName, c.LastName = "", ""
		if c.Data == "" {
			c.Data = "{}"
		}
		return &c
	}
	ann := user(tenant, "Ann@Example.com", "ann", 10)
	ann.FullName, ann.FirstName, ann.LastName = "Ann Lee", "Ann", "Lee"
	ann.PasswordHash, ann.PasswordChangeRequired, ann.PasswordLastUpdateInstant = "salted-hash", true, 5
	ann.SecretsSealed, ann.LastLoginInstant = "sealed", &lastLogin
	bob := user(tenant, "bob@example.com", "", 20)
	bob.FullName, bob.FirstName, bob.LastName, bob.Active, bob.Data = "Bob Ray", "Bob", "Ray", false, ""
	carl := user(tenant, "", "Kate", 30)
	carl.FullName, carl.FirstName, carl.LastName, carl.Verified = "Carl Ann", "Carl", "Ann", true
	far := user(other, "ann@example.com", "bob@example.com", 40)
	mustWrite(t, st, func(s S) error {
		return errors.Join(s.InsertUserRow(ctx, ann), s.InsertUserRow(ctx, bob), s.InsertUserRow(ctx, carl), s.InsertUserRow(ctx, far))
	})

	// Reads by id, email, username and login id; emails and usernames
	// compare folded (the Kelvin sign is a K).
	for _, c := range []struct {
		name string
		get  func(s S) (*store.UserRow, error)
		want *store.UserRow
	}{
		{"by id", func(s S) (*store.UserRow, error) { return s.UserRowByID(ctx, ann.ID) }, ann},
		{"by email", func(s S) (*store.UserRow, error) { return s.UserRowByEmail(ctx, tenant, " ANN@example.COM") }, ann},
		{"by email, other tenant", func(s S) (*store.UserRow, error) { return s.UserRowByEmail(ctx, other, "ann@example.com") }, far},
		{"by username", func(s S) (*store.UserRow, error) { return s.UserRowByUsername(ctx, tenant, "\u212Aate") }, carl},
		{"by login id, email", func(s S) (*store.UserRow, error) { return s.UserRowByLoginID(ctx, tenant, "BOB@example.com") }, bob},
		{"by login id, username", func(s S) (*store.UserRow, error) { return s.UserRowByLoginID(ctx, tenant, "kate") }, carl},
		{"by login id, a username of another tenant", func(s S) (*store.UserRow, error) {
			return s.UserRowByLoginID(ctx, other, "bob@example.com")
		}, far},
	} {
		got, err := c.get(read[S](st))
		ok(t, c.name, err)
		if !reflect.DeepEqual(got, stored(c.want)) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, stored(c.want))
		}
	}
	for _, c := range []struct {
		name string
		get  func(s S) (*store.UserRow, error)
	}{
		{"unknown id", func(s S) (*store.UserRow, error) { return s.UserRowByID(ctx, "nope") }},
		{"email of another tenant", func(s S) (*store.UserRow, error) { return s.UserRowByEmail(ctx, f.Tenant, ann.Email) }},
		{"username as email", func(s S) (*store.UserRow, error) { return s.UserRowByEmail(ctx, tenant, "ann") }},
		{"email as username", func(s S) (*store.UserRow, error) { return s.UserRowByUsername(ctx, tenant, ann.Email) }},
		{"unknown login id", func(s S) (*store.UserRow, error) { return s.UserRowByLoginID(ctx, tenant, "nobody") }},
	} {
		_, err := c.get(read[S](st))
		noRows(t, c.name, err)
	}
	byIDs := func(ids, tenants []string) []string {
		t.Helper()
		rows, err := read[S](st).UserRowsByIDs(ctx, ids, tenants)
		ok(t, "by ids", err)
		var out []string
		for _, u := range rows {
			out = append(out, u.ID)
		}
		return out
	}
	for _, c := range []struct {
		ids, tenants, want []string
	}{
		{[]string{carl.ID, "nope", ann.ID, far.ID}, nil, []string{carl.ID, ann.ID, far.ID}},
		{[]string{carl.ID, ann.ID, far.ID}, []string{other}, []string{far.ID}},
		{[]string{carl.ID}, []string{}, nil},
	} {
		if got := byIDs(c.ids, c.tenants); !slices.Equal(got, c.want) {
			t.Errorf("by ids %v in %v: %v, want %v", c.ids, c.tenants, got, c.want)
		}
	}
	tenants, err := read[S](st).UserTenantIDs(ctx, []string{ann.ID, far.ID, "nope"})
	ok(t, "user tenants", err)
	if !reflect.DeepEqual(tenants, map[string]string{ann.ID: tenant, far.ID: other}) {
		t.Errorf("user tenants: %v", tenants)
	}

	// Email and username are unique per tenant as folded; the id everywhere;
	// the tenant must exist.
	for _, c := range []struct {
		name  string
		u     *store.UserRow
		is    func(error) bool
		field string
	}{
		{"same email in other case", user(tenant, "ANN@example.com", "", 50), store.IsUnique, "email"},
		{"same username as folded", user(tenant, "", "\u212AATE", 50), store.IsUnique, "username"},
		{"same id", func() *store.UserRow { u := user(f.Tenant, "", "", 50); u.ID = far.ID; return u }(), store.IsUnique, "id"},
		{"unknown tenant", user("nope", "x@example.com", "", 50), store.IsForeignKey, ""},
	} {
		err := write(st, func(s S) error { return s.InsertUserRow(ctx, c.u) })
		if !c.is(err) {
			t.Errorf("%s: %v", c.name, err)
		} else if got := store.UserUniqueField(err); got != c.field {
			t.Errorf("%s: unique field %q, want %q", c.name, got, c.field)
		}
	}
	for _, c := range []struct {
		name                  string
		taken                 func(s S, ctx context.Context, tenant, value, except string) (bool, error)
		tenant, value, except string
		want                  bool
	}{
		{"email", S.UserEmailTaken, tenant, "ann@EXAMPLE.com", "", true},
		{"email of the user itself", S.UserEmailTaken, tenant, "ann@example.com", ann.ID, false},
		{"email in another tenant", S.UserEmailTaken, f.Tenant, "ann@example.com", "", false},
		{"username", S.UserUsernameTaken, tenant, "KATE", "", true},
		{"username of the user itself", S.UserUsernameTaken, tenant, "kate", carl.ID, false},
		{"username that is an email", S.UserUsernameTaken, tenant, "bob@example.com", "", false},
	} {
		got, err := c.taken(read[S](st), ctx, c.tenant, c.value, c.except)
		ok(t, c.name, err)
		if got != c.want {
			t.Errorf("%s %q taken = %v, want %v", c.name, c.value, got, c.want)
		}
	}

	// The import's batch lookups answer folded values (and ids as they are).
	for _, c := range []struct {
		name string
		get  func(s S) (map[string]bool, error)
		want map[string]bool
	}{
		{"emails", func(s S) (map[string]bool, error) {
			return s.TakenUserEmails(ctx, tenant, []string{"ANN@example.com", "carl@example.com", "Bob@Example.com"})
		}, map[string]bool{"ann@example.com": true, "bob@example.com": true}},
		{"usernames", func(s S) (map[string]bool, error) {
			return s.TakenUsernames(ctx, other, []string{"BOB@example.com", "kate"})
		},
			map[string]bool{"bob@example.com": true}},
		{"user ids", func(s S) (map[string]bool, error) { return s.TakenUserIDs(ctx, []string{ann.ID, far.ID, "nope"}) },
			map[string]bool{ann.ID: true, far.ID: true}},
		{"none", func(s S) (map[string]bool, error) { return s.TakenUserIDs(ctx, nil) }, map[string]bool{}},
	} {
		got, err := c.get(read[S](st))
		ok(t, c.name, err)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("taken %s: %v, want %v", c.name, got, c.want)
		}
	}

	// An import stores what one insert stores; a clash fails it.
	batch := []*store.UserRow{user(f.Tenant, "i1@example.com", "i1", 60), user(f.Tenant, "i2@example.com", "", 61)}
	batch[1].FirstName = "Imported"
	imported := []*store.UserRow{user(f.Tenant, "i3@example.com", "i3", 62), user(f.Tenant, "", "i4", 63)}
	mustWrite(t, st, func(s S) error { return errors.Join(s.ImportUserRows(ctx, imported), s.ImportUserRows(ctx, batch)) })
	for _, u := range append(batch, imported...) {
		got, err := read[S](st).UserRowByID(ctx, u.ID)
		ok(t, "bulk", err)
		if !reflect.DeepEqual(got, stored(u)) {
			t.Errorf("bulk:\n got %+v\nwant %+v", got, stored(u))
		}
	}
	for name, rows := range map[string][]*store.UserRow{
		"a taken email":      {user(f.Tenant, "new@example.com", "", 70), user(f.Tenant, "I1@example.com", "", 70)},
		"one username twice": {user(f.Tenant, "", "twice", 70), user(f.Tenant, "", "Twice", 70)},
		"an unknown tenant":  {user("nope", "", "", 70)},
	} {
		err := write(st, func(s S) error { return s.ImportUserRows(ctx, rows) })
		if name == "an unknown tenant" && !store.IsForeignKey(err) || name != "an unknown tenant" && !store.IsUnique(err) {
			t.Errorf("import of %s: %v", name, err)
		}
	}

	// Update rewrites all but id, tenant, insert and last login instants.
	upd := *carl
	upd.TenantID, upd.InsertInstant, upd.LastLoginInstant = other, 1, &lastLogin
	upd.Email, upd.Username, upd.FullName, upd.Data, upd.LastUpdateInstant = "Carl@example.com", "", "Carl", `{}`, 90
	upd.PasswordHash, upd.PasswordLastUpdateInstant, upd.Active, upd.SecretsSealed = "new-hash", 90, false, "s2"
	mustWrite(t, st, func(s S) error { return s.UpdateUserRow(ctx, &upd) })
	want := upd
	want.TenantID, want.InsertInstant, want.LastLoginInstant = tenant, carl.InsertInstant, nil
	if got, err := read[S](st).UserRowByID(ctx, carl.ID); err != nil || !reflect.DeepEqual(got, stored(&want)) {
		t.Errorf("after update (%v):\n got %+v\nwant %+v", err, got, stored(&want))
	}
	if _, err := read[S](st).UserRowByUsername(ctx, tenant, "kate"); !errors.Is(err, store.ErrNoRows) {
		t.Errorf("the old username still finds the user: %v", err)
	}
	carl = &want
	if err := write(st, func(s S) error { u := *carl; u.Email = "BOB@example.com"; return s.UpdateUserRow(ctx, &u) }); !store.IsUnique(err) {
		t.Errorf("update to a taken email: %v", err)
	}
	for name, change := range map[string]func(s S, id string) error{
		"update":       func(s S, id string) error { u := *carl; u.ID = id; return s.UpdateUserRow(ctx, &u) },
		"set active":   func(s S, id string) error { return s.SetUserActive(ctx, id, true, 1) },
		"set password": func(s S, id string) error { return s.SetUserPasswordHash(ctx, id, "h", false, 1) },
		"delete":       func(s S, id string) error { return s.DeleteUserRow(ctx, id) },
	} {
		if err := write(st, func(s S) error { return change(s, "nope") }); !errors.Is(err, store.ErrNotOne) {
			t.Errorf("%s of an unknown user: %v", name, err)
		}
	}
	mustWrite(t, st, func(s S) error {
		return errors.Join(s.SetUserActive(ctx, bob.ID, true, 100), s.SetUserPasswordHash(ctx, bob.ID, "bob-hash", true, 101))
	})
	got, err := read[S](st).UserRowByID(ctx, bob.ID)
	ok(t, "after set", err)
	if !got.Active || got.PasswordHash != "bob-hash" || !got.PasswordChangeRequired || got.PasswordLastUpdateInstant != 101 ||
		got.LastUpdateInstant != 101 || got.Email != bob.Email || got.FullName != bob.FullName {
		t.Errorf("after set active and password: %+v", got)
	}
	mustWrite(t, st, func(s S) error { return s.SetUserActive(ctx, bob.ID, false, 102) })

	// Registrations: one per user and application, of existing rows.
	verifiedAt := int64(15)
	reg := func(userID, appID string, at int64) *store.RegistrationRow {
		return &store.RegistrationRow{ID: uuid.NewString(), UserID: userID, ApplicationID: appID, Roles: []string{},
			Data: `{"data":{}}`, Verified: true, InsertInstant: at, LastUpdateInstant: at}
	}
	rAnn := reg(ann.ID, app, 10)
	rAnn.Roles, rAnn.VerifiedInstant, rAnn.LastLoginInstant, rAnn.AuthTokenHash = []string{"admin", "user"}, &verifiedAt, &lastLogin, "token-hash"
	rAnnF := reg(ann.ID, f.App, 5)
	rBob := reg(bob.ID, app, 20)
	rBob.Verified = false
	mustWrite(t, st, func(s S) error {
		return errors.Join(s.InsertRegistrationRow(ctx, rAnn), s.InsertRegistrationRows(ctx, []*store.RegistrationRow{rAnnF, rBob}))
	})
	for _, r := range []*store.RegistrationRow{rAnn, rAnnF, rBob} {
		got, err := read[S](st).RegistrationOf(ctx, r.UserID, r.ApplicationID)
		ok(t, "registration", err)
		if !reflect.DeepEqual(got, r) {
			t.Errorf("registration:\n got %+v\nwant %+v", got, r)
		}
	}
	_, err = read[S](st).RegistrationOf(ctx, carl.ID, app)
	noRows(t, "no registration", err)
	for _, c := range []struct {
		name string
		r    *store.RegistrationRow
		is   func(error) bool
	}{
		{"twice to an application", reg(ann.ID, app, 30), store.IsUnique},
		{"same id", func() *store.RegistrationRow { r := reg(carl.ID, app, 30); r.ID = rBob.ID; return r }(), store.IsUnique},
		{"unknown user", reg("nope", app, 30), store.IsForeignKey},
		{"unknown application", reg(carl.ID, "nope", 30), store.IsForeignKey},
	} {
		if err := write(st, func(s S) error { return s.InsertRegistrationRow(ctx, c.r) }); !c.is(err) {
			t.Errorf("registration %s: %v", c.name, err)
		}
		if err := write(st, func(s S) error { return s.InsertRegistrationRows(ctx, []*store.RegistrationRow{c.r}) }); !c.is(err) {
			t.Errorf("registrations %s: %v", c.name, err)
		}
	}
	regIDs := func(rows []*store.RegistrationRow) []string {
		var out []string
		for _, r := range rows {
			out = append(out, r.ID)
		}
		return out
	}
	ofUsers, err := read[S](st).RegistrationsOfUsers(ctx, []string{ann.ID, bob.ID, carl.ID, "nope"})
	ok(t, "registrations of users", err)
	if len(ofUsers) != 2 || !slices.Equal(regIDs(ofUsers[ann.ID]), []string{rAnnF.ID, rAnn.ID}) || !slices.Equal(regIDs(ofUsers[bob.ID]), []string{rBob.ID}) {
		t.Errorf("registrations of users: %v", ofUsers)
	}
	if taken, err := read[S](st).RegistrationIDTaken(ctx, rBob.ID); err != nil || !taken {
		t.Errorf("registration id taken: %v %v", taken, err)
	}
	if taken, err := read[S](st).RegistrationIDTaken(ctx, ann.ID); err != nil || taken {
		t.Errorf("a user id is a registration id: %v %v", taken, err)
	}
	if taken, err := read[S](st).TakenRegistrationIDs(ctx, []string{rAnn.ID, "nope", rBob.ID}); err != nil ||
		!reflect.DeepEqual(taken, map[string]bool{rAnn.ID: true, rBob.ID: true}) {
		t.Errorf("taken registration ids: %v %v", taken, err)
	}
	// Update rewrites roles, data and the token hash only.
	updReg := *rBob
	updReg.Roles, updReg.Data, updReg.AuthTokenHash, updReg.LastUpdateInstant = []string{"viewer"}, `{}`, "t2", 25
	updReg.UserID, updReg.ApplicationID, updReg.Verified, updReg.InsertInstant = ann.ID, f.App, true, 1
	mustWrite(t, st, func(s S) error { return s.UpdateRegistrationRow(ctx, &updReg) })
	wantReg := *rBob
	wantReg.Roles, wantReg.Data, wantReg.AuthTokenHash, wantReg.LastUpdateInstant = []string{"viewer"}, `{}`, "t2", 25
	if got, err := read[S](st).RegistrationOf(ctx, bob.ID, app); err != nil || !reflect.DeepEqual(got, &wantReg) {
		t.Errorf("after update (%v):\n got %+v\nwant %+v", err, got, &wantReg)
	}
	if err := write(st, func(s S) error { r := *rAnn; r.ID = "nope"; return s.UpdateRegistrationRow(ctx, &r) }); !errors.Is(err, store.ErrNotOne) {
		t.Errorf("update an unknown registration: %v", err)
	}
	mustWrite(t, st, func(s S) error { return s.DeleteRegistrationRow(ctx, ann.ID, f.App) })
	if err := write(st, func(s S) error { return s.DeleteRegistrationRow(ctx, ann.ID, f.App) }); !errors.Is(err, store.ErrNotOne) {
		t.Errorf("delete a registration twice: %v", err)
	}
	if rest, _ := read[S](st).RegistrationsOfUsers(ctx, []string{ann.ID}); !slices.Equal(regIDs(rest[ann.ID]), []string{rAnn.ID}) {
		t.Errorf("after deleting a registration: %v", regIDs(rest[ann.ID]))
	}

	// Search: filters, tenants, order, pages, cursors, capped totals.
	emails := func(rows []*store.UserRow) string {
		var out []string
		for _, u := range rows {
			name := u.Email
			if name == "" {
				name = u.Username
			}
			if u.TenantID == other {
				name += "@other"
			}
			out = append(out, name)
		}
		return strings.Join(out, ",")
	}
	yes, no := true, false
	both := []string{tenant, other}
	for _, c := range []struct {
		name  string
		q     store.UserQuery
		want  string
		total int
	}{
		{"all, insert order", store.UserQuery{TenantIDs: both}, "Ann@Example.com,bob@example.com,Carl@example.com,ann@example.com@other", 4},
		{"no tenants", store.UserQuery{TenantIDs: []string{}}, "", 0},
		{"any text field by prefix", store.UserQuery{TenantIDs: []string{tenant},
			Filters: []store.UserFilter{{Fields: store.TextFields, Value: "ANN"}}}, "Ann@Example.com,Carl@example.com", 2},
		{"email prefix in two tenants", store.UserQuery{TenantIDs: both,
			Filters: []store.UserFilter{{Fields: []store.UserField{store.FieldEmail}, Value: "ann"}}}, "Ann@Example.com,ann@example.com@other", 2},
		{"exact last name", store.UserQuery{TenantIDs: both,
			Filters: []store.UserFilter{{Fields: []store.UserField{store.FieldLastName}, Match: store.MatchExact, Value: "Lee"}}}, "Ann@Example.com", 1},
		{"exact is not prefix", store.UserQuery{TenantIDs: both,
			Filters: []store.UserFilter{{Fields: []store.UserField{store.FieldLastName}, Match: store.MatchExact, Value: "Le"}}}, "", 0},
		{"email suffix", store.UserQuery{TenantIDs: []string{tenant},
			Filters: []store.UserFilter{{Fields: []store.UserField{store.FieldEmail}, Match: store.MatchSuffix, Value: "@EXAMPLE.com"}}},
			"Ann@Example.com,bob@example.com,Carl@example.com", 3},
		{"full name contains", store.UserQuery{TenantIDs: both,
			Filters: []store.UserFilter{{Fields: []store.UserField{store.FieldFullName}, Match: store.MatchContains, Value: "n l"}}}, "Ann@Example.com", 1},
		{"a wildcard is a letter", store.UserQuery{TenantIDs: both,
			Filters: []store.UserFilter{{Fields: []store.UserField{store.FieldEmail}, Match: store.MatchContains, Value: "_"}}}, "", 0},
		{"has a username", store.UserQuery{TenantIDs: both,
			Filters: []store.UserFilter{{Fields: []store.UserField{store.FieldUsername}, Match: store.MatchPresent}}},
			"Ann@Example.com,ann@example.com@other", 2},
		{"inactive", store.UserQuery{TenantIDs: both, Filters: []store.UserFilter{{Active: &no}}}, "bob@example.com,Carl@example.com", 2},
		{"verified", store.UserQuery{TenantIDs: both, Filters: []store.UserFilter{{Verified: &yes}}}, "Carl@example.com", 1},
		{"registered", store.UserQuery{Filters: []store.UserFilter{{ApplicationID: app}}}, "Ann@Example.com,bob@example.com", 2},
		{"ids and tenant", store.UserQuery{Filters: []store.UserFilter{{IDs: []string{far.ID, bob.ID, ann.ID}}, {TenantID: tenant}}},
			"Ann@Example.com,bob@example.com", 2},
		{"no ids", store.UserQuery{Filters: []store.UserFilter{{IDs: []string{}}}}, "", 0},
		{"email descending", store.UserQuery{TenantIDs: []string{tenant}, Sort: []store.UserSort{{Field: "email", Descending: true}}},
			"Carl@example.com,bob@example.com,Ann@Example.com", 3},
		{"after a cursor", store.UserQuery{TenantIDs: []string{tenant}, Sort: []store.UserSort{{Field: "email"}},
			After: &store.UserCursor{Key: "ann@example.com", ID: ann.ID}}, "bob@example.com,Carl@example.com", 3},
		{"after an instant", store.UserQuery{TenantIDs: both, After: &store.UserCursor{Key: int64(20), ID: bob.ID}},
			"Carl@example.com,ann@example.com@other", 4},
	} {
		rows, total, err := read[S](st).SearchUsers(ctx, c.q, 0, 10, 0)
		ok(t, c.name, err)
		if emails(rows) != c.want || total != c.total {
			t.Errorf("search %s: %s (total %d), want %s (total %d)", c.name, emails(rows), total, c.want, c.total)
		}
	}
	rows, total, err := read[S](st).SearchUsers(ctx, store.UserQuery{TenantIDs: both}, 1, 2, 0)
	ok(t, "page", err)
	if emails(rows) != "bob@example.com,Carl@example.com" || total != 4 {
		t.Errorf("page 2 of 2: %s (total %d)", emails(rows), total)
	}
	for _, c := range []struct {
		q       store.UserQuery
		cap, n  int
		capName string
	}{
		{store.UserQuery{Filters: []store.UserFilter{{Fields: []store.UserField{store.FieldEmail}, Value: "ann"}}}, 1, 1, "one field"},
		{store.UserQuery{Filters: []store.UserFilter{{Fields: store.TextFields, Value: "ann"}}}, 10, 3, "many fields"},
		{store.UserQuery{TenantIDs: both}, 3, 3, "tenants"},
	} {
		_, total, err := read[S](st).SearchUsers(ctx, c.q, 0, 10, c.cap)
		ok(t, c.capName, err)
		if total != c.n {
			t.Errorf("capped total of %s: %d, want %d", c.capName, total, c.n)
		}
	}
	for name, q := range map[string]store.UserQuery{
		"unknown sort":           {Sort: []store.UserSort{{Field: "data"}}},
		"cursor with two orders": {Sort: []store.UserSort{{Field: "email"}, {Field: "id"}}, After: &store.UserCursor{Key: "a", ID: "b"}},
	} {
		if _, _, err := read[S](st).SearchUsers(ctx, q, 0, 10, 0); err == nil {
			t.Errorf("%s was accepted", name)
		}
	}

	// Password history keeps the newest entries.
	for i, h := range []string{"h1", "h2", "h3"} {
		mustWrite(t, st, func(s S) error { return s.AddPasswordHistory(ctx, ann.ID, h, int64(i), 2) })
	}
	for n, want := range map[int][]string{1: {"h3"}, 5: {"h3", "h2"}} {
		if got, err := read[S](st).PasswordHistory(ctx, ann.ID, n); err != nil || !slices.Equal(got, want) {
			t.Errorf("history of %d: %v %v, want %v", n, got, err, want)
		}
	}
	if err := write(st, func(s S) error { return s.AddPasswordHistory(ctx, "nope", "h", 1, 2) }); !store.IsForeignKey(err) {
		t.Errorf("history of an unknown user: %v", err)
	}

	// Codes: expired ones are swept, across users.
	for i, exp := range []int64{100, 200, 300} {
		mustWrite(t, st, func(s S) error {
			return s.InsertOneTimeCode(ctx, &store.OneTimeCode{Hash: uuid.NewString(), Kind: "k", UserID: []string{ann.ID, bob.ID, ann.ID}[i],
				TenantID: tenant, ExpiresInstant: exp, InsertInstant: 1})
		})
	}
	var swept int64
	mustWrite(t, st, func(s S) (err error) { swept, err = s.DeleteExpiredCodes(ctx, 200); return err })
	if swept != 2 {
		t.Errorf("swept %d codes, want 2", swept)
	}

	// Forgetting failures says whether a lockout held.
	sqlExec(t, st, "INSERT INTO failed_logins (subject, failures, first_instant, locked_until) VALUES ('locked', 3, 1, 500), ('counted', 1, 1, NULL)")
	for _, c := range []struct {
		subject string
		want    bool
	}{{"locked", true}, {"counted", false}, {"nobody", false}} {
		var held bool
		mustWrite(t, st, func(s S) (err error) { held, err = s.ForgetLoginFailures(ctx, c.subject, 400); return err })
		if held != c.want {
			t.Errorf("forget %s: held %v, want %v", c.subject, held, c.want)
		}
		if until, err := read[S](st).LockedUntil(ctx, c.subject, 400); err != nil || until != 0 {
			t.Errorf("%s still locked after forgetting: %d %v", c.subject, until, err)
		}
		var rows int
		if err := st.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM failed_logins WHERE subject = $1", c.subject).Scan(&rows); err != nil || rows != 0 {
			t.Errorf("%s: %d failure rows after forgetting (%v)", c.subject, rows, err)
		}
	}

	// Deleting a user takes its registrations, codes, history and
	// memberships along.
	group := uuid.NewString()
	sqlExec(t, st, "INSERT INTO groups (id, tenant_id, name, name_lower, insert_instant, last_update_instant) VALUES ($1, $2, 'g', 'g', 1, 1)", group, tenant)
	if gs, err := read[S](st).GroupsByIDs(ctx, []string{group, "nope"}); err != nil || len(gs) != 1 || gs[group].Name != "g" {
		t.Errorf("groups by ids: %v %v", gs, err)
	}
	member := &store.GroupMemberRow{ID: uuid.NewString(), GroupID: group, UserID: ann.ID, Data: "{}", InsertInstant: 1}
	code := &store.OneTimeCode{Hash: uuid.NewString(), Kind: "k", UserID: ann.ID, TenantID: tenant, ExpiresInstant: 1000, InsertInstant: 1}
	mustWrite(t, st, func(s S) error { return errors.Join(s.InsertGroupMember(ctx, member), s.InsertOneTimeCode(ctx, code)) })
	if m, err := read[S](st).MemberIDsTaken(ctx, []string{member.ID, "nope"}); err != nil || !reflect.DeepEqual(m, map[string]bool{member.ID: true}) {
		t.Errorf("member ids taken: %v %v", m, err)
	}
	mustWrite(t, st, func(s S) error { return s.DeleteUserRow(ctx, ann.ID) })
	_, err = read[S](st).UserRowByID(ctx, ann.ID)
	noRows(t, "deleted user", err)
	_, err = read[S](st).RegistrationOf(ctx, ann.ID, app)
	noRows(t, "a deleted user's registration", err)
	_, err = read[S](st).OneTimeCodeByHash(ctx, code.Hash, []string{"k"}, 0)
	noRows(t, "a deleted user's code", err)
	if h, _ := read[S](st).PasswordHistory(ctx, ann.ID, 5); len(h) != 0 {
		t.Errorf("a deleted user's history stayed: %v", h)
	}
	if m, _ := read[S](st).MemberIDsTaken(ctx, []string{member.ID}); len(m) != 0 {
		t.Errorf("a deleted user's membership stayed: %v", m)
	}

	// Imitations in other letters: dora's username is "paypal" with
	// Cyrillic р, а, у; ed's email imitates "ann@example.com" until an
	// update gives him his own.
	dora := user(other, "", "\u0440\u0430\u0443\u0440\u0430l", 45)
	ed := user(other, "\u0430nn@example.com", "", 46)
	mustWrite(t, st, func(s S) error { return errors.Join(s.InsertUserRow(ctx, dora), s.InsertUserRow(ctx, ed)) })
	ed.Email = "ed@example.com"
	mustWrite(t, st, func(s S) error { return s.UpdateUserRow(ctx, ed) })
	for _, c := range []struct {
		name, tenant, value, except string
		want                        bool
	}{
		{"the imitated id", other, "PayPal", "", true},
		{"another imitation of the same id", other, "p\u0430ypal", "", true},
		{"an imitation of the user itself", other, "paypal", dora.ID, false},
		{"in another tenant", tenant, "paypal", "", false},
		{"an imitation ended by an update", other, "ann@example.com", "", false},
	} {
		got, err := read[S](st).UserLookalikeTaken(ctx, c.tenant, c.value, c.except)
		ok(t, c.name, err)
		if got != c.want {
			t.Errorf("look-alike %s %q taken = %v, want %v", c.name, c.value, got, c.want)
		}
	}
	imitated, err := read[S](st).TakenLookalikes(ctx, other, []string{"PAYPAL", "kate", "ann@example.com"})
	ok(t, "imitated ids", err)
	if !reflect.DeepEqual(imitated, map[string]bool{"paypal": true}) {
		t.Errorf("imitated ids: %v", imitated)
	}

	// Two transactions creating users with one email, one username, or
	// registering one user to one application: exactly one wins.
	for _, c := range []struct {
		name   string
		insert func(s S, i int) error
	}{
		{"same email", func(s S, i int) error {
			return s.InsertUserRow(ctx, user(tenant, []string{"Race@example.com", "race@EXAMPLE.com", "RACE@example.com"}[i], "", 1))
		}},
		{"same username", func(s S, i int) error {
			return s.InsertUserRow(ctx, user(tenant, "", []string{"racer", "Racer", "RACER"}[i], 1))
		}},
		{"same registration", func(s S, i int) error { return s.InsertRegistrationRow(ctx, reg(carl.ID, app, 1)) }},
		{"same registration, in bulk", func(s S, i int) error {
			return s.InsertRegistrationRows(ctx, []*store.RegistrationRow{reg(carl.ID, f.App, 1)})
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
}

// bareTenant makes a tenant without users or applications.
func bareTenant(t *testing.T, st *store.Store) string {
	t.Helper()
	id := uuid.NewString()
	sqlExec(t, st, "INSERT INTO tenants (id, name, name_lower, data, insert_instant, last_update_instant) VALUES ($1, $1, $1, '{}', 1, 1)", id)
	return id
}

// sqlExec runs a statement outside the interfaces, to make rows a suite
// needs but does not test.
func sqlExec(t *testing.T, st *store.Store, query string, args ...any) {
	t.Helper()
	if _, err := st.DB().ExecContext(context.Background(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}
