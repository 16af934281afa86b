package api_test

import (
	"bytes"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchid/latch/internal/testutil"
)

// lgRefreshApp makes an application that issues refresh tokens under a JWT
// configuration, a registered user, and logs in; it returns the app, the
// user and the login body.
func (e *lgEnv) lgRefreshApp(name string, jwt map[string]any) (app, uid, email string, m map[string]any) {
	e.t.Helper()
	app = e.app(name, lgAppOpts{refresh: true, roles: []string{"r"}, jwt: jwt})
	email = lgEmail("refresh")
	uid = e.user(email, lgPassword, nil)
	e.register(uid, app, "r")
	m = e.loginOK("login", "", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app}, 200)
	return app, uid, email, m
}

// One-time-use refresh tokens rotate; a rotated token used again revokes its
// whole family (the new token too), and only that family.
func TestRefreshRotationAndReuse(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		app, uid, email, m := e.lgRefreshApp("Rotating", map[string]any{"refreshTokenUsagePolicy": "OneTimeUse"})
		rt1 := lgStr(m["refreshToken"])
		sid := lgStr(lgClaims(t, lgStr(m["token"]))["sid"])
		// A second session of the same user, which reuse of the first must not touch.
		other := lgStr(e.loginOK("second login", "", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app}, 200)["refreshToken"])

		e.clock.Advance(time.Minute)
		r1 := e.want("refresh 1", e.refresh(rt1), 200)
		rt2 := lgStr(r1["refreshToken"])
		if rt2 == "" || rt2 == rt1 || lgStr(r1["refreshTokenId"]) == "" || lgStr(r1["token"]) == "" {
			t.Fatalf("rotation answered %v", r1)
		}
		c := lgClaims(t, lgStr(r1["token"]))
		if c["authenticationType"] != "REFRESH_TOKEN" || c["sid"] != sid || c["sub"] != uid ||
			c["auth_time"].(float64) != float64(e.clock.Now().Add(-time.Minute).Unix()) || c["iat"].(float64) != float64(e.clock.Now().Unix()) {
			t.Errorf("refreshed claims: %v", c)
		}
		e.want("validate refreshed token", e.validate(lgStr(r1["token"])), 200)
		r2 := e.want("refresh 2", e.refresh(rt2), 200)
		rt3 := lgStr(r2["refreshToken"])

		// rt1 again: reuse. The family (rt3) is revoked; the other session lives.
		e.refused("reuse of rt1", e.refresh(rt1))
		e.refused("rt3 after the reuse", e.refresh(rt3))
		e.want("the other session", e.refresh(other), 200)
		if msgs := e.lgAuditMessages(uid); len(msgs) == 0 || !strings.Contains(msgs[len(msgs)-1], "used again") {
			t.Errorf("no audit entry for the reuse: %v", msgs)
		}
		listed := e.want("list", e.do("GET", "/api/jwt/refresh?userId="+uid, e.root, nil), 200)["refreshTokens"].([]any)
		if len(listed) != 1 {
			t.Errorf("after the reuse, %d usable tokens listed, want 1 (the other session)", len(listed))
		}
	})
}

