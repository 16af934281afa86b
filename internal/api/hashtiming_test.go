package api_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/testutil"
)

// A failed password check costs at least a hash with the tenant's scheme and
// factor, whatever the user's stored scheme: an imported salted-md5 user
// fails after its md5 check and a dummy hash with the tenant's PBKDF2, so
// that timing does not tell it apart from the others. Counted, not timed.
func TestFailedCheckCostsTenantScheme(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		hold := newHashHold()
		e := lgStart(t, b, testutil.WithHashObserver(hold.observe))
		app := e.app("App", lgAppOpts{})
		tenantScheme, tenantFactor := password.SchemePBKDF2SHA256, 24000

		var users []any
		for _, scheme := range []string{password.SchemeSaltedMD5, password.SchemePhpassMD5, password.SchemeBcrypt, password.SchemePBKDF2SHA256} {
			factor := password.DefaultFactor(scheme)
			if scheme == password.SchemeBcrypt {
				factor = 4
			}
			h, err := password.NewWith(scheme, factor, lgPassword)
			if err != nil {
				t.Fatal(err)
			}
			users = append(users, map[string]any{"id": uuid.NewString(), "email": scheme + "@timing.example.com", "password": h.Value,
				"salt": h.Salt, "encryptionScheme": scheme, "factor": h.Factor, "verified": true, "active": true,
				"registrations": []any{map[string]any{"applicationId": app}}})
		}
		e.want("import", e.do("POST", "/api/user/import", e.root, map[string]any{"users": users}), 200)

		paysTenant := func(what string, jobs []password.Job) {
			t.Helper()
			for _, j := range jobs {
				if j.Scheme == tenantScheme && j.Factor == tenantFactor {
					return
				}
			}
			t.Errorf("%s: hashes %+v include none with the tenant's %s/%d", what, jobs, tenantScheme, tenantFactor)
		}
		for _, u := range users {
			email := u.(map[string]any)["email"].(string)
			hold.take()
			e.want(email+" wrong password", e.login("", map[string]any{"loginId": email, "password": "wrong password", "applicationId": app}), 404)
			jobs := hold.take()
			paysTenant(email+" failed login", jobs)
			if len(jobs) > 2 {
				t.Errorf("%s: %d hashes for one failure: %+v", email, len(jobs), jobs)
			}
			r := e.do("POST", "/api/user/change-password", e.root, map[string]any{"loginId": email, "currentPassword": "wrong password",
				"password": "another password 1", "applicationId": app})
			if r.Status != 400 {
				t.Errorf("%s change-password with a wrong current password: %d %s", email, r.Status, r.Body)
			}
			paysTenant(email+" wrong current password", hold.take())
		}
		hold.take()
		e.want("unknown user", e.login("", map[string]any{"loginId": "nobody@timing.example.com", "password": "x", "applicationId": app}), 404)
		if jobs := hold.take(); len(jobs) != 1 || jobs[0].Scheme != tenantScheme || jobs[0].Factor != tenantFactor {
			t.Errorf("unknown user: hashes %+v, want one with the tenant's scheme", jobs)
		}
		// A right password of the tenant's own scheme costs exactly its check.
		e.want("pbkdf2 user", e.login("", map[string]any{"loginId": tenantScheme + "@timing.example.com", "password": lgPassword, "applicationId": app}), 200)
		if jobs := hold.take(); len(jobs) != 1 || jobs[0].Op != password.JobCheck {
			t.Errorf("successful login: hashes %+v", jobs)
		}
	})
}
