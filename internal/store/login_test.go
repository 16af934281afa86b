package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"

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

// Concurrent rotations of one token: exactly one transaction gets it, on both
// databases; with a grace period a second use within it gets it too.
func TestRefreshTokenRotation(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		st := migrated(t, b)
		tenant, app, user := loginFixture(t, st)
		insert := func(id, hash string) {
			inTx(t, st, func(tx *store.Tx) error {
				return tx.InsertRefreshToken(ctx, &store.RefreshTokenRow{ID: id, TokenHash: hash, FamilyID: "f", UserID: user,
					ApplicationID: app, TenantID: tenant, AuthInstant: 1, StartInstant: 1, ExpiresInstant: 100_000, InsertInstant: 1})
			})
		}
		insert("r1", "h1")
		const n = 12
		wins := make([]bool, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := st.InTx(ctx, func(tx *store.Tx) error {
					_, err := tx.RotateRefreshToken(ctx, "h1", 1000, 1000, "")
					return err
				})
				switch {
				case err == nil:
					wins[i] = true
				case !errors.Is(err, store.ErrNoRows):
					t.Errorf("rotate: %v", err)
				}
			}()
		}
		wg.Wait()
		won := 0
		for _, w := range wins {
			if w {
				won++
			}
		}
		if won != 1 {
			t.Fatalf("%d of %d concurrent rotations won, want 1", won, n)
		}
		// Within a grace period (rotated at 1000, grace from 900): again.
		if _, err := st.Read().RotateRefreshToken(ctx, "h1", 1500, 900, ""); err != nil {
			t.Errorf("reuse within the grace period: %v", err)
		}
		if _, err := st.Read().RotateRefreshToken(ctx, "h1", 1500, 1000, ""); !errors.Is(err, store.ErrNoRows) {
			t.Errorf("reuse after the grace period: %v", err)
		}
		// Revocation needs a selector; by family it takes every member.
		insert("r2", "h2")
		inTx(t, st, func(tx *store.Tx) error {
			if _, err := tx.RevokeRefreshTokens(ctx, store.RefreshTokenFilter{TenantIDs: []string{tenant}}); err == nil {
				t.Errorf("a revocation without a selector was accepted")
			}
			got, err := tx.RevokeRefreshTokens(ctx, store.RefreshTokenFilter{FamilyID: "f"})
			if err != nil || len(got) != 2 {
				t.Errorf("revoke family: %d %v", len(got), err)
			}
			return nil
		})
		if _, err := st.Read().UseRefreshToken(ctx, "h2", 2000, 1, 100_000, ""); !errors.Is(err, store.ErrNoRows) {
			t.Errorf("a revoked token was used: %v", err)
		}
		if rows, _ := st.Read().ActiveRefreshTokens(ctx, store.RefreshTokenFilter{UserID: user, TenantIDs: []string{}}, 0); len(rows) != 0 {
			t.Errorf("an empty tenant list selected tokens")
		}
	})
}
