package api_test

import (
	"strings"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

// Recovery codes are secrets: a caller may not plant them in a user object,
// where they would be stored in the clear and returned on every read.
func TestUserRecoveryCodesRefused(t *testing.T) {
	t.Parallel()
	e := usStart(t, testutil.Backend{Name: "sqlite"})
	body := map[string]any{"user": map[string]any{
		"email": "rc@example.com", "password": "Password-1234",
		"twoFactor": map[string]any{"recoveryCodes": []string{"aaaa-bbbb"}},
	}}
	r := e.do("POST", "/api/user", e.root, body)
	want400(t, "create with recovery codes", r, "[invalid]user.twoFactor.recoveryCodes")
	if strings.Contains(string(r.Body), "aaaa-bbbb") {
		t.Errorf("the error echoes the code: %s", r.Body)
	}
}
