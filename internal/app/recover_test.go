package app_test

import (
	"context"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/access"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

// openStore opens the server's database beside it, for assertions on what the
// CLI wrote.
func openStore(t *testing.T, env map[string]string, dataDir string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), env["LATCH_DATABASE_URL"], filepath.Join(dataDir, "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// versionStatus is the status of an all-endpoints probe made with key.
func versionStatus(t *testing.T, s *testutil.Server, key string) int {
	t.Helper()
	return s.Do(t, "GET", "/api/system/version", key, nil).Status
}

// recoverKey runs `latch recover api-key` and returns the printed key.
func recoverKey(t *testing.T, s *testutil.Server, args ...string) string {
	t.Helper()
	out, errOut, code := s.CLI(t, append([]string{"recover", "api-key"}, args...)...)
	if code != 0 {
		t.Fatalf("latch recover api-key exited %d: %s", code, errOut)
	}
	key := strings.TrimSpace(out)
	if key == "" || strings.Contains(key, "\n") {
		t.Fatalf("stdout should hold exactly the key, got %q", out)
	}
	return key
}

func keyByValue(t *testing.T, st *store.Store, value string) *store.APIKeyRow {
	t.Helper()
	row, err := st.Read().APIKeyByHash(context.Background(), secrets.HashToken(value))
	if err != nil {
		t.Fatalf("the printed key is not stored: %v", err)
	}
	return row
}

func criticalAudits(t *testing.T, st *store.Store, targetID string) []*model.AuditLog {
	t.Helper()
	all, _, err := st.Read().SearchAudit(context.Background(), store.AuditFilter{Severity: "critical"}, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []*model.AuditLog
	for _, a := range all {
		if targetID == "" || a.TargetID == targetID {
			out = append(out, a)
		}
	}
	return out
}

// checkCLIActor asserts an audit entry names the OS user and host of the CLI run.
func checkCLIActor(t *testing.T, a *model.AuditLog) {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if a.ActorType != kit.ActorCLI || a.ActorID != u.Username || !strings.Contains(a.InsertUser, u.Username+"@"+host) {
		t.Errorf("audit actor = type %q id %q user %q, want cli, %q, %q@%q", a.ActorType, a.ActorID, a.InsertUser, u.Username, u.Username, host)
	}
	if a.Severity != "critical" {
		t.Errorf("audit severity = %q, want critical", a.Severity)
	}
}

func TestRecoverAPIKeyWhileServerRuns(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		clk := testutil.NewFakeClock()
		s := testutil.StartServer(t, testutil.WithBackend(b), testutil.WithClock(clk))
		s.Setup(t)
		st := openStore(t, s.Env, s.DataDir)

		key := recoverKey(t, s)
		// No wait: the server finds a key it has not cached in the database.
		if got := versionStatus(t, s, key); got != 200 {
			t.Fatalf("recovery key on the running server: %d, want 200", got)
		}
		row := keyByValue(t, st, key)
		wantName := access.RecoveryKeyNamePrefix + clk.Now().UTC().Format(time.RFC3339)
		if !row.KeyManager || !row.AllEndpoints() || !row.Global() || row.IPAccessControlListID != "" ||
			row.Retrievable || row.KeySealed != "" || row.Name != wantName {
			t.Errorf("recovery key = %+v, want a non-retrievable global all-endpoints key manager named %q", row.APIKey, wantName)
		}
		if row.ExpirationInstant == nil || *row.ExpirationInstant != clk.Now().Add(time.Hour).UnixMilli() {
			t.Errorf("expirationInstant = %v, want now + 1h by default", row.ExpirationInstant)
		}
		audits := criticalAudits(t, st, row.ID)
		if len(audits) != 1 {
			t.Fatalf("critical audit entries for the key: %d, want 1", len(audits))
		}
		checkCLIActor(t, audits[0])
		if strings.Contains(string(audits[0].Data)+string(audits[0].NewValue)+audits[0].Message, key) {
			t.Error("the audit entry contains the key value")
		}
	})
}

func TestRecoverAPIKeyWithServerStopped(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		clk := testutil.NewFakeClock()
		s := testutil.StartServer(t, testutil.WithBackend(b), testutil.WithClock(clk))
		s.Setup(t)
		if code := s.Stop(t); code != 0 {
			t.Fatalf("serve exited %d", code)
		}
		key := recoverKey(t, s, "--name", "Ops break-glass", "--expires-in", "30m")

		// Restart on the same database: the key works.
		s2 := testutil.StartServer(t, testutil.WithBackend(b), testutil.WithDataDir(s.DataDir), testutil.WithClock(clk))
		if got := versionStatus(t, s2, key); got != 200 {
			t.Fatalf("recovery key after restart: %d, want 200", got)
		}
		row := keyByValue(t, openStore(t, s.Env, s.DataDir), key)
		if row.Name != "Ops break-glass" {
			t.Errorf("name = %q, want the --name given", row.Name)
		}
		if got := *row.ExpirationInstant - row.InsertInstant; got != (30 * time.Minute).Milliseconds() {
			t.Errorf("lifetime = %dms, want 30m", got)
		}
	})
}

