package signing_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/services"
	"github.com/latchid/latch/internal/signing"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

// failingHolders re-points holders through tenancy but fails the n-th call:
// a rotation that fails half-way.
type failingHolders struct {
	inner interface {
		ReplaceSigningKeyIn(ctx context.Context, tx *store.Tx, actor kit.Actor, kind, id, path, keyID string) error
	}
	calls, failAt int
}

func (f *failingHolders) ReplaceSigningKeyIn(ctx context.Context, tx *store.Tx, actor kit.Actor, kind, id, path, keyID string) error {
	f.calls++
	if f.calls == f.failAt {
		return errors.New("holder refused")
	}
	return f.inner.ReplaceSigningKeyIn(ctx, tx, actor, kind, id, path, keyID)
}

// TestRotateIsOneTransaction: a rotation moves every tenant and application
// naming the key to the new one, or, failing half-way, changes nothing: no
// new key, no holder moved.
func TestRotateIsOneTransaction(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		st, mk, log := openStore(t, b)
		svc := services.New(st, kit.SystemClock{}, mk, log, services.Options{})
		if err := svc.Tenancy.Bootstrap(ctx); err != nil {
			t.Fatal(err)
		}
		if err := svc.Signing.EnsureDefault(ctx); err != nil {
			t.Fatal(err)
		}
		actor := kit.Actor{Type: kit.ActorCLI, ID: "test", Name: "test"}
		tenants, err := svc.Tenancy.Tenants(ctx, kit.TenantScope{})
		if err != nil || len(tenants) != 1 {
			t.Fatalf("tenants: %v %v", tenants, err)
		}
		oldID := tenants[0].JWTConfiguration.AccessTokenKeyID
		app, err := svc.Tenancy.CreateApplication(ctx, actor, kit.TenantScope{}, "", kit.Object{"application": kit.Object{"name": "Signed",
			"tenantId": tenants[0].ID, "jwtConfiguration": kit.Object{"enabled": true, "accessTokenKeyId": oldID, "timeToLiveInSeconds": 300}}})
		if err != nil {
			t.Fatal(err)
		}
		keysNow := func() int {
			list, err := svc.Signing.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return len(list)
		}
		holders := func() (tenantKey, appKey string) {
			tn, err := svc.Tenancy.Tenant(ctx, kit.TenantScope{}, tenants[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			a, err := svc.Tenancy.Application(ctx, kit.TenantScope{}, app.ID)
			if err != nil {
				t.Fatal(err)
			}
			return tn.JWTConfiguration.AccessTokenKeyID, a.JWTConfiguration.AccessTokenKeyID
		}
		before := keysNow()

		// The second holder refuses: nothing at all changed.
		if _, _, err := svc.Signing.Rotate(ctx, actor, &failingHolders{inner: svc.Tenancy, failAt: 2}, oldID); err == nil ||
			!strings.Contains(err.Error(), "holder refused") {
			t.Fatalf("a rotation failing half-way: %v", err)
		}
		if n := keysNow(); n != before {
			t.Errorf("%d keys after a failed rotation, want %d", n, before)
		}
		if tk, ak := holders(); tk != oldID || ak != oldID {
			t.Errorf("after a failed rotation the tenant names %s and the application %s, want both %s", tk, ak, oldID)
		}

		// A whole rotation moves both; the old key stays.
		next, skipped, err := svc.Signing.Rotate(ctx, actor, svc.Tenancy, oldID)
		if err != nil || next.ID == oldID || len(skipped) != 0 {
			t.Fatalf("rotate: %+v %v %v", next, skipped, err)
		}
		if tk, ak := holders(); tk != next.ID || ak != next.ID {
			t.Errorf("after rotation the tenant names %s and the application %s, want %s", tk, ak, next.ID)
		}
		if n := keysNow(); n != before+1 {
			t.Errorf("%d keys after rotation, want %d", n, before+1)
		}
		if _, err := svc.Signing.Key(ctx, oldID); err != nil {
			t.Errorf("the old key is gone: %v", err)
		}

		// A verify-only key is refused.
		imported, err := svc.Signing.Import(ctx, actor, "", &signing.KeyInput{Name: "Partner", PublicKey: next.PublicKey})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.Signing.Rotate(ctx, actor, svc.Tenancy, imported.ID); !errors.Is(err, signing.ErrVerifyOnly) {
			t.Errorf("rotating a verify-only key: %v", err)
		}
	})
}
