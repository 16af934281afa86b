package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

// openStore opens a store on the backend: a fresh SQLite file, or the fresh
// PostgreSQL database EachBackend made. It is closed when the test ends.
func openStore(t *testing.T, b testutil.Backend) *store.Store {
	t.Helper()
	return openAt(t, b, filepath.Join(t.TempDir(), "latch.db"))
}

func openAt(t *testing.T, b testutil.Backend, sqlitePath string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), b.DatabaseURL, sqlitePath)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// migrated opens a store and applies the migrations.
func migrated(t *testing.T, b testutil.Backend) *store.Store {
	t.Helper()
	st := openStore(t, b)
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return st
}

// inTx runs fn in a transaction and fails the test on error.
func inTx(t *testing.T, st *store.Store, fn func(tx *store.Tx) error) {
	t.Helper()
	if err := st.InTx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// migrationFiles counts the migration files on disk, the number that must be applied.
func migrationFiles(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sql") {
			n++
		}
	}
	if n == 0 {
		t.Fatal("no migration files")
	}
	return n
}

func countRows(t *testing.T, st *store.Store, table string) int {
	t.Helper()
	var n int
	if err := st.DB().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMigrateIsIdempotent(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		st := openStore(t, b)
		want := migrationFiles(t)
		first, err := st.Migrate(ctx)
		if err != nil {
			t.Fatalf("first migrate: %v", err)
		}
		if len(first) != want {
			t.Fatalf("first migrate applied %v, want %d migrations", first, want)
		}
		if !slices.IsSorted(first) {
			t.Errorf("migrations applied out of order: %v", first)
		}
		second, err := st.Migrate(ctx)
		if err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		if len(second) != 0 {
			t.Errorf("second migrate applied %v, want none", second)
		}
		if n := countRows(t, st, "schema_migrations"); n != want {
			t.Errorf("schema_migrations has %d rows, want %d", n, want)
		}
	})
}

// Several nodes (each with its own pool) starting together on one fresh
// database must apply every migration exactly once, without errors.
func TestConcurrentMigrateAppliesOnce(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		const nodes = 6
		want := migrationFiles(t)
		path := filepath.Join(t.TempDir(), "latch.db")
		stores := make([]*store.Store, nodes)
		applied := make([][]int64, nodes)
		errs := make([]error, nodes)
		var wg sync.WaitGroup
		for i := range nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st, err := store.Open(context.Background(), b.DatabaseURL, path)
				if err != nil {
					errs[i] = err
					return
				}
				stores[i] = st
				applied[i], errs[i] = st.Migrate(context.Background())
			}()
		}
		wg.Wait()
		for _, st := range stores {
			if st != nil {
				t.Cleanup(func() { st.Close() })
			}
		}
		total := 0
		for i := range nodes {
			if errs[i] != nil {
				t.Errorf("node %d: %v", i, errs[i])
			}
			total += len(applied[i])
		}
		if t.Failed() {
			return
		}
		if total != want {
			t.Errorf("nodes applied %d migrations in all (%v), want %d", total, applied, want)
		}
		if n := countRows(t, stores[0], "schema_migrations"); n != want {
			t.Errorf("schema_migrations has %d rows, want %d", n, want)
		}
	})
}

func TestOpenSQLiteFilePrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "latch.db")
	st := openAt(t, testutil.Backend{Name: "sqlite"}, path)
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("database file mode %o, want 600", perm)
	}
	if st.Dialect() != store.SQLite {
		t.Errorf("dialect %q", st.Dialect())
	}
}

