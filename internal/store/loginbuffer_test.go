package store_test

import (
	"context"
	"testing"

	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

// RecordLogins writes a flushed batch: records of a deleted user are
// dropped without failing the batch, and lastLoginInstant only moves
// forward; a tenant or application write bumps identity_config.
func TestRecordLogins(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		st := migrated(t, b)
		v0, err := st.Read().CacheVersion(ctx, store.CacheIdentityConfig)
		if err != nil {
			t.Fatal(err)
		}
		_, app, user := loginFixture(t, st)
		if v1, _ := st.Read().CacheVersion(ctx, store.CacheIdentityConfig); v1 == v0 {
			t.Errorf("identity_config not bumped by tenant and application inserts")
		}
		inTx(t, st, func(tx *store.Tx) error {
			return tx.SetLastLogin(ctx, user, "", 500) // a newer login written at once
		})
		inTx(t, st, func(tx *store.Tx) error {
			return tx.RecordLogins(ctx, []store.LoginRecord{
				{UserID: user, ApplicationID: app, IPAddress: "192.0.2.1", LoginID: "u@example.com", Instant: 300},
				{UserID: "deleted-user", ApplicationID: app, Instant: 400},
				{UserID: user, Instant: 200},
			})
		})
		recs, err := st.Read().LoginRecords(ctx, user, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 2 || recs[0].Instant != 300 || recs[0].ApplicationID != app || recs[1].ApplicationID != "" {
			t.Errorf("records: %+v", recs)
		}
		if none, _ := st.Read().LoginRecords(ctx, "deleted-user", 10); len(none) != 0 {
			t.Errorf("records of a user that does not exist: %+v", none)
		}
		row, err := st.Read().UserRowByID(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		if row.LastLoginInstant == nil || *row.LastLoginInstant != 500 {
			t.Errorf("lastLoginInstant %v, want 500 (never moved back)", row.LastLoginInstant)
		}
	})
}