func TestRecoverAPIKeyExpiresWithoutLeeway(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		clk := testutil.NewFakeClock()
		s := testutil.StartServer(t, testutil.WithBackend(b), testutil.WithClock(clk))
		s.Setup(t)
		key := recoverKey(t, s, "--expires-in", "2h")

		steps := []struct {
			advance time.Duration
			want    int
		}{
			{0, 200},
			{2*time.Hour - time.Millisecond, 200},
			{time.Millisecond, 401}, // exactly at expiry
			{time.Hour, 401},
		}
		for _, st := range steps {
			clk.Advance(st.advance)
			if got := versionStatus(t, s, key); got != st.want {
				t.Fatalf("at +%s: status %d, want %d", st.advance, got, st.want)
			}
		}
	})
}

func TestRecoverAPIKeyBeforeSetup(t *testing.T) {
	// A documented choice: recovery works on an instance that was never set up;
	// the wizard stays open. `recover admin` refuses (see below).
	s := testutil.StartServer(t)
	out, errOut, code := s.CLI(t, "recover", "api-key")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "setup has not been done") {
		t.Errorf("stderr should note that setup is pending: %s", errOut)
	}
	if got := versionStatus(t, s, strings.TrimSpace(out)); got != 200 {
		t.Errorf("recovery key before setup: %d, want 200", got)
	}
}

func TestRecoverKeyOut(t *testing.T) {
	s := testutil.StartServer(t)
	s.Setup(t)
	path := filepath.Join(t.TempDir(), "recovery.key")
	out, errOut, code := s.CLI(t, "recover", "api-key", "--key-out", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if out != "" {
		t.Errorf("stdout = %q, want nothing when --key-out is given", out)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %o, want 600", info.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSuffix(string(data), "\n")
	if key == "" || strings.ContainsAny(key, " \n\t") {
		t.Fatalf("key file should hold only the key, got %q", data)
	}
	if strings.Contains(errOut, key) {
		t.Error("the key was also printed on stderr")
	}
	if got := versionStatus(t, s, key); got != 200 {
		t.Errorf("key from the file: %d, want 200", got)
	}
}

func TestRecoverConcurrentRunsGiveTwoKeys(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		// A fake clock makes both runs pick the same default name.
		clk := testutil.NewFakeClock()
		s := testutil.StartServer(t, testutil.WithBackend(b), testutil.WithClock(clk))
		s.Setup(t)
		st := openStore(t, s.Env, s.DataDir)

		type result struct {
			out, errOut string
			code        int
		}
		results := make(chan result, 2)
		for range 2 {
			go func() {
				out, errOut, code := s.CLI(t, "recover", "api-key")
				results <- result{out, errOut, code}
			}()
		}
		var keys []string
		for range 2 {
			r := <-results
			if r.code != 0 {
				t.Fatalf("a concurrent recover exited %d: %s", r.code, r.errOut)
			}
			keys = append(keys, strings.TrimSpace(r.out))
		}
		if keys[0] == keys[1] {
			t.Fatal("both runs printed the same key")
		}
		names := map[string]bool{}
		for _, k := range keys {
			if got := versionStatus(t, s, k); got != 200 {
				t.Errorf("key %d: status %d, want 200", len(names), got)
			}
			row := keyByValue(t, st, k)
			names[row.Name] = true
			if n := len(criticalAudits(t, st, row.ID)); n != 1 {
				t.Errorf("critical audit entries for key %s: %d, want 1", row.ID, n)
			}
		}
		if len(names) != 2 {
			t.Errorf("names %v, want two distinct", names)
		}
		if n := len(criticalAudits(t, st, "")); n != 2 {
			t.Errorf("critical audit entries: %d, want 2", n)
		}
	})
}