func TestOpenFailsClearly(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, url, path string
	}{
		{"data dir is a file", "", filepath.Join(file, "latch.db")},
		{"postgres refuses", "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=5", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, err := store.Open(context.Background(), c.url, c.path)
			if err == nil {
				st.Close()
				t.Fatal("open succeeded")
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestAPIKeys(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		st := migrated(t, b)
		acl := &model.IPAccessControlList{ID: "a0000000-0000-0000-0000-000000000001", Name: "office",
			Entries: []model.IPAccessControlEntry{{Action: "Allow", StartIPAddress: "10.0.0.1"}}, InsertInstant: 1, LastUpdateInstant: 1}
		full := &store.APIKeyRow{
			APIKey: model.APIKey{
				ID: "k0000000-0000-0000-0000-000000000001", Name: "Full Manager", KeyManager: true,
				Permissions:   model.APIKeyPermissions{Endpoints: map[string][]string{}},
				InsertInstant: 1000, LastUpdateInstant: 1000,
			},
			KeyHash: strings.Repeat("a", 64),
		}
		scoped := &store.APIKeyRow{
			APIKey: model.APIKey{
				ID: "k0000000-0000-0000-0000-000000000002", Name: "Scoped_100%",
				Permissions:           model.APIKeyPermissions{Endpoints: map[string][]string{"/api/user": {"GET", "POST"}}},
				TenantID:              "t1",
				IPAccessControlListID: acl.ID,
				MetaData:              &model.APIKeyMetaData{Attributes: map[string]string{"team": "ops"}},
				ExpirationInstant:     ptr(int64(5000)),
				Retrievable:           true,
				InsertInstant:         2000, LastUpdateInstant: 2000,
			},
			KeyHash:   strings.Repeat("b", 64),
			KeySealed: "v1:sealed",
		}
		multi := &store.APIKeyRow{
			APIKey: model.APIKey{
				ID: "k0000000-0000-0000-0000-000000000003", TenantIDs: []string{"t1", "t2"},
				Permissions:   model.APIKeyPermissions{Endpoints: map[string][]string{}},
				InsertInstant: 3000, LastUpdateInstant: 3000,
			},
			KeyHash: strings.Repeat("c", 64),
		}
		inTx(t, st, func(tx *store.Tx) error {
			if err := tx.InsertIPACL(ctx, acl); err != nil {
				return err
			}
			for _, k := range []*store.APIKeyRow{full, scoped, multi} {
				if err := tx.InsertAPIKey(ctx, k); err != nil {
					return err
				}
			}
			return nil
		})
		rd := st.Read()

		t.Run("round trip", func(t *testing.T) {
			for _, want := range []*store.APIKeyRow{full, scoped, multi} {
				byID, err := rd.APIKeyByID(ctx, want.ID)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(byID, want) {
					t.Errorf("by id:\n got %+v\nwant %+v", byID, want)
				}
				byHash, err := rd.APIKeyByHash(ctx, want.KeyHash)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(byHash, want) {
					t.Errorf("by hash:\n got %+v\nwant %+v", byHash, want)
				}
			}
			if _, err := rd.APIKeyByID(ctx, "nope"); !errors.Is(err, store.ErrNoRows) {
				t.Errorf("unknown id: %v, want ErrNoRows", err)
			}
			if _, err := rd.APIKeyByHash(ctx, strings.Repeat("f", 64)); !errors.Is(err, store.ErrNoRows) {
				t.Errorf("unknown hash: %v, want ErrNoRows", err)
			}
			n, err := rd.CountAPIKeys(ctx)
			if err != nil || n != 3 {
				t.Errorf("count = %d, %v; want 3", n, err)
			}
			all, err := rd.AllAPIKeys(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if ids := keyIDs(all); !slices.Equal(ids, []string{full.ID, scoped.ID, multi.ID}) {
				t.Errorf("all keys in order %v", ids)
			}
		})

		t.Run("constraints", func(t *testing.T) {
			cases := []struct {
				name  string
				row   store.APIKeyRow
				check func(error) bool
			}{
				{"same hash", store.APIKeyRow{APIKey: model.APIKey{ID: "x1"}, KeyHash: full.KeyHash}, store.IsUnique},
				{"same id", store.APIKeyRow{APIKey: model.APIKey{ID: full.ID}, KeyHash: strings.Repeat("d", 64)}, store.IsUnique},
				{"same name in other case", store.APIKeyRow{APIKey: model.APIKey{ID: "x2", Name: "FULL manager"}, KeyHash: strings.Repeat("e", 64)}, store.IsUnique},
				{"unknown ip acl", store.APIKeyRow{APIKey: model.APIKey{ID: "x3", IPAccessControlListID: "nope"}, KeyHash: strings.Repeat("9", 64)}, store.IsForeignKey},
			}
			for _, c := range cases {
				err := st.InTx(ctx, func(tx *store.Tx) error { return tx.InsertAPIKey(ctx, &c.row) })
				if !c.check(err) {
					t.Errorf("%s: err = %v", c.name, err)
				}
			}
			// Two unnamed keys do not collide on the name.
			err := st.InTx(ctx, func(tx *store.Tx) error {
				return tx.InsertAPIKey(ctx, &store.APIKeyRow{APIKey: model.APIKey{ID: "x4", InsertInstant: 9000, LastUpdateInstant: 9000}, KeyHash: strings.Repeat("8", 64)})
			})
			if err != nil {
				t.Errorf("second unnamed key: %v", err)
			}
			inTx(t, st, func(tx *store.Tx) error { return tx.DeleteAPIKey(ctx, "x4") })
			// A list still used by a key cannot go.
			if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteIPACL(ctx, acl.ID) }); !store.IsForeignKey(err) {
				t.Errorf("delete used ip acl: %v, want a foreign-key error", err)
			}
		})

		t.Run("list filters", func(t *testing.T) {
			cases := []struct {
				name   string
				f      store.APIKeyFilter
				offset int
				limit  int
				want   []string
				total  int
			}{
				{"all", store.APIKeyFilter{}, 0, 10, []string{full.ID, scoped.ID, multi.ID}, 3},
				{"page", store.APIKeyFilter{}, 1, 1, []string{scoped.ID}, 3},
				{"past the end", store.APIKeyFilter{}, 5, 10, nil, 3},
				{"name any case", store.APIKeyFilter{Name: "MANAGER"}, 0, 10, []string{full.ID}, 1},
				{"name percent is literal", store.APIKeyFilter{Name: "100%"}, 0, 10, []string{scoped.ID}, 1},
				{"name underscore is literal", store.APIKeyFilter{Name: "d_1"}, 0, 10, []string{scoped.ID}, 1},
				{"name wildcard matches nothing", store.APIKeyFilter{Name: "%"}, 0, 10, []string{scoped.ID}, 1},
				{"tenant", store.APIKeyFilter{TenantID: "t1"}, 0, 10, []string{scoped.ID, multi.ID}, 2},
				{"tenant of several", store.APIKeyFilter{TenantID: "t2"}, 0, 10, []string{multi.ID}, 1},
				{"tenant prefix does not match", store.APIKeyFilter{TenantID: "t"}, 0, 10, nil, 0},
				{"key managers", store.APIKeyFilter{KeyManager: ptr(true)}, 0, 10, []string{full.ID}, 1},
				{"not key managers", store.APIKeyFilter{KeyManager: ptr(false)}, 0, 10, []string{scoped.ID, multi.ID}, 2},
				{"expired at expiry", store.APIKeyFilter{Expired: ptr(true), Now: 5000}, 0, 10, []string{scoped.ID}, 1},
				{"not yet expired", store.APIKeyFilter{Expired: ptr(true), Now: 4999}, 0, 10, nil, 0},
				{"unexpired", store.APIKeyFilter{Expired: ptr(false), Now: 5000}, 0, 10, []string{full.ID, multi.ID}, 2},
				{"combined", store.APIKeyFilter{TenantID: "t1", Expired: ptr(false), Now: 4999}, 0, 10, []string{scoped.ID, multi.ID}, 2},
			}
			for _, c := range cases {
				got, total, err := rd.ListAPIKeys(ctx, c.f, c.offset, c.limit)
				if err != nil {
					t.Errorf("%s: %v", c.name, err)
					continue
				}
				if ids := keyIDs(got); !slices.Equal(ids, c.want) || total != c.total {
					t.Errorf("%s: got %v (total %d), want %v (total %d)", c.name, ids, total, c.want, c.total)
				}
			}
		})

		t.Run("update", func(t *testing.T) {
			k, err := rd.APIKeyByID(ctx, scoped.ID)
			if err != nil {
				t.Fatal(err)
			}
			k.Name = "Renamed"
			k.Permissions.Endpoints = map[string][]string{"/api/user": {"GET"}}
			k.TenantID = ""
			k.IPAccessControlListID = ""
			k.MetaData = nil
			k.ExpirationInstant = nil
			k.LastUpdateInstant = 7000
			inTx(t, st, func(tx *store.Tx) error { return tx.UpdateAPIKey(ctx, k) })
			got, err := rd.APIKeyByID(ctx, scoped.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, k) {
				t.Errorf("after update:\n got %+v\nwant %+v", got, k)
			}
			if got.KeyHash != scoped.KeyHash || got.KeySealed != scoped.KeySealed {
				t.Errorf("update changed the stored key: %q %q", got.KeyHash, got.KeySealed)
			}
			ghost := *k
			ghost.ID = "nope"
			if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.UpdateAPIKey(ctx, &ghost) }); !errors.Is(err, store.ErrNotOne) {
				t.Errorf("update unknown key: %v, want ErrNotOne", err)
			}
			taken := *k
			taken.Name = "full MANAGER"
			if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.UpdateAPIKey(ctx, &taken) }); !store.IsUnique(err) {
				t.Errorf("rename to a taken name: %v, want a unique violation", err)
			}
		})

		t.Run("usage", func(t *testing.T) {
			inTx(t, st, func(tx *store.Tx) error {
				for _, u := range []store.KeyUsage{
					{ID: full.ID, Count: 3, LastUsed: 9000},
					{ID: full.ID, Count: 2, LastUsed: 8000}, // an older batch must not move last-used back
					{ID: "deleted-key", Count: 1, LastUsed: 9000},
				} {
					if err := tx.AddAPIKeyUsage(ctx, u); err != nil {
						return err
					}
				}
				return nil
			})
			got, err := rd.APIKeyByID(ctx, full.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.UseCount != 5 || got.LastUsedInstant == nil || *got.LastUsedInstant != 9000 {
				t.Errorf("usage = %d, last %v; want 5, 9000", got.UseCount, got.LastUsedInstant)
			}
		})

		t.Run("delete", func(t *testing.T) {
			inTx(t, st, func(tx *store.Tx) error { return tx.DeleteAPIKey(ctx, multi.ID) })
			if _, err := rd.APIKeyByID(ctx, multi.ID); !errors.Is(err, store.ErrNoRows) {
				t.Errorf("deleted key still found: %v", err)
			}
			if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteAPIKey(ctx, multi.ID) }); !errors.Is(err, store.ErrNotOne) {
				t.Errorf("second delete: %v, want ErrNotOne", err)
			}
		})
	})
}

