package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

// Tests of POST /api/user/import. Helpers are prefixed "ui"; they build on the
// tenant, application and group helpers (taEnv, rgEnv).

// uiVector is a hash with its plaintext: one per scheme. The PBKDF2 ones are
// from shared/reference/fusionauth/password-hash-vectors.json; the others are
// Latch's own, computed independently (internal/password/testdata/vectors.py,
// crypt(3) for bcrypt) or published hashes of the systems phpass serves.
type uiVector struct {
	scheme, plaintext, salt string
	factor                  int
	hash                    string
}

var uiVectors = []uiVector{
	{"salted-md5", "password", "jVqbuA9k2Mlo37OWXBMKLw==", 20000, "ee1mq4b+7KtiZt1uOOgy7A=="},
	{"salted-sha256", "Setec Astronomy", "XnYZtiSCmFE5HF/ZplNCow==", 20000, "ahJdl2ghMhGGGeHfhNN2caMItsCWOVzuik8+lCjXgkk="},
	{"salted-hmac-sha256", "password", "jVqbuA9k2Mlo37OWXBMKLw==", 1, "RrWBY+6K2kXmO9xAW6bK9m+Njf5Pe4E8wUY9vmAv2sY="},
	{"salted-pbkdf2-hmac-sha256", "supersecret", "NDdiYWZkZDMtYjk5ZC00ZmZkLWE1YmUtZTQxNGM4MDkwNWYw", 24000, "fPbB0xTyAvJjA1lBsNVCg9MSPHJc9LBLvZ5GI+w4qXI="},
	{"salted-pbkdf2-hmac-sha256-512", "password", "jVqbuA9k2Mlo37OWXBMKLw==", 27500, "LjFqvhPuUHJdQvWIwVQfqxjeujAWqG/DVQRFoOv62/cTznl9ob4jwWwY6i1RrwGviu5iNPU5VIp03SxDyetyfw=="},
	{"salted-pbkdf2-hmac-sha512-512", "Setec Astronomy", "XnYZtiSCmFE5HF/ZplNCow==", 10000, "HsxN+FXKFj1aHvnMX8Sc26Cbf2hxRIbvrF1G2C9i+I3ZrQLa4DT5JfRkaFC6ACr3I+q+5vyjTthGyVuhhZQe3Q=="},
	{"bcrypt", "password", "N9qo8uLOickgx2ZMRZoMye", 4, "SuVmV5MQilj2yZi38Fq2CCnx12jZvOG"},
	{"phpass-md5", "123456", "VaXtDXwf", 8192, "/ceSVp8VpLKx8bS2Y4O5F/"},
	{"phpass-sha512", "Cookies1", "r3Hm8Od9", 32768, "X0Ux/olZ.B8Uwh6./3E1l4nPfXebovKVvMB9zcmjkTn"},
}

type uiEnv struct {
	*rgEnv
	ctx context.Context
}

func uiStart(t *testing.T, b testutil.Backend) *uiEnv {
	t.Helper()
	return &uiEnv{rgEnv: rgStart(t, b), ctx: context.Background()}
}

// importUsers posts an ImportRequest with the root key (or key, when given).
func (e *uiEnv) importUsers(req map[string]any, key string, headers ...string) *testutil.Response {
	e.t.Helper()
	if key == "" {
		key = e.root
	}
	return e.do("POST", "/api/user/import", key, req, headers...)
}

// mustImport fails unless the import answers FusionAuth's bare 200.
func (e *uiEnv) mustImport(what string, req map[string]any, key string, headers ...string) {
	e.t.Helper()
	r := e.importUsers(req, key, headers...)
	if r.Status != 200 || len(r.Body) != 0 {
		e.t.Fatalf("%s: %d %s", what, r.Status, r.Body)
	}
}

// row reads a stored user by email; nil when absent.
func (e *uiEnv) row(tenantID, email string) *store.UserRow {
	e.t.Helper()
	u, err := e.st.Read().UserRowByEmail(e.ctx, tenantID, email)
	if err != nil {
		return nil
	}
	return u
}

