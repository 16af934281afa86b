package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/signing"
	"github.com/latchid/latch/internal/store"
)

// Signing is the contract of signing.Storage: its KeyStorage, and the
// settings, cache versions and tenant and application data it reads and
// writes beside them.
func Signing(t *testing.T, st *store.Store) {
	type S = signing.Storage
	ctx := context.Background()
	f := newFixture(t, st)
	key := func(name, alg string, at, exp int64) *store.SigningKeyRow {
		id := uuid.NewString()
		return &store.SigningKeyRow{ID: id, Name: name, Algorithm: alg, Type: "EC", Length: 256, Kid: "kid-" + id[:8],
			PublicKey: "-----BEGIN PUBLIC KEY-----", PrivateSealed: "sealed", Issuer: "acme", ExpirationInstant: exp,
			InsertInstant: at, LastUpdateInstant: at}
	}
	a, b, c := key("Access ES256", "ES256", 1, 0), key("id_tokens", "ES384", 2, 500), key("HMAC one", "HS256", 3, 100)
	c.Type, c.PublicKey, c.Issuer = "HMAC", "", ""
	mustWrite(t, st, func(s S) error {
		return errors.Join(s.InsertSigningKey(ctx, a), s.InsertSigningKey(ctx, b), s.InsertSigningKey(ctx, c))
	})
	got, err := read[S](st).SigningKeyByID(ctx, b.ID)
	ok(t, "by id", err)
	if *got != *b {
		t.Errorf("by id: %+v, want %+v", got, b)
	}
	_, err = read[S](st).SigningKeyByID(ctx, "nope")
	noRows(t, "unknown key", err)
	all, err := read[S](st).AllSigningKeys(ctx)
	ok(t, "all", err)
	if len(all) != 3 || all[0].ID != a.ID || all[2].ID != c.ID || *all[2] != *c {
		t.Errorf("all: %v", all)
	}

	// Unique id, name (any case) and kid; the Taken reads agree.
	for _, u := range []struct {
		name  string
		k     func() *store.SigningKeyRow
		field string
	}{
		{"same id", func() *store.SigningKeyRow { k := key("x1", "ES256", 4, 0); k.ID = a.ID; return k }, "id"},
		{"same name", func() *store.SigningKeyRow { return key("ACCESS es256", "ES256", 4, 0) }, "name"},
		{"same kid", func() *store.SigningKeyRow { k := key("x2", "ES256", 4, 0); k.Kid = a.Kid; return k }, "kid"},
	} {
		err := write(st, func(s S) error { return s.InsertSigningKey(ctx, u.k()) })
		if !store.IsUnique(err) || store.SigningKeyUniqueField(err) != u.field {
			t.Errorf("%s: %v (field %q), want a unique violation of %s", u.name, err, store.SigningKeyUniqueField(err), u.field)
		}
	}
	for _, q := range []struct {
		name, except string
		want         bool
	}{{"access es256", "", true}, {"access es256", a.ID, false}, {"other", "", false}} {
		taken, err := read[S](st).SigningKeyNameTaken(ctx, q.name, q.except)
		ok(t, "name taken", err)
		if taken != q.want {
			t.Errorf("name %q taken except %q = %v", q.name, q.except, taken)
		}
	}
	for kid, want := range map[string]bool{a.Kid: true, "kid-none": false} {
		if taken, err := read[S](st).SigningKeyKidTaken(ctx, kid); err != nil || taken != want {
			t.Errorf("kid %s taken = %v, %v", kid, taken, err)
		}
	}

	// Rename is the one change; unknown keys match nothing.
	mustWrite(t, st, func(s S) error { return s.RenameSigningKey(ctx, b.ID, "ID tokens", 9) })
	got, err = read[S](st).SigningKeyByID(ctx, b.ID)
	ok(t, "after rename", err)
	if got.Name != "ID tokens" || got.LastUpdateInstant != 9 || got.Kid != b.Kid {
		t.Errorf("after rename: %+v", got)
	}
	if err := write(st, func(s S) error { return s.RenameSigningKey(ctx, b.ID, "hmac ONE", 10) }); !store.IsUnique(err) {
		t.Errorf("rename to a taken name: %v", err)
	}
	if err := write(st, func(s S) error { return s.RenameSigningKey(ctx, "nope", "x", 10) }); !errors.Is(err, store.ErrNotOne) {
		t.Errorf("rename of an unknown key: %v", err)
	}

	// Search: FusionAuth's name pattern, algorithm, type, orders, paging.
	names := func(rows []*store.SigningKeyRow) string {
		var out []string
		for _, k := range rows {
			out = append(out, k.Name)
		}
		return strings.Join(out, ",")
	}
	for _, q := range []struct {
		q             store.SigningKeyQuery
		offset, limit int
		want          string
		total         int
	}{
		{store.SigningKeyQuery{}, 0, 10, "Access ES256,HMAC one,ID tokens", 3},
		{store.SigningKeyQuery{Name: store.LikePattern("es2")}, 0, 10, "Access ES256", 1},
		{store.SigningKeyQuery{Name: store.LikePattern("*ON*")}, 0, 10, "HMAC one", 1},
		{store.SigningKeyQuery{Name: store.LikePattern("%")}, 0, 10, "", 0},
		{store.SigningKeyQuery{Algorithm: "ES384"}, 0, 10, "ID tokens", 1},
		{store.SigningKeyQuery{Type: "EC", Descending: true}, 0, 10, "ID tokens,Access ES256", 2},
		{store.SigningKeyQuery{OrderBy: "expiration", Descending: true}, 0, 10, "ID tokens,HMAC one,Access ES256", 3},
		{store.SigningKeyQuery{OrderBy: "insertInstant"}, 1, 1, "ID tokens", 3},
	} {
		rows, total, err := read[S](st).SearchSigningKeys(ctx, q.q, q.offset, q.limit)
		ok(t, "search", err)
		if names(rows) != q.want || total != q.total {
			t.Errorf("search %+v: %s (total %d), want %s (total %d)", q.q, names(rows), total, q.want, q.total)
		}
	}
	if _, _, err := read[S](st).SearchSigningKeys(ctx, store.SigningKeyQuery{OrderBy: "private_sealed"}, 0, 1); err == nil {
		t.Error("an unknown order was accepted")
	}

	// Tenant and application data around keys.
	tid, tdata, err := read[S](st).DefaultTenantData(ctx, f.App)
	ok(t, "tenant of the application", err)
	if tid != f.Tenant || tdata != "{}" {
		t.Errorf("tenant data: %s %s", tid, tdata)
	}
	_, _, err = read[S](st).DefaultTenantData(ctx, "nope")
	noRows(t, "tenant of an unknown application", err)
	names2 := `{"jwtConfiguration":{"accessTokenKeyId":"` + a.ID + `"}}`
	before, err := read[S](st).CacheVersion(ctx, "identity_config")
	ok(t, "cache version", err)
	mustWrite(t, st, func(s S) error { return s.SetTenantData(ctx, f.Tenant, names2, 20) })
	if after, err := read[S](st).CacheVersion(ctx, "identity_config"); err != nil || after != before+1 {
		t.Errorf("tenant data written: identity_config version %d → %d, %v; want one bump", before, after, err)
	}
	if err := write(st, func(s S) error { return s.SetTenantData(ctx, "nope", "{}", 20) }); !errors.Is(err, store.ErrNotOne) {
		t.Errorf("data of an unknown tenant: %v", err)
	}
	appData, tenantData, err := read[S](st).ApplicationAndTenantData(ctx, f.App)
	ok(t, "application and tenant data", err)
	if appData != "{}" || tenantData != names2 {
		t.Errorf("application and tenant data: %s, %s", appData, tenantData)
	}
	_, _, err = read[S](st).ApplicationAndTenantData(ctx, "nope")
	noRows(t, "data of an unknown application", err)
	holders, err := read[S](st).Holders(ctx, a.ID)
	ok(t, "holders", err)
	if len(holders) != 1 || holders[0].Kind != "tenant" || holders[0].ID != f.Tenant || holders[0].Data != names2 {
		t.Errorf("holders of a: %+v", holders)
	}
	if holders, err := read[S](st).Holders(ctx, b.ID); err != nil || len(holders) != 0 {
		t.Errorf("holders of b: %+v, %v", holders, err)
	}

	// Settings are written once; cache versions move once a transaction.
	name := "storetest_" + uuid.NewString()
	if v, found, err := read[S](st).Setting(ctx, name); err != nil || found || v != "" {
		t.Errorf("absent setting: %q %v %v", v, found, err)
	}
	mustWrite(t, st, func(s S) error { return s.InsertSetting(ctx, name, "1") })
	if err := write(st, func(s S) error { return s.InsertSetting(ctx, name, "2") }); !store.IsUnique(err) {
		t.Errorf("second setting: %v", err)
	}
	if v, found, err := read[S](st).Setting(ctx, name); err != nil || !found || v != "1" {
		t.Errorf("setting: %q %v %v", v, found, err)
	}
	v0, err := read[S](st).CacheVersion(ctx, store.CacheSigningKeys)
	ok(t, "cache version", err)
	mustWrite(t, st, func(s S) error {
		return errors.Join(s.BumpCacheVersion(ctx, store.CacheSigningKeys), s.BumpCacheVersion(ctx, store.CacheSigningKeys))
	})
	if v, err := read[S](st).CacheVersion(ctx, store.CacheSigningKeys); err != nil || v != v0+1 {
		t.Errorf("after two bumps in one transaction: %d → %d, %v", v0, v, err)
	}
	if err := read[S](st).BumpCacheVersion(ctx, store.CacheSigningKeys); err == nil {
		t.Error("a bump outside a write transaction went through")
	}
	if err := write(st, func(s S) error {
		if err := s.BumpCacheVersion(ctx, store.CacheSigningKeys); err != nil {
			return err
		}
		return errors.New("roll back")
	}); err == nil {
		t.Fatal("the failing transaction committed")
	}
	if v, _ := read[S](st).CacheVersion(ctx, store.CacheSigningKeys); v != v0+1 {
		t.Errorf("a rolled-back bump moved the version to %d", v)
	}

	// Delete once.
	mustWrite(t, st, func(s S) error { return s.DeleteSigningKey(ctx, c.ID) })
	_, err = read[S](st).SigningKeyByID(ctx, c.ID)
	noRows(t, "deleted key", err)
	if err := write(st, func(s S) error { return s.DeleteSigningKey(ctx, c.ID) }); !errors.Is(err, store.ErrNotOne) {
		t.Errorf("delete twice: %v", err)
	}
	if exists, err := read[S](st).LockSigningKey(ctx, c.ID); err != nil || exists {
		t.Errorf("lock a deleted key: %v, %v", exists, err)
	}

	// A deletion racing a tenant that starts naming the key: both take
	// LockSigningKey first, so exactly one goes through. The deletion
	// refuses a key a tenant names; the tenant refuses a key that is gone.
	for round := range 3 {
		k := key("raced "+uuid.NewString(), "ES256", int64(10+round), 0)
		mustWrite(t, st, func(s S) error { return s.InsertSigningKey(ctx, k) })
		mustWrite(t, st, func(s S) error { return s.SetTenantData(ctx, f.Tenant, "{}", 30) })
		oneWinner(t, "delete a key a tenant starts to name", race(st, 2, func(i int, g *gate, s S) error {
			_, err := s.SigningKeyByID(ctx, k.ID) // the transaction has begun
			g.wait()
			if errors.Is(err, store.ErrNoRows) { // SQLite: the deletion ran first
				return errLost
			} else if err != nil {
				return err
			}
			exists, err := s.LockSigningKey(ctx, k.ID)
			if err != nil {
				return err
			}
			if !exists {
				return errLost
			}
			if i == 0 { // the tenant
				return s.SetTenantData(ctx, f.Tenant, `{"jwtConfiguration":{"idTokenKeyId":"`+k.ID+`"}}`, 31)
			}
			holders, err := s.Holders(ctx, k.ID)
			if err != nil {
				return err
			}
			if len(holders) > 0 {
				return errLost
			}
			return s.DeleteSigningKey(ctx, k.ID)
		}))
	}
}