func keyIDs(keys []*store.APIKeyRow) []string {
	var ids []string
	for _, k := range keys {
		ids = append(ids, k.ID)
	}
	return ids
}

func TestAudit(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		st := migrated(t, b)
		entries := []*model.AuditLog{
			{InsertInstant: 100, InsertUser: "API key Ops (k1)", Message: "Created API key [ops]", ActorType: "apiKey",
				ActorID: "k1", Method: "POST", Path: "/api/api-key", TargetID: "k2", IPAddress: "127.0.0.1", Severity: "info",
				NewValue: []byte(`{"id":"k2"}`), Data: []byte(`{"why":"test"}`), Reason: "rotation"},
			{InsertInstant: 200, InsertUser: "cli root@host", Message: "Deleted 100% of keys", ActorType: "cli",
				ActorID: "root", Severity: "critical", OldValue: []byte(`{"id":"k2"}`)},
			{InsertInstant: 300, InsertUser: "system", Message: "created the Default tenant", ActorType: "system", Severity: "info"},
		}
		inTx(t, st, func(tx *store.Tx) error {
			var last int64
			for _, e := range entries {
				id, err := tx.InsertAudit(ctx, e)
				if err != nil {
					return err
				}
				if id <= last || e.ID != id {
					t.Errorf("audit ids not increasing or not set: %d after %d (entry %d)", id, last, e.ID)
				}
				last = id
			}
			return nil
		})
		rd := st.Read()
		for _, want := range entries {
			got, err := rd.AuditByID(ctx, want.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("audit round trip:\n got %+v\nwant %+v", got, want)
			}
		}
		if _, err := rd.AuditByID(ctx, 999_999); !errors.Is(err, store.ErrNoRows) {
			t.Errorf("unknown audit id: %v", err)
		}
		id := func(i int) int64 { return entries[i].ID }
		cases := []struct {
			name          string
			f             store.AuditFilter
			offset, limit int
			want          []int64
			total         int
		}{
			{"all", store.AuditFilter{}, 0, 10, []int64{id(0), id(1), id(2)}, 3},
			{"descending page", store.AuditFilter{Descending: true}, 0, 2, []int64{id(2), id(1)}, 3},
			{"message any case", store.AuditFilter{Message: "CREATED"}, 0, 10, []int64{id(0), id(2)}, 2},
			{"message percent literal", store.AuditFilter{Message: "100%"}, 0, 10, []int64{id(1)}, 1},
			{"message underscore literal", store.AuditFilter{Message: "_"}, 0, 10, nil, 0},
			{"user", store.AuditFilter{User: "ROOT@"}, 0, 10, []int64{id(1)}, 1},
			{"start", store.AuditFilter{Start: 200}, 0, 10, []int64{id(1), id(2)}, 2},
			{"end", store.AuditFilter{End: 200}, 0, 10, []int64{id(0), id(1)}, 2},
			{"window", store.AuditFilter{Start: 150, End: 250}, 0, 10, []int64{id(1)}, 1},
			{"actor", store.AuditFilter{ActorID: "k1"}, 0, 10, []int64{id(0)}, 1},
			{"severity", store.AuditFilter{Severity: "critical"}, 0, 10, []int64{id(1)}, 1},
			{"offset", store.AuditFilter{}, 2, 10, []int64{id(2)}, 3},
		}
		for _, c := range cases {
			got, total, err := rd.SearchAudit(ctx, c.f, c.offset, c.limit)
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
				continue
			}
			var ids []int64
			for _, a := range got {
				ids = append(ids, a.ID)
			}
			if !slices.Equal(ids, c.want) || total != c.total {
				t.Errorf("%s: got %v (total %d), want %v (total %d)", c.name, ids, total, c.want, c.total)
			}
		}
	})
}

