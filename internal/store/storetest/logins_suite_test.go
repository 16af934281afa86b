package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/authentication"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/store"
)

// Logins is the contract of the rest of authentication.Storage (codes,
// failures, refresh tokens and user reads have suites of their own): login
// records and last-login instants, written at once or buffered, and the two
// compare-and-set writes of a login, the password rehash and the two-factor
// methods.
func Logins(t *testing.T, st *store.Store) {
	type S = authentication.Storage
	ctx := context.Background()
	f := newFixture(t, st)
	app2 := uuid.NewString()
	sqlExec(t, st, "INSERT INTO applications (id, tenant_id, name, active, data, insert_instant, last_update_instant) VALUES ($1, $2, 'app2', TRUE, '{}', 1, 1)",
		app2, f.Tenant)
	regID := uuid.NewString()
	sqlExec(t, st, "INSERT INTO registrations (id, user_id, application_id, insert_instant, last_update_instant) VALUES ($1, $2, $3, 1, 1)",
		regID, f.User, f.App)
	records := func(user string) string {
		t.Helper()
		rows, err := st.DB().QueryContext(ctx, `SELECT COALESCE(application_id, '-'), ip_address, login_id, instant FROM login_records
			WHERE user_id = $1 ORDER BY instant, id`, user)
		ok(t, "records", err)
		defer rows.Close()
		var out string
		for rows.Next() {
			var app, ip, login string
			var at int64
			ok(t, "record", rows.Scan(&app, &ip, &login, &at))
			if app == f.App {
				app = "app"
			}
			out += fmt.Sprintf("%s/%s/%s@%d;", app, ip, login, at)
		}
		return out
	}
	lastLogins := func(user string) (onUser, onReg int64) {
		t.Helper()
		u, err := read[S](st).UserRowByID(ctx, user)
		ok(t, "user", err)
		if u.LastLoginInstant != nil {
			onUser = *u.LastLoginInstant
		}
		regs, err := read[S](st).RegistrationsOfUsers(ctx, []string{user})
		ok(t, "registrations", err)
		for _, r := range regs[user] {
			if r.ApplicationID == f.App && r.LastLoginInstant != nil {
				onReg = *r.LastLoginInstant
			}
		}
		return onUser, onReg
	}

	// A login written at once: its record and instants, which only move
	// forward.
	mustWrite(t, st, func(s S) error {
		return errors.Join(s.InsertLoginRecord(ctx, &store.LoginRecord{UserID: f.User, ApplicationID: f.App, IPAddress: "10.0.0.1", LoginID: "a@x", Instant: 100}),
			s.InsertLoginRecord(ctx, &store.LoginRecord{UserID: f.User, Instant: 90}))
	})
	if got := records(f.User); got != "-//@90;app/10.0.0.1/a@x@100;" {
		t.Errorf("records: %s", got)
	}
	if err := write(st, func(s S) error { return s.InsertLoginRecord(ctx, &store.LoginRecord{UserID: "nope", Instant: 1}) }); !store.IsForeignKey(err) {
		t.Errorf("a record of an unknown user: %v", err)
	}
	for _, c := range []struct {
		app            string
		at             int64
		wantU, wantReg int64
	}{{f.App, 100, 100, 100}, {"", 120, 120, 100}, {f.App, 110, 120, 110}, {app2, 130, 130, 110}, {f.App, 105, 130, 110}} {
		mustWrite(t, st, func(s S) error { return s.SetLastLogin(ctx, f.User, c.app, c.at) })
		if u, r := lastLogins(f.User); u != c.wantU || r != c.wantReg {
			t.Errorf("after a login at %d to %q: user %d, registration %d, want %d, %d", c.at, c.app, u, r, c.wantU, c.wantReg)
		}
	}
	if err := write(st, func(s S) error { return s.SetLastLogin(ctx, "nope", f.App, 1) }); !errors.Is(err, store.ErrNotOne) {
		t.Errorf("last login of an unknown user: %v", err)
	}

	// Buffered logins: the newest instant per user and registration, only
	// forward; records of users deleted since are dropped.
	mustWrite(t, st, func(s S) error {
		return s.RecordLogins(ctx, []store.LoginRecord{
			{UserID: f.User2, ApplicationID: f.App, Instant: 200}, {UserID: f.User2, Instant: 210, IPAddress: "10.0.0.2"},
			{UserID: f.User, ApplicationID: f.App, Instant: 140}, {UserID: f.User, ApplicationID: f.App, Instant: 125},
			{UserID: "deleted", Instant: 300},
		})
	})
	if u, r := lastLogins(f.User); u != 140 || r != 140 {
		t.Errorf("after buffered logins: user %d, registration %d, want 140, 140", u, r)
	}
	if u, _ := lastLogins(f.User2); u != 210 {
		t.Errorf("after buffered logins of a user without registrations: %d, want 210", u)
	}
	mustWrite(t, st, func(s S) error {
		return s.RecordLogins(ctx, []store.LoginRecord{{UserID: f.User, ApplicationID: f.App, Instant: 50}})
	})
	if u, r := lastLogins(f.User); u != 140 || r != 140 {
		t.Errorf("an older buffered login moved the instants back: user %d, registration %d", u, r)
	}
	if got := records(f.User2); got != "app//@200;-/10.0.0.2/@210;" {
		t.Errorf("buffered records: %s", got)
	}
	if got := records(f.User); got != "app//@50;-//@90;app/10.0.0.1/a@x@100;app//@125;app//@140;" {
		t.Errorf("records after buffered logins: %s", got)
	}
	mustWrite(t, st, func(s S) error { return s.RecordLogins(ctx, nil) })

	// The rehash and the two-factor update change a user only if it is still
	// as read.
	sqlExec(t, st, "UPDATE users SET password_hash = 'pbkdf2', data = '{\"a\":1}' WHERE id = $1", f.User)
	for _, c := range []struct {
		old, new string
		want     bool
	}{{"bcrypt", "argon", false}, {"pbkdf2", "bcrypt", true}, {"pbkdf2", "argon", false}} {
		var replaced bool
		mustWrite(t, st, func(s S) (err error) { replaced, err = s.RehashUserPassword(ctx, f.User, c.old, c.new); return err })
		if replaced != c.want {
			t.Errorf("rehash %s → %s: %v, want %v", c.old, c.new, replaced, c.want)
		}
	}
	if u, _ := read[S](st).UserRowByID(ctx, f.User); u == nil || u.PasswordHash != "bcrypt" {
		t.Errorf("after rehash: %+v", u)
	}
	for _, c := range []struct {
		oldData, oldSealed, data, sealed string
		want                             bool
	}{
		{`{"a":2}`, "", `{"b":1}`, "s1", false},
		{`{"a":1}`, "x", `{"b":1}`, "s1", false},
		{`{"a":1}`, "", `{"b":1}`, "s1", true},
		{`{"b":1}`, "", `{"c":1}`, "", false},
		{`{"b":1}`, "s1", `{"c":1}`, "", true},
	} {
		var changed bool
		mustWrite(t, st, func(s S) (err error) {
			changed, err = s.UpdateUserTwoFactor(ctx, f.User, c.oldData, c.oldSealed, c.data, c.sealed, 500)
			return err
		})
		if changed != c.want {
			t.Errorf("two-factor %s/%s → %s/%s: %v, want %v", c.oldData, c.oldSealed, c.data, c.sealed, changed, c.want)
		}
	}
	if u, _ := read[S](st).UserRowByID(ctx, f.User); u == nil || u.Data != `{"c":1}` || u.SecretsSealed != "" || u.LastUpdateInstant != 500 {
		t.Errorf("after two-factor updates: %+v", u)
	}

	// Logins racing to rehash, or to change two-factor methods, from the same
	// read: exactly one write lands.
	oneWinner(t, "rehash", race(st, 3, func(i int, g *gate, s S) error {
		g.wait()
		replaced, err := s.RehashUserPassword(ctx, f.User, "bcrypt", fmt.Sprintf("argon-%d", i))
		if err == nil && !replaced {
			return errLost
		}
		return err
	}))
	oneWinner(t, "two-factor", race(st, 3, func(i int, g *gate, s S) error {
		g.wait()
		changed, err := s.UpdateUserTwoFactor(ctx, f.User, `{"c":1}`, "", fmt.Sprintf(`{"d":%d}`, i), "s", 600)
		if err == nil && !changed {
			return errLost
		}
		return err
	}))
	// Logins racing to move the last-login instant: the newest stays.
	for _, err := range race(st, 4, func(i int, g *gate, s S) error {
		g.wait()
		return s.SetLastLogin(ctx, f.User, f.App, int64(1000+[]int{3, 1, 4, 2}[i]))
	}) {
		ok(t, "racing last login", err)
	}
	if u, r := lastLogins(f.User); u != 1004 || r != 1004 {
		t.Errorf("after racing logins: user %d, registration %d, want 1004", u, r)
	}
}

