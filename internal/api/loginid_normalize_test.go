package api_test

import (
	"context"
	"testing"

	"github.com/latchid/latch/internal/store"
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
		// stay distinct names. A username that mixes scripts is refused
		// before it is compared (TestLoginIdentifierCharactersRefused); one
		// in another script alone is compared.
		e.user("paypal@example.com", lgPassword, map[string]any{"username": "paypal"})
		e.user("jose@example.com", lgPassword, map[string]any{"username": "jose"})
		lookalikes := []struct {
			name string
			user map[string]any
			code string
		}{
			{"one Cyrillic letter", map[string]any{"username": "k\u0430te"}, "[invalid]user.username"},
			{"all Cyrillic", map[string]any{"username": "\u0458\u043e\u0455\u0435"}, "[duplicate]user.username"},
			{"Latin look-alike", map[string]any{"username": "p\u0251yp\u0251l"}, "[duplicate]user.username"},
			{"Greek omicron in an email", map[string]any{"email": "j\u03bfse@example.com"}, "[duplicate]user.email"},
			{"Cyrillic letter in an email", map[string]any{"email": "p\u0430ypal@example.com"}, "[duplicate]user.email"},
			{"Cyrillic username that is an email", map[string]any{"username": "p\u0430ypal@example.com"}, "[invalid]user.username"},
		}
		for _, c := range lookalikes {
			want400(t, c.name, create(c.user), c.code)
		}
		e.want("accented name", create(map[string]any{"username": "Jos\u00e9"}), 200)
		other := e.user("other@example.com", lgPassword, map[string]any{"username": "other"})
		want400(t, "update to a look-alike", e.do("PATCH", "/api/user/"+other, e.root, map[string]any{"user": map[string]any{"username": "\u0458\u043e\u0455\u0435"}}),
			"[duplicate]user.username")

		// The other way: an imitation registered first keeps the real name
		// (and other imitations of it) from being taken later, by create,
		// update and import alike.
		e.want("an imitation first", create(map[string]any{"username": "\u0441\u0430\u0455\u04bb", "email": "\u0455ales@example.com"}), 200) // Cyrillic саѕһ, ѕ
		later := []struct {
			name string
			user map[string]any
			code string
		}{
			{"the real username", map[string]any{"username": "CASH"}, "[duplicate]user.username"},
			{"another imitation", map[string]any{"username": "c\u0251sh"}, "[duplicate]user.username"},
			{"the real email", map[string]any{"email": "sales@example.com"}, "[duplicate]user.email"},
			{"the real email as a username", map[string]any{"username": "Sales@example.com"}, "[duplicate]user.username"},
		}
		for _, c := range later {
			want400(t, c.name, create(c.user), c.code)
		}
		want400(t, "update to the real name", e.do("PATCH", "/api/user/"+other, e.root, map[string]any{"user": map[string]any{"username": "cash"}}),
			"[duplicate]user.username")
		r := e.do("POST", "/api/user/import", e.root, map[string]any{"users": []any{
			map[string]any{"username": "cash", "password": lgPassword, "tenantId": e.tenant},
		}})
		want400(t, "import of the real name", r, "[duplicate]users[0].username")
		r = e.do("POST", "/api/user/import", e.root, map[string]any{"users": []any{
			map[string]any{"username": "\u0455\u043e\u0443", "password": lgPassword, "tenantId": e.tenant},
			map[string]any{"username": "soy", "password": lgPassword, "tenantId": e.tenant},
		}})
		want400(t, "import of a name and its earlier imitation", r, "[duplicate]users[1].username")
	})
}