func TestSettingsTokensAndCacheVersions(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		st := migrated(t, b)
		rd := st.Read()

		if _, ok, err := rd.Setting(ctx, store.SettingSetupCompleted); err != nil || ok {
			t.Fatalf("absent setting: ok=%v err=%v", ok, err)
		}
		inTx(t, st, func(tx *store.Tx) error { return tx.InsertSetting(ctx, store.SettingSetupCompleted, "123") })
		if v, ok, err := rd.Setting(ctx, store.SettingSetupCompleted); err != nil || !ok || v != "123" {
			t.Fatalf("setting = %q ok=%v err=%v", v, ok, err)
		}
		err := st.InTx(ctx, func(tx *store.Tx) error { return tx.InsertSetting(ctx, store.SettingSetupCompleted, "456") })
		if !store.IsUnique(err) {
			t.Errorf("second insert: %v, want a unique violation", err)
		}
		if store.IsUnique(nil) || store.IsForeignKey(nil) || store.IsUnique(errors.New("boom")) {
			t.Error("IsUnique/IsForeignKey report plain errors as violations")
		}

		inTx(t, st, func(tx *store.Tx) error {
			if err := tx.InsertSetupToken(ctx, "hash-1", 1, 100); err != nil {
				return err
			}
			return tx.InsertSetupToken(ctx, "hash-2", 2, 200)
		})
		for _, c := range []struct {
			hash string
			now  int64
			want bool
		}{{"hash-1", 50, true}, {"hash-1", 100, false}, {"hash-2", 150, true}, {"hash-3", 50, false}, {"", 50, false}} {
			if got, err := rd.SetupTokenExists(ctx, c.hash, c.now); err != nil || got != c.want {
				t.Errorf("token %q exists at %d = %v (%v), want %v", c.hash, c.now, got, err, c.want)
			}
		}
		inTx(t, st, func(tx *store.Tx) error { return tx.DeleteSetupTokens(ctx) })
		if got, err := rd.SetupTokenExists(ctx, "hash-1", 50); err != nil || got {
			t.Errorf("token survived DeleteSetupTokens: %v %v", got, err)
		}

		v0, err := rd.CacheVersion(ctx, store.CacheAPIKeys)
		if err != nil {
			t.Fatal(err)
		}
		inTx(t, st, func(tx *store.Tx) error { return tx.BumpCacheVersion(ctx, store.CacheAPIKeys) })
		// A bump in a transaction that rolls back does not count.
		boom := errors.New("boom")
		if err := st.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.BumpCacheVersion(ctx, store.CacheAPIKeys); err != nil {
				return err
			}
			return boom
		}); !errors.Is(err, boom) {
			t.Fatalf("InTx returned %v, want the callback's error", err)
		}
		if v1, err := rd.CacheVersion(ctx, store.CacheAPIKeys); err != nil || v1 != v0+1 {
			t.Errorf("cache version %d → %d (%v), want +1", v0, v1, err)
		}
		// Several bumps of one name in a transaction count once; outside a
		// write transaction a bump is refused rather than lost.
		inTx(t, st, func(tx *store.Tx) error {
			for range 3 {
				if err := tx.BumpCacheVersion(ctx, store.CacheAPIKeys); err != nil {
					return err
				}
			}
			return nil
		})
		if v2, err := rd.CacheVersion(ctx, store.CacheAPIKeys); err != nil || v2 != v0+2 {
			t.Errorf("cache version %d after three bumps in one transaction, want %d (%v)", v2, v0+2, err)
		}
		if err := rd.BumpCacheVersion(ctx, store.CacheAPIKeys); err == nil {
			t.Error("BumpCacheVersion outside a transaction: no error")
		}
	})
}

