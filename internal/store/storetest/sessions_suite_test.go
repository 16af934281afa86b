package storetest

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/tokens"
)

// SSOSessions is the contract of tokens.SessionStorage: a user's unexpired
// SSO sessions listed oldest first, read by id, ended one by one (exactly
// one of concurrent ends sees the row) or all at once.
func SSOSessions(t *testing.T, st *store.Store) {
	type S = tokens.SessionStorage
	ctx := context.Background()
	f := newFixture(t, st)
	const now = int64(2_000_000)
	session := func(user string, inserted, expires int64) *store.OAuthSession {
		return &store.OAuthSession{ID: uuid.NewString(), TokenHash: "sso-" + uuid.NewString(), UserID: user, TenantID: f.Tenant,
			AuthInstant: inserted, AuthType: "PASSWORD", ExpiresInstant: expires, InsertInstant: inserted}
	}
	older, newer, expired, other := session(f.User, now-20, now+100), session(f.User, now-10, now+100), session(f.User, now-30, now), session(f.User2, now-5, now+100)
	mustWrite(t, st, func(tx *store.Tx) error {
		for _, s := range []*store.OAuthSession{newer, expired, older, other} {
			if err := tx.InsertOAuthSession(ctx, s); err != nil {
				return err
			}
		}
		return nil
	})

	list, err := read[S](st).OAuthSessionsOfUser(ctx, f.User, now)
	ok(t, "list", err)
	if len(list) != 2 || *list[0] != *older || *list[1] != *newer {
		t.Fatalf("sessions of user: %+v, want the older then the newer, not the expired", list)
	}
	got, err := read[S](st).OAuthSessionByID(ctx, other.ID, now)
	ok(t, "by id", err)
	if *got != *other {
		t.Errorf("by id: %+v, want %+v", got, other)
	}
	_, err = read[S](st).OAuthSessionByID(ctx, expired.ID, now)
	noRows(t, "expired by id", err)
	_, err = read[S](st).OAuthSessionByID(ctx, uuid.NewString(), now)
	noRows(t, "unknown id", err)

	// Ending one answers its user, once; of concurrent ends one sees the row.
	oneWinner(t, "end", race(st, 4, func(i int, g *gate, s S) error {
		g.wait()
		user, err := s.DeleteOAuthSession(ctx, older.ID)
		if err == nil && user == "" {
			return errLost
		}
		if err == nil && user != f.User {
			t.Errorf("ended session's user %q, want %q", user, f.User)
		}
		return err
	}))

	// Ending all of a user's sessions leaves other users' alone.
	var n int64
	mustWrite(t, st, func(s S) error {
		var err error
		n, err = s.DeleteUserOAuthSessions(ctx, f.User)
		return err
	})
	if n != 2 { // the newer and the expired one
		t.Errorf("ended %d sessions of the user, want 2", n)
	}
	if list, err := read[S](st).OAuthSessionsOfUser(ctx, f.User, now); err != nil || len(list) != 0 {
		t.Errorf("after ending all: %v %v", list, err)
	}
	if _, err := read[S](st).OAuthSessionByID(ctx, other.ID, now); err != nil {
		t.Errorf("another user's session ended too: %v", err)
	}
}