// Reusable tokens keep working and keep their value; the expiration policies
// set their windows with the injected clock.
func TestRefreshPolicies(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)

		// Reusable, Fixed (60 minutes): the same token until exactly 60 minutes.
		_, _, _, m := e.lgRefreshApp("Fixed", map[string]any{"refreshTokenTimeToLiveInMinutes": 60})
		rt := lgStr(m["refreshToken"])
		for i := 0; i < 3; i++ {
			e.clock.Advance(19 * time.Minute)
			if got := lgStr(e.want("reusable refresh", e.refresh(rt), 200)["refreshToken"]); got != rt {
				t.Errorf("a reusable refresh answered another token")
			}
		}
		e.clock.Advance(3*time.Minute - time.Millisecond)
		e.want("fixed, a millisecond before expiry", e.refresh(rt), 200)
		e.clock.Advance(time.Millisecond)
		e.refused("fixed, at expiry", e.refresh(rt))

		// SlidingWindow (10 minutes): each use moves the window.
		_, _, _, m = e.lgRefreshApp("Sliding", map[string]any{"refreshTokenTimeToLiveInMinutes": 10, "refreshTokenExpirationPolicy": "SlidingWindow"})
		rt = lgStr(m["refreshToken"])
		for i := 0; i < 4; i++ {
			e.clock.Advance(9 * time.Minute)
			e.want("sliding refresh", e.refresh(rt), 200)
		}
		e.clock.Advance(10 * time.Minute)
		e.refused("sliding, idle for the whole window", e.refresh(rt))

		// SlidingWindowWithMaximumLifetime (10 minutes, at most 25).
		_, _, _, m = e.lgRefreshApp("Capped", map[string]any{"refreshTokenTimeToLiveInMinutes": 10,
			"refreshTokenExpirationPolicy":           "SlidingWindowWithMaximumLifetime",
			"refreshTokenSlidingWindowConfiguration": map[string]any{"maximumTimeToLiveInMinutes": 25}})
		rt = lgStr(m["refreshToken"])
		e.clock.Advance(9 * time.Minute)
		e.want("capped 9", e.refresh(rt), 200)
		e.clock.Advance(9 * time.Minute)
		e.want("capped 18", e.refresh(rt), 200)
		e.clock.Advance(7*time.Minute - time.Millisecond)
		e.want("capped, just under the maximum", e.refresh(rt), 200)
		e.clock.Advance(time.Millisecond)
		e.refused("capped, at the maximum", e.refresh(rt))

		// OneTimeUse + Fixed: the rotated tokens keep the login's window.
		_, _, _, m = e.lgRefreshApp("Rotating fixed", map[string]any{"refreshTokenTimeToLiveInMinutes": 30, "refreshTokenUsagePolicy": "OneTimeUse"})
		rt = lgStr(m["refreshToken"])
		e.clock.Advance(20 * time.Minute)
		rt = lgStr(e.want("rotate", e.refresh(rt), 200)["refreshToken"])
		e.clock.Advance(10 * time.Minute)
		e.refused("rotated token past the login's window", e.refresh(rt))

		// Grace period: a rotated token used again within it is a retry: it
		// gets the same successor, and no revocation. Once the successor is
		// used, or after the period, it is a reuse.
		grace := map[string]any{"refreshTokenUsagePolicy": "OneTimeUse", "refreshTokenOneTimeUseConfiguration": map[string]any{"gracePeriodInSeconds": 30}}
		_, graceUser, _, m := e.lgRefreshApp("Grace", grace)
		rt = lgStr(m["refreshToken"])
		first := e.want("rotate", e.refresh(rt), 200)
		next := lgStr(first["refreshToken"])
		e.clock.Advance(29 * time.Second)
		retry := e.want("reuse within the grace period", e.refresh(rt), 200)
		if lgStr(retry["refreshToken"]) != next || lgStr(retry["refreshTokenId"]) != lgStr(first["refreshTokenId"]) || lgStr(retry["token"]) == "" {
			t.Errorf("a retry within the grace period got another refresh token than the first exchange: %v", retry)
		}
		if live := e.want("list", e.do("GET", "/api/jwt/refresh?userId="+graceUser, e.root, nil), 200)["refreshTokens"].([]any); len(live) != 1 {
			t.Errorf("after a retry within the grace period %d tokens are usable, want 1", len(live))
		}
		after := lgStr(e.want("the successor still works", e.refresh(next), 200)["refreshToken"])
		e.refused("reuse within the grace period after the successor was used", e.refresh(rt))
		e.refused("the session after that reuse", e.refresh(after))
		_, _, _, m = e.lgRefreshApp("Grace", grace)
		rt = lgStr(m["refreshToken"])
		next = lgStr(e.want("rotate", e.refresh(rt), 200)["refreshToken"])
		e.clock.Advance(30 * time.Second)
		e.refused("reuse at the end of the grace period", e.refresh(rt))
		e.refused("the successor after that reuse", e.refresh(next))

		// allowTokenRefresh off: the token exists but cannot be exchanged.
		noRefresh := e.app("No refresh", lgAppOpts{})
		e.want("enable generateRefreshTokens only", e.do("PATCH", "/api/application/"+noRefresh, e.root,
			map[string]any{"application": map[string]any{"loginConfiguration": map[string]any{"generateRefreshTokens": true, "allowTokenRefresh": false}}}), 200)
		email := lgEmail("norefresh")
		uid := e.user(email, lgPassword, nil)
		e.register(uid, noRefresh)
		m = e.loginOK("login", "", map[string]any{"loginId": email, "password": lgPassword, "applicationId": noRefresh}, 200)
		e.refused("allowTokenRefresh false", e.refresh(lgStr(m["refreshToken"])))

		// Bad input.
		if r := e.do("POST", "/api/jwt/refresh", "", map[string]any{}); r.Status != 400 || !slices.Contains(errorCodes(t, r), "[blank]refreshToken") {
			t.Errorf("no refresh token: %d %s", r.Status, r.Body)
		}
		for _, bad := range []string{"garbage", strings.Repeat("x", 100_000), "\x00\x01"} {
			e.refused("bad refresh token", e.refresh(bad))
		}
		e.refused("refresh by cookie", e.do("POST", "/api/jwt/refresh", "", nil, "Cookie", "refresh_token="+lgStr(m["refreshToken"])))
	})
}

