package signing_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/services"
	"github.com/latchid/latch/internal/signing"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

// TestEnsureDefaultSigningKeyRace runs the default-key step from eight
// services at once on one database: exactly one key results, the Default
// tenant names it, and every service's cache holds it.
func TestEnsureDefaultSigningKeyRace(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		st, mk, log := openStore(t, b)
		if err := services.New(st, kit.SystemClock{}, mk, log, services.Options{}).Tenancy.Bootstrap(ctx); err != nil {
			t.Fatal(err)
		}
		const n = 8
		svcs := make([]*services.Set, n)
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range svcs {
			svcs[i] = services.New(st, kit.SystemClock{}, mk, log, services.Options{})
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = svcs[i].Signing.EnsureDefault(ctx)
			}()
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("service %d: %v", i, err)
			}
		}
		rows, err := st.Read().AllSigningKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].Name != signing.DefaultKeyName || rows[0].Algorithm != "ES256" {
			t.Fatalf("%d keys after a race: %+v", len(rows), rows)
		}
		_, data, err := st.Read().DefaultTenantData(ctx, model.AdminApplicationID)
		if err != nil {
			t.Fatal(err)
		}
		var tenant struct {
			JWT model.JWTConfiguration `json:"jwtConfiguration"`
		}
		if err := json.Unmarshal([]byte(data), &tenant); err != nil || tenant.JWT.AccessTokenKeyID != rows[0].ID || tenant.JWT.IDTokenKeyID != rows[0].ID {
			t.Fatalf("default tenant data %s (%v)", data, err)
		}
		for i, svc := range svcs {
			svc.SigningKeys.Refresh(ctx)
			if _, err := svc.SigningKeys.Current().Signer(rows[0].ID); err != nil {
				t.Errorf("service %d cannot sign with the default key: %v", i, err)
			}
		}
		// Later starts do nothing, even after the key is gone.
		if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteSigningKey(ctx, rows[0].ID) }); err != nil {
			t.Fatal(err)
		}
		if err := svcs[0].Signing.EnsureDefault(ctx); err != nil {
			t.Fatal(err)
		}
		if rows, _ := st.Read().AllSigningKeys(ctx); len(rows) != 0 {
			t.Fatalf("a deleted default key was made again")
		}
	})
}

// openStore is a migrated store of the backend, the test master key and a
// silent logger: what services.New takes.
func openStore(t *testing.T, b testutil.Backend) (*store.Store, *secrets.MasterKey, *slog.Logger) {
	t.Helper()
	st := testutil.OpenStore(t, b)
	mk, err := secrets.ParseMasterKey(testutil.TestMasterKey)
	if err != nil {
		t.Fatal(err)
	}
	return st, mk, slog.New(slog.NewTextHandler(io.Discard, nil))
}
