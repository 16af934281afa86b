package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

// loginFixture stores a tenant, an application and a user.
func loginFixture(t *testing.T, st *store.Store) (tenant, app, user string) {
	t.Helper()
	ctx := context.Background()
	tenant, app, user = "t-1", "a-1", "u-1"
	inTx(t, st, func(tx *store.Tx) error {
		if err := tx.InsertTenantRow(ctx, &store.TenantRow{ID: tenant, Name: "T", Data: "{}", InsertInstant: 1, LastUpdateInstant: 1}); err != nil {
			return err
		}
		if err := tx.InsertApplicationRow(ctx, &store.ApplicationRow{ID: app, TenantID: tenant, Name: "A", Active: true, Data: "{}", InsertInstant: 1, LastUpdateInstant: 1}); err != nil {
			return err
		}
		return tx.InsertUserRow(ctx, &store.UserRow{ID: user, TenantID: tenant, Email: "u@example.com", Active: true, Data: "{}", InsertInstant: 1, LastUpdateInstant: 1})
	})
	return tenant, app, user
}

func TestLoginFailureCounting(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		st := migrated(t, b)
		count := func(subject string, now, windowStart int64) int {
			var n int
			inTx(t, st, func(tx *store.Tx) error {
				var err error
				n, err = tx.CountLoginFailure(ctx, subject, now, windowStart)
				return err
			})
			return n
		}
		if n := count("s", 1000, 0); n != 1 {
			t.Fatalf("first failure: %d", n)
		}
		if n := count("s", 2000, 0); n != 2 {
			t.Fatalf("second failure: %d", n)
		}
		// The window (first failure at 1000) is over at windowStart 1000.
		if n := count("s", 3000, 1000); n != 1 {
			t.Fatalf("failure after the window: %d, want 1", n)
		}
		inTx(t, st, func(tx *store.Tx) error { return tx.LockSubject(ctx, "s", 5000) })
		if n := count("s", 4000, 0); n != 0 {
			t.Fatalf("failure while locked counted: %d", n)
		}
		until, err := st.Read().LockedUntil(ctx, "s", 4999)
		if err != nil || until != 5000 {
			t.Fatalf("locked until %d %v", until, err)
		}
		if until, _ := st.Read().LockedUntil(ctx, "s", 5000); until != 0 {
			t.Fatalf("still locked at the end instant")
		}
		// A lockout that ended restarts the count.
		if n := count("s", 5000, 0); n != 1 {
			t.Fatalf("failure after the lockout: %d, want 1", n)
		}
		// Clearing: refused while locked, done otherwise.
		inTx(t, st, func(tx *store.Tx) error { return tx.LockSubject(ctx, "s", 9000) })
		inTx(t, st, func(tx *store.Tx) error {
			ok, err := tx.ClearLoginFailures(ctx, "s", 8000)
			if ok || err != nil {
				t.Errorf("cleared while locked: %v %v", ok, err)
			}
			ok, err = tx.ClearLoginFailures(ctx, "s", 9000)
			if !ok || err != nil {
				t.Errorf("not cleared after the lockout: %v %v", ok, err)
			}
			ok, err = tx.ClearLoginFailures(ctx, "nobody", 9000)
			if !ok || err != nil {
				t.Errorf("clearing nothing: %v %v", ok, err)
			}
			return nil
		})
		if n := count("s", 10_000, 0); n != 1 {
			t.Fatalf("after clearing: %d", n)
		}
		// Stale counts go; locked ones stay.
		count("old", 100, 0)
		count("oldlocked", 100, 0)
		inTx(t, st, func(tx *store.Tx) error { return tx.LockSubject(ctx, "oldlocked", 50_000) })
		inTx(t, st, func(tx *store.Tx) error {
			n, err := tx.DeleteStaleLoginFailures(ctx, 1000, 20_000)
			if n != 1 || err != nil {
				t.Errorf("stale rows deleted: %d %v, want 1", n, err)
			}
			return nil
		})
		if until, _ := st.Read().LockedUntil(ctx, "oldlocked", 20_000); until != 50_000 {
			t.Errorf("a locked stale row was deleted")
		}
	})
}

