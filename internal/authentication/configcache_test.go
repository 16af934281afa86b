package authentication

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/store"
)

// Tenant settings are decoded once per cache version and shared: logins do
// not change the shared copy, and a local write is seen by the next read.
func TestConfigCacheSharedAndInvalidated(t *testing.T) {
	ctx := context.Background()
	svc := newLoginTestService(t)
	svc.tenancy.Configs.Refresh(ctx)
	ids, err := svc.store.Read().TenantIDs(ctx)
	if err != nil || len(ids) != 1 {
		t.Fatalf("tenants %v: %v", ids, err)
	}
	id := ids[0]
	first, err := svc.tenancy.LoginTenantConfig(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := json.Marshal(first)
	for _, pw := range []string{"wrong", "also wrong"} {
		_, _ = svc.Login(ctx, LoginCaller{Authenticated: true, Scope: kit.AllTenants}, LoginRequest{LoginID: "nobody@example.com", Password: pw})
	}
	again, err := svc.tenancy.LoginTenantConfig(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if again != first {
		t.Errorf("the tenant was decoded again without a change")
	}
	if after, _ := json.Marshal(again); string(after) != string(before) {
		t.Errorf("logins changed the shared settings:\n%s\n%s", before, after)
	}

	// A write of the tenant (any writer bumps the version) is seen at once.
	if err := svc.store.InTx(ctx, func(tx *store.Tx) error {
		row, err := tx.TenantByID(ctx, id)
		if err != nil {
			return err
		}
		var data map[string]any
		if err := json.Unmarshal([]byte(row.Data), &data); err != nil {
			return err
		}
		data["failedAuthenticationConfiguration"] = map[string]any{"tooManyAttempts": 2}
		b, _ := json.Marshal(data)
		return tx.SetTenantData(ctx, id, string(b), 1)
	}); err != nil {
		t.Fatal(err)
	}
	changed, err := svc.tenancy.LoginTenantConfig(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if changed == first || changed.FailedAuthenticationConfiguration.TooManyAttempts != 2 {
		t.Errorf("after a write: tooManyAttempts %d (same copy: %v)", changed.FailedAuthenticationConfiguration.TooManyAttempts, changed == first)
	}
}
