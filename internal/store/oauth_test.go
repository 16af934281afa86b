package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

// One-time OAuth values are consumed by one statement: of concurrent
// attempts, on either database, exactly one wins; expired and used values
// are refused; a replay is marked and reports what the first use issued.
func TestOAuthOneTimeValues(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		st := migrated(t, b)
		tenant, app, user := loginFixture(t, st)
		rd := st.Read()
		code := &store.OAuthCode{CodeHash: "h1", ClientID: app, TenantID: tenant, UserID: user, RedirectURI: "https://x/cb",
			Scope: "openid", AuthInstant: 1000, AuthType: "PASSWORD", ExpiresInstant: 31_000, InsertInstant: 1000}
		if err := rd.InsertOAuthCode(ctx, code); err != nil {
			t.Fatal(err)
		}
		if c, err := rd.OAuthCodeByHash(ctx, "h1", 2000); err != nil || c.UserID != user || c.RedirectURI != "https://x/cb" || c.Scope != "openid" {
			t.Fatalf("read code: %+v %v", c, err)
		}
		const n = 8
		var wg sync.WaitGroup
		wins := make(chan int, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := st.Read().UseOAuthCode(ctx, "h1", fmt.Sprintf("rt-%d", i), 2000)
				if err != nil {
					t.Error(err)
				} else if ok {
					wins <- i
				}
			}()
		}
		wg.Wait()
		close(wins)
		if len(wins) != 1 {
			t.Fatalf("%d concurrent uses won, want 1", len(wins))
		}
		winner := fmt.Sprintf("rt-%d", <-wins)
		if _, err := rd.OAuthCodeByHash(ctx, "h1", 2000); !errors.Is(err, store.ErrNoRows) {
			t.Fatalf("a used code is still readable: %v", err)
		}
		if _, err := rd.ConsumeOAuthCode(ctx, "h1", 2000); !errors.Is(err, store.ErrNoRows) {
			t.Fatalf("a used code was consumed again: %v", err)
		}
		first, err := rd.MarkOAuthCodeReplayed(ctx, "h1")
		if err != nil || first.RefreshTokenID != winner {
			t.Fatalf("replay: %+v %v, want refresh token %s", first, err, winner)
		}
		if _, err := rd.MarkOAuthCodeReplayed(ctx, "nope"); !errors.Is(err, store.ErrNoRows) {
			t.Fatalf("unknown code replay: %v", err)
		}
		// Expiry: a code is refused from its expiry on.
		code.CodeHash, code.ExpiresInstant = "h2", 5000
		if err := rd.InsertOAuthCode(ctx, code); err != nil {
			t.Fatal(err)
		}
		if _, err := rd.ConsumeOAuthCode(ctx, "h2", 5000); !errors.Is(err, store.ErrNoRows) {
			t.Fatalf("expired code: %v", err)
		}
		if ok, err := rd.UseOAuthCode(ctx, "h2", "", 5000); err != nil || ok {
			t.Fatalf("expired code used: %v %v", ok, err)
		}
		if c, err := rd.ConsumeOAuthCode(ctx, "h2", 4999); err != nil || c.CodeHash != "h2" {
			t.Fatalf("consume a code in time: %+v %v", c, err)
		}

		// Device grants: approved once, taken once.
		d := &store.OAuthDeviceCode{DeviceCodeHash: "d1", UserCode: "BCDFGHJK", ClientID: app, TenantID: tenant, Scope: "openid",
			IntervalSeconds: 5, ExpiresInstant: 600_000, InsertInstant: 1000}
		if err := rd.InsertOAuthDeviceCode(ctx, d); err != nil {
			t.Fatal(err)
		}
		d.DeviceCodeHash = "d2"
		if err := rd.InsertOAuthDeviceCode(ctx, d); !store.IsUnique(err) {
			t.Fatalf("duplicate user code: %v", err)
		}
		if _, err := rd.PollOAuthDeviceCode(ctx, "d1", 2000); err != nil {
			t.Fatalf("first poll: %v", err)
		}
		if _, err := rd.PollOAuthDeviceCode(ctx, "d1", 3000); !errors.Is(err, store.ErrNoRows) {
			t.Fatalf("poll within the interval: %v", err)
		}
		if ok, err := rd.ApproveOAuthDeviceCode(ctx, "BCDFGHJK", user, "s-1", "PASSWORD", 4000, 4000); !ok || err != nil {
			t.Fatalf("approve: %v %v", ok, err)
		}
		if ok, _ := rd.ApproveOAuthDeviceCode(ctx, "BCDFGHJK", user, "s-1", "PASSWORD", 4000, 4000); ok {
			t.Fatal("approved twice")
		}
		got := make(chan int, n)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := st.Read().TakeApprovedOAuthDeviceCode(ctx, "d1", 5000); err == nil {
					got <- 1
				}
			}()
		}
		wg.Wait()
		if len(got) != 1 {
			t.Fatalf("%d concurrent takes won, want 1", len(got))
		}

		// SSO sessions: read while unexpired, extended, deleted.
		s := &store.OAuthSession{ID: "s-1", TokenHash: "th", UserID: user, TenantID: tenant, AuthInstant: 1000, AuthType: "PASSWORD",
			ExpiresInstant: 10_000, InsertInstant: 1000}
		if err := rd.InsertOAuthSession(ctx, s); err != nil {
			t.Fatal(err)
		}
		if _, err := rd.OAuthSessionByHash(ctx, "th", 10_000); !errors.Is(err, store.ErrNoRows) {
			t.Fatalf("expired session: %v", err)
		}
		if err := rd.ExtendOAuthSession(ctx, "s-1", 20_000); err != nil {
			t.Fatal(err)
		}
		if got, err := rd.OAuthSessionByHash(ctx, "th", 10_000); err != nil || got.UserID != user {
			t.Fatalf("extended session: %+v %v", got, err)
		}
		if u, err := rd.DeleteOAuthSession(ctx, "s-1"); err != nil || u != user {
			t.Fatalf("delete: %q %v", u, err)
		}
	})
}
