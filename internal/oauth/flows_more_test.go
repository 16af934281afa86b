package oauth_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/latchid/latch/internal/testutil"
)

// totp is an authenticator app's code (RFC 6238, HMAC-SHA1, 6 digits, 30 s).
func totp(key []byte, at time.Time) string {
	mac := hmac.New(sha1.New, key)
	_ = binary.Write(mac, binary.BigEndian, uint64(at.Unix()/30))
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	return fmt.Sprintf("%06d", (binary.BigEndian.Uint32(sum[off:])&0x7fffffff)%1_000_000)
}

// TestSignInFlows covers SSO across applications, keep me signed in,
// logout, the two-factor and password-change steps, lockout, the password
// grant, refresh rotation, introspection, revocation and the response modes.
func TestSignInFlows(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		c1 := e.app(appOpts{name: "First"})
		c2 := e.app(appOpts{name: "Second"})
		uid := e.user("sso@example.com", nil, c1.id, c2.id)
		r1, r2 := e.rp(c1), e.rp(c2)

		t.Run("sso-second-application-and-logout", func(t *testing.T) {
			br := e.browser()
			e.codeFlow(br, r1, "sso@example.com")
			v := oauth2.GenerateVerifier()
			p := br.get(r2.conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("prompt", "none")))
			_, idt := e.exchange(r2, e.redirected(p, 302), v)
			if idt.Subject != uid || idt.Audience[0] != c2.id {
				t.Fatalf("second app ID token %v %v", idt.Subject, idt.Audience)
			}
			out := br.get("/oauth2/logout?client_id=" + c1.id)
			if out.status != 200 || !strings.Contains(out.body, "signed out") {
				t.Fatalf("logout page: %d %s", out.status, out.body)
			}
			p = br.get(r2.conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("prompt", "none")))
			if u := e.redirected(p, 302); u.Query().Get("error") != "login_required" {
				t.Fatalf("after logout: %s", p.location)
			}
		})

		t.Run("session-cookie", func(t *testing.T) {
			for _, keep := range []bool{false, true} {
				br := e.browser()
				p := br.get(r1.conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
				fields := []string{"loginId", "sso@example.com", "password", testPassword}
				if keep {
					fields = append(fields, "keep", "on")
				}
				done := br.submit(p, fields...)
				e.redirected(done, 303)
				var ck string
				for _, sc := range done.header.Values("Set-Cookie") {
					if strings.HasPrefix(sc, "latch.sso=") {
						ck = sc
					}
				}
				if !strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "SameSite=Lax") || strings.Contains(ck, "Max-Age") != keep {
					t.Fatalf("keep=%v: cookie %q", keep, ck)
				}
			}
			// Without "keep me signed in" the session ends after the tenant's
			// inactivity window (an hour by default).
			br := e.browser()
			e.codeFlow(br, r1, "sso@example.com")
			e.clock.Advance(2 * time.Hour)
			p := br.get(r1.conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("prompt", "none")))
			if u := e.redirected(p, 302); u.Query().Get("error") != "login_required" {
				t.Fatalf("expired session: %s", p.location)
			}
		})

		t.Run("password-change-ends-sso", func(t *testing.T) {
			id := e.user("pwchange@example.com", nil, c1.id)
			br := e.browser()
			e.codeFlow(br, r1, "pwchange@example.com")
			e.clock.Advance(time.Second)
			e.want("change password", e.api("PATCH", "/api/user/"+id, map[string]any{"user": map[string]any{"password": "another good passphrase"}}), 200)
			p := br.get(r1.conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("prompt", "none")))
			if u := e.redirected(p, 302); u.Query().Get("error") != "login_required" {
				t.Fatalf("after a password change: %s", p.location)
			}
		})

		// enableTOTP gives a user an authenticator method and returns its
		// secret, the clock moved past the enabling code.
		enableTOTP := func(id string) string {
			var sec struct {
				Secret string `json:"secret"`
			}
			e.want("secret", e.api("GET", "/api/two-factor/secret", nil), 200).decode(&sec)
			e.want("enable", e.api("POST", "/api/user/two-factor/"+id, map[string]any{"method": "authenticator", "secret": sec.Secret,
				"code": totp([]byte(sec.Secret), e.clock.Now())}), 200)
			e.clock.Advance(time.Minute)
			return sec.Secret
		}

		t.Run("two-factor-step", func(t *testing.T) {
			id := e.user("mfa@example.com", nil, c1.id)
			secret := enableTOTP(id)
			br := e.browser()
			v := oauth2.GenerateVerifier()
			p := br.get(r1.conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("nonce", "n0nce")))
			p = br.submit(p, "loginId", "mfa@example.com", "password", testPassword)
			if p.status != 200 || !strings.Contains(p.body, `name="code"`) || !strings.Contains(p.body, `<label for="code">`) {
				t.Fatalf("want the two-factor step: %d %s", p.status, p.body)
			}
			wrong := br.submit(p, "code", "000000")
			if wrong.status != 200 || !strings.Contains(wrong.body, `role="alert"`) || !strings.Contains(wrong.body, `name="code"`) {
				t.Fatalf("wrong code: %d %s", wrong.status, wrong.body)
			}
			done := br.submit(wrong, "code", totp([]byte(secret), e.clock.Now()))
			_, idt := e.exchange(r1, e.redirected(done, 303), v)
			if idt.Subject != id {
				t.Fatal("wrong subject")
			}
		})

		// "Trust this device": the code's step with the box ticked sets a
		// cookie that lets this user's next sign-in in this browser skip the
		// step; another user of the browser still gets it.
		t.Run("trust-this-device", func(t *testing.T) {
			id := e.user("trusted@example.com", nil, c1.id)
			secret := enableTOTP(id)
			other := e.user("untrusted@example.com", nil, c1.id)
			enableTOTP(other)
			br := e.browser()
			signIn := func(loginID string) (*page, string) {
				t.Helper()
				v := oauth2.GenerateVerifier()
				p := br.get(r1.conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("nonce", "n0nce"),
					oauth2.SetAuthURLParam("prompt", "login")))
				return br.submit(p, "loginId", loginID, "password", testPassword), v
			}
			p, v := signIn("trusted@example.com")
			if p.status != 200 || !strings.Contains(p.body, `name="trust"`) || !strings.Contains(p.body, `<label for="trust">`) {
				t.Fatalf("want the two-factor step offering trust: %d %s", p.status, p.body)
			}
			done := br.submit(p, "code", totp([]byte(secret), e.clock.Now()), "trust", "on")
			if _, idt := e.exchange(r1, e.redirected(done, 303), v); idt.Subject != id {
				t.Fatal("wrong subject")
			}
			p, v = signIn("trusted@example.com")
			if _, idt := e.exchange(r1, e.redirected(p, 303), v); idt.Subject != id {
				t.Fatalf("a trusted browser was asked for the second factor again: %d", p.status)
			}
			p, _ = signIn("untrusted@example.com")
			if p.status != 200 || !strings.Contains(p.body, `name="code"`) {
				t.Fatalf("another user skipped the second factor with the trust: %d", p.status)
			}
		})

		t.Run("password-change-required-step", func(t *testing.T) {
			id := e.user("mustchange@example.com", map[string]any{"passwordChangeRequired": true}, c1.id)
			br := e.browser()
			v := oauth2.GenerateVerifier()
			p := br.get(r1.conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("nonce", "n0nce")))
			p = br.submit(p, "loginId", "mustchange@example.com", "password", testPassword)
			if p.status != 200 || !strings.Contains(p.body, `name="passwordConfirm"`) {
				t.Fatalf("want the password change: %d %s", p.status, p.body)
			}
			mismatch := br.submit(p, "password", "a brand new passphrase", "passwordConfirm", "something else")
			if !strings.Contains(mismatch.body, `role="alert"`) {
				t.Fatalf("mismatch: %s", mismatch.body)
			}
			done := br.submit(mismatch, "password", "a brand new passphrase", "passwordConfirm", "a brand new passphrase")
			_, idt := e.exchange(r1, e.redirected(done, 303), v)
			if idt.Subject != id {
				t.Fatal("wrong subject")
			}
		})

		// A user with a second factor who must change the password: the
		// change after the code spends the trust token the code earned.
		t.Run("two-factor-then-password-change", func(t *testing.T) {
			id := e.user("mfachange@example.com", map[string]any{"passwordChangeRequired": true}, c1.id)
			secret := enableTOTP(id)
			br := e.browser()
			v := oauth2.GenerateVerifier()
			p := br.get(r1.conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("nonce", "n0nce")))
			p = br.submit(p, "loginId", "mfachange@example.com", "password", testPassword)
			p = br.submit(p, "code", totp([]byte(secret), e.clock.Now()))
			if p.status != 200 || !strings.Contains(p.body, `name="passwordConfirm"`) || !strings.Contains(p.body, `name="trustToken"`) {
				t.Fatalf("want the password change with a trust token: %d %s", p.status, p.body)
			}
			mismatch := br.submit(p, "password", "a brand new passphrase", "passwordConfirm", "something else")
			done := br.submit(mismatch, "password", "a brand new passphrase", "passwordConfirm", "a brand new passphrase")
			_, idt := e.exchange(r1, e.redirected(done, 303), v)
			if idt.Subject != id {
				t.Fatal("wrong subject")
			}
		})

		t.Run("lockout", func(t *testing.T) {
			e.want("lockout policy", e.api("PATCH", "/api/tenant/"+e.tenant, map[string]any{"tenant": map[string]any{
				"failedAuthenticationConfiguration": map[string]any{"tooManyAttempts": 3, "resetCountInSeconds": 60, "actionDuration": 3, "actionDurationUnit": "MINUTES"}}}), 200)
			e.user("locked@example.com", nil, c1.id)
			br := e.browser()
			p := br.get(r1.conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
			for i := 0; i < 3; i++ {
				p = br.submit(p, "loginId", "locked@example.com", "password", "wrong")
			}
			p = br.submit(p, "loginId", "locked@example.com", "password", testPassword)
			if p.status != 200 || !strings.Contains(p.body, "locked") {
				t.Fatalf("want the lockout message: %s", p.body)
			}
			e.clock.Advance(4 * time.Minute)
			e.redirected(br.submit(p, "loginId", "locked@example.com", "password", testPassword), 303)
		})

		t.Run("password-grant", func(t *testing.T) {
			pg := e.app(appOpts{grants: []string{"password", "refresh_token"}})
			e.user("pg@example.com", nil, pg.id)
			st, _, body := e.postForm("/oauth2/token", url.Values{"grant_type": {"password"}, "username": {"pg@example.com"},
				"password": {testPassword}, "scope": {"openid offline_access"}}, pg.id, pg.secret)
			if st != 200 || body["access_token"] == nil || body["id_token"] == nil || body["refresh_token"] == nil || body["token_type"] != "Bearer" {
				t.Fatalf("password grant: %d %v", st, body)
			}
			st, _, body = e.postForm("/oauth2/token", url.Values{"grant_type": {"password"}, "username": {"pg@example.com"},
				"password": {"wrong"}}, pg.id, pg.secret)
			if st != 400 || body["error"] != "invalid_grant" || body["error_reason"] != "invalid_user_credentials" {
				t.Fatalf("wrong password: %d %v", st, body)
			}
			// Not enabled for c1.
			st, _, body = e.postForm("/oauth2/token", url.Values{"grant_type": {"password"}, "username": {"sso@example.com"},
				"password": {testPassword}}, c1.id, c1.secret)
			if st != 400 || body["error"] != "unauthorized_client" {
				t.Fatalf("disabled grant: %d %v", st, body)
			}
		})

		t.Run("refresh-rotation-and-reuse", func(t *testing.T) {
			rot := e.app(appOpts{usage: "OneTimeUse"})
			e.user("rot@example.com", nil, rot.id)
			rr := e.rp(rot)
			tok, _ := e.codeFlow(e.browser(), rr, "rot@example.com")
			next, err := rr.conf.TokenSource(rr.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			if err != nil || next.RefreshToken == tok.RefreshToken {
				t.Fatalf("rotation: %v", err)
			}
			if _, err := rr.conf.TokenSource(rr.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
				t.Fatal("a rotated refresh token was accepted")
			}
			if _, err := rr.conf.TokenSource(rr.ctx, &oauth2.Token{RefreshToken: next.RefreshToken}).Token(); err == nil {
				t.Fatal("reuse did not revoke the family")
			}
		})

		t.Run("introspect-and-revoke", func(t *testing.T) {
			tok, _ := e.codeFlow(e.browser(), r1, "sso@example.com")
			st, _, body := e.postForm("/oauth2/introspect", url.Values{"token": {tok.AccessToken}}, c1.id, c1.secret)
			if st != 200 || body["active"] != true || body["sub"] != uid || body["applicationId"] != c1.id || body["client_id"] != c1.id {
				t.Fatalf("introspect: %d %v", st, body)
			}
			// Another client's token is inactive to this client.
			if _, _, body := e.postForm("/oauth2/introspect", url.Values{"token": {tok.AccessToken}}, c2.id, c2.secret); body["active"] != false || len(body) != 1 {
				t.Fatalf("another client's token: %v", body)
			}
			if _, _, body := e.postForm("/oauth2/introspect", url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}}, c1.id, c1.secret); body["active"] != true || body["sub"] != uid || body["token_type"] != "refresh_token" {
				t.Fatalf("refresh token: %v", body)
			}
			if _, _, body := e.postForm("/oauth2/introspect", url.Values{"token": {tok.RefreshToken}}, c2.id, c2.secret); body["active"] != false {
				t.Fatalf("another client's refresh token: %v", body)
			}
			if _, _, body := e.postForm("/oauth2/introspect", url.Values{"token": {"garbage"}}, c1.id, c1.secret); body["active"] != false {
				t.Fatalf("garbage: %v", body)
			}
			// Another client cannot revoke it; its own client can.
			if st, _, _ := e.postForm("/oauth2/revoke", url.Values{"token": {tok.RefreshToken}}, c2.id, c2.secret); st != 200 {
				t.Fatalf("revoke by another client: %d", st)
			}
			if _, err := r1.conf.TokenSource(r1.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
				t.Fatalf("another client revoked the token: %v", err)
			}
			if st, _, _ := e.postForm("/oauth2/revoke", url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}}, c1.id, c1.secret); st != 200 {
				t.Fatalf("revoke: %d", st)
			}
			if _, err := r1.conf.TokenSource(r1.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
				t.Fatal("a revoked refresh token was accepted")
			}
			if _, _, body := e.postForm("/oauth2/introspect", url.Values{"token": {tok.RefreshToken}}, c1.id, c1.secret); body["active"] != false {
				t.Fatalf("revoked refresh token: %v", body)
			}
		})

		t.Run("response-modes", func(t *testing.T) {
			br := e.browser()
			e.codeFlow(br, r1, "sso@example.com")
			v := oauth2.GenerateVerifier()
			p := br.get(r1.conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("response_mode", "fragment")))
			u := e.redirected(p, 302)
			frag, _ := url.ParseQuery(u.Fragment)
			if frag.Get("code") == "" || frag.Get("state") != "st4te" || u.RawQuery != "" {
				t.Fatalf("fragment: %s", p.location)
			}
			p = br.get(r1.conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("response_mode", "form_post")))
			action, fields := p.form(t)
			if p.status != 200 || action != redirectURL || fields.Get("code") == "" || fields.Get("iss") != e.s.URL ||
				!strings.Contains(p.header.Get("Content-Security-Policy"), "form-action 'self' https://app.example") {
				t.Fatalf("form_post: %d %s %v %v", p.status, action, fields, p.header)
			}
		})

		t.Run("require-registration", func(t *testing.T) {
			rq := e.app(appOpts{requireReg: true})
			rr := e.rp(rq)
			p := e.browser()
			u := p.signIn(rr.conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), "sso@example.com")
			if u.Query().Get("error") != "access_denied" {
				t.Fatalf("unregistered user: %s", u)
			}
		})
	})
}
