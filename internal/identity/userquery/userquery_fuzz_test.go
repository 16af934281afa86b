package userquery

import (
	"errors"
	"testing"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
)

// FuzzBuild: any query string or JSON query is read or refused with a
// validation error (a 400 naming the search field), never a panic or
// another kind of error; the tenant scope survives whatever the query says.
func FuzzBuild(f *testing.F) {
	for _, s := range []string{
		"*", "john", `"john doe"`, "email:john@example.com", "email:jo*", "email:*@example.com", "email:*example*",
		"email:*", "active:true AND verified:false", "registrations.applicationId:3c219e58-ed0e-4b18-ad48-f4f92793ae32",
		"tenantId:00000000-0000-0000-0000-000000000001", "a OR b", "NOT a", "(a)", "email:[a TO b]", "a~2", "a^3", `"unterminated`,
		`{"match_all":{}}`, `{"bool":{"must":[{"match":{"email":"a@b.c"}},{"prefix":{"username":"jo"}}]}}`,
		`{"wildcard":{"email":"*@x.com"}}`, `{"exists":{"field":"email"}}`, `{"ids":{"values":["x"]}}`, `{"bool":{"should":[]}}`,
		`{"nested":{"query":{"term":{"registrations.applicationId":"x"}}}}`, `[1,2]`, `{"term":{"email":null}}`,
	} {
		f.Add(s, true)
		f.Add(s, false)
	}
	scope := kit.TenantScope{Tenants: []string{"00000000-0000-0000-0000-0000000000aa"}}
	f.Fuzz(func(t *testing.T, text string, asJSON bool) {
		qs, query := text, ""
		if asJSON {
			qs, query = "", text
		}
		q, _, err := Build(scope, qs, query)
		if err != nil {
			var verrs *model.Errors
			if !errors.As(err, &verrs) {
				t.Fatalf("%q: %T %v is not a validation error", text, err, err)
			}
			return
		}
		if len(q.TenantIDs) != 1 || q.TenantIDs[0] != scope.Tenants[0] {
			t.Fatalf("%q widened the scope to %v", text, q.TenantIDs)
		}
	})
}

// FuzzDecodeCursor: a nextResults value is read or refused, never a panic;
// what Encode makes decodes to itself.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(EncodeCursor(Cursor{QueryString: "*", Key: "a@example.com", ID: "00000000-0000-0000-0000-000000000001"}))
	f.Add("")
	f.Add("e30")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := DecodeCursor(s)
		if err != nil {
			return
		}
		again, err := DecodeCursor(EncodeCursor(c))
		if err != nil || again.Key != c.Key || again.ID != c.ID || again.QueryString != c.QueryString || again.Query != c.Query {
			t.Fatalf("cursor %q does not survive a round trip: %+v vs %+v (%v)", s, c, again, err)
		}
	})
}
