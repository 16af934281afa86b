package store_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

// Ids and secrets of testdata/upgrade (the fixtures give only their hashes).
const (
	upTenant    = "7e0b5a22-0001-4000-8000-000000000001"
	upApp       = "7e0b5a22-0001-4000-8000-000000000002"
	upUser      = "7e0b5a22-0001-4000-8000-000000000005"
	upIPACL     = "7e0b5a22-0001-4000-8000-000000000007"
	upGroup     = "7e0b5a22-0001-4000-8000-000000000009"
	upKey       = "migratest-api-key-0001"
	upRefresh   = "migratest-refresh-token-0011"
	upChangePwd = "migratest-change-password-0007"
)

// TestUpgradeKeepsData builds a database the way Latch grew it (after the
// migrations up to each fixture in testdata/upgrade, that fixture's rows as
// that schema allowed them, starting with the first schema, 0001), upgrades
// it to today's schema, and checks through a server running the current code
// that the data is there and works: the API key authenticates, the objects
// read back, the user signs in, the refresh token refreshes, the one-time
// change-password id changes the password once. Like Hydra's migratest.
func TestUpgradeKeepsData(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		dir := t.TempDir()
		st := openAt(t, b, filepath.Join(dir, "latch.db"))
		fixtures := map[int64]string{}
		entries, err := os.ReadDir("testdata/upgrade")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			v, err := strconv.ParseInt(strings.TrimSuffix(e.Name(), ".sql"), 10, 64)
			if err != nil {
				t.Fatalf("fixture %s: name must be the migration version it follows", e.Name())
			}
			fixtures[v] = filepath.Join("testdata/upgrade", e.Name())
		}
		var versions []int64
		for _, name := range migrationNames(t) {
			v, _ := strconv.ParseInt(name[:strings.Index(name, "_")], 10, 64)
			versions = append(versions, v)
		}
		if _, ok := fixtures[versions[0]]; !ok {
			t.Fatalf("no fixture for the first schema %d", versions[0])
		}
		for v := range fixtures {
			if !slices.Contains(versions, v) {
				t.Fatalf("fixture %d follows no migration", v)
			}
		}
		for _, v := range versions {
			if _, err := st.MigrateTo(ctx, v); err != nil {
				t.Fatalf("migrate to %d: %v", v, err)
			}
			if path, ok := fixtures[v]; ok {
				body, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				for _, stmt := range strings.Split(string(body), ";\n") {
					if strings.TrimSpace(stripComments(stmt)) == "" {
						continue
					}
					if _, err := st.DB().ExecContext(ctx, stmt); err != nil {
						t.Fatalf("fixture %d: %v\n%s", v, err, stmt)
					}
				}
			}
		}
		st.Close()

		// The server migrates the rest (nothing) and runs today's code.
		srv := testutil.StartServer(t, testutil.WithBackend(b), testutil.WithDataDir(dir))
		get := func(path string) map[string]any {
			t.Helper()
			r := srv.Do(t, http.MethodGet, path, upKey, nil, "X-FusionAuth-TenantId", upTenant)
			if r.Status != http.StatusOK {
				t.Fatalf("GET %s = %d %s", path, r.Status, r.Body)
			}
			var out map[string]any
			r.JSON(t, &out)
			return out
		}
		want := func(what string, got, want any) {
			t.Helper()
			if got != want {
				t.Errorf("%s = %v, want %v", what, got, want)
			}
		}

		tenant := get("/api/tenant/" + upTenant)["tenant"].(map[string]any)
		want("tenant name", tenant["name"], "Acme")

		app := get("/api/application/" + upApp)["application"].(map[string]any)
		want("application name", app["name"], "Pets")
		want("application data", app["data"].(map[string]any)["kept"], "as written")
		var roles []string
		for _, r := range app["roles"].([]any) {
			roles = append(roles, r.(map[string]any)["name"].(string))
		}
		slices.Sort(roles)
		want("application roles", strings.Join(roles, ","), "owner,vet")

		user := get("/api/user/" + upUser)["user"].(map[string]any)
		want("user email", user["email"], "Jürgen@Example.com")
		want("user data", user["data"].(map[string]any)["favourite"], "cats")
		regs := user["registrations"].([]any)
		if len(regs) != 1 {
			t.Fatalf("registrations = %v", regs)
		}
		reg := regs[0].(map[string]any)
		want("registration application", reg["applicationId"], upApp)
		want("registration roles", reg["roles"].([]any)[0], "vet")
		// Login keys written before normalisation are found after the upgrade.
		want("user by email", get("/api/user?email=J%C3%9CRGEN@example.com")["user"].(map[string]any)["id"], upUser)
		want("user by username", get("/api/user?username=j%C3%BCrgen")["user"].(map[string]any)["id"], upUser)

		want("group name", get("/api/group/" + upGroup)["group"].(map[string]any)["name"], "Clinic")
		want("ip acl name", get("/api/ip-acl/" + upIPACL)["ipAccessControlList"].(map[string]any)["name"], "Office")

		login := func(pw string) int {
			t.Helper()
			return srv.Do(t, http.MethodPost, "/api/login", upKey,
				map[string]any{"loginId": "Jürgen@Example.com", "password": pw, "applicationId": upApp}).Status
		}
		want("login status", login("password"), http.StatusOK)

		r := srv.Do(t, http.MethodPost, "/api/jwt/refresh", "", map[string]any{"refreshToken": upRefresh})
		if r.Status != http.StatusOK {
			t.Fatalf("refresh = %d %s", r.Status, r.Body)
		}
		var refreshed map[string]any
		r.JSON(t, &refreshed)
		if tok, _ := refreshed["token"].(string); tok == "" {
			t.Errorf("refresh gave no token: %s", r.Body)
		}

		change := func() int {
			t.Helper()
			return srv.Do(t, http.MethodPost, "/api/user/change-password/"+upChangePwd, "",
				map[string]any{"password": "a new password 0007"}).Status
		}
		want("change password", change(), http.StatusOK)
		want("change password again", change(), http.StatusNotFound)
		want("login with the new password", login("a new password 0007"), http.StatusOK)
	})
}

// migrationNames lists the migration files in order.
func migrationNames(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

// stripComments drops the "--" comment lines of a fixture statement.
func stripComments(stmt string) string {
	var keep []string
	for _, line := range strings.Split(stmt, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}
