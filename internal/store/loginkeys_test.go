package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

// TestLoginKeysNormalisedOnUpgrade: rows whose email_lower/username_lower were
// written as strings.ToLower (before login keys were normalised) are
// rewritten once by Migrate, unless that would collide with another user.
func TestLoginKeysNormalisedOnUpgrade(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		st := migrated(t, b)
		tenant, _, _ := loginFixture(t, st)
		old := []struct{ id, email, username string }{
			{"u-fw", "\uff4bate@example.com", "\uff4b\uff41\uff54\uff45"}, // full-width
			{"u-plain", "kim@example.com", "kim"},
			{"u-clash", "\uff4bim@example.com", "other"}, // normalises to kim@example.com: taken
		}
		for _, u := range old {
			inTx(t, st, func(tx *store.Tx) error {
				return tx.InsertUserRow(ctx, &store.UserRow{ID: u.id, TenantID: tenant, Email: u.id + "@placeholder", Active: true, Data: "{}", InsertInstant: 1, LastUpdateInstant: 1})
			})
			// As an older release wrote them.
			if _, err := st.DB().ExecContext(ctx, "UPDATE users SET email = $2, email_lower = $3, username = $4, username_lower = $5 WHERE id = $1",
				u.id, u.email, strings.ToLower(u.email), u.username, strings.ToLower(u.username)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := st.DB().ExecContext(ctx, "DELETE FROM system_settings WHERE name = 'login_keys_normalized_instant'"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Migrate(ctx); err != nil {
			t.Fatalf("migrate again: %v", err)
		}
		rd := st.Read()
		for _, c := range []struct {
			lookup string
			byName bool
			want   string
		}{
			{"kate@example.com", false, "u-fw"},
			{"KATE", true, "u-fw"},
			{"\u212Aate", true, "u-fw"},
			{"kim@example.com", false, "u-plain"},
			{"\uff4bim@example.com", false, "u-plain"}, // the clash kept its old key; a lookup normalises
		} {
			var row *store.UserRow
			var err error
			if c.byName {
				row, err = rd.UserRowByUsername(ctx, tenant, c.lookup)
			} else {
				row, err = rd.UserRowByEmail(ctx, tenant, c.lookup)
			}
			if err != nil || row.ID != c.want {
				t.Errorf("lookup %q: %v %v, want %s", c.lookup, row, err, c.want)
			}
		}
	})
}
