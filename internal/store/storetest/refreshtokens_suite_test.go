package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/tokens"
)

// RefreshTokens is the contract of tokens.Storage: its RefreshTokenStorage
// and the user and application reads beside it.
func RefreshTokens(t *testing.T, st *store.Store) {
	type S = tokens.RefreshTokenStorage
	ctx := context.Background()
	f := newFixture(t, st)
	const now = int64(1_000_000)
	token := func(user string, expires int64) *store.RefreshTokenRow {
		id := uuid.NewString()
		return &store.RefreshTokenRow{ID: id, TokenHash: "hash-" + id, FamilyID: "family-" + id, UserID: user,
			ApplicationID: f.App, TenantID: f.Tenant, AuthInstant: now - 10, StartInstant: now - 10,
			ExpiresInstant: expires, InsertInstant: now - 10}
	}

	// Insert, read back by hash and id; unknown ones are ErrNoRows.
	a := token(f.User, now+1000)
	a.Data = `{"device":"phone"}`
	mustWrite(t, st, func(s S) error { return s.InsertRefreshToken(ctx, a) })
	for what, get := range map[string]func() (*store.RefreshTokenRow, error){
		"by hash": func() (*store.RefreshTokenRow, error) { return read[S](st).RefreshTokenByHash(ctx, a.TokenHash) },
		"by id":   func() (*store.RefreshTokenRow, error) { return read[S](st).RefreshTokenByID(ctx, a.ID) },
	} {
		got, err := get()
		ok(t, what, err)
		if got.ID != a.ID || got.FamilyID != a.FamilyID || got.Data != a.Data || got.ExpiresInstant != a.ExpiresInstant ||
			got.Revoked || got.RotatedInstant != nil || got.SuccessorID != "" {
			t.Errorf("%s: got %+v, want %+v", what, got, a)
		}
	}
	_, err := read[S](st).RefreshTokenByHash(ctx, "nope")
	noRows(t, "unknown hash", err)
	_, err = read[S](st).RefreshTokenByID(ctx, "nope")
	noRows(t, "unknown id", err)

	// Unique hash and id; the user and application must exist.
	for _, c := range []struct {
		name string
		row  func() *store.RefreshTokenRow
		is   func(error) bool
	}{
		{"same hash", func() *store.RefreshTokenRow { r := token(f.User, now+1); r.TokenHash = a.TokenHash; return r }, store.IsUnique},
		{"same id", func() *store.RefreshTokenRow { r := token(f.User, now+1); r.ID = a.ID; return r }, store.IsUnique},
		{"unknown user", func() *store.RefreshTokenRow { return token("nope", now+1) }, store.IsForeignKey},
		{"unknown application", func() *store.RefreshTokenRow { r := token(f.User, now+1); r.ApplicationID = "nope"; return r }, store.IsForeignKey},
	} {
		if err := write(st, func(s S) error { return s.InsertRefreshToken(ctx, c.row()) }); !c.is(err) {
			t.Errorf("%s: %v", c.name, err)
		}
	}

	// Use moves the window of a usable token; an expired one is not usable.
	var used *store.RefreshTokenRow
	mustWrite(t, st, func(s S) (err error) {
		used, err = s.UseRefreshToken(ctx, a.TokenHash, now, now, now+2000, "10.0.0.1")
		return err
	})
	if used.StartInstant != now || used.ExpiresInstant != now+2000 || used.LastAccessedAddress != "10.0.0.1" ||
		used.LastAccessedInstant == nil || *used.LastAccessedInstant != now {
		t.Errorf("used: %+v", used)
	}
	err = write(st, func(s S) error {
		_, err := s.UseRefreshToken(ctx, a.TokenHash, now+2000, now, now+3000, "")
		return err
	})
	noRows(t, "use at expiry", err)

	// Rotation happens once and names the successor.
	b := token(f.User, now+1000)
	mustWrite(t, st, func(s S) error { return s.InsertRefreshToken(ctx, b) })
	mustWrite(t, st, func(s S) error {
		r, err := s.RotateRefreshToken(ctx, b.TokenHash, now, "10.0.0.2", "successor-1")
		if err == nil && (r.RotatedInstant == nil || *r.RotatedInstant != now || r.SuccessorID != "successor-1") {
			t.Errorf("rotated: %+v", r)
		}
		return err
	})
	for what, try := range map[string]func(s S) error{
		"rotate twice": func(s S) error {
			_, err := s.RotateRefreshToken(ctx, b.TokenHash, now+1, "", "successor-2")
			return err
		},
		"use a rotated token": func(s S) error {
			_, err := s.UseRefreshToken(ctx, b.TokenHash, now+1, now, now+1000, "")
			return err
		},
	} {
		noRows(t, what, write(st, try))
	}

	// Listing shows the usable tokens of the filter, oldest first.
	c := token(f.User2, now+1000)
	c.InsertInstant = now
	d := token(f.User2, now+5) // expires soon
	d.InsertInstant = now + 1
	mustWrite(t, st, func(s S) error {
		return errors.Join(s.InsertRefreshToken(ctx, c), s.InsertRefreshToken(ctx, d))
	})
	ids := func(rows []*store.RefreshTokenRow) []string {
		var out []string
		for _, r := range rows {
			out = append(out, r.ID)
		}
		return out
	}
	for _, lc := range []struct {
		name string
		f    store.RefreshTokenFilter
		at   int64
		want []string
	}{
		{"user", store.RefreshTokenFilter{UserID: f.User2}, now, []string{c.ID, d.ID}},
		{"user after an expiry", store.RefreshTokenFilter{UserID: f.User2}, now + 5, []string{c.ID}},
		{"rotated and expired left out", store.RefreshTokenFilter{UserID: f.User}, now + 2000, nil},
		{"user's tenant", store.RefreshTokenFilter{UserID: f.User2, TenantIDs: []string{f.Tenant}}, now, []string{c.ID, d.ID}},
		{"other tenant", store.RefreshTokenFilter{UserID: f.User2, TenantIDs: []string{"other"}}, now, nil},
		{"no tenant visible", store.RefreshTokenFilter{UserID: f.User2, TenantIDs: []string{}}, now, nil},
		{"by id", store.RefreshTokenFilter{ID: d.ID}, now, []string{d.ID}},
		{"by family", store.RefreshTokenFilter{FamilyID: c.FamilyID}, now, []string{c.ID}},
		{"by application", store.RefreshTokenFilter{ApplicationID: f.App, UserID: f.User2}, now, []string{c.ID, d.ID}},
	} {
		got, err := read[S](st).ActiveRefreshTokens(ctx, lc.f, lc.at)
		ok(t, lc.name, err)
		if !slices.Equal(ids(got), lc.want) {
			t.Errorf("active %s: %v, want %v", lc.name, ids(got), lc.want)
		}
	}

	// Revocation returns what it revoked, once; a revoked token is not usable.
	if err := write(st, func(s S) error { _, err := s.RevokeRefreshTokens(ctx, store.RefreshTokenFilter{}); return err }); err == nil {
		t.Error("a revocation without a selector went through")
	}
	if err := write(st, func(s S) error {
		_, err := s.RevokeRefreshTokens(ctx, store.RefreshTokenFilter{TenantIDs: []string{f.Tenant}})
		return err
	}); err == nil {
		t.Error("a revocation of a whole tenant went through")
	}
	for _, want := range [][]string{{c.ID}, nil} {
		var got []*store.RefreshTokenRow
		mustWrite(t, st, func(s S) (err error) {
			got, err = s.RevokeRefreshTokens(ctx, store.RefreshTokenFilter{TokenHash: c.TokenHash})
			return err
		})
		if !slices.Equal(ids(got), want) || (len(got) == 1 && !got[0].Revoked) {
			t.Errorf("revoke: %v, want %v", ids(got), want)
		}
	}
	noRows(t, "use a revoked token", write(st, func(s S) error {
		_, err := s.UseRefreshToken(ctx, c.TokenHash, now, now, now+1000, "")
		return err
	}))
	noRows(t, "rotate a revoked token", write(st, func(s S) error {
		_, err := s.RotateRefreshToken(ctx, c.TokenHash, now, "", "x")
		return err
	}))

	// Expired tokens of a user go; others stay.
	mustWrite(t, st, func(s S) error { return s.DeleteExpiredRefreshTokens(ctx, f.User2, now+5) })
	_, err = read[S](st).RefreshTokenByID(ctx, d.ID)
	noRows(t, "expired token after delete", err)
	_, err = read[S](st).RefreshTokenByID(ctx, c.ID)
	ok(t, "unexpired token after delete", err)

	// Cut-offs: per application or for all (""), the latest one counts, and
	// they only move forward.
	for _, step := range []struct {
		app  string
		at   int64
		want int64
	}{
		{"", 0, 0}, // none yet: read only
		{f.App, 100, 100},
		{f.App, 50, 100}, // never back
		{"", 150, 150},   // all applications
		{f.App, 200, 200},
	} {
		if step.at != 0 {
			mustWrite(t, st, func(s S) error { return s.SetTokenCutoff(ctx, f.User, step.app, step.at) })
		}
		got, err := read[S](st).TokenCutoff(ctx, f.User, f.App)
		ok(t, "cutoff", err)
		if got != step.want {
			t.Errorf("cutoff after %s@%d = %d, want %d", step.app, step.at, got, step.want)
		}
	}
	if got, err := read[S](st).TokenCutoff(ctx, f.User, "other-app"); err != nil || got != 150 {
		t.Errorf("cutoff of another application = %d, %v; want 150 (the all-applications one)", got, err)
	}

	// The sweep deletes expired rows in batches of at most limit a table.
	for range 3 {
		mustWrite(t, st, func(s S) error { return s.InsertRefreshToken(ctx, token(f.User2, 7)) })
	}
	var swept int64
	mustWrite(t, st, func(s S) (err error) { swept, err = s.SweepExpired(ctx, 8, 2); return err })
	if swept < 2 {
		t.Errorf("sweep removed %d rows, want at least 2", swept)
	}
	mustWrite(t, st, func(s S) (err error) { swept, err = s.SweepExpired(ctx, 8, 1000); return err })
	mustWrite(t, st, func(s S) (err error) { swept, err = s.SweepExpired(ctx, 8, 1000); return err })
	if swept != 0 {
		t.Errorf("a second full sweep removed %d rows", swept)
	}
	_, err = read[S](st).RefreshTokenByID(ctx, c.ID)
	ok(t, "unexpired token after sweep", err)

	// What tokens reads of users and applications beside its tokens.
	whole := read[tokens.Storage](st)
	if tenant, err := whole.ApplicationTenantID(ctx, f.App); err != nil || tenant != f.Tenant {
		t.Errorf("application tenant = %q, %v", tenant, err)
	}
	_, err = whole.ApplicationTenantID(ctx, "nope")
	noRows(t, "tenant of an unknown application", err)
	if u, err := whole.UserRowByID(ctx, f.User); err != nil || u.ID != f.User || u.TenantID != f.Tenant {
		t.Errorf("user row = %+v, %v", u, err)
	}
	_, err = whole.UserRowByID(ctx, "nope")
	noRows(t, "unknown user row", err)
	if _, err := st.DB().ExecContext(ctx, "UPDATE users SET active = FALSE WHERE id = $1", f.User2); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		id             string
		exists, active bool
	}{{f.User, true, true}, {f.User2, true, false}, {"nope", false, false}} {
		exists, active, err := whole.UserActiveByID(ctx, c.id)
		if err != nil || exists != c.exists || active != c.active {
			t.Errorf("user %s: exists %v active %v (%v), want %v %v", c.id, exists, active, err, c.exists, c.active)
		}
	}

	// The applications of a user's tokens not yet revoked, once each; a
	// revocation of some applications, or of all but some, takes only those.
	u3, apps := uuid.NewString(), []string{f.App, uuid.NewString(), uuid.NewString()}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{"INSERT INTO applications (id, tenant_id, name, active, data, insert_instant, last_update_instant) VALUES ($1, $2, 'app 2', TRUE, '{}', 1, 1)", []any{apps[1], f.Tenant}},
		{"INSERT INTO applications (id, tenant_id, name, active, data, insert_instant, last_update_instant) VALUES ($1, $2, 'app 3', TRUE, '{}', 1, 1)", []any{apps[2], f.Tenant}},
		{"INSERT INTO users (id, tenant_id, email, email_lower, insert_instant, last_update_instant) VALUES ($1, $2, $3, $3, 1, 1)", []any{u3, f.Tenant, u3 + "@example.com"}},
	} {
		if _, err := st.DB().ExecContext(ctx, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	byApp := map[string][]string{}
	for _, app := range []string{apps[0], apps[1], apps[1], apps[2], apps[2]} {
		r := token(u3, now+1000)
		r.ApplicationID = app
		mustWrite(t, st, func(s S) error { return s.InsertRefreshToken(ctx, r) })
		byApp[app] = append(byApp[app], r.ID)
	}
	mustWrite(t, st, func(s S) error { return s.InsertRefreshToken(ctx, token(f.User, now+1000)) }) // another user's
	sorted := slices.Sorted(slices.Values(apps))
	for _, step := range []struct {
		name    string
		f       store.RefreshTokenFilter
		revoked []string
		left    []string // the applications still listed after
	}{
		{"none of an empty list", store.RefreshTokenFilter{UserID: u3, ApplicationIDs: []string{}}, nil, sorted},
		{"one application", store.RefreshTokenFilter{UserID: u3, ApplicationIDs: []string{apps[1]}}, byApp[apps[1]],
			slices.DeleteFunc(slices.Clone(sorted), func(a string) bool { return a == apps[1] })},
		{"all but one", store.RefreshTokenFilter{UserID: u3, ExcludeApplicationIDs: []string{apps[2]}}, byApp[apps[0]], []string{apps[2]}},
		{"all but one, again", store.RefreshTokenFilter{UserID: u3, ExcludeApplicationIDs: []string{apps[2]}}, nil, []string{apps[2]}},
	} {
		if step.name == "none of an empty list" {
			got, err := read[S](st).RefreshTokenApplications(ctx, u3)
			ok(t, "applications", err)
			if !slices.Equal(got, sorted) {
				t.Errorf("applications of tokens = %v, want %v", got, sorted)
			}
		}
		var got []*store.RefreshTokenRow
		mustWrite(t, st, func(s S) (err error) { got, err = s.RevokeRefreshTokens(ctx, step.f); return err })
		if g, w := slices.Sorted(slices.Values(ids(got))), slices.Sorted(slices.Values(step.revoked)); !slices.Equal(g, w) {
			t.Errorf("%s: revoked %v, want %v", step.name, g, w)
		}
		left, err := read[S](st).RefreshTokenApplications(ctx, u3)
		ok(t, step.name, err)
		if !slices.Equal(left, step.left) {
			t.Errorf("%s: applications left %v, want %v", step.name, left, step.left)
		}
	}
	if got, err := read[S](st).RefreshTokenApplications(ctx, "nope"); err != nil || len(got) != 0 {
		t.Errorf("applications of an unknown user = %v, %v", got, err)
	}

	// Races for one token: exactly one rotation, one use against a
	// revocation, one revocation.
	for round := range 3 {
		r := token(f.User, now+1000)
		mustWrite(t, st, func(s S) error { return s.InsertRefreshToken(ctx, r) })
		oneWinner(t, "rotate", race(st, 4, func(i int, g *gate, s S) error {
			if _, err := s.RefreshTokenByHash(ctx, r.TokenHash); err != nil {
				return err
			}
			g.wait()
			_, err := s.RotateRefreshToken(ctx, r.TokenHash, now+int64(round), "", "successor")
			if errors.Is(err, store.ErrNoRows) {
				return errLost
			}
			return err
		}))

		r2 := token(f.User, now+1000)
		mustWrite(t, st, func(s S) error { return s.InsertRefreshToken(ctx, r2) })
		oneWinner(t, "revoke", race(st, 3, func(i int, g *gate, s S) error {
			g.wait()
			got, err := s.RevokeRefreshTokens(ctx, store.RefreshTokenFilter{ID: r2.ID})
			if err == nil && len(got) == 0 {
				return errLost
			}
			return err
		}))
	}
}
