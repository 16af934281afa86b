package api_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/testutil"
)

// An application's jwtConfiguration.refreshTokenRevocationPolicy governs
// its refresh tokens when its jwtConfiguration is enabled; the tenant's
// governs the others (no JWT configuration, or one not enabled). One
// password change, lockout or new two-factor method so revokes a user's
// tokens of some applications and keeps those of others, audited, under a
// tenant policy on and off. A rotated one-time token used again revokes its
// session whatever the policy says.
func TestApplicationRevocationPolicy(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		triggers := []struct {
			name, field string
			fire        func(uid, email, app string)
		}{
			{"password change", "onPasswordChanged", func(uid, _, _ string) {
				e.want("change password", e.do("PATCH", "/api/user/"+uid, e.root, map[string]any{"user": map[string]any{"password": "another password 2"}}), 200)
			}},
			{"lockout", "onLoginPrevented", func(_, email, app string) {
				for range 5 {
					e.want("wrong password", e.login("", map[string]any{"loginId": email, "password": "wrong password", "applicationId": app}), 404)
				}
				e.want("locked", e.login("", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app}), 409)
			}},
			{"two-factor enable", "onMultiFactorEnable", func(uid, _, _ string) { e.tfEnable(uid) }},
		}
		n := 0
		for _, tr := range triggers {
			for _, tenantOn := range []bool{true, false} {
				name := fmt.Sprintf("%s, tenant %v", tr.name, tenantOn)
				e.patchTenant(map[string]any{"jwtConfiguration": map[string]any{"refreshTokenRevocationPolicy": map[string]any{tr.field: tenantOn}}})
				policy := func(on bool) map[string]any {
					return map[string]any{"refreshTokenRevocationPolicy": map[string]any{tr.field: on}}
				}
				disabled := policy(!tenantOn)
				disabled["enabled"] = false
				// Each application's tokens are revoked when the policy in force says so.
				apps := []struct {
					name    string
					jwt     map[string]any
					revoked bool
				}{
					{"own policy", policy(!tenantOn), !tenantOn},
					{"own policy agreeing", policy(tenantOn), tenantOn},
					{"tenant's policy", nil, tenantOn},
					{"own policy not enabled", disabled, tenantOn},
				}
				email := lgEmail("apprevoke")
				uid := e.user(email, lgPassword, nil)
				type held struct{ app, token, refresh string }
				var tokens []held
				for _, a := range apps {
					n++
					id := e.app(fmt.Sprintf("Revocation %d", n), lgAppOpts{refresh: true, roles: []string{"r"}, jwt: a.jwt})
					e.register(uid, id, "r")
					m := e.loginOK(name+": login to "+a.name, "", map[string]any{"loginId": email, "password": lgPassword, "applicationId": id}, 200)
					tokens = append(tokens, held{id, lgStr(m["token"]), lgStr(m["refreshToken"])})
				}
				before := revocationAudits(e, uid)
				e.clock.Advance(time.Millisecond) // after the logins, within their second
				tr.fire(uid, email, tokens[2].app)
				anyRevoked := false
				for i, a := range apps {
					what := name + ": " + a.name
					r := e.refresh(tokens[i].refresh)
					anyRevoked = anyRevoked || a.revoked
					if want := map[bool]int{true: 400, false: 200}[a.revoked]; r.Status != want {
						t.Errorf("%s: refresh answered %d, want %d (revoked: %v)", what, r.Status, want, a.revoked)
					}
					if tr.field == "onPasswordChanged" {
						// A password change ends the access tokens of the revoked applications only.
						want := map[bool]int{true: 401, false: 200}[a.revoked]
						if got := e.validate(tokens[i].token).Status; got != want {
							t.Errorf("%s: access token validates %d, want %d", what, got, want)
						}
					}
				}
				if got := revocationAudits(e, uid) - before; anyRevoked != (got == 1) {
					t.Errorf("%s: %d revocation audit entries (anything revoked: %v)", name, got, anyRevoked)
				}
			}
		}

		// Reuse of a rotated one-time token revokes its session even when
		// the application's onOneTimeTokenReuse and the tenant's are off.
		e.patchTenant(map[string]any{"jwtConfiguration": map[string]any{"refreshTokenRevocationPolicy": map[string]any{"onOneTimeTokenReuse": false}}})
		_, _, _, m := e.lgRefreshApp("One-time reuse", map[string]any{"refreshTokenUsagePolicy": "OneTimeUse",
			"refreshTokenRevocationPolicy": map[string]any{"onOneTimeTokenReuse": false}})
		rt1 := lgStr(m["refreshToken"])
		rt2 := lgStr(e.want("rotate", e.refresh(rt1), 200)["refreshToken"])
		e.refused("reuse", e.refresh(rt1))
		e.refused("successor after the reuse", e.refresh(rt2))
	})
}

// revocationAudits counts the audit entries of refresh tokens revoked for a
// user's change.
func revocationAudits(e *lgEnv, uid string) int {
	n := 0
	for _, m := range e.lgAuditMessages(uid) {
		if strings.HasPrefix(m, "Revoked ") && strings.Contains(m, "refresh tokens of user") {
			n++
		}
	}
	return n
}

// A password change ends access tokens wherever it revokes refresh
// tokens, whether or not the user holds a refresh token there: of each
// application whose policy in force says so, and of no application when
// the tenant's does. An application that keeps its refresh tokens keeps
// its access tokens.
func TestPasswordChangeEndsAccessTokensByPolicy(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		own := func(on bool) map[string]any {
			return map[string]any{"enabled": true, "refreshTokenRevocationPolicy": map[string]any{"onPasswordChanged": on}}
		}
		for _, tenantOn := range []bool{true, false} {
			e.patchTenant(map[string]any{"jwtConfiguration": map[string]any{"refreshTokenRevocationPolicy": map[string]any{"onPasswordChanged": tenantOn}}})
			email := lgEmail("accessend")
			uid := e.user(email, lgPassword, nil)
			cases := []struct {
				name  string
				jwt   map[string]any // nil: the tenant's policy
				ended bool
			}{
				{"own policy keeps", own(false), false},
				{"own policy ends", own(true), true},
				{"tenant's policy", nil, tenantOn},
				{"no application", nil, tenantOn},
			}
			tokens := make([]string, len(cases))
			for i, c := range cases {
				body := map[string]any{"loginId": email, "password": lgPassword}
				if c.name != "no application" {
					id := e.app(fmt.Sprintf("Access end %v %d", tenantOn, i), lgAppOpts{roles: []string{"r"}, jwt: c.jwt})
					e.register(uid, id, "r")
					body["applicationId"] = id
				}
				key := ""
				if c.name == "no application" { // a login naming no application needs a key
					key = e.root
				}
				tokens[i] = lgStr(e.loginOK(c.name, key, body, 200)["token"])
			}
			e.clock.Advance(time.Millisecond)
			e.want("change password", e.do("PATCH", "/api/user/"+uid, e.root, map[string]any{"user": map[string]any{"password": "another password 2"}}), 200)
			for i, c := range cases {
				want := map[bool]int{true: 401, false: 200}[c.ended]
				if got := e.validate(tokens[i]).Status; got != want {
					t.Errorf("tenant %v, %s: access token validates %d, want %d", tenantOn, c.name, got, want)
				}
			}
		}
	})
}
