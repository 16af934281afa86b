package oauth_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/testutil"
)

// TestThrottledSignIn: the hosted pages and the password grant keep the
// Login API's rate limits (per address for browsers and public clients, per
// tenant for all), and a throttled attempt is a "try again shortly" page or
// temporarily_unavailable with Retry-After, never a 500.
func TestThrottledSignIn(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b, testutil.WithEnv("LATCH_AUTH_RATE_PER_ADDRESS", "2", "LATCH_AUTH_RATE_PER_TENANT", "4", "LATCH_AUTH_RATE_WINDOW", "60"))
		grants := []string{"authorization_code", "refresh_token", "password"}
		web := e.app(appOpts{name: "Web", grants: grants})
		public := e.app(appOpts{name: "Public", grants: grants, public: true})
		e.user("busy@example.com", nil, web.id, public.id)
		nextWindow := func() { e.clock.Advance(61 * time.Second) }
		nextWindow()

		t.Run("hosted-page-per-address", func(t *testing.T) {
			br := e.browser()
			r := e.rp(web)
			p := br.get(r.conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
			for i := range 2 {
				if got := br.submit(p, "loginId", "busy@example.com", "password", "wrong"); got.status != 200 || !strings.Contains(got.body, "Invalid login credentials") {
					t.Fatalf("attempt %d: %d %s", i, got.status, got.body)
				}
			}
			got := br.submit(p, "loginId", "busy@example.com", "password", testPassword)
			if got.status != http.StatusTooManyRequests || got.header.Get("Retry-After") == "" || !strings.Contains(got.body, "Too many sign-in attempts") {
				t.Fatalf("beyond the address limit: %d, Retry-After %q: %s", got.status, got.header.Get("Retry-After"), got.body)
			}
			nextWindow()
		})

		passwordGrant := func(c client, basic bool) (int, http.Header, map[string]any) {
			form := url.Values{"grant_type": {"password"}, "username": {"busy@example.com"}, "password": {"wrong"}, "client_id": {c.id}}
			if basic {
				return e.postForm("/oauth2/token", form, c.id, c.secret)
			}
			return e.postForm("/oauth2/token", form, "", "")
		}

		t.Run("public-client-password-grant-per-address", func(t *testing.T) {
			for i := range 2 {
				if st, _, m := passwordGrant(public, false); st != 400 || m["error"] != "invalid_grant" {
					t.Fatalf("attempt %d: %d %v", i, st, m)
				}
			}
			st, h, m := passwordGrant(public, false)
			if st != http.StatusTooManyRequests || m["error"] != "temporarily_unavailable" || h.Get("Retry-After") == "" || h.Get("Cache-Control") != "no-store" {
				t.Fatalf("beyond the address limit: %d %v %v", st, h, m)
			}
			nextWindow()
		})

		t.Run("confidential-client-per-tenant-only", func(t *testing.T) {
			// An application's server speaks for many users from one
			// address: only the tenant's limit applies to it.
			for i := range 4 {
				if st, _, m := passwordGrant(web, true); st != 400 || m["error"] != "invalid_grant" {
					t.Fatalf("attempt %d: %d %v", i, st, m)
				}
			}
			st, h, m := passwordGrant(web, true)
			if st != http.StatusTooManyRequests || m["error"] != "temporarily_unavailable" || h.Get("Retry-After") == "" {
				t.Fatalf("beyond the tenant limit: %d %v %v", st, h, m)
			}
			nextWindow()
		})
	})
}

// TestBusyHashPoolSignIn: a sign-in that finds the password-hash pool full
// answers 503 with Retry-After (a page, or temporarily_unavailable), not 500.
func TestBusyHashPoolSignIn(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		var armed atomic.Bool
		entered, gate := make(chan struct{}, 1), make(chan struct{})
		observe := func(context.Context, password.Job) {
			if armed.CompareAndSwap(true, false) { // hold the one worker with the first hash after arming
				entered <- struct{}{}
				<-gate
			}
		}
		e := start(t, b, testutil.WithHashObserver(observe), testutil.WithEnv("LATCH_HASH_WORKERS", "1", "LATCH_HASH_QUEUE", "0"))
		web := e.app(appOpts{name: "Web", grants: []string{"authorization_code", "password"}})
		e.user("pool@example.com", nil, web.id)

		armed.Store(true)
		held := make(chan int, 1)
		go func() {
			st, _, _ := e.postFormNoFatal("/oauth2/token", url.Values{"grant_type": {"password"}, "username": {"pool@example.com"},
				"password": {testPassword}}, web.id, web.secret)
			held <- st
		}()
		<-entered

		st, h, m := e.postForm("/oauth2/token", url.Values{"grant_type": {"password"}, "username": {"pool@example.com"}, "password": {testPassword}}, web.id, web.secret)
		if st != http.StatusServiceUnavailable || m["error"] != "temporarily_unavailable" || h.Get("Retry-After") == "" {
			t.Errorf("password grant with the pool full: %d %v %v", st, h, m)
		}
		br := e.browser()
		r := e.rp(web)
		p := br.get(r.conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		got := br.submit(p, "loginId", "pool@example.com", "password", testPassword)
		if got.status != http.StatusServiceUnavailable || got.header.Get("Retry-After") == "" || !strings.Contains(got.body, "Try again shortly") {
			t.Errorf("sign-in page with the pool full: %d, Retry-After %q: %s", got.status, got.header.Get("Retry-After"), got.body)
		}
		close(gate)
		if st := <-held; st != http.StatusOK {
			t.Errorf("held password grant: %d", st)
		}
	})
}