func TestRecoverAdmin(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		s := testutil.StartServer(t, testutil.WithBackend(b))
		st := openStore(t, s.Env, s.DataDir)

		// Before setup there is no admin to recover.
		_, errOut, code := s.CLI(t, "recover", "admin", "--email", "admin@example.com")
		if code != 1 || !strings.Contains(errOut, "latch setup") {
			t.Fatalf("before setup: exit %d (%s), want 1 naming latch setup", code, errOut)
		}
		s.Setup(t) // admin@example.com with the password "correct horse battery staple"

		adminTenant, err := st.Read().ApplicationTenantID(ctx, model.AdminApplicationID)
		if err != nil {
			t.Fatal(err)
		}
		// The first admin lost the admin role but keeps its other roles.
		first, _, err := st.Read().UserByEmail(ctx, adminTenant, "admin@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if err := st.InTx(ctx, func(tx *store.Tx) error {
			return tx.SetRegistrationRoles(ctx, first.ID, model.AdminApplicationID, []string{"user_support_viewer"}, 1)
		}); err != nil {
			t.Fatal(err)
		}

		cases := []struct {
			name, email  string
			created      bool
			wantRoles    []string
			oldPassword  string // must no longer work
			wantLogEntry string
		}{
			{"reset existing, case-insensitive", "ADMIN@example.com", false, []string{"user_support_viewer", "admin"},
				"correct horse battery staple", "reset the password"},
			{"create new", "new.admin@example.com", true, []string{"admin"}, "", "created the admin user"},
			{"reset the one just created", "new.admin@example.com", false, []string{"admin"}, "", "reset the password"},
		}
		seen := map[string]string{} // email → last temporary password
		for _, c := range cases {
			out, errOut, code := s.CLI(t, "recover", "admin", "--email", c.email)
			if code != 0 {
				t.Fatalf("%s: exit %d: %s", c.name, code, errOut)
			}
			temp := strings.TrimSpace(out)
			if len(temp) < 20 || strings.Contains(temp, "\n") {
				t.Fatalf("%s: stdout should be one temporary password of 20+ characters, got %q", c.name, out)
			}
			u, hash, err := st.Read().UserByEmail(ctx, adminTenant, c.email)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			h, err := password.Decode(hash)
			if err != nil {
				t.Fatal(err)
			}
			if ok, err := password.Check(h, temp); err != nil || !ok {
				t.Errorf("%s: the printed password does not verify (%v)", c.name, err)
			}
			old := c.oldPassword
			if prev, ok := seen[strings.ToLower(c.email)]; ok {
				old = prev
			}
			if old != "" {
				if ok, _ := password.Check(h, old); ok {
					t.Errorf("%s: the previous password still verifies", c.name)
				}
			}
			seen[strings.ToLower(c.email)] = temp
			if !u.PasswordChangeRequired || !u.Active {
				t.Errorf("%s: passwordChangeRequired %v active %v, want both true", c.name, u.PasswordChangeRequired, u.Active)
			}
			roles, ok, err := st.Read().RegistrationRoles(ctx, u.ID, model.AdminApplicationID)
			if err != nil || !ok || !slices.Equal(roles, c.wantRoles) {
				t.Errorf("%s: admin application roles %v (registered %v, %v), want %v", c.name, roles, ok, err, c.wantRoles)
			}
			audits := criticalAudits(t, st, u.ID)
			if len(audits) == 0 {
				t.Fatalf("%s: no critical audit entry for the user", c.name)
			}
			last := audits[len(audits)-1]
			checkCLIActor(t, last)
			if !strings.Contains(last.Message, c.wantLogEntry) {
				t.Errorf("%s: audit message %q, want it to say %q", c.name, last.Message, c.wantLogEntry)
			}
			for _, a := range audits {
				if strings.Contains(a.Message+string(a.Data)+string(a.OldValue)+string(a.NewValue), temp) {
					t.Errorf("%s: an audit entry contains the temporary password", c.name)
				}
			}
		}
		if n, err := st.Read().CountAdmins(ctx); err != nil || n != 2 {
			t.Errorf("admins: %d (%v), want 2", n, err)
		}
	})
}

