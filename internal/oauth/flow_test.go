package oauth_test

import (
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

// TestCodeFlow signs a user in through the hosted page and exchanges the
// code with golang.org/x/oauth2; go-oidc verifies the ID token from
// discovery and the JWKS.
func TestCodeFlow(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		c := e.app(appOpts{})
		uid := e.user("ada@example.com", nil, c.id)
		r := e.rp(c)
		tok, idt := e.codeFlow(e.browser(), r, "ada@example.com")
		if idt == nil || idt.Subject != uid || idt.Nonce != "n0nce" || idt.Issuer != e.s.URL {
			t.Fatalf("ID token %+v", idt)
		}
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			t.Fatalf("at_hash: %v", err)
		}
		if tok.RefreshToken == "" || tok.Extra("userId") != uid || tok.Extra("refresh_token_id") == "" {
			t.Fatalf("token response %+v", tok)
		}
		var claims struct {
			Email string `json:"email"`
			Name  string `json:"name"`
			Sid   string `json:"sid"`
		}
		if err := idt.Claims(&claims); err != nil || claims.Email != "ada@example.com" || claims.Name != "Ada Lovelace" || claims.Sid == "" {
			t.Fatalf("claims %+v %v", claims, err)
		}
		at := claimsOf(t, tok.AccessToken)
		if at["applicationId"] != c.id || at["scope"] != "openid offline_access email profile" || at["iss"] != e.s.URL {
			t.Fatalf("access token claims %v", at)
		}
		ui, err := r.provider.UserInfo(r.ctx, r.conf.TokenSource(r.ctx, tok))
		if err != nil || ui.Subject != uid || ui.Email != "ada@example.com" {
			t.Fatalf("userinfo %+v %v", ui, err)
		}
	})
}
