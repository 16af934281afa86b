package storetest

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/access"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// APIKeys is the contract of access.KeyStorage.
func APIKeys(t *testing.T, st *store.Store) {
	type S = access.KeyStorage
	ctx := context.Background()
	f := newFixture(t, st)
	const now = int64(1_000_000)
	exp := now + 100
	newKey := func(name string, manager bool) *store.APIKeyRow {
		id := uuid.NewString()
		return &store.APIKeyRow{APIKey: model.APIKey{ID: id, Name: name, KeyManager: manager,
			InsertInstant: now, LastUpdateInstant: now}, KeyHash: strings.ReplaceAll(id, "-", "") + "00000000000000000000000000000000"}
	}
	full := newKey("Full Manager", true)
	reader := newKey("Tenant reader", false)
	reader.TenantID = f.Tenant
	reader.Permissions.Endpoints = map[string][]string{"/api/user": {"GET"}}
	reader.ExpirationInstant = &exp
	reader.MetaData = &model.APIKeyMetaData{Attributes: map[string]string{"description": "reads users"}}
	reader.InsertInstant = now + 1
	sealed := newKey("", false)
	sealed.Retrievable, sealed.KeySealed = true, "sealed-value"
	sealed.TenantIDs = []string{f.Tenant, "another-tenant"}
	sealed.InsertInstant = now + 2
	mustWrite(t, st, func(s S) error {
		return errors.Join(s.InsertAPIKey(ctx, full), s.InsertAPIKey(ctx, reader), s.InsertAPIKey(ctx, sealed))
	})

	// Read back by id and hash.
	same := func(what string, got, want *store.APIKeyRow) {
		t.Helper()
		w := *want
		if w.Permissions.Endpoints == nil {
			w.Permissions.Endpoints = map[string][]string{}
		}
		if !reflect.DeepEqual(got, &w) {
			t.Errorf("%s:\n got %+v\nwant %+v", what, got, &w)
		}
	}
	for _, k := range []*store.APIKeyRow{full, reader, sealed} {
		got, err := read[S](st).APIKeyByID(ctx, k.ID)
		ok(t, "by id", err)
		same("by id", got, k)
		got, err = read[S](st).APIKeyByHash(ctx, k.KeyHash)
		ok(t, "by hash", err)
		same("by hash", got, k)
	}
	_, err := read[S](st).APIKeyByID(ctx, "nope")
	noRows(t, "unknown id", err)
	_, err = read[S](st).APIKeyByHash(ctx, "nope")
	noRows(t, "unknown hash", err)

	// Unique id, hash and name (in any case); the IP ACL must exist.
	for _, c := range []struct {
		name  string
		key   func() *store.APIKeyRow
		is    func(error) bool
		field string
	}{
		{"same id", func() *store.APIKeyRow { k := newKey("x1", false); k.ID = full.ID; return k }, store.IsUnique, "id"},
		{"same hash", func() *store.APIKeyRow { k := newKey("x2", false); k.KeyHash = full.KeyHash; return k }, store.IsUnique, "key"},
		{"same name in other case", func() *store.APIKeyRow { return newKey("FULL MANAGER", false) }, store.IsUnique, "name"},
		{"unknown ip acl", func() *store.APIKeyRow { k := newKey("x3", false); k.IPAccessControlListID = "nope"; return k }, store.IsForeignKey, ""},
	} {
		err := write(st, func(s S) error { return s.InsertAPIKey(ctx, c.key()) })
		if !c.is(err) {
			t.Errorf("%s: %v", c.name, err)
		} else if got := store.APIKeyUniqueField(err); got != c.field {
			t.Errorf("%s: unique field %q, want %q", c.name, got, c.field)
		}
	}

	// Update rewrites the mutable fields; the hash and sealed value stay.
	upd := *reader
	upd.Name, upd.TenantID, upd.ExpirationInstant, upd.MetaData = "Renamed reader", "", nil, nil
	upd.Permissions.Endpoints = map[string][]string{"/api/user": {"GET", "POST"}}
	upd.LastUpdateInstant = now + 5
	mustWrite(t, st, func(s S) error { return s.UpdateAPIKey(ctx, &upd) })
	got, err := read[S](st).APIKeyByID(ctx, reader.ID)
	ok(t, "after update", err)
	same("after update", got, &upd)
	if err := write(st, func(s S) error { k := *full; k.Name = "renamed reader"; return s.UpdateAPIKey(ctx, &k) }); !store.IsUnique(err) {
		t.Errorf("update to a taken name: %v", err)
	}
	if err := write(st, func(s S) error { k := *newKey("ghost", false); return s.UpdateAPIKey(ctx, &k) }); !errors.Is(err, store.ErrNotOne) {
		t.Errorf("update of an unknown key: %v", err)
	}
	reader = &upd

	// Listing filters and pages in insert order, with the total.
	yes, no := true, false
	for _, c := range []struct {
		name          string
		f             store.APIKeyFilter
		offset, limit int
		want          []string
		total         int
	}{
		{"all", store.APIKeyFilter{}, 0, 10, []string{full.ID, reader.ID, sealed.ID}, 3},
		{"page", store.APIKeyFilter{}, 1, 1, []string{reader.ID}, 3},
		{"name", store.APIKeyFilter{Name: "READER"}, 0, 10, []string{reader.ID}, 1},
		{"name with a wildcard", store.APIKeyFilter{Name: "%"}, 0, 10, nil, 0},
		{"tenant", store.APIKeyFilter{TenantID: "another-tenant"}, 0, 10, []string{sealed.ID}, 1},
		{"managers", store.APIKeyFilter{KeyManager: &yes}, 0, 10, []string{full.ID}, 1},
		{"not managers", store.APIKeyFilter{KeyManager: &no}, 0, 10, []string{reader.ID, sealed.ID}, 2},
		{"not expired", store.APIKeyFilter{Expired: &no, Now: now}, 0, 10, []string{full.ID, reader.ID, sealed.ID}, 3},
		{"expired", store.APIKeyFilter{Expired: &yes, Now: now}, 0, 10, nil, 0},
	} {
		rows, total, err := read[S](st).ListAPIKeys(ctx, c.f, c.offset, c.limit)
		ok(t, c.name, err)
		if !slices.Equal(keyIDs(rows), c.want) || total != c.total {
			t.Errorf("list %s: %v (total %d), want %v (total %d)", c.name, keyIDs(rows), total, c.want, c.total)
		}
	}
	all, err := read[S](st).AllAPIKeys(ctx)
	ok(t, "all", err)
	if ids := keyIDs(all); len(ids) != 3 || !slices.Contains(ids, full.ID) || !slices.Contains(ids, sealed.ID) {
		t.Errorf("all keys: %v", ids)
	}
	if n, err := read[S](st).CountAPIKeys(ctx); err != nil || n != 3 {
		t.Errorf("count = %d, %v; want 3", n, err)
	}

	// Usage adds up; a deleted key's usage is skipped.
	for _, u := range []store.KeyUsage{{ID: full.ID, Count: 3, LastUsed: now + 10}, {ID: full.ID, Count: 2, LastUsed: now + 20},
		{ID: "deleted-meanwhile", Count: 1, LastUsed: now}} {
		mustWrite(t, st, func(s S) error { return s.AddAPIKeyUsage(ctx, u) })
	}
	got, err = read[S](st).APIKeyByID(ctx, full.ID)
	ok(t, "after usage", err)
	if got.UseCount != 5 || got.LastUsedInstant == nil || *got.LastUsedInstant != now+20 {
		t.Errorf("usage: count %d, last used %v", got.UseCount, got.LastUsedInstant)
	}

	// Delete once.
	mustWrite(t, st, func(s S) error { return s.DeleteAPIKey(ctx, sealed.ID) })
	_, err = read[S](st).APIKeyByID(ctx, sealed.ID)
	noRows(t, "deleted key", err)
	if err := write(st, func(s S) error { return s.DeleteAPIKey(ctx, sealed.ID) }); !errors.Is(err, store.ErrNotOne) {
		t.Errorf("delete twice: %v", err)
	}

	// The last key-manager key: two transactions each delete a different one
	// of the two managers, deciding under LockAPIKeys on what they read.
	// Exactly one goes through; one manager is left.
	for round := range 3 {
		other := newKey("", true)
		other.InsertInstant = now + 10 + int64(round)
		mustWrite(t, st, func(s S) error { return s.InsertAPIKey(ctx, other) })
		targets := []string{full.ID, other.ID}
		oneWinner(t, "delete the last manager", race(st, 2, func(i int, g *gate, s S) error {
			if _, err := s.CountAPIKeys(ctx); err != nil { // the transaction has begun
				return err
			}
			g.wait()
			if err := s.LockAPIKeys(ctx); err != nil {
				return err
			}
			keys, err := s.AllAPIKeys(ctx)
			if err != nil {
				return err
			}
			managers := 0
			for _, k := range keys {
				if k.KeyManager {
					managers++
				}
			}
			if managers < 2 {
				return errLost // the guard refuses: this would delete the last one
			}
			return s.DeleteAPIKey(ctx, targets[i])
		}))
		managers := true
		rows, total, err := read[S](st).ListAPIKeys(ctx, store.APIKeyFilter{KeyManager: &managers}, 0, 10)
		ok(t, "managers left", err)
		if total != 1 {
			t.Fatalf("managers left: %v, want exactly one", keyIDs(rows))
		}
		full = rows[0]
	}
}

func keyIDs(rows []*store.APIKeyRow) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.ID)
	}
	return out
}
