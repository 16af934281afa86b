package storetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/access"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// IPACLs is the contract of access.IPACLStorage.
func IPACLs(t *testing.T, st *store.Store) {
	type S = access.IPACLStorage
	ctx := context.Background()
	acl := func(name string, at int64) *model.IPAccessControlList {
		return &model.IPAccessControlList{ID: uuid.NewString(), Name: name, InsertInstant: at, LastUpdateInstant: at,
			Entries: []model.IPAccessControlEntry{{Action: "Allow", StartIPAddress: "10.0.0.1", EndIPAddress: "10.0.0.9"}}}
	}
	office, home, lab := acl("Office", 3), acl("home", 1), acl("Lab_1", 2)
	mustWrite(t, st, func(s S) error {
		return errors.Join(s.InsertIPACL(ctx, office), s.InsertIPACL(ctx, home), s.InsertIPACL(ctx, lab))
	})
	got, err := read[S](st).IPACLByID(ctx, office.ID)
	ok(t, "by id", err)
	if got.Name != office.Name || !slices.Equal(got.Entries, office.Entries) || got.InsertInstant != 3 {
		t.Errorf("by id: %+v, want %+v", got, office)
	}
	_, err = read[S](st).IPACLByID(ctx, "nope")
	noRows(t, "unknown id", err)

	// Names are unique in any case; IPACLNameTaken says so first.
	if err := write(st, func(s S) error { return s.InsertIPACL(ctx, acl("OFFICE", 4)) }); !store.IsUnique(err) {
		t.Errorf("same name: %v", err)
	}
	if err := write(st, func(s S) error { dup := acl("x", 4); dup.ID = office.ID; return s.InsertIPACL(ctx, dup) }); !store.IsUnique(err) {
		t.Errorf("same id: %v", err)
	}
	for _, c := range []struct {
		name, except string
		want         bool
	}{{"office", "", true}, {"office", office.ID, false}, {"OFFICE", home.ID, true}, {"garage", "", false}} {
		taken, err := read[S](st).IPACLNameTaken(ctx, c.name, c.except)
		ok(t, "name taken", err)
		if taken != c.want {
			t.Errorf("name %q taken except %q = %v, want %v", c.name, c.except, taken, c.want)
		}
	}

	// Search by name substring (wildcards are literal), in the chosen order.
	names := func(lists []*model.IPAccessControlList) string {
		var out []string
		for _, a := range lists {
			out = append(out, a.Name)
		}
		return strings.Join(out, ",")
	}
	for _, c := range []struct {
		q             store.IPACLQuery
		offset, limit int
		want          string
		total         int
	}{
		{store.IPACLQuery{}, 0, 10, "home,Lab_1,Office", 3},
		{store.IPACLQuery{Descending: true}, 0, 2, "Office,Lab_1", 3},
		{store.IPACLQuery{OrderBy: "insertInstant"}, 0, 10, "home,Lab_1,Office", 3},
		{store.IPACLQuery{OrderBy: "insertInstant", Descending: true}, 1, 10, "Lab_1,home", 3},
		{store.IPACLQuery{Name: "O"}, 0, 10, "home,Office", 2},
		{store.IPACLQuery{Name: "_"}, 0, 10, "Lab_1", 1},
	} {
		lists, total, err := read[S](st).SearchIPACLsOrdered(ctx, c.q, c.offset, c.limit)
		ok(t, "search", err)
		if names(lists) != c.want || total != c.total {
			t.Errorf("search %+v: %s (total %d), want %s (total %d)", c.q, names(lists), total, c.want, c.total)
		}
	}
	if _, _, err := read[S](st).SearchIPACLsOrdered(ctx, store.IPACLQuery{OrderBy: "entries; DROP"}, 0, 1); err == nil {
		t.Error("an unknown order was accepted")
	}
	all, err := read[S](st).AllIPACLs(ctx)
	ok(t, "all", err)
	if names(all) != "home,Lab_1,Office" {
		t.Errorf("all: %s", names(all))
	}

	// Update; unknown ids match nothing.
	upd := *home
	upd.Name, upd.Entries, upd.LastUpdateInstant = "Home office", []model.IPAccessControlEntry{{Action: "Block", StartIPAddress: "*"}}, 9
	mustWrite(t, st, func(s S) error { return s.UpdateIPACL(ctx, &upd) })
	got, err = read[S](st).IPACLByID(ctx, home.ID)
	ok(t, "after update", err)
	if got.Name != "Home office" || !slices.Equal(got.Entries, upd.Entries) || got.LastUpdateInstant != 9 {
		t.Errorf("after update: %+v", got)
	}
	if err := write(st, func(s S) error { u := upd; u.Name = "lab_1"; return s.UpdateIPACL(ctx, &u) }); !store.IsUnique(err) {
		t.Errorf("update to a taken name: %v", err)
	}
	if err := write(st, func(s S) error { return s.UpdateIPACL(ctx, acl("ghost", 1)) }); !errors.Is(err, store.ErrNotOne) {
		t.Errorf("update of an unknown list: %v", err)
	}

	// A list a key uses cannot go (foreign key); the keys using it are listed.
	var keys []string
	for i := range 3 {
		id := uuid.NewString()
		keys = append(keys, id)
		if _, err := st.DB().ExecContext(ctx, `INSERT INTO api_keys (id, key_hash, ip_acl_id, insert_instant, last_update_instant)
			VALUES ($1, $2, $3, $4, $4)`, id, "hash-"+id, office.ID, int64(10+i)); err != nil {
			t.Fatal(err)
		}
	}
	using, err := read[S](st).APIKeysUsingIPACL(ctx, office.ID, 2)
	ok(t, "keys using", err)
	if !slices.Equal(using, keys[:2]) {
		t.Errorf("keys using: %v, want %v", using, keys[:2])
	}
	if err := write(st, func(s S) error { return s.DeleteIPACL(ctx, office.ID) }); !store.IsForeignKey(err) {
		t.Errorf("delete a used list: %v", err)
	}
	mustWrite(t, st, func(s S) error { return s.DeleteIPACL(ctx, lab.ID) })
	_, err = read[S](st).IPACLByID(ctx, lab.ID)
	noRows(t, "deleted list", err)
	if err := write(st, func(s S) error { return s.DeleteIPACL(ctx, lab.ID) }); !errors.Is(err, store.ErrNotOne) {
		t.Errorf("delete twice: %v", err)
	}
}