// userCount is the number of stored users (all tenants).
func (e *uiEnv) userCount() int {
	e.t.Helper()
	_, n, err := e.st.Read().SearchUsers(e.ctx, store.UserQuery{}, 0, 1, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// importAudits are the audit entries of imports, oldest first.
func (e *uiEnv) importAudits() []*model.AuditLog {
	e.t.Helper()
	all, _, err := e.st.Read().SearchAudit(e.ctx, store.AuditFilter{Message: "Imported "}, 0, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []*model.AuditLog
	for _, a := range all {
		if strings.HasSuffix(a.Message, " users") || strings.HasPrefix(a.Message, "Imported 1 user ") {
			out = append(out, a)
		}
	}
	return out
}

func TestImportUsersWithEveryScheme(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := uiStart(t, b)
		tenant := e.defaultTenant()
		appID, _ := e.appWithRoles(tenant, "Imported app", "user", "admin")
		var users []any
		for i, v := range uiVectors {
			users = append(users, map[string]any{
				"email": fmt.Sprintf("scheme%d@example.com", i), "encryptionScheme": v.scheme, "factor": v.factor,
				"salt": v.salt, "password": v.hash, "active": true, "verified": i%2 == 0,
				"insertInstant": 1331449200000 + int64(i), "data": map[string]any{"scheme": v.scheme},
				"registrations": []any{map[string]any{"applicationId": appID, "roles": []any{"admin"}, "data": map[string]any{"n": i}}},
			})
		}
		// A whole bcrypt string (as PHP writes it) with no salt: split on import.
		users = append(users, map[string]any{"email": "whole-bcrypt@example.com", "encryptionScheme": "bcrypt",
			"password": "$2y$04$N9qo8uLOickgx2ZMRZoMyeSuVmV5MQilj2yZi38Fq2CCnx12jZvOG", "active": true})
		// The reference page's spelling of phpass SHA-512, stored canonical.
		users = append(users, map[string]any{"email": "typo@example.com", "encryptionScheme": "phppass-sha512",
			"factor": 32768, "salt": "XZrp425p", "password": "2VN9LXpDWxiBeqSZSPexyZNNPUo80fTTN2e/W15a97G"})
		// Plaintext: hashed with the tenant's scheme.
		users = append(users, map[string]any{"username": "plain", "password": "plain text pw", "active": true})
		// No password at all (allowed since FusionAuth 1.59).
		users = append(users, map[string]any{"email": "nopassword@example.com"})
		e.mustImport("every scheme", map[string]any{"users": users}, "")
		if strings.Contains(e.s.Stderr.String(), "keeps the server's deadlines") {
			t.Error("the import could not extend the connection's deadlines")
		}

		for i, v := range uiVectors {
			email := fmt.Sprintf("scheme%d@example.com", i)
			row := e.row(tenant, email)
			if row == nil {
				t.Fatalf("%s: not stored", email)
			}
			h, err := password.Decode(row.PasswordHash)
			if err != nil {
				t.Fatalf("%s: stored hash %q: %v", v.scheme, row.PasswordHash, err)
			}
			if h != (password.Hash{Scheme: v.scheme, Factor: v.factor, Salt: v.salt, Value: v.hash}) {
				t.Errorf("%s: stored %+v, not as given", v.scheme, h)
			}
			if ok, err := password.Check(h, v.plaintext); !ok || err != nil {
				t.Errorf("%s: the vector's plaintext does not check: %v %v", v.scheme, ok, err)
			}
			if ok, _ := password.Check(h, v.plaintext+"!"); ok {
				t.Errorf("%s: a wrong password checks", v.scheme)
			}
			if !row.Active || row.Verified != (i%2 == 0) || row.InsertInstant != 1331449200000+int64(i) ||
				row.PasswordLastUpdateInstant == 0 {
				t.Errorf("%s: row %+v", v.scheme, row)
			}
			got := e.ok("retrieve "+email, e.do("GET", "/api/user/"+row.ID, e.root, nil), "user")
			if got["encryptionScheme"] != v.scheme || fmt.Sprint(got["factor"]) != fmt.Sprint(v.factor) {
				t.Errorf("%s: retrieve shows %v/%v", v.scheme, got["encryptionScheme"], got["factor"])
			}
			if _, leaked := got["password"]; leaked || strings.Contains(fmt.Sprint(got), v.hash) {
				t.Errorf("%s: the hash is returned: %v", v.scheme, got)
			}
			regs, _ := got["registrations"].([]any)
			if len(regs) != 1 || regs[0].(map[string]any)["applicationId"] != appID ||
				!rgEqual(rgStrings(regs[0].(map[string]any)["roles"]), "admin") {
				t.Errorf("%s: registrations %v", v.scheme, got["registrations"])
			}
		}
		checks := []struct{ email, username, plaintext, scheme string }{
			{"whole-bcrypt@example.com", "", "password", "bcrypt"},
			{"typo@example.com", "", "huan", "phpass-sha512"},
			{"", "plain", "plain text pw", "salted-pbkdf2-hmac-sha256"},
		}
		for _, c := range checks {
			var row *store.UserRow
			if c.email != "" {
				row = e.row(tenant, c.email)
			} else {
				row, _ = e.st.Read().UserRowByUsername(e.ctx, tenant, c.username)
			}
			if row == nil {
				t.Fatalf("%s%s not stored", c.email, c.username)
			}
			h, err := password.Decode(row.PasswordHash)
			if err != nil || h.Scheme != c.scheme {
				t.Errorf("%s%s: hash %q (%v)", c.email, c.username, row.PasswordHash, err)
				continue
			}
			if ok, err := password.Check(h, c.plaintext); !ok || err != nil {
				t.Errorf("%s%s: %v %v", c.email, c.username, ok, err)
			}
			if strings.Contains(row.PasswordHash, c.plaintext) || strings.Contains(row.Data, c.plaintext) {
				t.Errorf("%s%s: plaintext stored", c.email, c.username)
			}
		}
		if row := e.row(tenant, "nopassword@example.com"); row == nil || row.PasswordHash != "" || row.Active || row.Verified {
			t.Errorf("user without password: %+v", row)
		}
		// One audit entry for the whole import, with the count.
		audits := e.importAudits()
		if len(audits) != 1 {
			t.Fatalf("%d import audit entries", len(audits))
		}
		var data struct {
			Count         int      `json:"count"`
			Registrations int      `json:"registrations"`
			UserIDs       []string `json:"userIds"`
			TenantIDs     []string `json:"tenantIds"`
		}
		if err := json.Unmarshal(audits[0].Data, &data); err != nil {
			t.Fatal(err)
		}
		if data.Count != len(users) || data.Registrations != len(uiVectors) || len(data.UserIDs) != len(users) ||
			len(data.TenantIDs) != 1 || data.TenantIDs[0] != tenant || audits[0].ActorType != "apiKey" {
			t.Errorf("audit %s %+v", audits[0].Message, data)
		}
		for _, v := range uiVectors {
			if strings.Contains(string(audits[0].Data)+audits[0].Message, v.hash) {
				t.Error("the audit entry holds a hash")
			}
		}
	})
}

func TestImportUsersDuplicates(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := uiStart(t, b)
		tenant := e.defaultTenant()
		other := e.createTenant("Other")["id"].(string)
		existing := e.user("taken@example.com", tenant)
		e.mustImport("a user with a username", map[string]any{"users": []any{
			map[string]any{"username": "StoredName@example.com", "tenantId": tenant}}}, "")
		before := e.userCount()
		pw := func(u map[string]any) map[string]any {
			u["encryptionScheme"], u["salt"], u["factor"], u["password"] = uiVectors[3].scheme, uiVectors[3].salt, uiVectors[3].factor, uiVectors[3].hash
			return u
		}
		cases := []struct {
			name  string
			users []any
			codes []string
		}{
			{"email twice in the batch, across case", []any{
				pw(map[string]any{"email": "Twice@Example.com", "tenantId": tenant}),
				pw(map[string]any{"email": "fresh@example.com", "tenantId": tenant}),
				pw(map[string]any{"email": "twice@example.COM", "tenantId": tenant}),
			}, []string{"[duplicate]users[2].email"}},
			{"username twice in the batch", []any{
				map[string]any{"username": "Bob", "tenantId": tenant}, map[string]any{"username": "bob", "tenantId": tenant},
			}, []string{"[duplicate]users[1].username"}},
			{"id twice in the batch", []any{
				map[string]any{"id": "00000000-0000-0000-0000-00000000000a", "email": "a@example.com", "tenantId": tenant},
				map[string]any{"id": "00000000-0000-0000-0000-00000000000A", "email": "b@example.com", "tenantId": tenant},
			}, []string{"[duplicate]users[1].id"}},
			{"email of a stored user", []any{
				pw(map[string]any{"email": "fine@example.com", "tenantId": tenant}),
				pw(map[string]any{"email": "TAKEN@example.com", "tenantId": tenant}),
			}, []string{"[duplicate]users[1].email"}},
			{"username that is another batch user's email", []any{
				pw(map[string]any{"email": "Carol@example.com", "tenantId": tenant}),
				map[string]any{"username": "carol@example.com", "tenantId": tenant},
			}, []string{"[duplicate]users[1].username"}},
			{"email that is another batch user's username", []any{
				map[string]any{"username": "dave@example.com", "tenantId": tenant},
				pw(map[string]any{"email": "Dave@example.com", "tenantId": tenant}),
			}, []string{"[duplicate]users[1].email"}},
			{"username that is a stored user's email", []any{
				map[string]any{"username": "Taken@example.com", "tenantId": tenant},
			}, []string{"[duplicate]users[0].username"}},
			{"email that is a stored user's username", []any{
				pw(map[string]any{"email": "storedname@example.com", "tenantId": tenant}),
			}, []string{"[duplicate]users[0].email"}},
			{"look-alike of a batch username in other letters", []any{
				map[string]any{"username": "mallory", "tenantId": tenant}, map[string]any{"username": "m\u0251llory", "tenantId": tenant},
			}, []string{"[duplicate]users[1].username"}},
			{"look-alike of a stored email in other letters", []any{
				map[string]any{"username": "t\u0251ken@example.com", "tenantId": tenant},
			}, []string{"[duplicate]users[0].username"}},
			{"id of a stored user", []any{
				map[string]any{"id": existing, "email": "new@example.com", "tenantId": tenant},
			}, []string{"[duplicate]users[0].id"}},
			{"registration id twice", []any{
				map[string]any{"email": "r1@example.com", "tenantId": tenant, "registrations": []any{map[string]any{"id": "00000000-0000-0000-0000-0000000000b1", "applicationId": model.AdminApplicationID}}},
				map[string]any{"email": "r2@example.com", "tenantId": tenant, "registrations": []any{map[string]any{"id": "00000000-0000-0000-0000-0000000000b1", "applicationId": model.AdminApplicationID}}},
			}, []string{"[duplicate]users[1].registrations[0].id"}},
			{"one application twice for a user", []any{
				map[string]any{"email": "r3@example.com", "tenantId": tenant, "registrations": []any{
					map[string]any{"applicationId": model.AdminApplicationID}, map[string]any{"applicationId": model.AdminApplicationID}}},
			}, []string{"[duplicate]users[0].registrations[1].applicationId"}},
		}
		for _, c := range cases {
			for _, validate := range []bool{false, true} {
				what := fmt.Sprintf("%s (validateDbConstraints %v)", c.name, validate)
				r := e.importUsers(map[string]any{"users": c.users, "validateDbConstraints": validate}, "")
				want400(t, what, r, c.codes...)
				if n := e.userCount(); n != before {
					t.Fatalf("%s: %d users stored, want %d: the import was not all or nothing", what, n, before)
				}
			}
		}
		// The same email in two tenants is two users.
		e.mustImport("same email, two tenants", map[string]any{"users": []any{
			pw(map[string]any{"email": "taken@example.com", "tenantId": other}),
			pw(map[string]any{"email": "both@example.com", "tenantId": tenant}),
			pw(map[string]any{"email": "both@example.com", "tenantId": other}),
		}}, "")
		if e.userCount() != before+3 {
			t.Errorf("%d users after the import, want %d", e.userCount(), before+3)
		}
		if len(e.importAudits()) != 2 {
			t.Errorf("failed imports were audited: %d entries", len(e.importAudits()))
		}
	})
}

