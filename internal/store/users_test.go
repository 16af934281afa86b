package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

// The user search answers the same as a brute-force filter and sort in Go,
// on both databases, whichever plan it picks (walking the sort index when
// many users match, fetching and sorting when few do), with offsets and
// cursors, and with names outside ASCII ordered byte by byte on both.
func TestSearchUsersMatchesBruteForce(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		st := migrated(t, b)
		ctx := context.Background()
		t1, t2 := uuid.NewString(), uuid.NewString()
		firsts := []string{"James", "Jane", "Élodie", "Zoë", "Ångström", "jamal"}
		lasts := []string{"Smith", "Smythe", "Jones", "Ólafsson", "García"}
		const n = 1500
		var users []*store.UserRow
		for i := range n {
			u := &store.UserRow{ID: uuid.NewString(), TenantID: t1, Username: fmt.Sprintf("n%04d", i),
				FirstName: firsts[i%len(firsts)], LastName: lasts[i%len(lasts)], Active: i%13 != 0, Verified: true,
				InsertInstant: int64(1_000_000 + (i*7919)%n), LastUpdateInstant: 1}
			u.FullName = u.FirstName + " " + u.LastName
			if i%50 != 0 {
				u.Email = fmt.Sprintf("U%04d@%s.example", i, []string{"alpha", "beta"}[i%2])
			}
			if i%10 == 0 {
				u.TenantID = t2
			}
			users = append(users, u)
		}
		inTx(t, st, func(tx *store.Tx) error {
			for _, id := range []string{t1, t2} {
				if err := tx.InsertTenantRow(ctx, &store.TenantRow{ID: id, Name: id, Data: "{}", InsertInstant: 1, LastUpdateInstant: 1}); err != nil {
					return err
				}
			}
			return tx.InsertUserRows(ctx, users)
		})

		key := func(u *store.UserRow, col string) string {
			switch col {
			case "email":
				return store.SearchKey(u.Email)
			case "username":
				return store.SearchKey(u.Username)
			case "fullName":
				return store.SearchKey(u.FullName)
			case "firstName":
				return store.SearchKey(u.FirstName)
			case "id":
				return u.ID
			default:
				return store.SearchKey(u.LastName)
			}
		}
		matches := func(u *store.UserRow, q store.UserQuery) bool {
			if q.TenantIDs != nil && !slices.Contains(q.TenantIDs, u.TenantID) {
				return false
			}
			for _, f := range q.Filters {
				switch {
				case f.Active != nil:
					if u.Active != *f.Active {
						return false
					}
				case len(f.Fields) > 0:
					v, any := store.SearchKey(f.Value), false
					for _, field := range f.Fields {
						k := key(u, string(field))
						switch f.Match {
						case store.MatchPrefix:
							any = any || strings.HasPrefix(k, v)
						case store.MatchExact:
							any = any || k == v
						case store.MatchSuffix:
							any = any || strings.HasSuffix(k, v)
						case store.MatchContains:
							any = any || strings.Contains(k, v)
						case store.MatchPresent:
							any = any || k != ""
						}
					}
					if !any {
						return false
					}
				}
			}
			return true
		}
		expected := func(q store.UserQuery) []string {
			var got []*store.UserRow
			for _, u := range users {
				if matches(u, q) {
					got = append(got, u)
				}
			}
			field, desc := "insertInstant", false
			if len(q.Sort) == 1 {
				field, desc = q.Sort[0].Field, q.Sort[0].Descending
			}
			slices.SortFunc(got, func(a, b *store.UserRow) int {
				var c int
				if field == "insertInstant" {
					c = int(a.InsertInstant - b.InsertInstant)
				} else {
					c = strings.Compare(key(a, field), key(b, field))
				}
				if c == 0 {
					c = strings.Compare(a.ID, b.ID)
				}
				if desc {
					c = -c
				}
				return c
			})
			ids := make([]string, len(got))
			for i, u := range got {
				ids[i] = u.ID
			}
			return ids
		}
		idsOf := func(rows []*store.UserRow) []string {
			out := make([]string, len(rows))
			for i, r := range rows {
				out[i] = r.ID
			}
			return out
		}
		inactive := false
		text := func(m store.Match, v string, fields ...store.UserField) store.UserFilter {
			if fields == nil {
				fields = store.TextFields
			}
			return store.UserFilter{Fields: fields, Match: m, Value: v}
		}
		queries := map[string]store.UserQuery{
			"dense prefix":                {Filters: []store.UserFilter{text(store.MatchPrefix, "JA")}},
			"dense prefix by email":       {Filters: []store.UserFilter{text(store.MatchPrefix, "ja")}, Sort: []store.UserSort{{Field: "email"}}},
			"dense prefix by last desc":   {Filters: []store.UserFilter{text(store.MatchPrefix, "ja")}, Sort: []store.UserSort{{Field: "lastName", Descending: true}}},
			"non-ascii prefix":            {Filters: []store.UserFilter{text(store.MatchPrefix, "ÉLO")}, Sort: []store.UserSort{{Field: "firstName"}}},
			"non-ascii order":             {Filters: []store.UserFilter{text(store.MatchPresent, "", store.FieldFirstName)}, Sort: []store.UserSort{{Field: "fullName"}}},
			"email prefix by email":       {Filters: []store.UserFilter{text(store.MatchPrefix, "u01", store.FieldEmail)}, Sort: []store.UserSort{{Field: "email", Descending: true}}},
			"rare prefix":                 {Filters: []store.UserFilter{text(store.MatchPrefix, "u0007")}},
			"dense suffix":                {Filters: []store.UserFilter{text(store.MatchSuffix, "@beta.example", store.FieldEmail)}, Sort: []store.UserSort{{Field: "username"}}},
			"contains":                    {Filters: []store.UserFilter{text(store.MatchContains, "myth")}},
			"exact":                       {Filters: []store.UserFilter{text(store.MatchExact, "JONES", store.FieldLastName)}},
			"inactive dense":              {Filters: []store.UserFilter{{Active: &inactive}, text(store.MatchPrefix, "s")}},
			"tenant scope":                {TenantIDs: []string{t2}, Filters: []store.UserFilter{text(store.MatchPrefix, "j")}},
			"everything by id":            {Sort: []store.UserSort{{Field: "id"}}},
			"dense by insert desc":        {Filters: []store.UserFilter{text(store.MatchPrefix, "s")}, Sort: []store.UserSort{{Field: "insertInstant", Descending: true}}},
			"no email users first by key": {Filters: []store.UserFilter{text(store.MatchPrefix, "n00")}, Sort: []store.UserSort{{Field: "email"}}},
		}
		for name, q := range queries {
			want := expected(q)
			for _, page := range [][2]int{{0, 25}, {40, 25}, {len(want) - 10, 25}, {0, 500}} {
				offset, limit := max(page[0], 0), page[1]
				rows, total, err := st.Read().SearchUsers(ctx, q, offset, limit, 0)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				end := min(offset+limit, len(want))
				if total != len(want) || !slices.Equal(idsOf(rows), want[min(offset, end):end]) {
					t.Errorf("%s [%d:+%d]: total %d (want %d), %d rows differ from the brute force", name, offset, limit, total, len(want), len(rows))
				}
			}
			if _, capped, _ := st.Read().SearchUsers(ctx, q, 0, 1, 100); capped != min(len(want), 100) {
				t.Errorf("%s: capped total %d, want %d", name, capped, min(len(want), 100))
			}
			// Walk every page with a cursor.
			if len(q.Sort) <= 1 {
				field := ""
				if len(q.Sort) == 1 {
					field = q.Sort[0].Field
				}
				var walked []string
				cq := q
				for range 100 {
					rows, _, err := st.Read().SearchUsers(ctx, cq, 0, 37, 0)
					if err != nil {
						t.Fatalf("%s cursor: %v", name, err)
					}
					walked = append(walked, idsOf(rows)...)
					if len(rows) < 37 {
						break
					}
					last := rows[len(rows)-1]
					var first, lastName string
					for _, u := range users {
						if u.ID == last.ID {
							first, lastName = u.FirstName, u.LastName
						}
					}
					k, _ := store.UserSortValue(last, field, first, lastName)
					cq.After = &store.UserCursor{Key: k, ID: last.ID}
				}
				if !slices.Equal(walked, want) {
					t.Errorf("%s: the cursor walk gave %d users, want %d in order", name, len(walked), len(want))
				}
			}
		}
	})
}