// A new username may not hold a character that shows nothing, mix scripts
// beyond UTS #39's Highly Restrictive combinations, or borrow phonetic
// letters; a new email may not hold a character that shows nothing. Each
// would let a second account display as an existing one. The rule holds
// however the user object comes in, and for new values only: a stored
// username keeps working and may be sent back unchanged.
func TestLoginIdentifierCharactersRefused(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		app := e.app("Characters", lgAppOpts{})
		e.user("kate@example.com", lgPassword, map[string]any{"username": "kate"})
		target := e.user("target@example.com", lgPassword, map[string]any{"username": "target"})

		paths := []struct {
			name, prefix string
			do           func(u map[string]any) *testutil.Response
		}{
			{"create", "user.", func(u map[string]any) *testutil.Response {
				return e.do("POST", "/api/user", e.root, map[string]any{"user": u})
			}},
			{"registration", "user.", func(u map[string]any) *testutil.Response {
				return e.do("POST", "/api/user/registration", e.root, map[string]any{"user": u, "registration": map[string]any{"applicationId": app}})
			}},
			{"import", "users[0].", func(u map[string]any) *testutil.Response {
				return e.do("POST", "/api/user/import", e.root, map[string]any{"users": []any{u}})
			}},
			{"update", "user.", func(u map[string]any) *testutil.Response {
				if u["email"] == nil {
					u["email"] = "target@example.com"
				}
				return e.do("PUT", "/api/user/"+target, e.root, map[string]any{"user": u})
			}},
			{"patch", "user.", func(u map[string]any) *testutil.Response {
				return e.do("PATCH", "/api/user/"+target, e.root, map[string]any{"user": u}, "Content-Type", "application/merge-patch+json")
			}},
		}
		refused := []struct {
			name, field, value string
		}{
			{"zero-width space", "username", "kate\u200b"},
			{"zero-width joiner", "username", "ka\u200dte"},
			{"soft hyphen", "username", "ka\u00adte"},
			{"right-to-left override", "username", "\u202ekate"},
			{"no-break space", "username", "ka\u00a0te"},
			{"variation selector", "username", "kate\ufe0f"},
			{"Cyrillic k", "username", "\u043aate"},
			{"Greek kappa", "username", "\u03bate"},
			{"phonetic small capital", "username", "\u1d0bate"},
			{"email zero-width space", "email", "kate\u200b@example.com"},
			{"email word joiner", "email", "ka\u2060te@example.com"},
		}
		for _, p := range paths {
			for _, c := range refused {
				u := map[string]any{c.field: c.value}
				if c.field == "username" && p.name != "patch" && p.name != "update" {
					u["email"] = lgEmail("chars")
				}
				want400(t, p.name+": "+c.name, p.do(u), "[invalid]"+p.prefix+c.field)
			}
		}
		// None of them made a user, nor changed the target.
		r := e.do("POST", "/api/user/search", e.root, map[string]any{"search": map[string]any{"queryString": "*", "numberOfResults": 100}})
		var found struct {
			Total int64 `json:"total"`
			Users []struct {
				ID       string `json:"id"`
				Username string `json:"username"`
			} `json:"users"`
		}
		r.JSON(t, &found)
		for _, u := range found.Users {
			if u.ID == target && u.Username != "target" {
				t.Errorf("the target's username became %q", u.Username)
			}
		}
		if found.Total != 3 { // the admin, kate, the target
			t.Errorf("%d users, want 3: %s", found.Total, r.Body)
		}

		// What the rule allows.
		for _, name := range []string{"Наташа", "Ελένη", "田中さんtanaka", "김민준金", "王ㄅㄆ", "می\u200cخواهم", "Jos\u00e9 Mar\u00eda", "kate_1984"} {
			e.want("username "+name, e.do("POST", "/api/user", e.root, map[string]any{"user": map[string]any{"username": name, "password": lgPassword}}), 200)
		}
		e.want("Persian email", e.do("POST", "/api/user", e.root, map[string]any{"user": map[string]any{"email": "می\u200cخواهم@example.com"}}), 200)

		// A username stored before the rule keeps working and may be sent
		// back unchanged; changing it to another such name is refused.
		err := e.st.InTx(context.Background(), func(tx *store.Tx) error {
			row, err := tx.UserRowByID(context.Background(), target)
			if err != nil {
				return err
			}
			row.Username, row.Email = "t\u0430rget\u200b", "t\u200barget@example.com"
			return tx.UpdateUserRow(context.Background(), row)
		})
		if err != nil {
			t.Fatal(err)
		}
		e.want("patch another member", e.do("PATCH", "/api/user/"+target, e.root, map[string]any{"user": map[string]any{"firstName": "T"}}), 200)
		e.want("put it back unchanged", e.do("PUT", "/api/user/"+target, e.root, map[string]any{"user": map[string]any{
			"email": "t\u200barget@example.com", "username": "t\u0430rget\u200b", "firstName": "U"}}), 200)
		e.want("login with it", e.login("", map[string]any{"loginId": "t\u0430rget\u200b", "password": lgPassword, "applicationId": app}), 202)
		want400(t, "change it to another", e.do("PATCH", "/api/user/"+target, e.root, map[string]any{"user": map[string]any{"username": "t\u0430rget"}}),
			"[invalid]user.username")
	})
}