func TestImportUsersBadInput(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := uiStart(t, b)
		tenant := e.defaultTenant()
		other := e.createTenant("Other")["id"].(string)
		appID, _ := e.appWithRoles(tenant, "App", "user")
		otherApp, _ := e.appWithRoles(other, "Other app", "user")
		group := e.ok("create group", e.do("POST", "/api/group", e.root, map[string]any{"group": map[string]any{"name": "G", "tenantId": other}}), "group")["id"].(string)
		before := e.userCount()
		u := func(extra map[string]any) map[string]any {
			m := map[string]any{"email": "x@example.com", "tenantId": tenant}
			for k, v := range extra {
				m[k] = v
			}
			return m
		}
		hashed := func(scheme string, factor any, salt, value string) map[string]any {
			return u(map[string]any{"encryptionScheme": scheme, "factor": factor, "salt": salt, "password": value})
		}
		raw := []struct {
			name, body, code string
		}{
			{"empty body", "", "[invalidJSON]"},
			{"not JSON", "{", "[invalidJSON]"},
			{"array", "[]", "[invalidJSON]"},
			{"null", "null", "[invalidJSON]"},
			{"trailing data", `{"users":[]} x`, "[invalidJSON]"},
			{"10 MB string", `{"users":"` + strings.Repeat("a", 10<<20) + `"}`, "[invalid]users"},
		}
		for _, c := range raw {
			want400(t, c.name, e.do("POST", "/api/user/import", e.root, c.body), c.code)
		}
		cases := []struct {
			name string
			req  map[string]any
			code string
		}{
			{"no users", map[string]any{}, "[missing]users"},
			{"users null", map[string]any{"users": nil}, "[missing]users"},
			{"users empty", map[string]any{"users": []any{}}, "[blank]users"},
			{"users an object", map[string]any{"users": map[string]any{}}, "[invalid]users"},
			{"user a number", map[string]any{"users": []any{1}}, "[invalid]users[0]"},
			{"user without email or username", map[string]any{"users": []any{map[string]any{"tenantId": tenant}}}, "[blank]users[0].email"},
			{"email a number", map[string]any{"users": []any{u(map[string]any{"email": 5})}}, "[invalid]users[0].email"},
			{"email not an email", map[string]any{"users": []any{u(map[string]any{"email": "nope"})}}, "[notEmail]users[0].email"},
			{"email too long", map[string]any{"users": []any{u(map[string]any{"email": strings.Repeat("a", 300) + "@example.com"})}}, "[tooLong]users[0].email"},
			{"id not a UUID", map[string]any{"users": []any{u(map[string]any{"id": "42"})}}, "[invalid]users[0].id"},
			{"active a string", map[string]any{"users": []any{u(map[string]any{"active": "yes"})}}, "[invalid]users[0].active"},
			{"insertInstant a date", map[string]any{"users": []any{u(map[string]any{"insertInstant": "2020-01-01"})}}, "[invalid]users[0].insertInstant"},
			{"validateDbConstraints a string", map[string]any{"validateDbConstraints": "yes", "users": []any{u(nil)}}, "[invalid]validateDbConstraints"},
			{"unknown scheme", map[string]any{"users": []any{hashed("md4", 1, "", "x")}}, "[invalid]users[0].encryptionScheme"},
			{"argon2 is not built in", map[string]any{"users": []any{hashed("argon2id", 1, "", "x")}}, "[invalid]users[0].encryptionScheme"},
			{"unknown request scheme", map[string]any{"encryptionScheme": "md4", "users": []any{u(nil)}}, "[invalid]encryptionScheme"},
			{"request factor out of range", map[string]any{"encryptionScheme": "bcrypt", "factor": 40, "users": []any{u(nil)}}, "[invalid]factor"},
			{"hash without password", map[string]any{"users": []any{hashed("salted-md5", 1, "", "")}}, "[blank]users[0].password"},
			{"factor a word", map[string]any{"users": []any{hashed("salted-md5", "many", "", "ee1mq4b+7KtiZt1uOOgy7A==")}}, "[invalid]users[0].factor"},
			{"factor negative", map[string]any{"users": []any{hashed("salted-md5", -1, "", "ee1mq4b+7KtiZt1uOOgy7A==")}}, "[invalid]users[0].factor"},
			{"factor zero for md5", map[string]any{"users": []any{hashed("salted-md5", 0, "", "ee1mq4b+7KtiZt1uOOgy7A==")}}, "[invalid]users[0].factor"},
			{"bcrypt cost 3", map[string]any{"users": []any{hashed("bcrypt", 3, "N9qo8uLOickgx2ZMRZoMye", "SuVmV5MQilj2yZi38Fq2CCnx12jZvOG")}}, "[invalid]users[0].factor"},
			{"bcrypt string with another factor", map[string]any{"users": []any{hashed("bcrypt", 10, "", "$2a$04$N9qo8uLOickgx2ZMRZoMyeSuVmV5MQilj2yZi38Fq2CCnx12jZvOG")}}, "[invalid]users[0].factor"},
			{"bcrypt without salt", map[string]any{"users": []any{hashed("bcrypt", 4, "", "SuVmV5MQilj2yZi38Fq2CCnx12jZvOG")}}, "[invalid]users[0].salt"},
			{"salt not base64", map[string]any{"users": []any{hashed("salted-pbkdf2-hmac-sha256", 24000, "not base64!", uiVectors[3].hash)}}, "[invalid]users[0].salt"},
			{"hex md5", map[string]any{"users": []any{hashed("salted-md5", 1, "", "5f4dcc3b5aa765d61d8327deb882cf99")}}, "[invalid]users[0].password"},
			{"512-bit hash for a 256-bit scheme", map[string]any{"users": []any{hashed("salted-pbkdf2-hmac-sha256", 27500, uiVectors[4].salt, uiVectors[4].hash)}}, "[invalid]users[0].password"},
			{"plaintext over bcrypt's 72 bytes", map[string]any{"encryptionScheme": "bcrypt", "factor": 4,
				"users": []any{u(map[string]any{"password": strings.Repeat("p", 73)})}}, "[tooLong]users[0].password"},
			{"registrations an object", map[string]any{"users": []any{u(map[string]any{"registrations": map[string]any{}})}}, "[invalid]users[0].registrations"},
			{"registration without application", map[string]any{"users": []any{u(map[string]any{"registrations": []any{map[string]any{}}})}}, "[blank]users[0].registrations[0].applicationId"},
			{"registration to an unknown application", map[string]any{"users": []any{u(map[string]any{"registrations": []any{map[string]any{"applicationId": rgNewID()}}})}}, "[invalid]users[0].registrations[0].applicationId"},
			{"registration to another tenant's application", map[string]any{"users": []any{u(map[string]any{"registrations": []any{map[string]any{"applicationId": otherApp}}})}}, "[invalid]users[0].registrations[0].applicationId"},
			{"registration with an unknown role", map[string]any{"users": []any{u(map[string]any{"registrations": []any{map[string]any{"applicationId": appID, "roles": []any{"user", "ghost"}}}})}}, "[invalid]users[0].registrations[0].roles"},
			{"registration roles not strings", map[string]any{"users": []any{u(map[string]any{"registrations": []any{map[string]any{"applicationId": appID, "roles": []any{1}}}})}}, "[invalid]users[0].registrations[0].roles"},
			{"membership of another tenant's group", map[string]any{"users": []any{u(map[string]any{"memberships": []any{map[string]any{"groupId": group}}})}}, "[invalid]users[0].memberships[0].groupId"},
			{"membership without group", map[string]any{"users": []any{u(map[string]any{"memberships": []any{map[string]any{}}})}}, "[invalid]users[0].memberships[0].groupId"},
			{"recovery codes", map[string]any{"users": []any{u(map[string]any{"twoFactor": map[string]any{"recoveryCodes": []any{"abc"}}})}}, "[invalid]users[0].twoFactor.recoveryCodes"},
			{"two-factor method not an object", map[string]any{"users": []any{u(map[string]any{"twoFactor": map[string]any{"methods": []any{1}}})}}, "[invalid]users[0].twoFactor.methods"},
			{"tenantId not a UUID", map[string]any{"users": []any{u(map[string]any{"tenantId": "t1"})}}, "[invalid]users[0].tenantId"},
			{"unknown tenant", map[string]any{"users": []any{u(map[string]any{"tenantId": rgNewID()})}}, "[invalid]users[0].tenantId"},
			{"the error of the fifth user", map[string]any{"users": []any{u(nil), u(map[string]any{"email": "b@example.com"}),
				u(map[string]any{"email": "c@example.com"}), u(map[string]any{"email": "d@example.com"}), u(map[string]any{"email": "e@@example.com"})}}, "[notEmail]users[4].email"},
		}
		for _, c := range cases {
			want400(t, c.name, e.importUsers(c.req, ""), c.code)
		}
		// Many bad users: the errors stop at a bound, with a general error saying so.
		many := make([]any, 3000)
		for i := range many {
			many[i] = u(map[string]any{"email": fmt.Sprintf("bad%d", i)})
		}
		r := e.importUsers(map[string]any{"users": many}, "")
		want400(t, "3,000 bad users", r, "[TooManyErrors]", "[notEmail]users[0].email", "[notEmail]users[999].email")
		if n := len(errorCodes(t, r)); n > 1001 {
			t.Errorf("%d errors reported", n)
		}
		// A salt of the wrong type.
		want400(t, "salt a number", e.importUsers(map[string]any{"users": []any{
			u(map[string]any{"encryptionScheme": "salted-md5", "factor": 1, "salt": 7, "password": "ee1mq4b+7KtiZt1uOOgy7A=="})}}, ""),
			"[invalid]users[0].salt")
		if n := e.userCount(); n != before {
			t.Errorf("%d users after bad imports, want %d", n, before)
		}
		if len(e.importAudits()) != 0 {
			t.Error("a refused import was audited")
		}
	})
}

