package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

// The capped total of a user search is min(matches, cap) and the accurate one
// every match, whichever way it is counted: from one field's index range
// (a field alone reaching the cap, or the only field that matches), or from
// the table (several fields matching fewer than the cap each, the same user
// possibly in several of them).
func TestSearchUsersTotal(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		st := migrated(t, b)
		ctx := context.Background()
		tenant, other := uuid.NewString(), uuid.NewString()
		var users []*store.UserRow
		add := func(n int, tenantID, email, username, first, last string) {
			for i := range n {
				u := &store.UserRow{ID: uuid.NewString(), TenantID: tenantID, FirstName: first, LastName: last,
					Active: true, InsertInstant: int64(len(users)), LastUpdateInstant: 1}
				if email != "" {
					u.Email = fmt.Sprintf("%s%02d@example.com", email, i)
				}
				if username != "" {
					u.Username = fmt.Sprintf("%s%02d", username, i)
				}
				u.FullName = first + " " + last
				users = append(users, u)
			}
		}
		add(12, tenant, "", "", "Ann", "Capper")      // lastName alone past the cap of 10
		add(7, tenant, "solo", "", "Bea", "Quill")    // email only, under the cap
		add(4, tenant, "", "ovid", "Ovid", "Nasso")   // username, firstName and fullName: the same 4 users
		add(6, tenant, "", "", "Zed", "Moor")         // firstName and fullName…
		add(6, tenant, "", "", "Cy", "Zedd")          // …and lastName: 12 users, no field with 10
		add(3, other, "", "", "Ovid", "Elsewhere")    // another tenant's Ovids
		add(1, tenant, "", "", "Quillon", "Whitlock") // firstName for "quill", lastName for the Quills
		inTx(t, st, func(tx *store.Tx) error {
			for _, id := range []string{tenant, other} {
				if err := tx.InsertTenantRow(ctx, &store.TenantRow{ID: id, Name: id, Data: "{}", InsertInstant: 1, LastUpdateInstant: 1}); err != nil {
					return err
				}
			}
			return tx.InsertUserRows(ctx, users)
		})

		term := func(m store.Match, v string, fields ...store.UserField) []store.UserFilter {
			if fields == nil {
				fields = store.TextFields
			}
			return []store.UserFilter{{Fields: fields, Match: m, Value: v}}
		}
		for _, c := range []struct {
			name   string
			q      store.UserQuery
			want   int // every match
			capped int // with a cap of 10
		}{
			{"one field past the cap", store.UserQuery{Filters: term(store.MatchPrefix, "capp")}, 12, 10},
			{"exact, one field past the cap", store.UserQuery{Filters: term(store.MatchExact, "Capper", store.FieldLastName)}, 12, 10},
			{"one field under the cap", store.UserQuery{Filters: term(store.MatchPrefix, "solo")}, 7, 7},
			{"the same users in three fields", store.UserQuery{Filters: term(store.MatchPrefix, "ovid")}, 7, 7},
			{"three fields, tenant scope", store.UserQuery{TenantIDs: []string{tenant}, Filters: term(store.MatchPrefix, "ovid")}, 4, 4},
			{"three fields past the cap together", store.UserQuery{Filters: term(store.MatchPrefix, "zed")}, 12, 10},
			{"two fields, different users", store.UserQuery{Filters: term(store.MatchPrefix, "quill")}, 8, 8},
			{"no match", store.UserQuery{Filters: term(store.MatchPrefix, "nobody")}, 0, 0},
			{"every user", store.UserQuery{}, 39, 10},
			{"two terms", store.UserQuery{Filters: append(term(store.MatchPrefix, "zed"), term(store.MatchPrefix, "moor")...)}, 6, 6},
		} {
			for _, countCap := range []int{0, 10} {
				want := c.want
				if countCap > 0 {
					want = c.capped
				}
				rows, total, err := st.Read().SearchUsers(ctx, c.q, 0, 5, countCap)
				if err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				if total != want || len(rows) != min(5, c.want) {
					t.Errorf("%s (cap %d): total %d with %d rows, want %d with %d", c.name, countCap, total, len(rows), want, min(5, c.want))
				}
			}
		}
	})
}
