package oauth_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/latchid/latch/internal/testutil"
)

// TestDeviceGrant runs RFC 8628 with x/oauth2's device flow: the user types
// the code on the hosted page and signs in; the device polls for tokens.
func TestDeviceGrant(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		dc := e.app(appOpts{public: true, grants: []string{"urn:ietf:params:oauth:grant-type:device_code", "refresh_token"},
			deviceURL: e.s.URL + "/oauth2/device"})
		other := e.app(appOpts{public: true, grants: []string{"urn:ietf:params:oauth:grant-type:device_code"},
			deviceURL: e.s.URL + "/oauth2/device"})
		uid := e.user("tv@example.com", nil, dc.id)
		dr := e.rp(client{id: dc.id}, "openid", "offline_access")
		ctx := context.Background()
		poll := func(code, clientID string) map[string]any {
			t.Helper()
			_, _, body := e.postForm("/oauth2/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
				"device_code": {code}, "client_id": {clientID}}, "", "")
			return body
		}

		da, err := dr.conf.DeviceAuth(ctx)
		if err != nil || da.UserCode == "" || !strings.HasPrefix(da.VerificationURIComplete, e.s.URL+"/oauth2/device?user_code=") {
			t.Fatalf("device authorization: %+v %v", da, err)
		}
		// Every error carries FusionAuth's error_reason, these two too.
		if got := poll(da.DeviceCode, dc.id); got["error"] != "authorization_pending" || got["error_reason"] == nil {
			t.Fatalf("first poll: %v", got)
		}
		if got := poll(da.DeviceCode, dc.id); got["error"] != "slow_down" || got["error_reason"] == nil {
			t.Fatalf("fast poll: %v", got)
		}
		e.clock.Advance(6 * time.Second)
		if got := poll(da.DeviceCode, other.id); got["error"] != "invalid_grant" {
			t.Fatalf("another client's poll: %v", got)
		}
		if r := e.s.Do(t, "GET", "/oauth2/device/validate?user_code="+da.UserCode+"&client_id="+dc.id, "", nil); r.Status != 200 {
			t.Fatalf("validate: %d", r.Status)
		}
		if r := e.s.Do(t, "GET", "/oauth2/device/validate?user_code=BBBBBBBB", "", nil); r.Status != 400 {
			t.Fatalf("validate unknown: %d", r.Status)
		}

		br := e.browser()
		p := br.get(da.VerificationURIComplete)
		if p.status != 200 || !strings.Contains(p.body, `value="`+da.UserCode+`"`) {
			t.Fatalf("device page: %d %s", p.status, p.body)
		}
		if bad := br.submit(p, "user_code", "BBBB-BBBB"); !strings.Contains(bad.body, `role="alert"`) {
			t.Fatalf("unknown code: %s", bad.body)
		}
		p = br.submit(p, "user_code", strings.ToLower(da.UserCode[:4]+"-"+da.UserCode[4:]))
		if p.status != 200 || !strings.Contains(p.body, `name="loginId"`) {
			t.Fatalf("want the sign-in page: %d %s", p.status, p.body)
		}
		p = br.submit(p, "loginId", "tv@example.com", "password", testPassword)
		if p.status != 200 || !strings.Contains(p.body, "Device connected") {
			t.Fatalf("want the confirmation: %d %s", p.status, p.body)
		}
		da.Interval = 1
		tok, err := dr.conf.DeviceAccessToken(ctx, da)
		if err != nil {
			t.Fatalf("device token: %v", err)
		}
		idt, err := dr.verifier.Verify(ctx, tok.Extra("id_token").(string))
		if err != nil || idt.Subject != uid || tok.RefreshToken == "" {
			t.Fatalf("ID token: %v", err)
		}
		if got := poll(da.DeviceCode, dc.id); got["error"] != "invalid_grant" {
			t.Fatalf("poll after the tokens: %v", got)
		}

		// Signed in already: the code and a confirmation naming the
		// application approve the next device (TestDeviceConfirmation).
		da2, err := dr.conf.DeviceAuth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		p = br.submit(br.get("/oauth2/device"), "user_code", da2.UserCode)
		if !strings.Contains(p.body, "Connect a device?") {
			t.Fatalf("second device with SSO: %s", p.body)
		}
		if p = br.submit(p, "decision", "allow"); !strings.Contains(p.body, "Device connected") {
			t.Fatalf("second device, confirmed: %s", p.body)
		}
		// Used codes cannot be entered again.
		if again := br.submit(br.get("/oauth2/device"), "user_code", da2.UserCode); !strings.Contains(again.body, `role="alert"`) {
			t.Fatalf("used code: %s", again.body)
		}

		// Expiry.
		da3, err := dr.conf.DeviceAuth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(11 * time.Minute)
		if got := poll(da3.DeviceCode, dc.id); got["error"] != "expired_token" {
			t.Fatalf("expired: %v", got)
		}
		// Not enabled for the application.
		if st, _, body := e.postForm("/oauth2/device_authorize", url.Values{"client_id": {e.app(appOpts{public: true}).id}}, "", ""); st != 400 || body["error"] != "unauthorized_client" {
			t.Fatalf("disabled grant: %d %v", st, body)
		}
		_ = oauth2.AuthStyleInParams
	})
}

