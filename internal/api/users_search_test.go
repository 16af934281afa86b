package api_test

import (
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/testutil"
)

func TestUserSearch(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := usStart(t, b)
		alice := e.create(map[string]any{"email": "Alice.Smith@acme.example", "username": "asmith", "firstName": "Alice", "lastName": "Smith", "fullName": "Alice Smith"})
		bob := e.create(map[string]any{"email": "bob.jones@acme.example", "username": "bob", "firstName": "Bob", "lastName": "Jones"})
		e.create(map[string]any{"email": "carol@other.example", "username": "carol", "firstName": "Carol", "lastName": "Alison"})
		e.create(map[string]any{"email": "dave@acme.example", "username": "alicefan"})
		e.create(map[string]any{"username": "no-email-user", "firstName": "Zed"})
		for i := range 25 {
			e.create(map[string]any{"email": fmt.Sprintf("user%02d@bulk.example", i), "lastName": "Bulk"})
		}
		if r := e.do("DELETE", "/api/user/"+bob["id"].(string), e.root, nil); r.Status != 200 {
			t.Fatal("deactivate bob")
		}
		const all = 31 // the setup admin and the 30 above

		count := func(qs string) int {
			t.Helper()
			ids, total, _ := e.search(e.root, map[string]any{"queryString": qs, "numberOfResults": 100, "accurateTotal": true})
			if len(ids) != total {
				t.Errorf("%q: %d results but total %d", qs, len(ids), total)
			}
			return total
		}
		for _, c := range []struct {
			qs   string
			want int
		}{
			{"*", all},
			{"ali", 3},   // alice (email, first name, full name), carol (last name), dave (username)
			{"ALI*", 3},  // the same, with the wildcard and another case
			{"smith", 1}, // last name
			{`"alice smith"`, 1},
			{"email:alice.smith@acme.example", 1},
			{"email:ALICE.SMITH@ACME.EXAMPLE", 1},
			{"email:alice", 0}, // a fielded value is the whole value
			{"email:alice*", 1},
			{"email:*@acme.example", 3},
			{"email:@acme.example", 3}, // FusionAuth's database-search spelling
			{"email:*smith*", 1},
			{"email:*", all - 1}, // every user with an email
			{"username:BOB", 1},
			{"login:bob", 1},
			{"firstName:bob", 1},
			{"lastName:jo*", 1},
			{"lastName:bulk", 25},
			{"fullName:alice*", 1},
			{"active:false", 1},
			{"active:true", all - 1},
			{"email:*@acme.example AND active:true", 2},
			{"email:*@acme.example active:true", 2},
			{"verified:true", all},
			{"id:" + bob["id"].(string), 1},
			{"tenantId:" + e.defaultTenant(), all},
			{"registrations.applicationId:" + model.AdminApplicationID, 1},
			{"zed", 1},
			{"nobody*", 0},
			{`100%`, 0}, // LIKE metacharacters are literal
			{`user_0`, 0},
		} {
			if got := count(c.qs); got != c.want {
				t.Errorf("%q: %d users, want %d", c.qs, got, c.want)
			}
		}

		// ids: unknown and malformed ids are ignored; total counts found users.
		ids, total, _ := e.search(e.root, map[string]any{"ids": []string{alice["id"].(string), "not-a-uuid", "00000000-0000-0000-0000-000000000001", bob["id"].(string)}})
		if total != 2 || !slices.Equal(ids, []string{alice["id"].(string), bob["id"].(string)}) {
			t.Errorf("ids search: %v total %d", ids, total)
		}

		// Sorting, paging and nextResults.
		emails, _ := e.searchEmails(map[string]any{"queryString": "*", "numberOfResults": 100, "sortFields": []any{map[string]any{"name": "email", "order": "asc"}}})
		sorted := slices.Clone(emails)
		sort.Slice(sorted, func(i, j int) bool { return strings.ToLower(sorted[i]) < strings.ToLower(sorted[j]) })
		if !slices.Equal(emails, sorted) || emails[0] != "" {
			t.Errorf("email order (missing first): %v", emails)
		}
		desc, _ := e.searchEmails(map[string]any{"queryString": "*", "numberOfResults": 100, "sortFields": []any{map[string]any{"name": "email", "order": "DESC"}}})
		slices.Reverse(desc)
		if !slices.Equal(desc, emails) {
			t.Errorf("descending order is not the reverse: %v", desc)
		}
		page, total := e.searchEmails(map[string]any{"queryString": "*", "startRow": 5, "numberOfResults": 5, "sortFields": []any{map[string]any{"name": "email"}}})
		if total != all || !slices.Equal(page, emails[5:10]) {
			t.Errorf("page 5..10: %v (total %d), want %v", page, total, emails[5:10])
		}
		if def, _ := e.searchEmails(map[string]any{"queryString": "*"}); len(def) != 25 {
			t.Errorf("default page size %d, want 25", len(def))
		}
		for _, sortBy := range []string{"email", "username", "lastName", "insertInstant", ""} {
			criteria := map[string]any{"queryString": "*", "numberOfResults": 7}
			if sortBy != "" {
				criteria["sortFields"] = []any{map[string]any{"name": sortBy, "order": "desc"}}
			}
			full, _, _ := e.search(e.root, map[string]any{"queryString": "*", "numberOfResults": 100, "sortFields": criteria["sortFields"]})
			var walked []string
			next := ""
			for range 10 {
				c := criteria
				if next != "" {
					c = map[string]any{"nextResults": next, "numberOfResults": 7}
				}
				ids, _, n := e.search(e.root, c)
				walked = append(walked, ids...)
				if n == "" {
					break
				}
				next = n
			}
			if !slices.Equal(walked, full) {
				t.Errorf("nextResults by %q walked %d users, want the %d of one search in its order", sortBy, len(walked), len(full))
			}
		}

		// Registrations are expanded unless expand leaves them out.
		r := e.do("POST", "/api/user/search", e.root, map[string]any{"search": map[string]any{"queryString": "email:admin@example.com"}})
		body := decodeObject(t, r)
		admin := body["users"].([]any)[0].(map[string]any)
		regs, _ := admin["registrations"].([]any)
		if len(regs) != 1 || regs[0].(map[string]any)["applicationId"] != model.AdminApplicationID {
			t.Errorf("admin registrations: %v", admin["registrations"])
		}
		if exp, _ := body["expandable"].([]any); len(exp) != 0 {
			t.Errorf("expandable %v with everything expanded", exp)
		}
		r = e.do("POST", "/api/user/search", e.root, map[string]any{"expand": []string{}, "search": map[string]any{"queryString": "email:admin@example.com"}})
		body = decodeObject(t, r)
		if _, ok := body["users"].([]any)[0].(map[string]any)["registrations"]; ok || !slices.Contains(body["expandable"].([]any), any("registrations")) {
			t.Errorf("expand [] still expands: %s", r.Body)
		}
		for _, k := range []string{"password", "salt", "encryptionScheme"} {
			if strings.Contains(string(r.Body), `"`+k+`"`) {
				t.Errorf("search answered %s", k)
			}
		}

		// GET form.
		q := url.Values{"queryString": {"ali"}, "sortFields[0].name": {"email"}, "numberOfResults": {"2"}}
		r = e.do("GET", "/api/user/search?"+q.Encode(), e.root, nil)
		var got struct {
			Users []struct{ Email string } `json:"users"`
			Total int                      `json:"total"`
		}
		r.JSON(t, &got)
		if r.Status != 200 || got.Total != 3 || len(got.Users) != 2 || got.Users[0].Email != "Alice.Smith@acme.example" {
			t.Errorf("GET search: %d %s", r.Status, r.Body)
		}
		r = e.do("GET", "/api/user/search?ids="+alice["id"].(string)+"&ids="+bob["id"].(string), e.root, nil)
		r.JSON(t, &got)
		if got.Total != 2 {
			t.Errorf("GET search by ids: %s", r.Body)
		}
		if r := e.do("PUT", "/api/user/search", e.root, nil); r.Status != 200 {
			t.Errorf("refresh search index: %d", r.Status)
		}

		// The JSON query subset.
		for _, c := range []struct {
			query string
			want  int
		}{
			{`{"match_all":{}}`, all},
			{`{"match":{"email":{"query":"BOB.JONES@acme.example"}}}`, 1},
			{`{"bool":{"must":[{"prefix":{"email":"user"}},{"term":{"active":true}}]}}`, 25},
			{`{"bool":{"must":[{"nested":{"path":"registrations","query":{"bool":{"must":[{"match":{"registrations.applicationId":"` + model.AdminApplicationID + `"}}]}}}}]}}`, 1},
			{`{"wildcard":{"email":"*@other.example"}}`, 1},
			{`{"exists":{"field":"email"}}`, all - 1},
			{`{"ids":{"values":["` + alice["id"].(string) + `"]}}`, 1},
		} {
			_, total, _ := e.search(e.root, map[string]any{"query": c.query, "accurateTotal": true})
			if total != c.want {
				t.Errorf("query %s: %d, want %d", c.query, total, c.want)
			}
		}

		// Bad searches are 400s that say why, never 500s.
		for _, c := range []struct {
			criteria map[string]any
			code     string
		}{
			{map[string]any{}, "[blank]search.queryString"},
			{map[string]any{"queryString": "   "}, "[blank]search.queryString"},
			{map[string]any{"queryString": "alice OR bob"}, "[invalid]search.queryString"},
			{map[string]any{"queryString": "(alice)"}, "[invalid]search.queryString"},
			{map[string]any{"queryString": "-alice"}, "[invalid]search.queryString"},
			{map[string]any{"queryString": "email:/.*example.com/"}, "[invalid]search.queryString"},
			{map[string]any{"queryString": "data.foo:bar"}, "[invalid]search.queryString"},
			{map[string]any{"queryString": "email:a*b"}, "[invalid]search.queryString"},
			{map[string]any{"queryString": `"unclosed`}, "[invalid]search.queryString"},
			{map[string]any{"queryString": "active:maybe"}, "[invalid]search.queryString"},
			{map[string]any{"queryString": "id:nope"}, "[invalid]search.queryString"},
			{map[string]any{"query": `{"range":{"insertInstant":{"gte":0}}}`}, "[invalid]search.query"},
			{map[string]any{"query": `not json`}, "[invalid]search.query"},
			{map[string]any{"queryString": "*", "sortFields": []any{map[string]any{"name": "password"}}}, "[invalid]search.sortFields"},
			{map[string]any{"queryString": "*", "sortFields": []any{map[string]any{"name": "email", "order": "sideways"}}}, "[invalid]search.sortFields"},
			{map[string]any{"queryString": "*", "startRow": -1}, "[invalid]search.startRow"},
			{map[string]any{"queryString": "*", "numberOfResults": -1}, "[invalid]search.numberOfResults"},
			{map[string]any{"queryString": "*", "startRow": 9990}, "[invalid]search.startRow"},
			{map[string]any{"nextResults": "garbage"}, "[invalid]search.nextResults"},
		} {
			want400(t, fmt.Sprintf("search %v", c.criteria), e.do("POST", "/api/user/search", e.root, map[string]any{"search": c.criteria}), c.code)
		}
		want400(t, "search with a wrong type", e.do("POST", "/api/user/search", e.root, `{"search":{"startRow":"ten"}}`), "[invalidJSON]")
		want400(t, "GET search with a bad number", e.do("GET", "/api/user/search?queryString=*&startRow=x", e.root, nil), "[invalid]search.startRow")
	})
}
