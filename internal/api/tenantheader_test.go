package api_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/testutil"
)

// An X-FusionAuth-TenantId naming no tenant is answered as
// [invalid]tenantId, as the other user calls answer it, not as an error of
// the applicationId the request did not send. Seen failing before:
// [invalid]applicationId.
func TestUnknownTenantHeaderNamesTheTenant(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		email := lgEmail("header-" + b.Name)
		e.user(email, lgPassword, nil)
		nowhere := uuid.NewString()
		for _, c := range []struct {
			what, path, key string
			body            map[string]any
		}{
			{"anonymous forgot password", "/api/user/forgot-password", "", map[string]any{"loginId": email}},
			{"keyed forgot password", "/api/user/forgot-password", e.root, map[string]any{"loginId": email}},
			{"change password by login id", "/api/user/change-password", e.root, map[string]any{"loginId": email, "currentPassword": lgPassword, "password": "another password 1"}},
			{"user by login id", "/api/user?loginId=" + email, e.root, nil},
		} {
			method := "POST"
			if c.body == nil {
				method = "GET"
			}
			want400(t, c.what, e.do(method, c.path, c.key, c.body, "X-FusionAuth-TenantId", nowhere), "[invalid]tenantId")
		}
	})
}
