package api_test

import (
	"fmt"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

// TestImportUsersConflictInALaterBatch imports more users and registrations
// than one multi-row INSERT carries on PostgreSQL (the store writes users 909
// and registrations 1,818 a statement there; SQLite runs one prepared
// statement per row), with a value already stored far into the request. The
// whole request must be refused, nothing stored or audited, and the error
// must name the offending user and field, whether validateDbConstraints
// looks first or the unique index refuses the write.
func TestImportUsersConflictInALaterBatch(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("large import")
	}
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := uiStart(t, b)
		tenant := e.defaultTenant()
		appID, _ := e.appWithRoles(tenant, "Batches", "user")
		takenUser := e.user("Stored@example.com", tenant)
		takenReg := e.register(takenUser, map[string]any{"applicationId": appID})["id"].(string)
		v := uiVectors[3]
		const n = 2000
		users := func(mutate func(i int, u map[string]any)) []any {
			out := make([]any, n)
			for i := range out {
				u := map[string]any{
					"email": fmt.Sprintf("batch%05d@example.com", i), "username": fmt.Sprintf("batch%05d", i), "tenantId": tenant,
					"encryptionScheme": v.scheme, "factor": v.factor, "salt": v.salt, "password": v.hash,
					"registrations": []any{map[string]any{"applicationId": appID, "roles": []any{"user"}}},
				}
				mutate(i, u)
				out[i] = u
			}
			return out
		}
		cases := []struct {
			name   string
			mutate func(i int, u map[string]any)
			code   string
		}{
			{"stored email, across case, in the second users batch", func(i int, u map[string]any) {
				if i == 1500 {
					u["email"] = "STORED@example.com"
				}
			}, "[duplicate]users[1500].email"},
			{"stored user id in the last users batch", func(i int, u map[string]any) {
				if i == n-1 {
					u["id"] = takenUser
				}
			}, "[duplicate]users[1999].id"},
			{"stored registration id in the second registrations batch", func(i int, u map[string]any) {
				if i == 1900 {
					u["registrations"] = []any{map[string]any{"id": takenReg, "applicationId": appID}}
				}
			}, "[duplicate]users[1900].registrations[0].id"},
		}
		before, audits := e.userCount(), len(e.importAudits())
		for _, c := range cases {
			for _, validate := range []bool{false, true} {
				what := fmt.Sprintf("%s (validateDbConstraints %v)", c.name, validate)
				r := e.importUsers(map[string]any{"users": users(c.mutate), "validateDbConstraints": validate}, "")
				want400(t, what, r, c.code)
				if got := e.userCount(); got != before {
					t.Fatalf("%s: %d users stored, want %d: the import was not all or nothing", what, got, before)
				}
			}
		}
		if got := len(e.importAudits()); got != audits {
			t.Errorf("refused imports were audited: %d entries, want %d", got, audits)
		}
		// The same request without the conflicts is stored whole.
		e.mustImport("no conflict", map[string]any{"users": users(func(int, map[string]any) {})}, "")
		if got := e.userCount(); got != before+n {
			t.Errorf("%d users after the import, want %d", got, before+n)
		}
		if row := e.row(tenant, "batch01999@example.com"); row == nil {
			t.Error("the last user of the import is missing")
		}
	})
}