// Kit is the contract of kit.Storage: the readers of user rows the domains
// share, of which GroupRoleNames has no other suite.
func Kit(t *testing.T, st *store.Store) {
	type S = kit.Storage
	ctx := context.Background()
	f, other := newFixture(t, st), newFixture(t, st)
	role := func(app, name string) string {
		id := uuid.NewString()
		sqlExec(t, st, "INSERT INTO application_roles (id, application_id, name, insert_instant, last_update_instant) VALUES ($1, $2, $3, 1, 1)",
			id, app, name)
		return id
	}
	group := func(tenant string, roles ...string) string {
		id := uuid.NewString()
		sqlExec(t, st, "INSERT INTO groups (id, tenant_id, name, name_lower, insert_instant, last_update_instant) VALUES ($1, $2, $1, $1, 1, 1)", id, tenant)
		for _, r := range roles {
			sqlExec(t, st, "INSERT INTO group_roles (group_id, role_id) VALUES ($1, $2)", id, r)
		}
		return id
	}
	member := func(g, user string) {
		sqlExec(t, st, "INSERT INTO group_members (id, group_id, user_id, insert_instant) VALUES ($1, $2, $3, 1)", uuid.NewString(), g, user)
	}
	admin, viewer, far := role(f.App, "admin"), role(f.App, "viewer"), role(other.App, "admin")
	role(f.App, "editor") // no group grants it
	g1, g2, g3 := group(f.Tenant, viewer, admin), group(f.Tenant, admin), group(other.Tenant, far)
	member(g1, f.User)
	member(g2, f.User)
	member(g3, other.User)
	member(g2, f.User2)
	for _, c := range []struct {
		user, app string
		want      []string
	}{
		{f.User, f.App, []string{"admin", "viewer"}}, // sorted, once though two groups grant admin
		{f.User2, f.App, []string{"admin"}},
		{f.User, other.App, nil},
		{other.User, other.App, []string{"admin"}},
		{"nope", f.App, nil},
	} {
		got, err := read[S](st).GroupRoleNames(ctx, c.user, c.app)
		ok(t, "group role names", err)
		if !slices.Equal(got, c.want) {
			t.Errorf("group roles of %s on %s: %v, want %v", c.user, c.app, got, c.want)
		}
	}
	// A role deleted from its application leaves the groups.
	sqlExec(t, st, "DELETE FROM application_roles WHERE id = $1", viewer)
	if got, _ := read[S](st).GroupRoleNames(ctx, f.User, f.App); !slices.Equal(got, []string{"admin"}) {
		t.Errorf("after deleting a role: %v", got)
	}
	regID := uuid.NewString()
	sqlExec(t, st, `INSERT INTO registrations (id, user_id, application_id, roles, insert_instant, last_update_instant) VALUES ($1, $2, $3, '["editor"]', 1, 2)`,
		regID, f.User, f.App)
	if r, err := read[S](st).RegistrationOf(ctx, f.User, f.App); err != nil || r.ID != regID || !slices.Equal(r.Roles, []string{"editor"}) || r.LastUpdateInstant != 2 {
		t.Errorf("registration: %+v %v", r, err)
	}
	_, err := read[S](st).RegistrationOf(ctx, f.User2, f.App)
	noRows(t, "no registration", err)
	if u, err := read[S](st).UserRowByID(ctx, f.User2); err != nil || u.TenantID != f.Tenant || u.Email != f.User2+"@example.com" {
		t.Errorf("user: %+v %v", u, err)
	}
	_, err = read[S](st).UserRowByID(ctx, "nope")
	noRows(t, "unknown user", err)
}