func TestImportUsersTenants(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := uiStart(t, b)
		deflt := e.defaultTenant()
		// With a single tenant, users go to it without naming it.
		e.mustImport("one tenant", map[string]any{"users": []any{map[string]any{"email": "solo@example.com"}}}, "")
		if e.row(deflt, "solo@example.com") == nil {
			t.Fatal("not imported into the only tenant")
		}
		a := e.createTenant("A")["id"].(string)
		bt := e.createTenant("B")["id"].(string)
		groupB := e.ok("create group", e.do("POST", "/api/group", e.root, map[string]any{"group": map[string]any{"name": "G", "tenantId": bt}}), "group")["id"].(string)
		// Several tenants and none named.
		want400(t, "several tenants, none named", e.importUsers(map[string]any{"users": []any{
			map[string]any{"email": "who@example.com"}}}, ""), "[TenantIdRequired]")
		// Named per user.
		e.mustImport("tenant per user", map[string]any{"users": []any{
			map[string]any{"email": "in-a@example.com", "tenantId": a},
			map[string]any{"email": "in-b@example.com", "tenantId": strings.ToUpper(bt), "memberships": []any{map[string]any{"groupId": groupB, "data": map[string]any{"k": "v"}}}},
		}}, "")
		if e.row(a, "in-a@example.com") == nil || e.row(bt, "in-b@example.com") == nil {
			t.Fatal("users not in their tenants")
		}
		inB := e.row(bt, "in-b@example.com")
		members, err := e.st.Read().MembershipsOfUsers(e.ctx, []string{inB.ID})
		if err != nil || len(members[inB.ID]) != 1 || members[inB.ID][0].GroupID != groupB {
			t.Errorf("membership: %v %v", members, err)
		}
		// X-FusionAuth-TenantId names the tenant for every user.
		e.mustImport("tenant header", map[string]any{"users": []any{map[string]any{"email": "header@example.com"}}}, "",
			"X-FusionAuth-TenantId", a)
		if e.row(a, "header@example.com") == nil {
			t.Error("the header's tenant was not used")
		}
		want400(t, "unknown header tenant", e.importUsers(map[string]any{"users": []any{map[string]any{"email": "h2@example.com"}}}, "",
			"X-FusionAuth-TenantId", rgNewID()), "[invalid]tenantId")
		// A key scoped to B imports into B only: user.tenantId is ignored, as
		// FusionAuth documents.
		keyB, _ := e.scopedKey(bt)
		e.mustImport("scoped key", map[string]any{"users": []any{
			map[string]any{"email": "scoped@example.com"},
			map[string]any{"email": "elsewhere@example.com", "tenantId": a},
		}}, keyB)
		if e.row(bt, "scoped@example.com") == nil || e.row(bt, "elsewhere@example.com") == nil || e.row(a, "elsewhere@example.com") != nil {
			t.Error("a tenant-scoped key imported outside its tenant")
		}
		// A scoped key cannot reach another tenant's application or group.
		appA, _ := e.appWithRoles(a, "App A", "user")
		want400(t, "scoped key, other tenant's application", e.importUsers(map[string]any{"users": []any{
			map[string]any{"email": "reg@example.com", "registrations": []any{map[string]any{"applicationId": appA}}}}}, keyB),
			"[invalid]users[0].registrations[0].applicationId")
		// A key of two tenants must name one, and only one of its own.
		keyAB, _ := e.scopedKey(a, bt)
		want400(t, "two-tenant key, none named", e.importUsers(map[string]any{"users": []any{map[string]any{"email": "ab@example.com"}}}, keyAB),
			"[TenantIdRequired]")
		want400(t, "two-tenant key, another tenant", e.importUsers(map[string]any{"users": []any{
			map[string]any{"email": "ab@example.com", "tenantId": deflt}}}, keyAB), "[invalid]users[0].tenantId")
		e.mustImport("two-tenant key, its tenant", map[string]any{"users": []any{map[string]any{"email": "ab@example.com", "tenantId": a}}}, keyAB)
		// The tenant of X-FusionAuth-TenantId must be the key's.
		if r := e.importUsers(map[string]any{"users": []any{map[string]any{"email": "hx@example.com"}}}, keyB, "X-FusionAuth-TenantId", a); r.Status == 200 {
			t.Errorf("a scoped key widened by the header: %d", r.Status)
		}
		// A key without the import endpoint is refused.
		r := e.do("POST", "/api/api-key", e.root, map[string]any{"apiKey": map[string]any{"permissions": map[string]any{
			"endpoints": map[string]any{"/api/user": []any{"POST"}}}}})
		var k struct {
			APIKey model.APIKey `json:"apiKey"`
		}
		r.JSON(t, &k)
		if r := e.importUsers(map[string]any{"users": []any{map[string]any{"email": "perm@example.com", "tenantId": a}}}, k.APIKey.Key); r.Status != 401 && r.Status != 403 {
			t.Errorf("a key without /api/user/import: %d", r.Status)
		}
		if r := e.do("POST", "/api/user/import", "", map[string]any{"users": []any{}}); r.Status != 401 {
			t.Errorf("no key: %d", r.Status)
		}
	})
}

