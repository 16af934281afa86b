package api_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

// Retrieval and revocation of refresh tokens with an API key, by each
// selector; each revocation is audited, and a revoked token fails at once.
func TestRefreshTokenRetrieveAndRevoke(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		appA := e.app("A", lgAppOpts{refresh: true})
		appB := e.app("B", lgAppOpts{refresh: true})
		u1, u2 := lgEmail("u1"), lgEmail("u2")
		id1, id2 := e.user(u1, lgPassword, nil), e.user(u2, lgPassword, nil)
		for _, id := range []string{id1, id2} {
			e.register(id, appA)
			e.register(id, appB)
		}
		login := func(email, app string, metaData map[string]any) (rt, rtID string) {
			req := map[string]any{"loginId": email, "password": lgPassword, "applicationId": app, "ipAddress": "192.0.2.7"}
			if metaData != nil {
				req["metaData"] = metaData
			}
			m := e.loginOK("login", "", req, 200)
			return lgStr(m["refreshToken"]), lgStr(m["refreshTokenId"])
		}
		device := map[string]any{"device": map[string]any{"name": "Phone", "type": "MOBILE"}, "scopes": []string{"offline_access"}}
		rt, rtID := login(u1, appA, device)

		// Retrieve by id and by user: FusionAuth's shapes, without the token.
		one := e.want("retrieve by id", e.do("GET", "/api/jwt/refresh/"+rtID, e.root, nil), 200)["refreshToken"].(map[string]any)
		md, _ := one["metaData"].(map[string]any)
		dev, _ := md["device"].(map[string]any)
		if one["id"] != rtID || one["userId"] != id1 || one["applicationId"] != appA || one["tenantId"] != e.tenant ||
			one["token"] != nil || dev["name"] != "Phone" || dev["lastAccessedAddress"] != "192.0.2.7" || one["startInstant"] == nil {
			t.Errorf("retrieved token: %v", one)
		}
		e.want("retrieve unknown id", e.do("GET", "/api/jwt/refresh/6b1e0d44-52a4-4b5d-8d1c-0d7c2f6f0b55", e.root, nil), 404)
		e.want("retrieve bad id", e.do("GET", "/api/jwt/refresh/nope", e.root, nil), 404)
		if r := e.do("GET", "/api/jwt/refresh", e.root, nil); r.Status != 400 {
			t.Errorf("list without userId: %d", r.Status)
		}
		e.want("list of unknown user", e.do("GET", "/api/jwt/refresh?userId=6b1e0d44-52a4-4b5d-8d1c-0d7c2f6f0b55", e.root, nil), 404)
		e.want("no key", e.do("GET", "/api/jwt/refresh?userId="+id1, "", nil), 401)
		e.want("key without the permission", e.do("GET", "/api/jwt/refresh?userId="+id1, e.loginKey("/api/login", "POST"), nil), 401)
		e.want("key with it", e.do("GET", "/api/jwt/refresh?userId="+id1, e.loginKey("/api/jwt/refresh", "GET"), nil), 200)

		count := func(uid string) int {
			return len(e.want("list", e.do("GET", "/api/jwt/refresh?userId="+uid, e.root, nil), 200)["refreshTokens"].([]any))
		}
		for _, s := range []struct{ email, app string }{{u1, appB}, {u2, appA}, {u2, appB}, {u2, appB}} {
			login(s.email, s.app, nil)
		}
		if count(id1) != 2 || count(id2) != 3 {
			t.Fatalf("tokens: %d and %d, want 2 and 3", count(id1), count(id2))
		}

		// By id: that token only, at once.
		e.want("revoke by id", e.do("DELETE", "/api/jwt/refresh/"+rtID, e.root, nil), 200)
		e.refused("revoked token", e.refresh(rt))
		e.want("revoke by id again", e.do("DELETE", "/api/jwt/refresh/"+rtID, e.root, nil), 200) // still known: nothing to do
		e.want("revoke unknown id", e.do("DELETE", "/api/jwt/refresh/6b1e0d44-52a4-4b5d-8d1c-0d7c2f6f0b55", e.root, nil), 404)
		if count(id1) != 1 {
			t.Errorf("after revoke by id: %d", count(id1))
		}
		// By token (parameter, then body).
		rt, _ = login(u1, appA, nil)
		e.want("revoke by token", e.do("DELETE", "/api/jwt/refresh?token="+rt, e.root, nil), 200)
		e.refused("revoked by token", e.refresh(rt))
		rt, _ = login(u1, appA, nil)
		e.want("revoke by token in a body", e.do("DELETE", "/api/jwt/refresh", e.root, map[string]any{"token": rt}), 200)
		e.refused("revoked by body token", e.refresh(rt))
		e.want("revoke unknown token", e.do("DELETE", "/api/jwt/refresh?token=nope", e.root, nil), 404)
		// By user and application.
		e.want("revoke by user+app", e.do("DELETE", "/api/jwt/refresh?userId="+id2+"&applicationId="+appB, e.root, nil), 200)
		if count(id2) != 1 {
			t.Errorf("after revoke by user+app: %d, want 1", count(id2))
		}
		// By application.
		e.want("revoke by app", e.do("DELETE", "/api/jwt/refresh?applicationId="+appA, e.root, nil), 200)
		if count(id2) != 0 || count(id1) != 1 {
			t.Errorf("after revoke by app: %d and %d, want 0 and 1", count(id2), count(id1))
		}
		// By user.
		e.want("revoke by user", e.do("DELETE", "/api/jwt/refresh?userId="+id1, e.root, nil), 200)
		if count(id1) != 0 {
			t.Errorf("after revoke by user: %d", count(id1))
		}
		if r := e.do("DELETE", "/api/jwt/refresh", e.root, nil); r.Status != 400 {
			t.Errorf("revoke without a selector: %d", r.Status)
		}
		e.want("revoke for unknown user", e.do("DELETE", "/api/jwt/refresh?userId=6b1e0d44-52a4-4b5d-8d1c-0d7c2f6f0b55", e.root, nil), 404)
		e.want("revoke for unknown app", e.do("DELETE", "/api/jwt/refresh?applicationId=6b1e0d44-52a4-4b5d-8d1c-0d7c2f6f0b55", e.root, nil), 404)

		// Audited, with the key that did it.
		for _, target := range []string{id1, id2, appA} {
			msgs := e.lgAuditMessages(target)
			if !slices.ContainsFunc(msgs, func(m string) bool { return strings.HasPrefix(m, "Revoked ") }) {
				t.Errorf("no revocation audit entry about %s: %v", target, msgs)
			}
		}
		for _, a := range e.audits(id1) {
			if strings.HasPrefix(a.Message, "Revoked ") && a.ActorType != "apiKey" {
				t.Errorf("revocation audited with actor %q", a.ActorType)
			}
		}

		// A tenant-scoped key sees nothing of another tenant.
		otherKey, _ := e.insertKey(modelKeyForTenant(e.akEnv.tenant("Other")))
		rt, rtID = login(u1, appA, nil)
		e.want("other tenant's key, list", e.do("GET", "/api/jwt/refresh?userId="+id1, otherKey, nil), 404)
		e.want("other tenant's key, by id", e.do("GET", "/api/jwt/refresh/"+rtID, otherKey, nil), 404)
		e.want("other tenant's key, revoke", e.do("DELETE", "/api/jwt/refresh/"+rtID, otherKey, nil), 404)
		e.want("still usable", e.refresh(rt), 200)
	})
}

