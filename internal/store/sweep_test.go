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
				if err := tx.InsertAdminSession(ctx, &store.AdminSession{ID: id, TokenHash: "a" + id, UserID: user, AuthInstant: 1,
					ExpiresInstant: exp, InsertInstant: 1}); err != nil {
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
		if n := sweep(3); n != 9 { // three of each table
			t.Errorf("first batch deleted %d rows, want 9", n)
		}
		if n := sweep(3); n != 6 {
			t.Errorf("second batch deleted %d rows, want 6", n)
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
			if _, errAdmin := st.Read().AdminSessionByHash(ctx, "a"+id, 0); (errAdmin != nil) != (i < expired) {
				t.Errorf("admin session %s (expires %d): gone=%v (%v)", id, 1000+i, errAdmin != nil, errAdmin)
			}
		}
	})
}

// Admin UI sessions: read by hash while unexpired, extended only forward,
// deleted with the expired ones.
func TestAdminSessions(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		st := migrated(t, b)
		_, _, user := loginFixture(t, st)
		inTx(t, st, func(tx *store.Tx) error {
			for _, s := range []*store.AdminSession{
				{ID: "s1", TokenHash: "h1", UserID: user, AuthInstant: 10, ExpiresInstant: 100, InsertInstant: 10},
				{ID: "s2", TokenHash: "h2", UserID: user, AuthInstant: 10, ExpiresInstant: 50, InsertInstant: 10},
			} {
				if err := tx.InsertAdminSession(ctx, s); err != nil {
					return err
				}
			}
			return nil
		})
		if s, err := st.Read().AdminSessionByHash(ctx, "h1", 60); err != nil || s.ID != "s1" || s.UserID != user || s.AuthInstant != 10 {
			t.Fatalf("read: %+v %v", s, err)
		}
		if _, err := st.Read().AdminSessionByHash(ctx, "h2", 60); err == nil {
			t.Fatal("an expired session was read")
		}
		inTx(t, st, func(tx *store.Tx) error {
			if err := tx.ExtendAdminSession(ctx, "s1", 200); err != nil {
				return err
			}
			return tx.ExtendAdminSession(ctx, "s1", 150) // never backwards
		})
		if s, err := st.Read().AdminSessionByHash(ctx, "h1", 160); err != nil || s.ExpiresInstant != 200 {
			t.Fatalf("extended: %+v %v", s, err)
		}
		inTx(t, st, func(tx *store.Tx) error { return tx.DeleteAdminSession(ctx, "s1", 60) })
		for _, h := range []string{"h1", "h2"} {
			if _, err := st.Read().AdminSessionByHash(ctx, h, 0); err == nil {
				t.Errorf("session %s survived the delete", h)
			}
		}
	})
}
