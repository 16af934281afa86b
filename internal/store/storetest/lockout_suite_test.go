package storetest

import (
	"context"
	"slices"
	"testing"

	"github.com/latchid/latch/internal/authentication"
	"github.com/latchid/latch/internal/lockout"
	"github.com/latchid/latch/internal/store"
)

// Lockout is the contract of lockout.Storage and of
// authentication.FailureStorage, the two sides of failed-login counts.
func Lockout(t *testing.T, st *store.Store) {
	type S = lockout.Storage
	ctx := context.Background()
	count := func(subject string, now, windowStart int64) int {
		t.Helper()
		var n int
		mustWrite(t, st, func(s S) (err error) { n, err = s.CountLoginFailure(ctx, subject, now, windowStart); return err })
		return n
	}
	lockedUntil := func(subject string, now int64) int64 {
		t.Helper()
		until, err := read[S](st).LockedUntil(ctx, subject, now)
		ok(t, "locked until", err)
		return until
	}

	// Failures count up within the window and start again after it.
	for i, c := range []struct {
		now, windowStart int64
		want             int
	}{{100, 0, 1}, {110, 10, 2}, {120, 20, 3}, {200, 100, 1} /* the window began after the first failure */, {210, 110, 2}} {
		if got := count("user-1", c.now, c.windowStart); got != c.want {
			t.Errorf("failure %d: count %d, want %d", i, got, c.want)
		}
	}

	// A lockout holds until its end: failures meanwhile do not count, and
	// after it the count starts again.
	if got := lockedUntil("user-1", 210); got != 0 {
		t.Errorf("locked before a lockout: %d", got)
	}
	mustWrite(t, st, func(s S) error { return s.LockSubject(ctx, "user-1", 500) })
	if got := lockedUntil("user-1", 300); got != 500 {
		t.Errorf("locked until %d, want 500", got)
	}
	if got := count("user-1", 300, 250); got != 0 {
		t.Errorf("a failure during the lockout counted: %d", got)
	}
	if got := lockedUntil("user-1", 500); got != 0 {
		t.Errorf("still locked at its end: %d", got)
	}
	if got := count("user-1", 600, 550); got != 1 {
		t.Errorf("first failure after the lockout: %d, want 1", got)
	}
	if got := lockedUntil("unknown", 0); got != 0 {
		t.Errorf("an unknown subject is locked: %d", got)
	}
	mustWrite(t, st, func(s S) error { return s.LockSubject(ctx, "unknown", 900) }) // no row: nothing to lock
	if got := lockedUntil("unknown", 0); got != 0 {
		t.Errorf("locking a subject without failures locked it: %d", got)
	}

	// Stale counts go, lockouts in force stay.
	count("stale", 100, 0)
	count("locked", 100, 0)
	mustWrite(t, st, func(s S) error { return s.LockSubject(ctx, "locked", 10_000) })
	var gone int64
	mustWrite(t, st, func(s S) (err error) { gone, err = s.DeleteStaleLoginFailures(ctx, 150, 1000); return err })
	if gone != 1 {
		t.Errorf("deleted %d stale counts, want 1 (stale)", gone)
	}
	if got := lockedUntil("locked", 1000); got != 10_000 {
		t.Errorf("a lockout in force went: %d", got)
	}
	if got := count("stale", 1000, 0); got != 1 {
		t.Errorf("a stale count survived: %d", got)
	}

	// authentication.FailureStorage: the state of a subject, and clearing
	// its failures unless a lockout holds.
	type F = authentication.FailureStorage
	state := func(subject string, now int64) (int64, bool) {
		t.Helper()
		until, exists, err := read[F](st).LoginFailureState(ctx, subject, now)
		ok(t, "failure state", err)
		return until, exists
	}
	clear := func(subject string, now int64) bool {
		t.Helper()
		var cleared bool
		mustWrite(t, st, func(s F) (err error) { cleared, err = s.ClearLoginFailures(ctx, subject, now); return err })
		return cleared
	}
	count("cleared", 3000, 0)
	mustWrite(t, st, func(s S) error { return s.LockSubject(ctx, "cleared", 3100) })
	if until, exists := state("cleared", 3050); until != 3100 || !exists {
		t.Errorf("state while locked: %d %v", until, exists)
	}
	if until, err := read[F](st).LockedUntil(ctx, "cleared", 3050); err != nil || until != 3100 {
		t.Errorf("locked until through authentication: %d %v", until, err)
	}
	if clear("cleared", 3050) {
		t.Error("failures were cleared during a lockout")
	}
	if until, exists := state("cleared", 3100); until != 0 || !exists {
		t.Errorf("state after the lockout: %d %v, want an ended lockout's row", until, exists)
	}
	if !clear("cleared", 3100) {
		t.Error("failures were kept after the lockout")
	}
	if until, exists := state("cleared", 3100); until != 0 || exists {
		t.Errorf("state after clearing: %d %v", until, exists)
	}
	if !clear("never failed", 0) {
		t.Error("clearing a subject without failures reported a lockout")
	}

	// Concurrent failures of one subject are each counted once.
	const n = 6
	counts := make([]int, n)
	for _, err := range race(st, n, func(i int, g *gate, s S) error {
		g.wait()
		var err error
		counts[i], err = s.CountLoginFailure(ctx, "raced", 2000, 0)
		return err
	}) {
		ok(t, "raced failure", err)
	}
	slices.Sort(counts)
	if !slices.Equal(counts, []int{1, 2, 3, 4, 5, 6}) {
		t.Errorf("concurrent counts %v, want 1…%d", counts, n)
	}
}
