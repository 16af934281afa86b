package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

// TestChangeTenantID moves a tenant and everything that points to it: rows
// with a foreign key (cascading or not) and rows that keep a tenant id
// without one.
func TestChangeTenantID(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		st := migrated(t, b)
		const (
			oldID = "00000000-0000-4000-8000-000000000001"
			newID = "00000000-0000-4000-8000-000000000002"
			other = "00000000-0000-4000-8000-000000000003"
			appID = "00000000-0000-4000-8000-0000000000a1"
			user  = "00000000-0000-4000-8000-0000000000b1"
			group = "00000000-0000-4000-8000-0000000000c1"
		)
		inTx(t, st, func(tx *store.Tx) error {
			for _, tr := range []*store.TenantRow{
				{ID: oldID, Name: "Default", Data: `{"issuer":"x"}`, SecretsSealed: "sealed-for-old", InsertInstant: 1, LastUpdateInstant: 1},
				{ID: other, Name: "Other", Data: "{}", InsertInstant: 1, LastUpdateInstant: 1},
			} {
				if err := tx.InsertTenantRow(ctx, tr); err != nil {
					return err
				}
			}
			app := &model.Application{ID: appID, TenantID: oldID, Name: "App", Active: true, InsertInstant: 1, LastUpdateInstant: 1,
				Roles: []model.ApplicationRole{{ID: "00000000-0000-4000-8000-0000000000a2", Name: "admin", InsertInstant: 1, LastUpdateInstant: 1}}}
			if err := tx.InsertApplication(ctx, app, "{}"); err != nil {
				return err
			}
			if err := tx.InsertUser(ctx, &model.UserRecord{ID: user, TenantID: oldID, Email: "a@example.com", Active: true, InsertInstant: 1, LastUpdateInstant: 1}, ""); err != nil {
				return err
			}
			if err := tx.InsertRegistration(ctx, &model.UserRegistration{ID: "00000000-0000-4000-8000-0000000000b2", UserID: user,
				ApplicationID: appID, Roles: []string{"admin"}, InsertInstant: 1, LastUpdateInstant: 1}); err != nil {
				return err
			}
			if err := tx.InsertGroupRow(ctx, &store.GroupRow{ID: group, TenantID: oldID, Name: "G", Data: "{}", InsertInstant: 1, LastUpdateInstant: 1}); err != nil {
				return err
			}
			if err := tx.InsertGroupMember(ctx, &store.GroupMemberRow{ID: "00000000-0000-4000-8000-0000000000c2", GroupID: group, UserID: user, Data: "{}", InsertInstant: 1}); err != nil {
				return err
			}
			return tx.InsertOneTimeCode(ctx, &store.OneTimeCode{Hash: "h", Kind: "k", UserID: user, TenantID: oldID, Data: "{}", ExpiresInstant: 9, InsertInstant: 1})
		})
		refs, err := st.Read().TenantReferences(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{"applications.tenant_id": true, "users.tenant_id": true, "groups.tenant_id": true, "one_time_codes.tenant_id": true}
		for _, r := range refs {
			delete(want, r.Table+"."+r.Column)
		}
		if len(want) != 0 {
			t.Errorf("references not found: %v (found %v)", want, refs)
		}

		inTx(t, st, func(tx *store.Tx) error { return tx.ChangeTenantID(ctx, oldID, newID, "sealed-for-new", 5) })

		rd := st.Read()
		if _, err := rd.TenantByID(ctx, oldID); !errors.Is(err, store.ErrNoRows) {
			t.Errorf("old tenant: %v", err)
		}
		moved, err := rd.TenantByID(ctx, newID)
		if err != nil {
			t.Fatal(err)
		}
		if moved.Name != "Default" || moved.Data != `{"issuer":"x"}` || moved.SecretsSealed != "sealed-for-new" || moved.InsertInstant != 1 || moved.LastUpdateInstant != 5 {
			t.Errorf("moved tenant: %+v", moved)
		}
		if taken, _ := rd.TenantNameTaken(ctx, "default", newID); taken {
			t.Error("the old name is still taken")
		}
		if id, _ := rd.ApplicationTenantID(ctx, appID); id != newID {
			t.Errorf("application's tenant: %s", id)
		}
		for q, want := range map[string]int{
			"SELECT COUNT(*) FROM users WHERE tenant_id = '" + newID + "'":          1,
			"SELECT COUNT(*) FROM groups WHERE tenant_id = '" + newID + "'":         1,
			"SELECT COUNT(*) FROM one_time_codes WHERE tenant_id = '" + newID + "'": 1,
			"SELECT COUNT(*) FROM group_members":                                    1,
			"SELECT COUNT(*) FROM registrations":                                    1,
			"SELECT COUNT(*) FROM application_roles":                                1,
			"SELECT COUNT(*) FROM tenants":                                          2,
		} {
			var n int
			if err := st.DB().QueryRow(q).Scan(&n); err != nil || n != want {
				t.Errorf("%s = %d (%v), want %d", q, n, err, want)
			}
		}
	})
}