// A token revoked through one node fails on the other at once: refresh
// tokens are checked in the database on every use, never cached.
func TestRefreshRevocationAcrossNodes(t *testing.T) {
	t.Parallel()
	pg := testutil.Backend{Name: "postgres", DatabaseURL: testutil.PostgresURL(t)}
	e := lgStart(t, pg)
	nodeB := testutil.StartServer(t, testutil.WithBackend(pg), testutil.WithClock(e.clock), testutil.WithEnv("LATCH_MASTER_KEY", testutil.TestMasterKey))
	_, uid, _, m := e.lgRefreshApp("App", nil)
	rt := lgStr(m["refreshToken"])
	if r := nodeB.Do(t, "POST", "/api/jwt/refresh", "", map[string]any{"refreshToken": rt}); r.Status != 200 {
		t.Fatalf("node B before revocation: %d", r.Status)
	}
	e.want("revoke on node A", e.do("DELETE", "/api/jwt/refresh?userId="+uid, e.root, nil), 200)
	e.refused("node B right after revocation on node A", nodeB.Do(t, "POST", "/api/jwt/refresh", "", map[string]any{"refreshToken": rt}))
}

// Logout revokes the session of its refresh token (body, parameter or
// cookie); global, every token of the user. It clears the cookies and always
// answers 200.
func TestLogout(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		app, _, email, m := e.lgRefreshApp("App", nil)
		login := func() (string, string) {
			m := e.loginOK("login", "", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app}, 200)
			return lgStr(m["refreshToken"]), lgStr(m["token"])
		}
		first := lgStr(m["refreshToken"])
		second, _ := login()
		r := e.do("POST", "/api/logout", "", map[string]any{"refreshToken": first})
		e.want("logout", r, 200)
		if c, ok := lgCookie(r, "refresh_token"); !ok || c.MaxAge >= 0 {
			t.Errorf("logout did not clear the refresh_token cookie: %v", c)
		}
		e.refused("logged-out token", e.refresh(first))
		e.want("other session", e.refresh(second), 200)
		e.want("logout by parameter", e.do("POST", "/api/logout?refreshToken="+second, "", nil), 200)
		e.refused("logged out by parameter", e.refresh(second))
		third, _ := login()
		e.want("logout by cookie", e.do("POST", "/api/logout", "", nil, "Cookie", "refresh_token="+third), 200)
		e.refused("logged out by cookie", e.refresh(third))

		// Global: every token of the user.
		a, _ := login()
		bb, _ := login()
		e.want("global logout", e.do("POST", "/api/logout?global=true", "", map[string]any{"refreshToken": a}), 200)
		e.refused("global a", e.refresh(a))
		e.refused("global b", e.refresh(bb))
		// Global with only an access token.
		c, token := login()
		e.want("global logout by JWT", e.do("POST", "/api/logout", "", map[string]any{"global": true}, "Authorization", "Bearer "+token), 200)
		e.refused("global by JWT", e.refresh(c))

		e.want("logout with nothing", e.do("POST", "/api/logout", "", nil), 200)
		e.want("logout with garbage", e.do("POST", "/api/logout?refreshToken=garbage", "", nil), 200)
	})
}
