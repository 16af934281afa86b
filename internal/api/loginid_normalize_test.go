package api_test

import (
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

// TestLoginIdentifiersNormalised: usernames and emails are compared after
// NFKC and case folding, for uniqueness and for login, and a username may not
// be another user's email (nor an email another user's username).
func TestLoginIdentifiersNormalised(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		app := e.app("Norm", lgAppOpts{})
		kate := e.user("kate@example.com", lgPassword, map[string]any{"username": "kate"})
		e.register(kate, app)

		create := func(u map[string]any) *testutil.Response {
			u["password"] = lgPassword
			u["tenantId"] = e.tenant
			return e.do("POST", "/api/user", e.root, map[string]any{"user": u, "skipVerification": true})
		}
		dupes := []struct {
			name string
			user map[string]any
			code string
		}{
			{"Kelvin sign username", map[string]any{"username": "\u212Aate"}, "[duplicate]user.username"},
			{"full-width username", map[string]any{"username": "\uff4b\uff41\uff54\uff45"}, "[duplicate]user.username"},
			{"upper case username", map[string]any{"username": "KATE"}, "[duplicate]user.username"},
			{"Kelvin sign email", map[string]any{"email": "\u212Aate@example.com"}, "[duplicate]user.email"},
			{"full-width email", map[string]any{"email": "\uff4bate@example.com"}, "[duplicate]user.email"},
			{"username is another user's email", map[string]any{"username": "kate@example.com"}, "[duplicate]user.username"},
			{"username is another user's email, other case", map[string]any{"username": "KATE@example.com"}, "[duplicate]user.username"},
		}
		for _, c := range dupes {
			t.Run(c.name, func(t *testing.T) {
				want400(t, c.name, create(c.user), c.code)
			})
		}
		// An email equal to another user's username.
		e.user("someone@example.com", lgPassword, map[string]any{"username": "joe@example.org"})
		want400(t, "email is another user's username", create(map[string]any{"email": "joe@example.org"}), "[duplicate]user.email")

		// Login finds kate by the normalised identifier only.
		for _, id := range []string{"kate", "KATE", "\u212Aate", "\uff4b\uff41\uff54\uff45", "\u212Aate@example.com"} {
			r := e.login("", map[string]any{"loginId": id, "password": lgPassword, "applicationId": app})
			if r.Status != 200 {
				t.Errorf("login as %q: %d, want 200", id, r.Status)
				continue
			}
		}
		// Look-alikes in other scripts of an existing name are refused, as
		// username or email, at create and at update; accented Latin names
		// stay distinct names.
		e.user("paypal@example.com", lgPassword, map[string]any{"username": "paypal"})
		e.user("jose@example.com", lgPassword, map[string]any{"username": "jose"})
		lookalikes := []struct {
			name string
			user map[string]any
			code string
		}{
			{"one Cyrillic letter", map[string]any{"username": "k\u0430te"}, "[duplicate]user.username"},
			{"all Cyrillic", map[string]any{"username": "\u0440\u0430\u0443\u0440\u0430l"}, "[duplicate]user.username"},
			{"Greek omicron in an email", map[string]any{"email": "j\u03bfse@example.com"}, "[duplicate]user.email"},
			{"Cyrillic username that is an email", map[string]any{"username": "p\u0430ypal@example.com"}, "[duplicate]user.username"},
		}
		for _, c := range lookalikes {
			want400(t, c.name, create(c.user), c.code)
		}
		e.want("accented name", create(map[string]any{"username": "Jos\u00e9"}), 200)
		other := e.user("other@example.com", lgPassword, map[string]any{"username": "other"})
		want400(t, "update to a look-alike", e.do("PATCH", "/api/user/"+other, e.root, map[string]any{"user": map[string]any{"username": "k\u0430t\u0435"}}),
			"[duplicate]user.username")

		// The other way: an imitation registered first keeps the real name
		// (and other imitations of it) from being taken later, by create,
		// update and import alike.
		e.want("an imitation first", create(map[string]any{"username": "b\u0430nk", "email": "\u0455ales@example.com"}), 200) // Cyrillic а, ѕ
		later := []struct {
			name string
			user map[string]any
			code string
		}{
			{"the real username", map[string]any{"username": "BANK"}, "[duplicate]user.username"},
			{"another imitation", map[string]any{"username": "b\u0251nk"}, "[duplicate]user.username"},
			{"the real email", map[string]any{"email": "sales@example.com"}, "[duplicate]user.email"},
			{"the real email as a username", map[string]any{"username": "Sales@example.com"}, "[duplicate]user.username"},
		}
		for _, c := range later {
			want400(t, c.name, create(c.user), c.code)
		}
		want400(t, "update to the real name", e.do("PATCH", "/api/user/"+other, e.root, map[string]any{"user": map[string]any{"username": "bank"}}),
			"[duplicate]user.username")
		r := e.do("POST", "/api/user/import", e.root, map[string]any{"users": []any{
			map[string]any{"username": "bank", "password": lgPassword, "tenantId": e.tenant},
		}})
		want400(t, "import of the real name", r, "[duplicate]users[0].username")
		r = e.do("POST", "/api/user/import", e.root, map[string]any{"users": []any{
			map[string]any{"username": "v\u0456ctor", "password": lgPassword, "tenantId": e.tenant},
			map[string]any{"username": "victor", "password": lgPassword, "tenantId": e.tenant},
		}})
		want400(t, "import of a name and its earlier imitation", r, "[duplicate]users[1].username")
	})
}