// TestCopyInto: a dry run's twin holds the instance's rows, whichever
// database the instance uses.
func TestCopyInto(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		src := migrated(t, b)
		inTx(t, src, func(tx *store.Tx) error {
			if err := tx.InsertTenantRow(ctx, &store.TenantRow{ID: "00000000-0000-4000-8000-000000000001", Name: "T", Data: "{}", InsertInstant: 1, LastUpdateInstant: 1}); err != nil {
				return err
			}
			if err := tx.InsertApplication(ctx, &model.Application{ID: "00000000-0000-4000-8000-0000000000a1", TenantID: "00000000-0000-4000-8000-000000000001",
				Name: "A", Active: false, InsertInstant: 1, LastUpdateInstant: 1}, "{}"); err != nil {
				return err
			}
			if err := tx.BumpCacheVersion(ctx, store.CacheAPIKeys); err != nil {
				return err
			}
			_, err := tx.InsertAudit(ctx, &model.AuditLog{InsertInstant: 1, InsertUser: "x", Message: "m"})
			return err
		})
		dst := migrated(t, testutil.Backend{Name: "sqlite"})
		if err := src.CopyInto(ctx, dst); err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{"tenants", "applications", "cache_versions", "system_settings"} {
			if a, b := countRows(t, src, table), countRows(t, dst, table); a != b {
				t.Errorf("%s: %d rows copied of %d", table, b, a)
			}
		}
		if n := countRows(t, dst, "audit_log"); n != 0 {
			t.Errorf("the audit log was copied: %d", n)
		}
		if v, err := dst.Read().CacheVersion(ctx, store.CacheAPIKeys); err != nil || v != 1 {
			t.Errorf("cache version %d, %v", v, err)
		}
		app, err := dst.Read().ApplicationByID(ctx, "00000000-0000-4000-8000-0000000000a1")
		if err != nil || app.Active {
			t.Errorf("copied application: %+v, %v", app, err)
		}
	})
}

func TestKickstartRunIsOnePerInstance(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		st := migrated(t, b)
		run := &store.KickstartRunRow{ID: "r1", File: "k.json", KeysHash: "h", Total: 3, Status: store.KickstartRunning,
			LeaseOwner: "a", LeaseUntil: 100, InsertInstant: 1, LastUpdateInstant: 1}
		inTx(t, st, func(tx *store.Tx) error { return tx.InsertKickstartRun(ctx, run) })
		err := st.InTx(ctx, func(tx *store.Tx) error {
			return tx.InsertKickstartRun(ctx, &store.KickstartRunRow{ID: "r2", File: "k.json", KeysHash: "h", Status: store.KickstartRunning})
		})
		if !store.IsUnique(err) {
			t.Fatalf("a second run: %v", err)
		}
		claim := func(owner string, now int64) bool {
			var ok bool
			inTx(t, st, func(tx *store.Tx) error {
				var err error
				ok, err = tx.ClaimKickstartRun(ctx, "r1", owner, now, now+100)
				return err
			})
			return ok
		}
		if claim("b", 50) {
			t.Error("b took a lease a holds")
		}
		if !claim("a", 50) {
			t.Error("a could not renew its lease")
		}
		if !claim("b", 150) {
			t.Error("b could not take a lapsed lease")
		}
		run.LeaseOwner = "b"
		run.NextIndex = 2
		if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.UpdateKickstartRun(ctx, run, "a") }); !errors.Is(err, store.ErrNotOne) {
			t.Errorf("a updated a run b holds: %v", err)
		}
		inTx(t, st, func(tx *store.Tx) error { return tx.UpdateKickstartRun(ctx, run, "b") })
		got, err := st.Read().KickstartRun(ctx)
		if err != nil || got.NextIndex != 2 || got.LeaseOwner != "b" {
			t.Errorf("run: %+v, %v", got, err)
		}
	})
}