// TestCacheBumpsInAnyOrder: writers that bump two caches in opposite orders
// at the same time all commit (the rows are updated at commit, sorted), where
// updating them in call order would deadlock on PostgreSQL.
func TestCacheBumpsInAnyOrder(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		st := migrated(t, b)
		v0, err := st.Read().CacheVersion(ctx, store.CacheIdentityConfig)
		if err != nil {
			t.Fatal(err)
		}
		orders := [][]string{{store.CacheAPIKeys, store.CacheIdentityConfig}, {store.CacheIdentityConfig, store.CacheAPIKeys}}
		const writers, rounds = 8, 20
		var wg sync.WaitGroup
		errs := make(chan error, writers*rounds)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range rounds {
					errs <- st.InTx(ctx, func(tx *store.Tx) error {
						for _, name := range orders[w%2] {
							if err := tx.BumpCacheVersion(ctx, name); err != nil {
								return err
							}
						}
						return nil
					})
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("a writer failed: %v", err)
			}
		}
		if v1, err := st.Read().CacheVersion(ctx, store.CacheIdentityConfig); err != nil || v1 != v0+writers*rounds {
			t.Errorf("identity_config version %d → %d (%v), want +%d", v0, v1, err, writers*rounds)
		}
	})
}

func TestIPACLs(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		st := migrated(t, b)
		rd := st.Read()
		lists := []*model.IPAccessControlList{
			{ID: "acl-1", Name: "Office", Entries: []model.IPAccessControlEntry{
				{Action: "Block", StartIPAddress: "*"}, {Action: "Allow", StartIPAddress: "10.0.0.1", EndIPAddress: "10.0.0.9"}},
				InsertInstant: 1, LastUpdateInstant: 1},
			{ID: "acl-2", Name: "backup_sites", Entries: []model.IPAccessControlEntry{{Action: "Allow", StartIPAddress: "*"}},
				InsertInstant: 2, LastUpdateInstant: 2},
		}
		inTx(t, st, func(tx *store.Tx) error {
			for _, l := range lists {
				if err := tx.InsertIPACL(ctx, l); err != nil {
					return err
				}
			}
			return nil
		})
		for _, want := range lists {
			got, err := rd.IPACLByID(ctx, want.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
			}
		}
		if _, err := rd.IPACLByID(ctx, "nope"); !errors.Is(err, store.ErrNoRows) {
			t.Errorf("unknown list: %v", err)
		}
		dup := &model.IPAccessControlList{ID: "acl-3", Name: "OFFICE", Entries: []model.IPAccessControlEntry{}}
		if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.InsertIPACL(ctx, dup) }); !store.IsUnique(err) {
			t.Errorf("duplicate name in other case: %v, want a unique violation", err)
		}

		search := []struct {
			name   string
			offset int
			want   []string
			total  int
		}{
			{"", 0, []string{"acl-2", "acl-1"}, 2}, // ordered by name
			{"", 1, []string{"acl-1"}, 2},
			{"OFF", 0, []string{"acl-1"}, 1},
			{"p_s", 0, []string{"acl-2"}, 1},
			{"%", 0, nil, 0},
		}
		for _, c := range search {
			got, total, err := rd.SearchIPACLs(ctx, c.name, c.offset, 10)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, l := range got {
				ids = append(ids, l.ID)
			}
			if !slices.Equal(ids, c.want) || total != c.total {
				t.Errorf("search %q offset %d: %v (total %d), want %v (total %d)", c.name, c.offset, ids, total, c.want, c.total)
			}
		}
		all, err := rd.AllIPACLs(ctx)
		if err != nil || len(all) != 2 {
			t.Errorf("AllIPACLs = %d lists, %v", len(all), err)
		}

		upd := *lists[0]
		upd.Name = "Head office"
		upd.Entries = []model.IPAccessControlEntry{{Action: "Allow", StartIPAddress: "*"}}
		upd.LastUpdateInstant = 50
		inTx(t, st, func(tx *store.Tx) error { return tx.UpdateIPACL(ctx, &upd) })
		if got, err := rd.IPACLByID(ctx, upd.ID); err != nil || !reflect.DeepEqual(got, &upd) {
			t.Errorf("after update: %+v, %v", got, err)
		}
		ghost := upd
		ghost.ID = "nope"
		if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.UpdateIPACL(ctx, &ghost) }); !errors.Is(err, store.ErrNotOne) {
			t.Errorf("update unknown: %v", err)
		}
		inTx(t, st, func(tx *store.Tx) error { return tx.DeleteIPACL(ctx, "acl-2") })
		if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteIPACL(ctx, "acl-2") }); !errors.Is(err, store.ErrNotOne) {
			t.Errorf("delete twice: %v", err)
		}
	})
}

