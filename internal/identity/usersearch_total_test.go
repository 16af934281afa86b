package identity_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

// A search's total is exact up to 10,000 and 10,000 beyond (FusionAuth's
// Elasticsearch default, "at least 10,000"), and exact at any size with
// accurateTotal, on both databases; a page that is not full, or a page after
// the last match, still carries the exact total.
func TestUserSearchTotal(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		svc := testutil.Services(t, b)
		st := svc.Store()
		var tenantID string
		var existing int
		if err := st.DB().QueryRowContext(ctx, "SELECT id FROM tenants").Scan(&tenantID); err != nil {
			t.Fatal(err)
		}
		if err := st.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM users").Scan(&existing); err != nil {
			t.Fatal(err)
		}
		const many, few = 10_005, 3
		var rows []*store.UserRow
		for i := range many + few {
			u := &store.UserRow{ID: uuid.NewString(), TenantID: tenantID, Email: fmt.Sprintf("user%05d@example.com", i),
				FirstName: "Pat", LastName: "Capped", Active: true, InsertInstant: int64(i), LastUpdateInstant: 1}
			if i >= many {
				// Matched by "few" in two fields: email and lastName.
				u.Email, u.LastName = fmt.Sprintf("few%d@example.com", i), "Fewer"
			}
			u.FullName = u.FirstName + " " + u.LastName
			u.Data = fmt.Sprintf(`{"firstName":%q,"lastName":%q}`, u.FirstName, u.LastName)
			rows = append(rows, u)
		}
		if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.InsertUserRows(ctx, rows) }); err != nil {
			t.Fatal(err)
		}

		search := func(in identity.UserSearch) *identity.UserSearchResult {
			t.Helper()
			res, err := svc.Identity.SearchUsers(ctx, kit.TenantScope{}, in, nil)
			if err != nil {
				t.Fatalf("%+v: %v", in, err)
			}
			return res
		}
		first := search(identity.UserSearch{QueryString: "capped"})
		for _, c := range []struct {
			name       string
			in         identity.UserSearch
			total      int
			users      int
			nextResult bool
		}{
			{"past 10,000", identity.UserSearch{QueryString: "capped"}, 10_000, 25, true},
			{"past 10,000, accurate", identity.UserSearch{QueryString: "capped", AccurateTotal: true}, many, 25, true},
			{"every user", identity.UserSearch{QueryString: "*"}, 10_000, 25, true},
			{"every user, accurate", identity.UserSearch{QueryString: "*", AccurateTotal: true}, existing + many + few, 25, true},
			{"next page past 10,000", identity.UserSearch{NextResults: first.NextResults}, 10_000, 25, true},
			{"page not full", identity.UserSearch{QueryString: "few"}, few, few, false},
			{"page not full, one field", identity.UserSearch{QueryString: "email:few*"}, few, few, false},
			{"page exactly full", identity.UserSearch{QueryString: "few", NumberOfResults: few}, few, few, true},
			{"page after the last match", identity.UserSearch{QueryString: "few", StartRow: 5}, few, 0, false},
			{"no match", identity.UserSearch{QueryString: "nobody"}, 0, 0, false},
		} {
			res := search(c.in)
			if res.Total != c.total || len(res.Users) != c.users || (res.NextResults != "") != c.nextResult {
				t.Errorf("%s: total %d, %d users, nextResults %t; want %d, %d, %t", c.name, res.Total, len(res.Users),
					res.NextResults != "", c.total, c.users, c.nextResult)
			}
		}
	})
}