// A deactivated user's refresh tokens stop working; so do those of a user
// no longer registered.
func TestRefreshUserState(t *testing.T) {
	t.Parallel()
	e := lgStart(t, testutil.Backend{Name: "sqlite"})
	app, uid, email, m := e.lgRefreshApp("App", nil)
	rt := lgStr(m["refreshToken"])
	e.want("refresh", e.refresh(rt), 200)
	e.want("deactivate", e.do("DELETE", "/api/user/"+uid, e.root, nil), 200)
	e.refused("deactivated user", e.refresh(rt))
	// Deactivation revoked the tokens: reactivating does not bring them back.
	e.want("reactivate", e.do("PUT", "/api/user/"+uid+"?reactivate=true", e.root, nil), 200)
	e.refused("reactivated user's revoked token", e.refresh(rt))
	rt = lgStr(e.loginOK("login again", "", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app}, 200)["refreshToken"])
	e.want("reactivated user", e.refresh(rt), 200)
	e.want("unregister", e.do("DELETE", "/api/user/registration/"+uid+"/"+app, e.root, nil), 200)
	e.refused("unregistered user", e.refresh(rt))
}

// Concurrent exchanges of one one-time-use token, 150 rounds of 2 to 4
// racers over HTTP, on one node and on two (one PostgreSQL, or one SQLite
// file), with a clock that moves while they race: exactly one exchange wins.
// Without a grace period the losers are a reuse and end the session; with
// one they are retries and get the winner's refresh token, so exactly one
// branch of the session lives on.
func TestRefreshOneTimeRace(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		nodes, grace int
	}{
		{"one node", 1, 0},
		{"one node with a grace period", 1, 30},
		{"two nodes", 2, 0},
		{"two nodes with a grace period", 2, 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
				var opts []testutil.Option
				if b.DatabaseURL == "" {
					opts = append(opts, testutil.WithSharedDataDir(t.TempDir())) // one SQLite file for every node
				}
				e := lgStart(t, b, opts...)
				nodes := []*testutil.Server{e.s}
				if tc.nodes == 2 {
					nodes = append(nodes, testutil.StartServer(t, append(opts, testutil.WithBackend(b), testutil.WithClock(e.clock),
						testutil.WithEnv("LATCH_MASTER_KEY", testutil.TestMasterKey), testutil.WithSharedDataDir(e.s.DataDir))...))
				}
				app, uid, email, m := e.lgRefreshApp("Rotating", map[string]any{"refreshTokenUsagePolicy": "OneTimeUse",
					"refreshTokenOneTimeUseConfiguration": map[string]any{"gracePeriodInSeconds": tc.grace}})
				// A session never refreshed, from which each round without a
				// grace period starts a new one (/api/jwt/issue): the losers'
				// reuse ends the session they raced for.
				anchor := e.loginOK("anchor login", "", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app}, 200)
				newSession := func() string {
					return lgStr(e.want("issue", e.do("GET", "/api/jwt/issue?applicationId="+app+"&refreshToken="+url.QueryEscape(lgStr(anchor["refreshToken"])),
						"", nil, "Authorization", "Bearer "+lgStr(anchor["token"])), 200)["refreshToken"])
				}
				usable := func() (ids []string) {
					for _, l := range e.want("list", e.do("GET", "/api/jwt/refresh?userId="+uid, e.root, nil), 200)["refreshTokens"].([]any) {
						if id := lgStr(l.(map[string]any)["id"]); id != lgStr(anchor["refreshTokenId"]) {
							ids = append(ids, id)
						}
					}
					return ids
				}
				e.clock.Tick(time.Millisecond)
				defer e.clock.Tick(0)
				rt := lgStr(m["refreshToken"])
				for round := range 150 {
					racers := 2 + round%3
					results := make([]*testutil.Response, racers)
					var wg sync.WaitGroup
					start := make(chan struct{})
					for i := range racers {
						wg.Add(1)
						go func() {
							defer wg.Done()
							<-start
							results[i] = nodes[i%len(nodes)].Do(t, "POST", "/api/jwt/refresh", "", map[string]any{"refreshToken": rt})
						}()
					}
					close(start)
					wg.Wait()
					var won []map[string]any
					for _, r := range results {
						switch r.Status {
						case 200:
							won = append(won, e.want("winner", r, 200))
						case 400:
							e.refused("loser", r)
						default:
							t.Fatalf("round %d: status %d %s", round, r.Status, r.Body)
						}
					}
					live := usable()
					if tc.grace == 0 {
						// One winner; the losers' reuse ended the session.
						if len(won) != 1 || len(live) != 0 {
							t.Fatalf("round %d: %d of %d concurrent exchanges won and %d tokens are usable, want 1 and 0",
								round, len(won), racers, len(live))
						}
						rt = newSession()
						continue
					}
					// Every success is the winner's: one successor, the only usable token.
					next, nextID := lgStr(won[0]["refreshToken"]), lgStr(won[0]["refreshTokenId"])
					for _, w := range won {
						if lgStr(w["refreshToken"]) != next || lgStr(w["refreshTokenId"]) != nextID {
							t.Fatalf("round %d: %d concurrent exchanges answered different refresh tokens: a second branch", round, len(won))
						}
					}
					if len(live) != 1 || live[0] != nextID {
						t.Fatalf("round %d: %d usable tokens after %d successes, want only the successor", round, len(live), len(won))
					}
					rt = next
				}
			})
		})
	}
}