func TestOneTimeCodes(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		st := migrated(t, b)
		ctx := context.Background()
		tenant, user := uuid.NewString(), uuid.NewString()
		inTx(t, st, func(tx *store.Tx) error {
			if err := tx.InsertTenantRow(ctx, &store.TenantRow{ID: tenant, Name: "t", Data: "{}", InsertInstant: 1, LastUpdateInstant: 1}); err != nil {
				return err
			}
			if err := tx.InsertUserRow(ctx, &store.UserRow{ID: user, TenantID: tenant, Email: "c@example.com", InsertInstant: 1, LastUpdateInstant: 1}); err != nil {
				return err
			}
			return tx.InsertOneTimeCode(ctx, &store.OneTimeCode{Hash: "h1", Kind: "changePassword", UserID: user, TenantID: tenant, ExpiresInstant: 100, InsertInstant: 1})
		})
		rd := st.Read()
		if _, err := rd.OneTimeCodeByHash(ctx, "h1", []string{"oneTimePassword"}, 50); err != store.ErrNoRows {
			t.Errorf("another kind: %v", err)
		}
		if c, err := rd.OneTimeCodeByHash(ctx, "h1", []string{"changePassword"}, 50); err != nil || c.UserID != user {
			t.Errorf("peek: %v %v", c, err)
		}
		if _, err := rd.ConsumeOneTimeCode(ctx, "h1", []string{"changePassword"}, 100); err != store.ErrNoRows {
			t.Errorf("consume at expiry: %v", err)
		}
		if c, err := rd.ConsumeOneTimeCode(ctx, "h1", []string{"changePassword"}, 99); err != nil || c.TenantID != tenant || c.Data != "{}" {
			t.Errorf("consume: %v %v", c, err)
		}
		if _, err := rd.ConsumeOneTimeCode(ctx, "h1", []string{"changePassword"}, 99); err != store.ErrNoRows {
			t.Errorf("second consume: %v", err)
		}
		// Codes go with their user.
		inTx(t, st, func(tx *store.Tx) error {
			if err := tx.InsertOneTimeCode(ctx, &store.OneTimeCode{Hash: "h2", Kind: "changePassword", UserID: user, TenantID: tenant, ExpiresInstant: 100, InsertInstant: 1}); err != nil {
				return err
			}
			return tx.DeleteUserRow(ctx, user)
		})
		if n := countRows(t, st, "one_time_codes"); n != 0 {
			t.Errorf("%d codes outlive their user", n)
		}
	})
}
