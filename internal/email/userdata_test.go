package email

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/store"
)

// Templates see the user as every reader does: no member that only looks
// like a field, no secret a two-factor method kept in the stored object.
func TestUserDataLeavesOutWhatReadersNeverShow(t *testing.T) {
	tests := []struct{ name, data, leak string }{
		{"case variant", `{"Password":"leak-1"}`, "leak-1"},
		{"look-alike name", `{"pass\u200bword":"leak-2","password ":"leak-3"}`, "leak-"},
		{"method base32 secret", `{"twoFactor":{"methods":[{"id":"A","method":"authenticator","secretBase32Encoded":"leak-4"}]}}`, "leak-4"},
		{"method secret", `{"twoFactor":{"methods":[{"id":"A","method":"email","secret":"leak-5"}]}}`, "leak-5"},
	}
	for _, tc := range tests {
		u, _, err := UserData(&store.UserRow{ID: "u1", Data: tc.data})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		b, _ := json.Marshal(u)
		if strings.Contains(string(b), tc.leak) {
			t.Errorf("%s: templates see %s", tc.name, b)
		}
	}
}
