package admin_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

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

// An admin with two-factor authentication signs in to the admin UI with the
// second factor, as any user does; a wrong code does not open it, and
// re-authentication asks for the code again.
func TestSignInWithTwoFactor(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		id := e.admin("mfa@example.com", "admin")
		var sec struct {
			Secret string `json:"secret"`
		}
		e.api("GET", "/api/two-factor/secret", nil, 200).JSON(t, &sec)
		e.api("POST", "/api/user/two-factor/"+id, map[string]any{"method": "authenticator", "secret": sec.Secret,
			"code": totp([]byte(sec.Secret), e.clock.Now())}, 200)
		e.clock.Advance(time.Minute)

		br := e.browser()
		step := br.signIn("mfa@example.com", testPassword)
		if step.status != 200 || !strings.Contains(step.body, `name="code"`) || strings.Contains(step.body, "<h1>Dashboard</h1>") {
			t.Fatalf("want the two-factor step: %d at %s", step.status, step.url)
		}
		wrong := br.submit(step, "", "code", "000000")
		if strings.Contains(wrong.body, "<h1>Dashboard</h1>") || !strings.Contains(wrong.body, `name="code"`) {
			t.Fatalf("a wrong code opened the admin UI: %d at %s", wrong.status, wrong.url)
		}
		home := br.submit(wrong, "", "code", totp([]byte(sec.Secret), e.clock.Now()))
		if home.status != 200 || home.url.Path != "/admin" || !strings.Contains(home.body, "<h1>Dashboard</h1>") {
			t.Fatalf("after the code: %d at %s", home.status, home.url)
		}

		// Re-authentication asks for the password and the code again.
		e.clock.Advance(6 * time.Minute)
		again := br.get("/admin/login?reauth=1&next=" + url.QueryEscape("/admin/users"))
		again = br.submit(again, "/oauth2/authorize", "loginId", "mfa@example.com", "password", testPassword)
		if !strings.Contains(again.body, `name="code"`) {
			t.Fatalf("re-authentication without the second factor: %d at %s", again.status, again.url)
		}
		back := br.submit(again, "", "code", totp([]byte(sec.Secret), e.clock.Now()))
		if back.url.Path != "/admin/users" {
			t.Fatalf("after re-authentication: %d at %s", back.status, back.url)
		}
	})
}
