package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/authentication"
	"github.com/latchid/latch/internal/store"
)

// OneTimeCodes is the contract of authentication.CodeStorage.
func OneTimeCodes(t *testing.T, st *store.Store) {
	type S = authentication.CodeStorage
	ctx := context.Background()
	f := newFixture(t, st)
	const now = int64(1_000_000)
	code := func(user, kind string, expires int64) *store.OneTimeCode {
		return &store.OneTimeCode{Hash: "code-" + uuid.NewString(), Kind: kind, UserID: user, TenantID: f.Tenant,
			ExpiresInstant: expires, InsertInstant: now}
	}

	// Insert and read without using; kind and expiry select.
	a := code(f.User, "login", now+100)
	a.Data = `{"applicationId":"x"}`
	mustWrite(t, st, func(s S) error { return s.InsertOneTimeCode(ctx, a) })
	got, err := read[S](st).OneTimeCodeByHash(ctx, a.Hash, []string{"other", "login"}, now)
	ok(t, "read", err)
	if *got != *a {
		t.Errorf("read %+v, want %+v", got, a)
	}
	for what, q := range map[string]struct {
		kinds []string
		at    int64
	}{"other kind": {[]string{"other"}, now}, "at expiry": {[]string{"login"}, now + 100}} {
		_, err := read[S](st).OneTimeCodeByHash(ctx, a.Hash, q.kinds, q.at)
		noRows(t, what, err)
	}
	if _, err := read[S](st).OneTimeCodeByHash(ctx, a.Hash, []string{"login"}, now); err != nil {
		t.Errorf("reading used the code: %v", err)
	}

	// The hash is unique; the user must exist.
	if err := write(st, func(s S) error { dup := *a; return s.InsertOneTimeCode(ctx, &dup) }); !store.IsUnique(err) {
		t.Errorf("same hash: %v", err)
	}
	if err := write(st, func(s S) error { return s.InsertOneTimeCode(ctx, code("nope", "login", now+1)) }); !store.IsForeignKey(err) {
		t.Errorf("unknown user: %v", err)
	}

	// Consume uses a code once, and not of another kind or expired.
	noRows(t, "consume other kind", write(st, func(s S) error {
		_, err := s.ConsumeOneTimeCode(ctx, a.Hash, []string{"other"}, now)
		return err
	}))
	noRows(t, "consume at expiry", write(st, func(s S) error {
		_, err := s.ConsumeOneTimeCode(ctx, a.Hash, []string{"login"}, now+100)
		return err
	}))
	mustWrite(t, st, func(s S) error {
		got, err := s.ConsumeOneTimeCode(ctx, a.Hash, []string{"login"}, now)
		if err == nil && *got != *a {
			t.Errorf("consumed %+v, want %+v", got, a)
		}
		return err
	})
	noRows(t, "consume twice", write(st, func(s S) error {
		_, err := s.ConsumeOneTimeCode(ctx, a.Hash, []string{"login"}, now)
		return err
	}))

	// Claim stores a code unless its hash exists.
	b := code(f.User, "totp", now+30)
	for i, want := range []bool{true, false} {
		mustWrite(t, st, func(s S) error {
			stored, err := s.ClaimOneTimeCode(ctx, b)
			if err == nil && stored != want {
				t.Errorf("claim %d: stored=%v, want %v", i, stored, want)
			}
			return err
		})
	}

	// Count, delete expired, delete by kind.
	mustWrite(t, st, func(s S) error {
		return errors.Join(s.InsertOneTimeCode(ctx, code(f.User, "recovery", now+10)),
			s.InsertOneTimeCode(ctx, code(f.User, "recovery", now+20)),
			s.InsertOneTimeCode(ctx, code(f.User2, "recovery", now+20)))
	})
	count := func(user, kind string, at int64) int {
		t.Helper()
		n, err := read[S](st).CountUserCodes(ctx, user, kind, at)
		ok(t, "count", err)
		return n
	}
	if n := count(f.User, "recovery", now); n != 2 {
		t.Errorf("count = %d, want 2", n)
	}
	if n := count(f.User, "recovery", now+10); n != 1 {
		t.Errorf("count after one expiry = %d, want 1", n)
	}
	mustWrite(t, st, func(s S) error { return s.DeleteExpiredUserCodes(ctx, f.User, "recovery", now+10) })
	if n := count(f.User, "recovery", now); n != 1 {
		t.Errorf("count after deleting the expired = %d, want 1", n)
	}
	mustWrite(t, st, func(s S) error { return s.DeleteUserCodes(ctx, f.User, []string{"recovery", "totp"}) })
	if n := count(f.User, "recovery", now) + count(f.User, "totp", now); n != 0 {
		t.Errorf("count after deleting the kinds = %d, want 0", n)
	}
	if n := count(f.User2, "recovery", now); n != 1 {
		t.Errorf("another user's codes went: %d, want 1", n)
	}

	// Races for one code: exactly one use, exactly one claim.
	for range 3 {
		c := code(f.User, "login", now+100)
		mustWrite(t, st, func(s S) error { return s.InsertOneTimeCode(ctx, c) })
		oneWinner(t, "consume", race(st, 4, func(i int, g *gate, s S) error {
			// Each reads the code first, as a check before its use would; on
			// SQLite a later racer already finds it gone.
			_, err := s.OneTimeCodeByHash(ctx, c.Hash, []string{"login"}, now)
			g.wait()
			if errors.Is(err, store.ErrNoRows) {
				return errLost
			} else if err != nil {
				return err
			}
			_, err = s.ConsumeOneTimeCode(ctx, c.Hash, []string{"login"}, now)
			if errors.Is(err, store.ErrNoRows) {
				return errLost
			}
			return err
		}))

		d := code(f.User, "totp", now+30)
		oneWinner(t, "claim", race(st, 4, func(i int, g *gate, s S) error {
			g.wait()
			stored, err := s.ClaimOneTimeCode(ctx, d)
			if err == nil && !stored {
				return errLost
			}
			return err
		}))
	}
}