// TestDeviceAPIs: a client with its own code page describes a pending grant
// (/oauth2/device/user-code) and approves it with the user's access token
// (/oauth2/device/approve); the device's poll then gets the user's tokens.
func TestDeviceAPIs(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		grants := []string{"urn:ietf:params:oauth:grant-type:device_code", "password"}
		tv := e.app(appOpts{grants: grants, deviceURL: e.s.URL + "/oauth2/device"})
		other := e.app(appOpts{grants: grants, deviceURL: e.s.URL + "/oauth2/device"})
		uid := e.user("couch@example.com", nil, tv.id, other.id)

		st, _, da := e.postForm("/oauth2/device_authorize", url.Values{"scope": {"openid"}}, tv.id, tv.secret)
		if st != 200 {
			t.Fatalf("device_authorize: %d %v", st, da)
		}
		userCode, deviceCode := da["user_code"].(string), da["device_code"].(string)

		st, _, m := e.postForm("/oauth2/device/user-code", url.Values{"user_code": {userCode}}, tv.id, tv.secret)
		if st != 200 || m["user_code"] != userCode || m["client_id"] != tv.id || m["scope"] != "openid" || m["tenantId"] != e.tenant || m["expires_in"].(float64) <= 0 {
			t.Fatalf("user-code: %d %v", st, m)
		}
		q := url.Values{"user_code": {userCode}, "client_id": {tv.id}, "client_secret": {tv.secret}}
		if r := e.s.Do(t, "GET", "/oauth2/device/user-code?"+q.Encode(), "", nil); r.Status != 200 {
			t.Fatalf("GET user-code: %d %s", r.Status, r.Body)
		}
		for _, c := range []struct {
			name   string
			form   url.Values
			id, pw string
			status int
			err    string
		}{
			{"another client's code", url.Values{"user_code": {userCode}}, other.id, other.secret, 400, "invalid_request"},
			{"unknown code", url.Values{"user_code": {"BBBBBBBB"}}, tv.id, tv.secret, 400, "invalid_request"},
			{"no code", url.Values{}, tv.id, tv.secret, 400, "invalid_request"},
			{"no client authentication", url.Values{"user_code": {userCode}, "client_id": {tv.id}}, "", "", 401, "invalid_client"},
			{"wrong secret", url.Values{"user_code": {userCode}}, tv.id, "nope", 401, "invalid_client"},
		} {
			if st, _, m := e.postForm("/oauth2/device/user-code", c.form, c.id, c.pw); st != c.status || m["error"] != c.err {
				t.Errorf("user-code, %s: %d %v", c.name, st, m)
			}
		}

		token := func(c client) string {
			t.Helper()
			st, _, m := e.postForm("/oauth2/token", url.Values{"grant_type": {"password"}, "username": {"couch@example.com"}, "password": {testPassword}}, c.id, c.secret)
			if st != 200 {
				t.Fatalf("password grant: %d %v", st, m)
			}
			return m["access_token"].(string)
		}
		approve := func(c client, tok string) (int, map[string]any) {
			st, _, m := e.postForm("/oauth2/device/approve", url.Values{"user_code": {userCode}, "token": {tok}}, c.id, c.secret)
			return st, m
		}
		if st, m := approve(tv, token(other)); st != 400 || m["error_reason"] != "access_token_invalid" {
			t.Fatalf("approve with another application's token: %d %v", st, m)
		}
		if st, m := approve(tv, "not-a-token"); st != 400 || m["error_reason"] != "access_token_invalid" {
			t.Fatalf("approve with garbage: %d %v", st, m)
		}
		if st, m := approve(other, token(other)); st != 400 || m["error_reason"] != "invalid_user_code" {
			t.Fatalf("approve another client's code: %d %v", st, m)
		}
		if st, m := approve(tv, token(tv)); st != 200 || m["deviceGrantStatus"] != "Approved" || m["userId"] != uid || m["tenantId"] != e.tenant {
			t.Fatalf("approve: %d %v", st, m)
		}
		if st, m := approve(tv, token(tv)); st != 400 || m["error_reason"] != "invalid_user_code" {
			t.Fatalf("approve twice: %d %v", st, m)
		}
		e.clock.Advance(6 * time.Second)
		st, _, tok := e.postForm("/oauth2/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {deviceCode}}, tv.id, tv.secret)
		if st != 200 || claimsOf(t, tok["access_token"].(string))["sub"] != uid {
			t.Fatalf("device poll after approve: %d %v", st, tok)
		}
	})
}