func TestRecoverAdminWithServerStopped(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s := testutil.StartServer(t, testutil.WithBackend(b))
		s.Setup(t)
		s.Stop(t)
		out, errOut, code := s.CLI(t, "recover", "admin", "--email", "admin@example.com")
		if code != 0 || len(strings.TrimSpace(out)) < 20 {
			t.Fatalf("exit %d, stdout %q: %s", code, out, errOut)
		}
	})
}

func TestRecoverUsage(t *testing.T) {
	dataDir := t.TempDir()
	s := testutil.StartServer(t, testutil.WithDataDir(dataDir))
	s.Setup(t)
	st := openStore(t, s.Env, dataDir)
	keysBefore, err := st.Read().CountAPIKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	with := func(kv ...string) map[string]string {
		env := map[string]string{}
		for k, v := range s.Env {
			env[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			env[kv[i]] = kv[i+1]
		}
		return env
	}
	cases := []struct {
		name       string
		env        map[string]string
		args       []string
		code       int
		wantStdout string
		wantStderr string
	}{
		{"no subcommand", s.Env, nil, 2, "", "api-key"},
		{"unknown subcommand", s.Env, []string{"rotate"}, 2, "", `unknown subcommand "rotate"`},
		{"help", s.Env, []string{"--help"}, 0, "latch recover admin --email EMAIL", ""},
		{"api-key help", s.Env, []string{"api-key", "--help"}, 0, "-expires-in", ""},
		{"admin help", s.Env, []string{"admin", "-h"}, 0, "-email", ""},
		{"expires-in above the maximum", s.Env, []string{"api-key", "--expires-in", "25h"}, 2, "", "24h"},
		{"expires-in zero", s.Env, []string{"api-key", "--expires-in", "0"}, 2, "", "--expires-in"},
		{"expires-in negative", s.Env, []string{"api-key", "--expires-in", "-1h"}, 2, "", "--expires-in"},
		{"expires-in not a duration", s.Env, []string{"api-key", "--expires-in", "soon"}, 2, "", "expires-in"},
		{"name too long", s.Env, []string{"api-key", "--name", strings.Repeat("n", 256)}, 2, "", "at most 255"},
		{"stray argument", s.Env, []string{"api-key", "now"}, 2, "", "unexpected argument"},
		{"unknown flag", s.Env, []string{"api-key", "--forever"}, 2, "", "forever"},
		{"key-out in a missing directory", s.Env, []string{"api-key", "--key-out", filepath.Join(dataDir, "nope", "k")}, 2, "", "does not exist"},
		{"admin without email", s.Env, []string{"admin"}, 2, "", "--email is required"},
		{"admin with a bad email", s.Env, []string{"admin", "--email", "not-an-email"}, 2, "", "not a valid email"},
		{"invalid database URL", with("LATCH_DATABASE_URL", "mysql://localhost/latch"), []string{"api-key"}, 2, "", "database URL"},
		{"invalid log level", with("LATCH_LOG_LEVEL", "loud"), []string{"api-key"}, 2, "", "log level"},
		{"invalid master key", with("LATCH_MASTER_KEY", "short"), []string{"api-key"}, 2, "", "LATCH_MASTER_KEY"},
		{"PostgreSQL without a master key", with("LATCH_DATABASE_URL", "postgres://127.0.0.1:1/x"), []string{"api-key"}, 2, "", "master key"},
		{"no database in the data dir", with("LATCH_DATA_DIR", filepath.Join(t.TempDir(), "empty")), []string{"api-key"}, 2, "", "no Latch database"},
		{"admin: no database in the data dir", with("LATCH_DATA_DIR", filepath.Join(t.TempDir(), "empty")), []string{"admin", "--email", "a@example.com"}, 2, "", "no Latch database"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := testutil.RunCLI(t, c.env, nil, append([]string{"recover"}, c.args...)...)
			if code != c.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, c.code, errOut)
			}
			if !strings.Contains(out, c.wantStdout) {
				t.Errorf("stdout %q, want it to contain %q", out, c.wantStdout)
			}
			if !strings.Contains(errOut, c.wantStderr) {
				t.Errorf("stderr %q, want it to contain %q", errOut, c.wantStderr)
			}
			if c.env["LATCH_DATA_DIR"] != dataDir {
				if _, err := os.Stat(filepath.Join(c.env["LATCH_DATA_DIR"], "latch.db")); err == nil {
					t.Error("a refused recover created a database")
				}
			}
		})
	}
	if n, err := st.Read().CountAPIKeys(context.Background()); err != nil || n != keysBefore {
		t.Errorf("keys after refused runs: %d (%v), want %d", n, err, keysBefore)
	}
}

