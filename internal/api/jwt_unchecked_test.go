package api_test

import (
	"context"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

// A JWT that cannot be checked (the database fails the subject lookup) is no
// verdict on the token: calls that act on its user answer a server error,
// not 401 as for a bad token, and a global logout does not answer 200 while
// no session ended.
func TestJWTUncheckedIsNotInvalid(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		app := e.app("Unchecked", lgAppOpts{})
		email := lgEmail("unchecked")
		e.register(e.user(email, lgPassword, nil), app)
		token := lgStr(e.loginOK("login", "", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app}, 200)["token"])
		bearer := []string{"Authorization", "Bearer " + token}

		db := openServerStore(t, e.s).DB()
		exec := func(q string) {
			t.Helper()
			if _, err := db.ExecContext(context.Background(), q); err != nil {
				t.Fatal(err)
			}
		}
		exec("ALTER TABLE users RENAME COLUMN active TO active_unreadable")
		cases := []struct {
			name, method, path string
			body               map[string]any
		}{
			{"global logout", "POST", "/api/logout?global=true", nil},
			{"two-factor secret", "GET", "/api/two-factor/secret", nil},
			{"enable two-factor", "POST", "/api/user/two-factor", map[string]any{"method": "authenticator", "secret": "12345678901234567890", "code": "000000"}},
			{"disable two-factor", "DELETE", "/api/user/two-factor?code=000000", nil},
		}
		for _, c := range cases {
			if r := e.do(c.method, c.path, "", c.body, bearer...); r.Status != 500 {
				t.Errorf("%s with the database failing: %d %s, want 500", c.name, r.Status, r.Body)
			}
		}
		exec("ALTER TABLE users RENAME COLUMN active_unreadable TO active")
		e.want("validate once the database answers", e.do("GET", "/api/jwt/validate", "", nil, bearer...), 200)

		// The second read of a validation (when the user's sessions were
		// ended) fails the same way.
		exec("ALTER TABLE token_cutoffs RENAME TO token_cutoffs_unreadable")
		if r := e.do("GET", "/api/jwt/validate", "", nil, bearer...); r.Status != 500 {
			t.Errorf("validate with the session cut-offs unreadable: %d %s, want 500", r.Status, r.Body)
		}
		exec("ALTER TABLE token_cutoffs_unreadable RENAME TO token_cutoffs")
		e.want("global logout once the database answers", e.do("POST", "/api/logout?global=true", "", nil, bearer...), 200)
	})
}
