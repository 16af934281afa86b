package api_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/testutil"
)

// Users imported with another scheme log in with it, and are re-hashed to
// the tenant's scheme and factor on success when the tenant asks for it
// (passwordEncryptionConfiguration.modifyEncryptionSchemeOnLogin).
func TestLoginImportedSchemesAndRehash(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b)
		app := e.app("App", lgAppOpts{})
		imported := map[string]string{} // scheme → user id
		var users []any
		for _, scheme := range password.Schemes() {
			factor := password.DefaultFactor(scheme)
			if scheme == password.SchemeBcrypt {
				factor = 4 // fast in tests
			}
			h, err := password.NewWith(scheme, factor, lgPassword)
			if err != nil {
				t.Fatalf("%s: %v", scheme, err)
			}
			id := uuid.NewString()
			imported[scheme] = id
			users = append(users, map[string]any{"id": id, "email": scheme + "@import.example.com", "password": h.Value, "salt": h.Salt,
				"encryptionScheme": scheme, "factor": h.Factor, "verified": true, "active": true,
				"registrations": []any{map[string]any{"applicationId": app}}})
		}
		e.want("import", e.do("POST", "/api/user/import", e.root, map[string]any{"users": users}), 200)
		stored := func(id string) password.Hash {
			row, err := e.st.Read().UserRowByID(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			h, err := password.Decode(row.PasswordHash)
			if err != nil {
				t.Fatal(err)
			}
			return h
		}

		// Re-hashing off (FusionAuth's default): every scheme logs in; key
		// derivation functions stay as they are, fast digests (weaker than
		// the tenant's PBKDF2) are upgraded all the same.
		fast := map[string]bool{password.SchemeSaltedMD5: true, password.SchemeSaltedSHA256: true,
			password.SchemeSaltedHMACSHA256: true, password.SchemePhpassMD5: true, password.SchemePhpassSHA512: true}
		for scheme, id := range imported {
			e.want(scheme+" wrong password", e.login("", map[string]any{"loginId": scheme + "@import.example.com", "password": "wrong", "applicationId": app}), 404)
			if h := stored(id); h.Scheme != scheme {
				t.Errorf("%s: a failed login re-hashed the password to %s", scheme, h.Scheme)
			}
			e.want(scheme+" login", e.login("", map[string]any{"loginId": scheme + "@import.example.com", "password": lgPassword, "applicationId": app}), 200)
			h := stored(id)
			switch {
			case fast[scheme] && (h.Scheme != password.SchemePBKDF2SHA256 || h.Factor != 24000):
				t.Errorf("%s: stored %s/%d after login, want the tenant's salted-pbkdf2-hmac-sha256/24000", scheme, h.Scheme, h.Factor)
			case !fast[scheme] && h.Scheme != scheme:
				t.Errorf("%s re-hashed to %s with modifyEncryptionSchemeOnLogin off", scheme, h.Scheme)
			}
		}

		// On: a successful login re-hashes to the tenant's scheme and factor;
		// a failed one does not.
		e.patchTenant(map[string]any{"passwordEncryptionConfiguration": map[string]any{"modifyEncryptionSchemeOnLogin": true}})
		md5 := imported[password.SchemeSaltedMD5]
		for scheme, id := range imported {
			e.want(scheme+" login with re-hash", e.login("", map[string]any{"loginId": scheme + "@import.example.com", "password": lgPassword, "applicationId": app}), 200)
			if h := stored(id); h.Scheme != password.SchemePBKDF2SHA256 || h.Factor != 24000 {
				t.Errorf("%s: stored %s/%d after login, want salted-pbkdf2-hmac-sha256/24000", scheme, h.Scheme, h.Factor)
			}
			e.want(scheme+" login after re-hash", e.login("", map[string]any{"loginId": scheme + "@import.example.com", "password": lgPassword, "applicationId": app}), 200)
		}
		got := e.want("retrieve", e.do("GET", "/api/user/"+md5, e.root, nil), 200)["user"].(map[string]any)
		if got["encryptionScheme"] != password.SchemePBKDF2SHA256 {
			t.Errorf("retrieve after re-hash: %v", got["encryptionScheme"])
		}

		// A factor change alone re-hashes too.
		e.patchTenant(map[string]any{"passwordEncryptionConfiguration": map[string]any{"encryptionSchemeFactor": 25000}})
		e.want("login after factor change", e.login("", map[string]any{"loginId": "salted-md5@import.example.com", "password": lgPassword, "applicationId": app}), 200)
		if h := stored(md5); h.Factor != 25000 {
			t.Errorf("factor after re-hash: %d", h.Factor)
		}
	})
}
