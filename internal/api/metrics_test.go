package api_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/testutil"
)

// scrape reads /api/prometheus/metrics with key into series → value; the
// series is the exposition's name and labels as printed.
func (e *lgEnv) scrape(key string) map[string]float64 {
	e.t.Helper()
	r := e.do("GET", "/api/prometheus/metrics", key, nil)
	if r.Status != 200 {
		e.t.Fatalf("scrape: status %d, body %s", r.Status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		e.t.Fatalf("scrape: Content-Type %q, want Prometheus text format", ct)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(r.Body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			e.t.Fatalf("scrape: line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// The metrics endpoint answers keys with its permission only, and its
// counters move with the traffic they count: requests by route pattern and
// status (never by raw path), logins by outcome, tokens, refresh token reuse,
// key failures and denials, lockouts; pool and cache figures are there.
func TestPrometheusMetrics(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		metricsKey := e.loginKey("/api/prometheus/metrics", "GET")
		otherKey := e.loginKey("/api/user", "GET")

		for _, c := range []struct {
			what, key string
		}{{"no key", ""}, {"a key without the permission", otherKey}, {"an unknown key", "not-a-key-" + strings.Repeat("x", 20)}} {
			if r := e.do("GET", "/api/prometheus/metrics", c.key, nil); r.Status != 401 {
				t.Errorf("%s: status %d, want 401", c.what, r.Status)
			}
		}

		e.patchTenant(map[string]any{"failedAuthenticationConfiguration": map[string]any{"tooManyAttempts": 3,
			"actionDuration": 5, "actionDurationUnit": "MINUTES", "resetCountInSeconds": 600}})
		app, uid, email, m := e.lgRefreshApp("Metrics", map[string]any{"refreshTokenUsagePolicy": "OneTimeUse"})
		before := e.scrape(metricsKey)

		// Two logins (200), one wrong password (404), a lockout of another
		// id (its third failure locks and still answers 404, the fourth 409).
		login := map[string]any{"loginId": email, "password": lgPassword, "applicationId": app}
		m2 := e.loginOK("login", "", login, 200)
		e.loginOK("login without a token", "", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app, "noJWT": true}, 200)
		if r := e.login("", map[string]any{"loginId": email, "password": "wrong", "applicationId": app}); r.Status != 404 {
			t.Fatalf("wrong password: %d", r.Status)
		}
		locked := lgEmail("locked")
		for i := 0; i < 4; i++ {
			e.login("", map[string]any{"loginId": locked, "password": "wrong", "applicationId": app})
		}
		// A rotation, then the rotated token again after the grace period: reuse.
		rt := lgStr(m["refreshToken"])
		e.want("refresh", e.refresh(rt), 200)
		e.clock.Advance(time.Minute)
		if r := e.refresh(rt); r.Status == 200 {
			t.Fatalf("reuse answered 200")
		}
		e.want("validate", e.validate(lgStr(m2["token"])), 200)
		// Raw paths with ids: counted under their pattern.
		e.want("get user", e.do("GET", "/api/user/"+uid, otherKey, nil), 200)
		// A denial (the key lacks DELETE) and two key failures.
		if r := e.do("DELETE", "/api/user/"+uid, otherKey, nil); r.Status != 401 {
			t.Fatalf("denied delete: %d", r.Status)
		}
		e.do("GET", "/api/user/"+uid, "", nil)
		e.do("GET", "/api/user/"+uid, "unknown-key-value-0123456789", nil)

		after := e.scrape(metricsKey)
		delta := func(series string) float64 { return after[series] - before[series] }
		for _, c := range []struct {
			series string
			want   float64
		}{
			{`latch_http_requests_total{code="200",route="POST /api/login"}`, 2},
			{`latch_http_requests_total{code="404",route="POST /api/login"}`, 4},
			{`latch_http_requests_total{code="409",route="POST /api/login"}`, 1},
			{`latch_http_requests_total{code="200",route="GET /api/user/{id}"}`, 1},
			{`latch_http_requests_total{code="401",route="GET /api/user/{id}"}`, 2},
			{`latch_http_requests_total{code="200",route="POST /api/jwt/refresh"}`, 1},
			{`latch_http_request_duration_seconds_count{route="GET /api/jwt/validate"}`, 1},
			{`latch_logins_total{outcome="success"}`, 2},
			{`latch_logins_total{outcome="failed"}`, 4},
			{`latch_logins_total{outcome="locked_out"}`, 1},
			{`latch_tokens_issued_total{kind="access"}`, 2},
			{`latch_tokens_issued_total{kind="refresh"}`, 2},
			{`latch_refresh_token_reuse_total`, 1},
			{`latch_lockouts_total`, 1},
			{`latch_api_key_denials_total{route="DELETE /api/user/{id}"}`, 1},
			{`latch_api_key_auth_failures_total`, 2},
		} {
			if got := delta(c.series); got != c.want {
				t.Errorf("%s moved by %v, want %v", c.series, got, c.want)
			}
		}
		for _, series := range []string{
			`go_sql_open_connections{db_name="latch"}`,
			`go_sql_max_open_connections{db_name="latch"}`,
			`latch_api_key_cache_keys`,
			`latch_config_cache_entries`,
			`latch_password_hashes_running`,
			`latch_password_hashes_queued`,
			`process_resident_memory_bytes`,
		} {
			if _, ok := after[series]; !ok {
				t.Errorf("no series %s", series)
			}
		}
		if after[`latch_api_key_cache_keys`] < 3 {
			t.Errorf("latch_api_key_cache_keys = %v, want at least the 3 keys made", after[`latch_api_key_cache_keys`])
		}
		for series := range after {
			if strings.Contains(series, uid) {
				t.Errorf("a raw path became a label: %s", series)
			}
		}
	})
}