// A break-glass reset after a compromise ends what the intruder holds: the
// admin's refresh tokens and the access tokens issued before it. Seen
// failing before: both still worked after `latch recover admin`.
func TestRecoverAdminEndsSessions(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s := testutil.StartServer(t, testutil.WithBackend(b))
		key := s.Setup(t)
		var app struct {
			Application struct {
				ID string `json:"id"`
			} `json:"application"`
		}
		r := s.Do(t, "POST", "/api/application", key, map[string]any{"application": map[string]any{"name": "Intranet",
			"loginConfiguration": map[string]any{"generateRefreshTokens": true, "allowTokenRefresh": true}}})
		r.JSON(t, &app)
		var found struct {
			User struct {
				ID string `json:"id"`
			} `json:"user"`
		}
		s.Do(t, "GET", "/api/user?email=admin@example.com", key, nil).JSON(t, &found)
		if r := s.Do(t, "POST", "/api/user/registration/"+found.User.ID, key, map[string]any{"registration": map[string]any{"applicationId": app.Application.ID}}); r.Status != 200 {
			t.Fatalf("register: %d %s", r.Status, r.Body)
		}
		var login struct {
			Token        string `json:"token"`
			RefreshToken string `json:"refreshToken"`
		}
		r = s.Do(t, "POST", "/api/login", key, map[string]any{"loginId": "admin@example.com", "password": "correct horse battery staple", "applicationId": app.Application.ID})
		r.JSON(t, &login)
		if r.Status != 200 || login.Token == "" || login.RefreshToken == "" {
			t.Fatalf("login: %d %s", r.Status, r.Body)
		}
		if r := s.Do(t, "GET", "/api/jwt/validate", "", nil, "Authorization", "Bearer "+login.Token); r.Status != 200 {
			t.Fatalf("validate before: %d", r.Status)
		}
		if _, errOut, code := s.CLI(t, "recover", "admin", "--email", "admin@example.com"); code != 0 {
			t.Fatalf("recover: exit %d: %s", code, errOut)
		}
		if r := s.Do(t, "GET", "/api/jwt/validate", "", nil, "Authorization", "Bearer "+login.Token); r.Status != 401 {
			t.Errorf("access token after recover: %d, want 401", r.Status)
		}
		if r := s.Do(t, "POST", "/api/jwt/refresh", "", map[string]any{"refreshToken": login.RefreshToken}); r.Status == 200 {
			t.Errorf("refresh token after recover: %d %s", r.Status, r.Body)
		}
	})
}
