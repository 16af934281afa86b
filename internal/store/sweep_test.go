package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

// SweepExpired deletes refresh tokens and one-time codes that expired by
// now, at most limit of each per call, and nothing that is still valid.
func TestSweepExpired(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		st := migrated(t, b)
		tenant, app, user := loginFixture(t, st)
		const expired, live = 5, 2
		inTx(t, st, func(tx *store.Tx) error {
			for i := range expired + live {
				exp := int64(1000 + i) // 1000..1004 expired at 1004; 1005, 1006 not
				id := fmt.Sprintf("r%d", i)
				if err := tx.InsertRefreshToken(ctx, &store.RefreshTokenRow{ID: id, TokenHash: "h" + id, FamilyID: id, UserID: user,
					ApplicationID: app, TenantID: tenant, AuthInstant: 1, StartInstant: 1, ExpiresInstant: exp, InsertInstant: 1}); err != nil {
					return err
				}
				if err := tx.InsertOneTimeCode(ctx, &store.OneTimeCode{Hash: "c" + id, Kind: "k", UserID: user, TenantID: tenant,
					Data: "{}", ExpiresInstant: exp, InsertInstant: 1}); err != nil {
					return err
				}
			}
			return nil
		})
		sweep := func(limit int) int64 {
			var n int64
			inTx(t, st, func(tx *store.Tx) error {
				var err error
				n, err = tx.SweepExpired(ctx, 1004, limit)
				return err
			})
			return n
		}
		if n := sweep(3); n != 6 { // three of each table
			t.Errorf("first batch deleted %d rows, want 6", n)
		}
		if n := sweep(3); n != 4 {
			t.Errorf("second batch deleted %d rows, want 4", n)
		}
		if n := sweep(3); n != 0 {
			t.Errorf("third batch deleted %d rows, want 0", n)
		}
		for i := range expired + live {
			id := fmt.Sprintf("r%d", i)
			_, errTok := st.Read().RefreshTokenByID(ctx, id)
			_, errCode := st.Read().OneTimeCodeByHash(ctx, "c"+id, []string{"k"}, 0)
			if gone := errTok != nil; gone != (i < expired) {
				t.Errorf("refresh token %s (expires %d): gone=%v (%v)", id, 1000+i, gone, errTok)
			}
			if gone := errCode != nil; gone != (i < expired) {
				t.Errorf("code %s (expires %d): gone=%v (%v)", id, 1000+i, gone, errCode)
			}
		}
	})
}