// Refresh tokens are stored as hashes (and, under a grace period, the
// unused successor sealed) only: scan the SQLite files and a pg_dump for
// every token issued.
func TestRefreshTokensNotAtRest(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		var tokens []string
		_, _, _, m := e.lgRefreshApp("Reusable", nil)
		tokens = append(tokens, lgStr(m["refreshToken"]))
		e.refresh(tokens[0])
		_, _, _, m = e.lgRefreshApp("Rotating", map[string]any{"refreshTokenUsagePolicy": "OneTimeUse"})
		tokens = append(tokens, lgStr(m["refreshToken"]))
		tokens = append(tokens, lgStr(e.want("rotate", e.refresh(tokens[1]), 200)["refreshToken"]))
		// Under a grace period the successor's value is kept, sealed.
		_, _, _, m = e.lgRefreshApp("Grace", map[string]any{"refreshTokenUsagePolicy": "OneTimeUse",
			"refreshTokenOneTimeUseConfiguration": map[string]any{"gracePeriodInSeconds": 60}})
		tokens = append(tokens, lgStr(m["refreshToken"]))
		tokens = append(tokens, lgStr(e.want("rotate with a grace period", e.refresh(tokens[3]), 200)["refreshToken"]))
		for _, tok := range tokens {
			if len(tok) < 40 {
				t.Fatalf("short refresh token %q", tok)
			}
		}
		dump := e.atRest()
		if !bytes.Contains(dump, []byte("refresh_tokens")) && b.DatabaseURL != "" {
			t.Fatalf("the dump has no refresh_tokens table")
		}
		for _, tok := range tokens {
			for _, form := range []string{tok, tok[:24], tok[len(tok)-24:]} {
				if bytes.Contains(dump, []byte(form)) {
					t.Errorf("a refresh token (or a part of it) is in the database in plaintext")
				}
			}
		}
		t.Logf("scanned %d bytes", len(dump))
	})
}