// Concurrent rotations of one token, each in its own transaction with its
// own clock reading and its own successor: exactly one transaction gets it,
// the others a clean ErrNoRows, on both databases; the token has one
// successor. A node whose clock is behind cannot rotate a rotated token
// again.
func TestRefreshTokenRotation(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		st := migrated(t, b)
		tenant, app, user := loginFixture(t, st)
		token := func(id, hash string) *store.RefreshTokenRow {
			return &store.RefreshTokenRow{ID: id, TokenHash: hash, FamilyID: "f", UserID: user,
				ApplicationID: app, TenantID: tenant, AuthInstant: 1, StartInstant: 1, ExpiresInstant: 100_000, InsertInstant: 1}
		}
		insert := func(id, hash string) {
			inTx(t, st, func(tx *store.Tx) error { return tx.InsertRefreshToken(ctx, token(id, hash)) })
		}
		insert("r1", "h1")
		const n = 12
		wins := make([]bool, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				succ := token(fmt.Sprintf("r1-next-%d", i), fmt.Sprintf("h1-next-%d", i))
				succ.SealedValue = "sealed"
				err := st.InTx(ctx, func(tx *store.Tx) error {
					if _, err := tx.RotateRefreshToken(ctx, "h1", int64(1000+i), "", succ.ID); err != nil {
						return err
					}
					return tx.InsertRefreshToken(ctx, succ)
				})
				switch {
				case err == nil:
					wins[i] = true
				case !errors.Is(err, store.ErrNoRows):
					t.Errorf("rotate: %v", err)
				}
			}()
		}
		close(start)
		wg.Wait()
		winner := slices.Index(wins, true)
		if won := len(slices.DeleteFunc(wins, func(w bool) bool { return !w })); won != 1 {
			t.Fatalf("%d of %d concurrent rotations won, want 1", won, n)
		}
		live, err := st.Read().ActiveRefreshTokens(ctx, store.RefreshTokenFilter{FamilyID: "f"}, 2000)
		if err != nil || len(live) != 1 || live[0].ID != fmt.Sprintf("r1-next-%d", winner) || live[0].SealedValue != "sealed" {
			t.Fatalf("usable tokens after the race: %v %v, want the winner's successor", live, err)
		}
		rotated, err := st.Read().RefreshTokenByHash(ctx, "h1")
		if err != nil || rotated.SuccessorID != live[0].ID || rotated.RotatedInstant == nil || *rotated.RotatedInstant != int64(1000+winner) {
			t.Fatalf("the rotated token: %+v %v", rotated, err)
		}
		// Again, later or earlier (a node whose clock is behind): no.
		for _, now := range []int64{999, 1000 + int64(winner), 5000} {
			if _, err := st.Read().RotateRefreshToken(ctx, "h1", now, "", "other"); !errors.Is(err, store.ErrNoRows) {
				t.Errorf("a rotated token was rotated again at %d: %v", now, err)
			}
		}
		// Rotating the successor drops its sealed value.
		next, err := st.Read().RotateRefreshToken(ctx, live[0].TokenHash, 3000, "", "r1-next-next")
		if err != nil || next.SealedValue != "" || next.SuccessorID != "r1-next-next" {
			t.Fatalf("rotating the successor: %+v %v", next, err)
		}
		// Revocation needs a selector; by family it takes every member, and
		// their sealed values.
		sealed := token("r2", "h2")
		sealed.SealedValue = "sealed"
		inTx(t, st, func(tx *store.Tx) error { return tx.InsertRefreshToken(ctx, sealed) })
		inTx(t, st, func(tx *store.Tx) error {
			if _, err := tx.RevokeRefreshTokens(ctx, store.RefreshTokenFilter{TenantIDs: []string{tenant}}); err == nil {
				t.Errorf("a revocation without a selector was accepted")
			}
			got, err := tx.RevokeRefreshTokens(ctx, store.RefreshTokenFilter{FamilyID: "f"})
			if err != nil || len(got) != 3 { // r1, its successor, r2
				t.Errorf("revoke family: %d %v", len(got), err)
			}
			return nil
		})
		if _, err := st.Read().UseRefreshToken(ctx, "h2", 2000, 1, 100_000, ""); !errors.Is(err, store.ErrNoRows) {
			t.Errorf("a revoked token was used: %v", err)
		}
		if r, err := st.Read().RefreshTokenByHash(ctx, "h2"); err != nil || r.SealedValue != "" {
			t.Errorf("a revoked token kept its sealed value: %+v %v", r, err)
		}
		if rows, _ := st.Read().ActiveRefreshTokens(ctx, store.RefreshTokenFilter{UserID: user, TenantIDs: []string{}}, 0); len(rows) != 0 {
			t.Errorf("an empty tenant list selected tokens")
		}
	})
}

