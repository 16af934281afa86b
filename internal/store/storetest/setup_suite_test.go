package storetest

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/access"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// Setup is the contract of the rest of access.Storage (its API key and IP
// ACL parts have suites of their own): setup tokens, the setup wizard's and
// break-glass recovery's user writes, kickstart runs with their lease and
// steps, and moving a tenant to a new id.
func Setup(t *testing.T, st *store.Store) {
	type S = access.Storage
	ctx := context.Background()
	const now = int64(1_000_000)
	counts := func() (tenants, users int) {
		t.Helper()
		tenants, err := read[S](st).CountTenants(ctx)
		ok(t, "count tenants", err)
		users, err = read[S](st).CountUsers(ctx)
		ok(t, "count users", err)
		return tenants, users
	}
	tenants0, users0 := counts()

	// Setup tokens: unexpired ones exist until setup is over.
	mustWrite(t, st, func(s S) error {
		return errors.Join(s.InsertSetupToken(ctx, "hash-1", now, now+100), s.InsertSetupToken(ctx, "hash-2", now, now+50))
	})
	for _, c := range []struct {
		hash string
		at   int64
		want bool
	}{{"hash-1", now, true}, {"hash-1", now + 99, true}, {"hash-1", now + 100, false}, {"hash-2", now + 60, false}, {"nope", now, false}} {
		if exists, err := read[S](st).SetupTokenExists(ctx, c.hash, c.at); err != nil || exists != c.want {
			t.Errorf("setup token %s at %d: %v %v, want %v", c.hash, c.at, exists, err, c.want)
		}
	}
	if err := write(st, func(s S) error { return s.InsertSetupToken(ctx, "hash-1", now, now+1) }); !store.IsUnique(err) {
		t.Errorf("a setup token twice: %v", err)
	}
	mustWrite(t, st, func(s S) error { return s.DeleteSetupTokens(ctx) })
	if exists, err := read[S](st).SetupTokenExists(ctx, "hash-1", now); err != nil || exists {
		t.Errorf("a setup token after setup: %v %v", exists, err)
	}

	// The wizard's and recovery's users and registrations.
	f := newFixture(t, st)
	if tenants, users := counts(); tenants != tenants0+1 || users != users0+2 {
		t.Errorf("counts: %d tenants, %d users, want %d, %d", tenants, users, tenants0+1, users0+2)
	}
	admin := &model.UserRecord{ID: uuid.NewString(), TenantID: f.Tenant, Email: "Admin@Example.com", Username: "admin", FullName: "Ad Min",
		Active: true, Verified: true, InsertInstant: now, LastUpdateInstant: now, PasswordLastUpdateInstant: now}
	mustWrite(t, st, func(s S) error { return s.InsertUser(ctx, admin, "admin-hash") })
	got, hash, err := read[S](st).UserByEmail(ctx, f.Tenant, "admin@EXAMPLE.com")
	ok(t, "user by email", err)
	if !reflect.DeepEqual(got, admin) || hash != "admin-hash" {
		t.Errorf("user by email:\n got %+v %q\nwant %+v", got, hash, admin)
	}
	other := bareTenant(t, st)
	for what, tenant := range map[string]string{"unknown email": f.Tenant, "another tenant": other} {
		email := map[string]string{"unknown email": "nobody@example.com", "another tenant": admin.Email}[what]
		_, _, err := read[S](st).UserByEmail(ctx, tenant, email)
		noRows(t, what, err)
	}
	for _, c := range []struct {
		name string
		u    model.UserRecord
		is   func(error) bool
	}{
		{"same email in other case", model.UserRecord{ID: uuid.NewString(), TenantID: f.Tenant, Email: "ADMIN@example.com"}, store.IsUnique},
		{"same username", model.UserRecord{ID: uuid.NewString(), TenantID: f.Tenant, Username: "Admin"}, store.IsUnique},
		{"unknown tenant", model.UserRecord{ID: uuid.NewString(), TenantID: "nope", Email: "x@example.com"}, store.IsForeignKey},
	} {
		if err := write(st, func(s S) error { return s.InsertUser(ctx, &c.u, "") }); !c.is(err) {
			t.Errorf("user with %s: %v", c.name, err)
		}
	}
	// Recovery sets a password and reactivates.
	sqlExec(t, st, "UPDATE users SET active = FALSE WHERE id = $1", admin.ID)
	mustWrite(t, st, func(s S) error { return s.SetUserPassword(ctx, admin.ID, "new-hash", true, now+5) })
	got, hash, err = read[S](st).UserByEmail(ctx, f.Tenant, admin.Email)
	ok(t, "after set password", err)
	if !got.Active || !got.PasswordChangeRequired || hash != "new-hash" || got.PasswordLastUpdateInstant != now+5 || got.LastUpdateInstant != now+5 {
		t.Errorf("after set password: %+v %q", got, hash)
	}
	if err := write(st, func(s S) error { return s.SetUserPassword(ctx, "nope", "h", false, now) }); !errors.Is(err, store.ErrNotOne) {
		t.Errorf("password of an unknown user: %v", err)
	}
	reg := &model.UserRegistration{ID: uuid.NewString(), UserID: admin.ID, ApplicationID: f.App, InsertInstant: now, LastUpdateInstant: now}
	mustWrite(t, st, func(s S) error { return s.InsertRegistration(ctx, reg) })
	roles := func(user, app string) ([]string, bool) {
		t.Helper()
		roles, found, err := read[S](st).RegistrationRoles(ctx, user, app)
		ok(t, "registration roles", err)
		return roles, found
	}
	if r, found := roles(admin.ID, f.App); !found || r == nil || len(r) != 0 {
		t.Errorf("roles of a registration without: %v %v", r, found)
	}
	if r, found := roles(f.User, f.App); found || r != nil {
		t.Errorf("roles without a registration: %v %v", r, found)
	}
	for _, c := range []struct {
		name string
		r    model.UserRegistration
		is   func(error) bool
	}{
		{"twice", model.UserRegistration{ID: uuid.NewString(), UserID: admin.ID, ApplicationID: f.App}, store.IsUnique},
		{"unknown application", model.UserRegistration{ID: uuid.NewString(), UserID: admin.ID, ApplicationID: "nope"}, store.IsForeignKey},
		{"unknown user", model.UserRegistration{ID: uuid.NewString(), UserID: "nope", ApplicationID: f.App}, store.IsForeignKey},
	} {
		if err := write(st, func(s S) error { return s.InsertRegistration(ctx, &c.r) }); !c.is(err) {
			t.Errorf("registration %s: %v", c.name, err)
		}
	}
	mustWrite(t, st, func(s S) error {
		return s.SetRegistrationRoles(ctx, admin.ID, f.App, []string{"admin", "viewer"}, now+9)
	})
	if r, found := roles(admin.ID, f.App); !found || !slices.Equal(r, []string{"admin", "viewer"}) {
		t.Errorf("roles after set: %v %v", r, found)
	}
	if err := write(st, func(s S) error { return s.SetRegistrationRoles(ctx, f.User, f.App, []string{"x"}, now) }); !errors.Is(err, store.ErrNotOne) {
		t.Errorf("roles of no registration: %v", err)
	}

	// Kickstart: one run per instance; of starters racing, one inserts it.
	_, err = read[S](st).KickstartRun(ctx)
	noRows(t, "no kickstart run", err)
	runs := make([]*store.KickstartRunRow, 3)
	for i := range runs {
		runs[i] = &store.KickstartRunRow{ID: uuid.NewString(), File: "kickstart.json", KeysHash: "keys", Total: 3,
			Status: store.KickstartRunning, LeaseOwner: []string{"a", "b", "c"}[i], LeaseUntil: now + 100, InsertInstant: now, LastUpdateInstant: now}
	}
	errs := race(st, 3, func(i int, g *gate, s S) error {
		g.wait()
		err := s.InsertKickstartRun(ctx, runs[i])
		if store.IsUnique(err) {
			return errLost
		}
		return err
	})
	oneWinner(t, "start a kickstart", errs)
	run := runs[slices.Index(errs, nil)]
	run.Generated = map[string]string{}
	if got, err := read[S](st).KickstartRun(ctx); err != nil || !reflect.DeepEqual(got, run) {
		t.Errorf("kickstart run:\n got %+v\nwant %+v (%v)", got, run, err)
	}
	owner := run.LeaseOwner
	for _, c := range []struct {
		owner      string
		now, until int64
		want       bool
	}{
		{"z", now + 50, now + 200, false},    // held by another
		{owner, now + 50, now + 150, true},   // renewed by its owner
		{"z", now + 150, now + 300, true},    // taken after it lapsed
		{owner, now + 160, now + 300, false}, // and then lost
		{"z", now + 160, now + 400, true},    // renewed
		{"y", now + 400, now + 500, true},    // lapsed again
		{"z", now + 10_000, now + 1, true},   // lapsed again
		{"x", now + 10_000, now + 20_000, true},
	} {
		var claimed bool
		mustWrite(t, st, func(s S) (err error) {
			claimed, err = s.ClaimKickstartRun(ctx, run.ID, c.owner, c.now, c.until)
			return err
		})
		if claimed != c.want {
			t.Errorf("claim by %s at %d: %v, want %v", c.owner, c.now, claimed, c.want)
		}
	}
	if err := write(st, func(s S) error { r := *run; r.NextIndex = 1; return s.UpdateKickstartRun(ctx, &r, "z") }); !errors.Is(err, store.ErrNotOne) {
		t.Errorf("update without the lease: %v", err)
	}
	// Of nodes claiming a lapsed lease at once, one gets it.
	lapsed := now + 30_000
	oneWinner(t, "claim a lapsed lease", race(st, 3, func(i int, g *gate, s S) error {
		g.wait()
		claimed, err := s.ClaimKickstartRun(ctx, run.ID, []string{"p", "q", "r"}[i], lapsed, lapsed+1000)
		if err == nil && !claimed {
			return errLost
		}
		return err
	}))
	cur, err := read[S](st).KickstartRun(ctx)
	ok(t, "run after the race", err)
	holder := cur.LeaseOwner
	if !slices.Contains([]string{"p", "q", "r"}, holder) || cur.LeaseUntil != lapsed+1000 {
		t.Fatalf("lease after the race: %q until %d", holder, cur.LeaseUntil)
	}
	done := now + 40_000
	upd := *cur
	upd.Generated, upd.NextIndex, upd.Status, upd.Error, upd.LastUpdateInstant = map[string]string{"#1": "id-1"}, 3, store.KickstartCompleted, "", done
	upd.LeaseOwner, upd.LeaseUntil, upd.CompletedInstant, upd.File, upd.Total = "", 0, &done, "changed.json", 4
	mustWrite(t, st, func(s S) error { return s.UpdateKickstartRun(ctx, &upd, holder) })
	upd.File = cur.File
	if got, err := read[S](st).KickstartRun(ctx); err != nil || !reflect.DeepEqual(got, &upd) {
		t.Errorf("after update:\n got %+v\nwant %+v (%v)", got, &upd, err)
	}
	var claimed bool
	mustWrite(t, st, func(s S) (err error) { claimed, err = s.ClaimKickstartRun(ctx, run.ID, "", done+1, done+2); return err })
	if claimed {
		t.Error("a completed run was claimed")
	}
	steps := []*store.KickstartStepRow{
		{Index: 1, Hash: "h1", Method: "POST", URL: "/api/user", StatusCode: 200, CompletedInstant: now + 2},
		{Index: 0, Hash: "h0", Method: "POST", URL: "/api/tenant", StatusCode: 200, CompletedInstant: now + 1},
	}
	mustWrite(t, st, func(s S) error {
		return errors.Join(s.InsertKickstartStep(ctx, run.ID, steps[0]), s.InsertKickstartStep(ctx, run.ID, steps[1]))
	})
	for _, c := range []struct {
		name, run string
		is        func(error) bool
	}{{"twice", run.ID, store.IsUnique}, {"of an unknown run", "nope", store.IsForeignKey}} {
		if err := write(st, func(s S) error { return s.InsertKickstartStep(ctx, c.run, steps[0]) }); !c.is(err) {
			t.Errorf("step %s: %v", c.name, err)
		}
	}
	if got, err := read[S](st).KickstartSteps(ctx, run.ID); err != nil || !reflect.DeepEqual(got, []*store.KickstartStepRow{steps[1], steps[0]}) {
		t.Errorf("steps: %+v %v", got, err)
	}
	if got, err := read[S](st).KickstartSteps(ctx, "nope"); err != nil || len(got) != 0 {
		t.Errorf("steps of an unknown run: %+v %v", got, err)
	}

	// A tenant moves to a new id with everything that refers to it.
	code := &store.OneTimeCode{Hash: uuid.NewString(), Kind: "k", UserID: f.User, TenantID: f.Tenant, ExpiresInstant: now + 1000, InsertInstant: now}
	sqlExec(t, st, "INSERT INTO one_time_codes (code_hash, kind, user_id, tenant_id, expires_instant, insert_instant) VALUES ($1, 'k', $2, $3, $4, 1)",
		code.Hash, f.User, f.Tenant, code.ExpiresInstant)
	sqlExec(t, st, "UPDATE tenants SET secrets_sealed = 'old-seal', data = '{\"d\":1}' WHERE id = $1", f.Tenant)
	before, err := read[S](st).TenantByID(ctx, f.Tenant)
	ok(t, "tenant before", err)
	moved := uuid.NewString()
	mustWrite(t, st, func(s S) error { return s.ChangeTenantID(ctx, f.Tenant, moved, "new-seal", now+50) })
	if exists, _ := read[S](st).TenantExists(ctx, f.Tenant); exists {
		t.Error("the old tenant id stayed")
	}
	after, err := read[S](st).TenantByID(ctx, moved)
	ok(t, "moved tenant", err)
	want := *before
	want.ID, want.SecretsSealed, want.LastUpdateInstant = moved, "new-seal", now+50
	if !reflect.DeepEqual(after, &want) {
		t.Errorf("moved tenant:\n got %+v\nwant %+v", after, &want)
	}
	if u, _, err := read[S](st).UserByEmail(ctx, moved, admin.Email); err != nil || u.TenantID != moved || u.ID != admin.ID {
		t.Errorf("a user of the moved tenant: %+v %v", u, err)
	}
	if tid, err := read[S](st).ApplicationTenantID(ctx, f.App); err != nil || tid != moved {
		t.Errorf("an application of the moved tenant: %q %v", tid, err)
	}
	var codeTenant string
	if err := st.DB().QueryRowContext(ctx, "SELECT tenant_id FROM one_time_codes WHERE code_hash = $1", code.Hash).Scan(&codeTenant); err != nil || codeTenant != moved {
		t.Errorf("a code of the moved tenant: %q %v", codeTenant, err)
	}
	if r, found := roles(admin.ID, f.App); !found || !slices.Equal(r, []string{"admin", "viewer"}) {
		t.Errorf("a registration in the moved tenant: %v %v", r, found)
	}
	if tenants, users := counts(); tenants != tenants0+2 || users != users0+3 {
		t.Errorf("counts after the move: %d tenants, %d users", tenants, users)
	}
	if err := write(st, func(s S) error { return s.ChangeTenantID(ctx, "nope", uuid.NewString(), "", now) }); !errors.Is(err, store.ErrNoRows) {
		t.Errorf("move an unknown tenant: %v", err)
	}
	if err := write(st, func(s S) error { return s.ChangeTenantID(ctx, moved, other, "", now) }); !store.IsUnique(err) {
		t.Errorf("move onto a taken id: %v", err)
	}
}