// TestImportTenThousandUsers imports 10,000 users with pre-hashed passwords
// and a registration each in one call, and logs the time it took (no time
// limit: figures go to BENCHMARKS.md from the benchmarks).
func TestImportTenThousandUsers(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("large import")
	}
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := uiStart(t, b)
		tenant := e.defaultTenant()
		appID, _ := e.appWithRoles(tenant, "Big", "user")
		const n = 10000
		users := make([]any, n)
		for i := range users {
			v := uiVectors[i%len(uiVectors)]
			users[i] = map[string]any{
				"email": fmt.Sprintf("user%05d@example.com", i), "firstName": "First", "lastName": fmt.Sprintf("Last%05d", i),
				"encryptionScheme": v.scheme, "factor": v.factor, "salt": v.salt, "password": v.hash, "active": true,
				"registrations": []any{map[string]any{"applicationId": appID, "roles": []any{"user"}}},
			}
		}
		body, err := json.Marshal(map[string]any{"users": users})
		if err != nil {
			t.Fatal(err)
		}
		before := e.userCount()
		start := time.Now()
		r := e.do("POST", "/api/user/import", e.root, body)
		elapsed := time.Since(start)
		if r.Status != 200 {
			t.Fatalf("import: %d %s", r.Status, r.Body)
		}
		t.Logf("%s: imported %d users (%d KiB body) with a registration each in %v (%.0f users/s)",
			b.Name, n, len(body)>>10, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds())
		if got := e.userCount(); got != before+n {
			t.Fatalf("%d users stored, want %d", got, before+n)
		}
		for _, i := range []int{0, 4567, n - 1} {
			row := e.row(tenant, fmt.Sprintf("USER%05d@example.com", i))
			if row == nil {
				t.Fatalf("user %d missing", i)
			}
			h, _ := password.Decode(row.PasswordHash)
			if ok, err := password.Check(h, uiVectors[i%len(uiVectors)].plaintext); !ok || err != nil {
				t.Errorf("user %d: %v %v", i, ok, err)
			}
		}
		// Index-backed search finds them at once.
		if r := e.do("GET", "/api/user/search?queryString=last04567", e.root, nil); r.Status != 200 || !strings.Contains(string(r.Body), "user04567@example.com") {
			t.Errorf("search after import: %d %.200s", r.Status, r.Body)
		}
		audits := e.importAudits()
		if len(audits) != 1 || !strings.Contains(string(audits[0].Data), `"count":10000`) || strings.Contains(string(audits[0].Data), "userIds") {
			t.Errorf("audit: %+v", audits)
		}
	})
}