// A revocation of a family that has to wait for a rotation of one of its
// tokens takes the successor that rotation inserted too: on PostgreSQL a
// statement does not see rows committed while it waited, and a successor
// left out would be a branch that outlives its session's revocation.
// (SQLite runs one write transaction at a time.)
func TestRevokeTakesConcurrentSuccessor(t *testing.T) {
	ctx := context.Background()
	st := migrated(t, testutil.Backend{Name: "postgres", DatabaseURL: testutil.PostgresURL(t)})
	tenant, app, user := loginFixture(t, st)
	token := func(id, hash string) *store.RefreshTokenRow {
		return &store.RefreshTokenRow{ID: id, TokenHash: hash, FamilyID: "f", UserID: user,
			ApplicationID: app, TenantID: tenant, AuthInstant: 1, StartInstant: 1, ExpiresInstant: 100_000, InsertInstant: 1}
	}
	for round, f := range []store.RefreshTokenFilter{{FamilyID: "f"}, {UserID: user}} {
		old, next := fmt.Sprintf("r%d", round), fmt.Sprintf("r%d-next", round)
		inTx(t, st, func(tx *store.Tx) error { return tx.InsertRefreshToken(ctx, token(old, old)) })
		rotated, commit, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			done <- st.InTx(ctx, func(tx *store.Tx) error {
				if _, err := tx.RotateRefreshToken(ctx, old, 1000, "", next); err != nil {
					return err
				}
				if err := tx.InsertRefreshToken(ctx, token(next, next)); err != nil {
					return err
				}
				close(rotated)
				<-commit
				return nil
			})
		}()
		<-rotated
		type result struct {
			rows []*store.RefreshTokenRow
			err  error
		}
		revoked := make(chan result, 1)
		go func() {
			var r result
			r.err = st.InTx(ctx, func(tx *store.Tx) error {
				r.rows, r.err = tx.RevokeRefreshTokens(ctx, f)
				return r.err
			})
			revoked <- r
		}()
		// Commit the rotation once the revocation waits for its row.
		for waiting := 0; waiting == 0; time.Sleep(5 * time.Millisecond) {
			if err := st.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_stat_activity
				WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
				t.Fatal(err)
			}
		}
		close(commit)
		if err := <-done; err != nil {
			t.Fatalf("rotate: %v", err)
		}
		r := <-revoked
		if r.err != nil {
			t.Fatalf("revoke: %v", r.err)
		}
		if got, err := st.Read().RefreshTokenByHash(ctx, next); err != nil || !got.Revoked {
			t.Errorf("revoking by %+v: the successor a concurrent rotation inserted is not revoked (%d revoked, %v)", f, len(r.rows), err)
		}
	}
}

// A lockout written while a success clears the subject's failures survives:
// the lock holds the row, the clear waits and then sees the lockout. (With a
// read before the delete, the clear read the row unlocked and deleted the
// lockout once the lock was committed.) SQLite serialises writers, so the
// interleaving exists on PostgreSQL only; both run it.
func TestClearLoginFailuresKeepsConcurrentLockout(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		st := migrated(t, b)
		inTx(t, st, func(tx *store.Tx) error { _, err := tx.CountLoginFailure(ctx, "race", 100, 0); return err })

		locked, release := make(chan struct{}), make(chan struct{})
		lockDone := make(chan error, 1)
		go func() {
			lockDone <- st.InTx(ctx, func(tx *store.Tx) error {
				// As a login does: the failure that reaches the limit, then the lock.
				if _, err := tx.CountLoginFailure(ctx, "race", 150, 0); err != nil {
					return err
				}
				if err := tx.LockSubject(ctx, "race", 9000); err != nil {
					return err
				}
				close(locked)
				<-release
				return nil
			})
		}()
		if b.Name == "postgres" {
			<-locked // the clear starts while the lockout is written but not committed
		}
		clearDone := make(chan error, 1)
		go func() {
			clearDone <- st.InTx(ctx, func(tx *store.Tx) error { _, err := tx.ClearLoginFailures(ctx, "race", 200); return err })
		}()
		if b.Name == "postgres" {
			time.Sleep(50 * time.Millisecond) // let the clear reach the row lock; correctness does not depend on it
		}
		close(release)
		if err := <-lockDone; err != nil {
			t.Fatal(err)
		}
		if err := <-clearDone; err != nil {
			t.Fatal(err)
		}
		until, err := st.Read().LockedUntil(ctx, "race", 300)
		if err != nil {
			t.Fatal(err)
		}
		// On SQLite the two ran one after the other in either order; only
		// "clear then lock" or "lock then refused clear" are possible, both locked.
		if until != 9000 {
			t.Errorf("locked until %d after a concurrent clear, want 9000: the lockout was deleted", until)
		}
	})
}
