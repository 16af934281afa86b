package storetest

import (
	"context"
	"fmt"
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

// AuthorizationCodes is the contract of tokens.CodeStorage: a code is used
// once (exactly one of concurrent uses wins, and its refresh token is the
// one the code's row names), never after its expiry.
func AuthorizationCodes(t *testing.T, st *store.Store) {
	type S = tokens.CodeStorage
	ctx := context.Background()
	f := newFixture(t, st)
	const now = int64(2_000_000)
	for _, h := range []string{"code-live", "code-expired"} {
		c := &store.OAuthCode{CodeHash: h, ClientID: f.App, TenantID: f.Tenant, UserID: f.User, RedirectURI: "https://app/cb",
			Scope: "openid offline_access", AuthInstant: now - 10, AuthType: "PASSWORD", ExpiresInstant: now + 60_000, InsertInstant: now - 10}
		if h == "code-expired" {
			c.ExpiresInstant = now
		}
		mustWrite(t, st, func(tx *store.Tx) error { return tx.InsertOAuthCode(ctx, c) })
	}

	var winner string
	oneWinner(t, "use", race(st, 4, func(i int, g *gate, s S) error {
		g.wait()
		id := fmt.Sprintf("rt-%d", i)
		won, err := s.UseOAuthCode(ctx, "code-live", id, now)
		if err == nil && !won {
			return errLost
		}
		if won {
			winner = id
		}
		return err
	}))
	first, err := st.Read().MarkOAuthCodeReplayed(ctx, "code-live")
	ok(t, "replay", err)
	if first.RefreshTokenID != winner {
		t.Errorf("the used code names refresh token %q, want the winner's %q", first.RefreshTokenID, winner)
	}
	won, err := read[S](st).UseOAuthCode(ctx, "code-expired", "", now)
	ok(t, "use expired", err)
	if won {
		t.Error("an expired code was used")
	}
	if won, err := read[S](st).UseOAuthCode(ctx, "code-unknown", "", now); err != nil || won {
		t.Errorf("unknown code used: %v %v", won, err)
	}
}
