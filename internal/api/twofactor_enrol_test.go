package api_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/testutil"
)

// TestTwoFactorEnrolmentNeedsRecentAuthentication: with only an access
// token, a user who already has a method adds (or removes) one only with the
// current password or a current code of an existing method; secrets have at
// least 160 bits; generated ones carry 160 bits of randomness.
func TestTwoFactorEnrolmentNeedsRecentAuthentication(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		hold := newHashHold()
		e := lgStart(t, b, testutil.WithHashObserver(hold.observe))
		app := e.app("Enrol", lgAppOpts{})
		email := lgEmail("enrol")
		uid := e.user(email, lgPassword, nil)
		e.register(uid, app)
		token := lgStr(e.loginOK("login", "", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app}, 200)["token"])
		bearer := []string{"Authorization", "Bearer " + token}

		first, _ := e.tfSecret("", bearer...)
		raw, err := base64.StdEncoding.DecodeString(first)
		if err != nil || len(raw)*8 < 160 {
			t.Errorf("generated secret %q has %d random bits, want at least 160 (%v)", first, len(raw)*8, err)
		}
		enable := func(body map[string]any) *testutil.Response {
			body["method"] = "authenticator"
			return e.do("POST", "/api/user/two-factor", "", body, bearer...)
		}
		// Too short secrets are refused, however they come.
		short := []struct {
			name  string
			body  map[string]any
			field string
		}{
			{"1-byte secret", map[string]any{"secret": "a", "code": tfCode([]byte("a"), e.clock.Now())}, "[tooShort]secret"},
			{"19-byte secret", map[string]any{"secret": strings.Repeat("k", 19), "code": tfCode([]byte(strings.Repeat("k", 19)), e.clock.Now())}, "[tooShort]secret"},
			{"10-byte base32", map[string]any{"secretBase32Encoded": "MFRGGZDFMZTWQ2LK", "code": "000000"}, "[tooShort]secretBase32Encoded"},
		}
		for _, c := range short {
			want400(t, c.name, enable(c.body), c.field)
		}

		// The first method needs no more than the token.
		e.want("first method", enable(map[string]any{"secret": first, "code": tfCode([]byte(first), e.clock.Now())}), 200)

		e.clock.Advance(30 * time.Second)
		second, _ := e.tfSecret("", bearer...)
		secondCode := func() string { return tfCode([]byte(second), e.clock.Now()) }
		cases := []struct {
			name   string
			extra  map[string]any
			status int
			code   string
		}{
			{"token only", nil, 400, "[blank]currentPassword"},
			{"wrong password", map[string]any{"currentPassword": "not the password"}, 421, ""},
			{"wrong existing code", map[string]any{"currentCode": "000000"}, 421, ""},
		}
		for _, c := range cases {
			body := map[string]any{"secret": second, "code": secondCode()}
			for k, v := range c.extra {
				body[k] = v
			}
			r := enable(body)
			if c.code != "" {
				want400(t, c.name, r, c.code)
				continue
			}
			if r.Status != c.status {
				t.Errorf("%s: %d %s, want %d", c.name, r.Status, r.Body, c.status)
			}
		}
		hold.take()
		e.want("second method with the current password", enable(map[string]any{"secret": second, "code": secondCode(), "currentPassword": lgPassword}), 200)
		// The current password is checked in the hash pool (bounded, fair,
		// at the tenant's cost), never beside it.
		if jobs := hold.take(); len(jobs) != 1 || jobs[0].Op != password.JobCheck {
			t.Errorf("current password check: hash pool saw %+v, want one check", jobs)
		}

		// A third with a current code of an existing method.
		e.clock.Advance(30 * time.Second)
		third, _ := e.tfSecret("", bearer...)
		e.want("third method with an existing method's code", enable(map[string]any{"secret": third, "code": tfCode([]byte(third), e.clock.Now()),
			"currentCode": tfCode([]byte(first), e.clock.Now())}), 200)

		// An API key (an administrator) is not asked.
		e.clock.Advance(30 * time.Second)
		fourth, _ := e.tfSecret(e.root)
		e.want("key adds a method", e.do("POST", "/api/user/two-factor/"+uid, e.root, map[string]any{"method": "authenticator", "secret": fourth,
			"code": tfCode([]byte(fourth), e.clock.Now())}), 200)

		// A locked user's password is not checked: the right one is answered
		// as a wrong one, nothing is added, and no hash is computed.
		for range 5 {
			e.do("POST", "/api/login", e.root, map[string]any{"loginId": email, "password": "not the password", "applicationId": app})
		}
		e.want("login while locked", e.do("POST", "/api/login", e.root, map[string]any{"loginId": email, "password": lgPassword, "applicationId": app}), 409)
		e.clock.Advance(30 * time.Second)
		fifth, _ := e.tfSecret("", bearer...)
		hold.take()
		for _, pw := range []string{lgPassword, "not the password"} {
			r := enable(map[string]any{"secret": fifth, "code": tfCode([]byte(fifth), e.clock.Now()), "currentPassword": pw})
			if r.Status != 421 {
				t.Errorf("enrolment while locked with password %q: %d %s, want 421 whatever the password", pw, r.Status, r.Body)
			}
		}
		if jobs := hold.take(); len(jobs) != 0 {
			t.Errorf("enrolment while locked checked the password: %+v", jobs)
		}
		if user := e.want("user", e.do("GET", "/api/user/"+uid, e.root, nil), 200)["user"].(map[string]any); len(user["twoFactor"].(map[string]any)["methods"].([]any)) != 4 {
			t.Errorf("methods after the refused enrolments: %v", user["twoFactor"])
		}
	})
}

// An authenticator secret given through the user API (create, update,
// PATCH, import) holds at least 160 bits too: the enrolment API's rule has
// no way around it.
func TestTwoFactorSecretMinimumThroughUserAPI(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		methods := func(secret string) map[string]any {
			return map[string]any{"methods": []any{map[string]any{"method": "authenticator", "secret": secret}}}
		}
		short, long := "c2VjcmV0", strings.Repeat("k", 20)
		uid := e.user(lgEmail("tfapi"), lgPassword, nil)
		cases := []struct {
			name   string
			method string
			path   string
			body   map[string]any
			field  string
		}{
			{"create", "POST", "/api/user", map[string]any{"user": map[string]any{"email": lgEmail("short"), "password": lgPassword, "twoFactor": methods(short)}}, "user.twoFactor.methods[0].secret"},
			{"update", "PUT", "/api/user/" + uid, map[string]any{"user": map[string]any{"email": lgEmail("tfapi"), "twoFactor": methods(short)}}, "user.twoFactor.methods[0].secret"},
			{"patch", "PATCH", "/api/user/" + uid, map[string]any{"user": map[string]any{"twoFactor": methods("base32:MFRGGZDFMZTWQ2LK")}}, "user.twoFactor.methods[0].secret"},
			{"import", "POST", "/api/user/import", map[string]any{"users": []any{map[string]any{"email": lgEmail("imp"), "twoFactor": methods(short)}}}, "twoFactor.methods[0].secret"},
		}
		for _, c := range cases {
			r := e.do(c.method, c.path, e.root, c.body)
			if r.Status != 400 || !strings.Contains(string(r.Body), c.field) || !strings.Contains(string(r.Body), "tooShort") {
				t.Errorf("%s with a 64-bit secret: %d %s", c.name, r.Status, r.Body)
			}
		}
		e.want("create with 160 bits", e.do("POST", "/api/user", e.root, map[string]any{"user": map[string]any{"email": lgEmail("long"), "password": lgPassword, "twoFactor": methods(long)}}), 200)
	})
}
