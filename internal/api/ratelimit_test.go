package api_test

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/latchid/latch/internal/testutil"
)

// rlStart is a login env with the given rate limits (a 60 s window) behind
// a trusted proxy at 127.0.0.1, so that X-Forwarded-For sets each request's
// client address.
func rlStart(t *testing.T, b testutil.Backend, perAddress, perTenant int, opts ...testutil.Option) *lgEnv {
	t.Helper()
	return lgStart(t, b, append([]testutil.Option{testutil.WithEnv(
		"LATCH_AUTH_RATE_PER_ADDRESS", strconv.Itoa(perAddress),
		"LATCH_AUTH_RATE_PER_TENANT", strconv.Itoa(perTenant),
		"LATCH_AUTH_RATE_WINDOW", "60",
		"LATCH_TRUSTED_PROXIES", "127.0.0.1")}, opts...)...)
}

// tooMany fails unless r is a 429 with a Retry-After within the window.
func tooMany(t *testing.T, what string, r *testutil.Response) {
	t.Helper()
	after, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if r.Status != http.StatusTooManyRequests || err != nil || after < 1 || after > 60 {
		t.Errorf("%s: %d, Retry-After %q; want 429 with 1-60 s", what, r.Status, r.Header.Get("Retry-After"))
	}
}

// One address spraying one password at many login ids is refused with 429
// after its limit, whichever login ids it tries, while another address
// still logs in; the next window lets it try again.
func TestRateLimitPerAddress(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := rlStart(t, b, 5, 0)
		app := e.app("App", lgAppOpts{})
		email := lgEmail("victim")
		e.register(e.user(email, lgPassword, nil), app)
		spray := func(i int, from string) *testutil.Response {
			return e.login("", map[string]any{"loginId": fmt.Sprintf("user%d@spray.example.com", i), "password": "Summer2026!",
				"applicationId": app}, "X-Forwarded-For", from)
		}
		for i := range 5 {
			e.want(fmt.Sprintf("spray %d", i), spray(i, "203.0.113.7"), 404)
		}
		tooMany(t, "spray beyond the limit", spray(5, "203.0.113.7"))
		tooMany(t, "the right password from the spraying address", e.login("", map[string]any{"loginId": email,
			"password": lgPassword, "applicationId": app}, "X-Forwarded-For", "203.0.113.7"))
		e.want("another address", e.login("", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app},
			"X-Forwarded-For", "198.51.100.9"), 200)
		// The other endpoints count toward the same address.
		tooMany(t, "change password from the spraying address", e.do("POST", "/api/user/change-password/guessed-code", "",
			map[string]any{"password": "another password 1"}, "X-Forwarded-For", "203.0.113.7"))
		e.want("change password from another address", e.do("POST", "/api/user/change-password/guessed-code", "",
			map[string]any{"password": "another password 1"}, "X-Forwarded-For", "198.51.100.9"), 404)
		// IPv6 addresses count by /64.
		for i := range 5 {
			e.want(fmt.Sprintf("v6 spray %d", i), spray(i, fmt.Sprintf("2001:db8:1:2::%x", i+1)), 404)
		}
		tooMany(t, "v6 spray from the same /64", spray(6, "2001:db8:1:2:ffff::1"))

		e.clock.Advance(60 * time.Second)
		e.want("the next window", spray(7, "203.0.113.7"), 404)
	})
}

// Behind a trusted proxy the forwarded address is what is limited; without
// one, X-Forwarded-For is not believed, so rotating it does not escape the
// socket address's limit.
func TestRateLimitForwardedAddress(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b, testutil.WithEnv("LATCH_AUTH_RATE_PER_ADDRESS", "3", "LATCH_AUTH_RATE_PER_TENANT", "0"))
		app := e.app("App", lgAppOpts{})
		for i := range 3 {
			e.want(fmt.Sprintf("untrusted %d", i), e.login("", map[string]any{"loginId": "x@example.com", "password": "p",
				"applicationId": app}, "X-Forwarded-For", fmt.Sprintf("192.0.2.%d", i+1)), 404)
		}
		tooMany(t, "a fresh X-Forwarded-For from an untrusted peer", e.login("", map[string]any{"loginId": "x@example.com",
			"password": "p", "applicationId": app}, "X-Forwarded-For", "192.0.2.99"))
	})
}

// A tenant's limit holds whatever addresses the requests come from; other
// tenants are not affected, and callers with an API key are not limited per
// address (their address is an application's server).
func TestRateLimitPerTenant(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := rlStart(t, b, 2, 6)
		app := e.app("App", lgAppOpts{})
		other := e.want("tenant", e.do("POST", "/api/tenant", e.root, map[string]any{"tenant": map[string]any{"name": "Other"}}), 200)["tenant"].(map[string]any)["id"].(string)
		otherApp := e.want("app", e.do("POST", "/api/application", e.root, map[string]any{"application": map[string]any{
			"name": "Other App", "tenantId": other, "loginConfiguration": map[string]any{"requireAuthentication": false}}}), 200)["application"].(map[string]any)["id"].(string)
		for i := range 6 {
			e.want(fmt.Sprintf("tenant request %d", i), e.login("", map[string]any{"loginId": fmt.Sprintf("x%d@example.com", i), "password": "p",
				"applicationId": app}, "X-Forwarded-For", fmt.Sprintf("192.0.2.%d", i+1)), 404)
		}
		tooMany(t, "the tenant beyond its limit", e.login("", map[string]any{"loginId": "x@example.com", "password": "p",
			"applicationId": app}, "X-Forwarded-For", "192.0.2.200"))
		e.want("another tenant", e.login("", map[string]any{"loginId": "x@example.com", "password": "p",
			"applicationId": otherApp}, "X-Forwarded-For", "192.0.2.201"), 404)

		key := e.loginKey("/api/login", "POST")
		e.clock.Advance(60 * time.Second)
		for i := range 4 {
			e.want(fmt.Sprintf("keyed request %d from one address", i), e.login(key, map[string]any{"loginId": fmt.Sprintf("k%d@example.com", i),
				"password": "p", "applicationId": app}, "X-Forwarded-For", "192.0.2.50"), 404)
		}
	})
}

// Two nodes on one PostgreSQL share the counts.
func TestRateLimitAcrossNodes(t *testing.T) {
	t.Parallel()
	pg := testutil.Backend{Name: "postgres", DatabaseURL: testutil.PostgresURL(t)}
	e := rlStart(t, pg, 4, 0)
	nodeB := testutil.StartServer(t, testutil.WithBackend(pg), testutil.WithClock(e.clock), testutil.WithEnv(
		"LATCH_MASTER_KEY", testutil.TestMasterKey, "LATCH_AUTH_RATE_PER_ADDRESS", "4", "LATCH_AUTH_RATE_PER_TENANT", "0",
		"LATCH_TRUSTED_PROXIES", "127.0.0.1"))
	app := e.app("App", lgAppOpts{})
	req := map[string]any{"loginId": "x@example.com", "password": "p", "applicationId": app}
	for i, node := range []*testutil.Server{e.s, nodeB, e.s, nodeB} {
		if r := node.Do(t, "POST", "/api/login", "", req, "X-Forwarded-For", "203.0.113.50"); r.Status != 404 {
			t.Fatalf("request %d on %s: %d", i+1, node.Addr, r.Status)
		}
	}
	for _, node := range []*testutil.Server{e.s, nodeB} {
		tooMany(t, "node "+node.Addr+" after 4 requests spread over both", node.Do(t, "POST", "/api/login", "", req,
			"X-Forwarded-For", "203.0.113.50"))
	}
}