func TestIdentity(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		st := migrated(t, b)
		rd := st.Read()
		t1 := &model.Tenant{ID: "tenant-1", Name: "Default", InsertInstant: 1, LastUpdateInstant: 1}
		t2 := &model.Tenant{ID: "tenant-2", Name: "Second", InsertInstant: 2, LastUpdateInstant: 2}
		adminApp := &model.Application{ID: model.AdminApplicationID, TenantID: t1.ID, Name: "FusionAuth", Active: true,
			InsertInstant: 1, LastUpdateInstant: 1, Roles: []model.ApplicationRole{
				{ID: model.AdminRoleID, Name: "admin", IsSuperRole: true, InsertInstant: 1, LastUpdateInstant: 1},
				{ID: "role-2", Name: "user_manager", InsertInstant: 1, LastUpdateInstant: 1},
			}}
		otherApp := &model.Application{ID: "app-2", TenantID: t2.ID, Name: "Other", Active: true, InsertInstant: 2, LastUpdateInstant: 2}
		inTx(t, st, func(tx *store.Tx) error {
			for _, tn := range []*model.Tenant{t1, t2} {
				if err := tx.InsertTenant(ctx, tn, "{}"); err != nil {
					return err
				}
			}
			for _, a := range []*model.Application{adminApp, otherApp} {
				if err := tx.InsertApplication(ctx, a, "{}"); err != nil {
					return err
				}
			}
			return nil
		})

		if ok, err := rd.TenantExists(ctx, t1.ID); err != nil || !ok {
			t.Errorf("tenant exists = %v, %v", ok, err)
		}
		if ok, err := rd.TenantExists(ctx, "nope"); err != nil || ok {
			t.Errorf("unknown tenant exists = %v, %v", ok, err)
		}
		if ids, err := rd.TenantIDs(ctx); err != nil || !slices.Equal(ids, []string{t1.ID, t2.ID}) {
			t.Errorf("tenant ids = %v, %v", ids, err)
		}
		if tid, err := rd.ApplicationTenantID(ctx, otherApp.ID); err != nil || tid != t2.ID {
			t.Errorf("application tenant = %q, %v", tid, err)
		}
		if _, err := rd.ApplicationTenantID(ctx, "nope"); !errors.Is(err, store.ErrNoRows) {
			t.Errorf("unknown application: %v", err)
		}

		constraints := []struct {
			name  string
			fn    func(tx *store.Tx) error
			check func(error) bool
		}{
			{"tenant name any case", func(tx *store.Tx) error {
				return tx.InsertTenant(ctx, &model.Tenant{ID: "tenant-3", Name: "DEFAULT"}, "{}")
			}, store.IsUnique},
			{"application in unknown tenant", func(tx *store.Tx) error {
				return tx.InsertApplication(ctx, &model.Application{ID: "app-3", TenantID: "nope", Name: "x"}, "{}")
			}, store.IsForeignKey},
			{"duplicate role name", func(tx *store.Tx) error {
				return tx.InsertApplication(ctx, &model.Application{ID: "app-4", TenantID: t1.ID, Name: "x", Roles: []model.ApplicationRole{
					{ID: "r-a", Name: "viewer"}, {ID: "r-b", Name: "viewer"}}}, "{}")
			}, store.IsUnique},
		}
		for _, c := range constraints {
			if err := st.InTx(ctx, c.fn); !c.check(err) {
				t.Errorf("%s: %v", c.name, err)
			}
		}

		admin := &model.UserRecord{ID: "user-1", TenantID: t1.ID, Email: "Admin@Example.com", FullName: "Ada Admin",
			Active: true, Verified: true, InsertInstant: 10, LastUpdateInstant: 10, PasswordLastUpdateInstant: 10}
		inTx(t, st, func(tx *store.Tx) error { return tx.InsertUser(ctx, admin, "hash-1") })

		t.Run("unique email per tenant, any case", func(t *testing.T) {
			cases := []struct {
				name   string
				tenant string
				email  string
				unique bool
			}{
				{"same tenant, other case", t1.ID, "admin@EXAMPLE.COM", true},
				{"same tenant, same case", t1.ID, "Admin@Example.com", true},
				{"other tenant", t2.ID, "admin@example.com", false},
			}
			for i, c := range cases {
				u := &model.UserRecord{ID: "dup-" + string(rune('a'+i)), TenantID: c.tenant, Email: c.email, InsertInstant: 11, LastUpdateInstant: 11}
				err := st.InTx(ctx, func(tx *store.Tx) error { return tx.InsertUser(ctx, u, "") })
				if c.unique && !store.IsUnique(err) {
					t.Errorf("%s: %v, want a unique violation", c.name, err)
				}
				if !c.unique && err != nil {
					t.Errorf("%s: %v", c.name, err)
				}
			}
			// Users without email do not collide on it.
			for _, id := range []string{"noemail-1", "noemail-2"} {
				u := &model.UserRecord{ID: id, TenantID: t1.ID, Username: id, InsertInstant: 12, LastUpdateInstant: 12}
				if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.InsertUser(ctx, u, "") }); err != nil {
					t.Errorf("user without email %s: %v", id, err)
				}
			}
		})

		t.Run("user by email", func(t *testing.T) {
			got, hash, err := rd.UserByEmail(ctx, t1.ID, "ADMIN@example.COM")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, admin) || hash != "hash-1" {
				t.Errorf("got %+v %q, want %+v", got, hash, admin)
			}
			if _, _, err := rd.UserByEmail(ctx, t2.ID, "nobody@example.com"); !errors.Is(err, store.ErrNoRows) {
				t.Errorf("unknown email: %v", err)
			}
			inTx(t, st, func(tx *store.Tx) error { return tx.SetUserPassword(ctx, admin.ID, "hash-2", true, 20) })
			got, hash, err = rd.UserByEmail(ctx, t1.ID, admin.Email)
			if err != nil || hash != "hash-2" || !got.PasswordChangeRequired || got.PasswordLastUpdateInstant != 20 {
				t.Errorf("after SetUserPassword: %+v %q %v", got, hash, err)
			}
			if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.SetUserPassword(ctx, "nope", "h", false, 1) }); !errors.Is(err, store.ErrNotOne) {
				t.Errorf("password of unknown user: %v", err)
			}
		})

		t.Run("registrations and admins", func(t *testing.T) {
			count := func() int {
				t.Helper()
				n, err := rd.CountAdmins(ctx)
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			if n := count(); n != 0 {
				t.Errorf("admins before any registration: %d", n)
			}
			// Only the admin role on the admin application makes an admin.
			regs := []*model.UserRegistration{
				{ID: "reg-1", UserID: "noemail-1", ApplicationID: model.AdminApplicationID, Roles: []string{"user_manager", "not_admin"}},
				{ID: "reg-2", UserID: admin.ID, ApplicationID: otherApp.ID, Roles: []string{"admin"}},
				{ID: "reg-3", UserID: "noemail-2", ApplicationID: model.AdminApplicationID},
			}
			inTx(t, st, func(tx *store.Tx) error {
				for _, r := range regs {
					if err := tx.InsertRegistration(ctx, r); err != nil {
						return err
					}
				}
				return nil
			})
			if n := count(); n != 0 {
				t.Errorf("admins without an admin role on the admin app: %d", n)
			}
			inTx(t, st, func(tx *store.Tx) error {
				return tx.InsertRegistration(ctx, &model.UserRegistration{ID: "reg-4", UserID: admin.ID,
					ApplicationID: model.AdminApplicationID, Roles: []string{"admin"}})
			})
			if n := count(); n != 1 {
				t.Errorf("admins = %d, want 1", n)
			}
			roles, ok, err := rd.RegistrationRoles(ctx, admin.ID, model.AdminApplicationID)
			if err != nil || !ok || !slices.Equal(roles, []string{"admin"}) {
				t.Errorf("roles = %v ok=%v err=%v", roles, ok, err)
			}
			if roles, ok, err := rd.RegistrationRoles(ctx, "noemail-2", model.AdminApplicationID); err != nil || !ok || len(roles) != 0 {
				t.Errorf("no roles = %v ok=%v err=%v", roles, ok, err)
			}
			if _, ok, err := rd.RegistrationRoles(ctx, admin.ID, "nope"); err != nil || ok {
				t.Errorf("absent registration ok=%v err=%v", ok, err)
			}
			inTx(t, st, func(tx *store.Tx) error {
				return tx.SetRegistrationRoles(ctx, "noemail-1", model.AdminApplicationID, []string{"admin"}, 30)
			})
			if n := count(); n != 2 {
				t.Errorf("admins after granting admin = %d, want 2", n)
			}
			cases := []struct {
				name  string
				reg   model.UserRegistration
				check func(error) bool
			}{
				{"twice to one app", model.UserRegistration{ID: "reg-5", UserID: admin.ID, ApplicationID: model.AdminApplicationID}, store.IsUnique},
				{"unknown app", model.UserRegistration{ID: "reg-6", UserID: admin.ID, ApplicationID: "nope"}, store.IsForeignKey},
				{"unknown user", model.UserRegistration{ID: "reg-7", UserID: "nope", ApplicationID: otherApp.ID}, store.IsForeignKey},
			}
			for _, c := range cases {
				if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.InsertRegistration(ctx, &c.reg) }); !c.check(err) {
					t.Errorf("%s: %v", c.name, err)
				}
			}
			if err := st.InTx(ctx, func(tx *store.Tx) error {
				return tx.SetRegistrationRoles(ctx, "nope", model.AdminApplicationID, nil, 1)
			}); !errors.Is(err, store.ErrNotOne) {
				t.Errorf("roles of absent registration: %v", err)
			}
		})
	})
}
