package oauth_test

import (
	"net/url"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

// TestAccessTokenSid: an access token carries sid, its refresh token's
// session (the refresh token family's id), exactly when a refresh token
// was issued with it or it came from one, whatever the grant; an ID token
// from a browser sign-in carries the SSO session's.
func TestAccessTokenSid(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		c := e.app(appOpts{grants: []string{"authorization_code", "refresh_token", "implicit", "password"}})
		e.user("sid@example.com", nil, c.id)
		// Each grant answers its access token, ID token and the refresh token family it belongs to ("" for none).
		type issued struct{ at, idt, family string }
		codeFlow := func(scope string) issued {
			tok, _ := e.codeFlow(e.browser(), e.rp(c, scope), "sid@example.com")
			idt, _ := tok.Extra("id_token").(string)
			family, _ := tok.Extra("refresh_token_id").(string)
			return issued{tok.AccessToken, idt, family}
		}
		password := func(scope string) issued {
			_, _, body := e.postForm("/oauth2/token", url.Values{"grant_type": {"password"}, "username": {"sid@example.com"},
				"password": {testPassword}, "scope": {scope}}, c.id, c.secret)
			at, _ := body["access_token"].(string)
			family, _ := body["refresh_token_id"].(string)
			return issued{at: at, family: family}
		}
		implicit := func(scope string) issued {
			v := url.Values{"client_id": {c.id}, "redirect_uri": {redirectURL}, "response_type": {"id_token token"},
				"scope": {scope}, "state": {"st4te"}, "nonce": {"n0nce"}}
			f := fragment(t, e.browser().signIn("/oauth2/authorize?"+v.Encode(), "sid@example.com"))
			return issued{at: f.Get("access_token"), idt: f.Get("id_token")}
		}
		refreshed := func(scope string) issued {
			tok, _ := e.codeFlow(e.browser(), e.rp(c, scope), "sid@example.com")
			_, _, body := e.postForm("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, c.id, c.secret)
			at, _ := body["access_token"].(string)
			idt, _ := body["id_token"].(string)
			family, _ := tok.Extra("refresh_token_id").(string)
			return issued{at, idt, family}
		}
		for _, tc := range []struct {
			name      string
			grant     func(scope string) issued
			scope     string
			withSid   bool // the access token has sid, its refresh token family's
			ssoSidIDT bool // the ID token has the SSO session's sid
		}{
			{"code flow with a refresh token", codeFlow, "openid offline_access", true, true},
			{"code flow without one", codeFlow, "openid", false, true},
			{"password grant with a refresh token", password, "openid offline_access", true, false},
			{"password grant without one", password, "openid", false, false},
			{"implicit grant", implicit, "openid offline_access", false, true},
			{"refresh", refreshed, "openid offline_access", true, true},
		} {
			got := tc.grant(tc.scope)
			if got.at == "" || (tc.withSid && got.family == "") {
				t.Fatalf("%s: %+v", tc.name, got)
			}
			sid, has := claimsOf(t, got.at)["sid"]
			if has != tc.withSid || (has && sid != got.family) {
				t.Errorf("%s: access token sid %v (present %v), want present %v, the refresh token family %q", tc.name, sid, has, tc.withSid, got.family)
			}
			if tc.ssoSidIDT {
				if s, _ := claimsOf(t, got.idt)["sid"].(string); s == "" || s == got.family {
					t.Errorf("%s: ID token sid %q, want the SSO session's", tc.name, s)
				}
			}
		}
	})
}
