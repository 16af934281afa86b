package app_test

// Tests of the foundation (issue 2): the command line, first-run setup, what
// is at rest, status, restarts, shutdown and logs. Helpers here carry distinct
// names because other files of this package define their own.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/latchid/latch/internal/app"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
	"github.com/latchid/latch/internal/version"
)

const adminPassword = "correct horse battery staple"

// latchRun runs latch in-process with exactly env as its environment.
func latchRun(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return testutil.RunCLI(t, env, nil, args...)
}

// freshEnv is the environment of a new instance on the backend: a new data
// dir, and for PostgreSQL the database URL and the shared test master key.
func freshEnv(t *testing.T, b testutil.Backend) map[string]string {
	t.Helper()
	env := map[string]string{
		"LATCH_DATA_DIR":  t.TempDir(),
		"LATCH_LISTEN":    "127.0.0.1:0",
		"LATCH_LOG_LEVEL": "warn",
	}
	if b.DatabaseURL != "" {
		env["LATCH_DATABASE_URL"] = b.DatabaseURL
		env["LATCH_MASTER_KEY"] = testutil.TestMasterKey
	}
	return env
}

func with(env map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range env {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// passwordFile writes the admin password to a file for --admin-password-file.
func passwordFile(t *testing.T, pw string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(path, []byte(pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func setupArgs(t *testing.T, email string, extra ...string) []string {
	return append([]string{"setup", "--admin-email", email, "--admin-password-file", passwordFile(t, adminPassword)}, extra...)
}

// oneLine fails unless out is exactly one non-empty line, and returns it.
func oneLine(t *testing.T, what, out string) string {
	t.Helper()
	line := strings.TrimSuffix(out, "\n")
	if line == "" || strings.Contains(line, "\n") {
		t.Errorf("%s is not one line: %q", what, out)
	}
	return line
}

// instanceStore opens the database an environment points at, beside any server.
func instanceStore(t *testing.T, env map[string]string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), env["LATCH_DATABASE_URL"], filepath.Join(env["LATCH_DATA_DIR"], "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func countOf(t *testing.T, st *store.Store, query string) int {
	t.Helper()
	var n int
	if err := st.DB().QueryRow(query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// keyWorks asks the server for its version with key.
func keyWorks(t *testing.T, s *testutil.Server, key string) bool {
	t.Helper()
	return s.Do(t, "GET", "/api/system/version", key, nil).Status == http.StatusOK
}

const setupURLMarker = "/setup-wizard?token="

func TestBadConfigurationExitsTwo(t *testing.T) {
	pw := passwordFile(t, adminPassword)
	missingDir := filepath.Join(t.TempDir(), "missing", "key")
	cases := []struct {
		name string
		env  []string // added to a valid SQLite environment
		args []string
		want string // in the one line on stderr, any case
	}{
		{"bad log level", []string{"LATCH_LOG_LEVEL", "loud"}, []string{"serve"}, "log level"},
		{"bad log format", []string{"LATCH_LOG_FORMAT", "xml"}, []string{"serve"}, "log format"},
		{"bad --listen", nil, []string{"serve", "--listen", "nowhere"}, "listen"},
		{"listen port out of range", nil, []string{"--listen", "127.0.0.1:70000"}, "port"},
		{"mysql database URL", []string{"LATCH_DATABASE_URL", "mysql://latch@127.0.0.1/latch"}, []string{"serve"}, "database URL"},
		{"PostgreSQL without master key", []string{"LATCH_DATABASE_URL", "postgres://latch@127.0.0.1:1/latch"}, []string{"serve"}, "master key"},
		{"bad master key text", []string{"LATCH_MASTER_KEY", "not-a-key"}, []string{"serve"}, "LATCH_MASTER_KEY"},
		{"master key too short", []string{"LATCH_MASTER_KEY", strings.Repeat("ab", 16)}, []string{"serve"}, "LATCH_MASTER_KEY"},
		{"missing master key file", []string{"LATCH_MASTER_KEY_FILE", "/nonexistent/master.key"}, []string{"serve"}, "master key file"},
		{"unknown flag", nil, []string{"serve", "--bogus"}, "bogus"},
		{"unknown flag of the default command", nil, []string{"--bogus"}, "bogus"},
		{"unknown command", nil, []string{"frobnicate"}, "unknown command"},
		{"unexpected argument", nil, []string{"serve", "extra"}, "unexpected argument"},
		{"bad forbidden status", []string{"LATCH_FORBIDDEN_STATUS", "418"}, []string{"serve"}, "forbidden status"},
		{"bad trusted proxies", []string{"LATCH_TRUSTED_PROXIES", "10.0.0.0/8, proxy.example"}, []string{"serve"}, "trusted proxy"},
		{"setup with bad config", []string{"LATCH_LOG_FORMAT", "xml"}, setupArgs(t, "admin@example.com"), "log format"},
		{"migrate with mysql", []string{"LATCH_DATABASE_URL", "mysql://latch@127.0.0.1/latch"}, []string{"migrate"}, "database URL"},
		{"setup without email", nil, []string{"setup", "--admin-password-file", pw}, "--admin-email"},
		{"setup without password file", nil, []string{"setup", "--admin-email", "admin@example.com"}, "--admin-password-file"},
		{"setup with unreadable password file", nil, []string{"setup", "--admin-email", "admin@example.com", "--admin-password-file", "/nonexistent/pw"}, "password file"},
		{"setup with short password", nil, []string{"setup", "--admin-email", "admin@example.com", "--admin-password-file", passwordFile(t, "short")}, "at least 8"},
		{"setup with bad email", nil, setupArgs(t, "not an email"), "email"},
		{"setup with key-out in a missing dir", nil, setupArgs(t, "admin@example.com", "--key-out", missingDir), "--key-out"},
		{"version with a flag", nil, []string{"version", "--bogus"}, "bogus"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := with(freshEnv(t, testutil.Backend{Name: "sqlite"}), c.env...)
			stdout, stderr, code := latchRun(t, env, c.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2 (stderr %q)", code, stderr)
			}
			line := oneLine(t, "stderr", stderr)
			if !strings.Contains(strings.ToLower(line), strings.ToLower(c.want)) {
				t.Errorf("stderr %q does not mention %q", line, c.want)
			}
			if stdout != "" {
				t.Errorf("stdout not empty: %q", stdout)
			}
		})
	}
	// The refused setup did nothing: setup is still open.
	t.Run("refused setup changes nothing", func(t *testing.T) {
		env := freshEnv(t, testutil.Backend{Name: "sqlite"})
		if _, _, code := latchRun(t, env, setupArgs(t, "admin@example.com", "--key-out", missingDir)...); code != 2 {
			t.Fatalf("exit %d", code)
		}
		if _, stderr, code := latchRun(t, env, setupArgs(t, "admin@example.com")...); code != 0 {
			t.Errorf("setup after a refused one: exit %d: %s", code, stderr)
		}
	})
}

func TestHelpDescribesEveryFlag(t *testing.T) {
	common := []string{"-listen", "-data-dir", "-database-url", "-master-key-file", "-log-level", "-log-format",
		"-trusted-proxies", "-forbidden-status", "-public-url"}
	setup := append(slices.Clone(common), "-admin-email", "-admin-password-file", "-admin-name", "-key-out")
	commands := []string{"serve", "setup", "migrate", "version"}
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, append(slices.Clone(common), commands...)},
		{[]string{"-h"}, append(slices.Clone(common), commands...)},
		{[]string{"help"}, append(slices.Clone(common), commands...)},
		{[]string{"serve", "--help"}, common},
		{[]string{"serve", "-h"}, common},
		{[]string{"setup", "--help"}, setup},
		{[]string{"migrate", "--help"}, common},
		{[]string{"version", "--help"}, []string{"version"}},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			// An invalid listen address: were help not recognised, the
			// command would fail fast instead of serving.
			env := map[string]string{"LATCH_DATA_DIR": t.TempDir(), "LATCH_LISTEN": "invalid"}
			stdout, stderr, code := latchRun(t, env, c.args...)
			if code != 0 {
				t.Errorf("exit %d, want 0 (stderr %q)", code, stderr)
			}
			if stderr != "" {
				t.Errorf("stderr not empty: %q", stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("help does not mention %q:\n%s", w, stdout)
				}
			}
			if entries, _ := os.ReadDir(env["LATCH_DATA_DIR"]); len(entries) != 0 {
				t.Errorf("help wrote to the data dir: %v", entries)
			}
		})
	}
	t.Run("version", func(t *testing.T) {
		stdout, stderr, code := latchRun(t, map[string]string{"LATCH_LISTEN": "invalid"}, "version")
		if code != 0 || stderr != "" || stdout != "latch "+version.Version+"\n" {
			t.Errorf("latch version: exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
	})
}

func TestRuntimeFailuresAreOneLine(t *testing.T) {
	const dbPassword = "hunter2-db-password"
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"port in use", []string{"LATCH_LISTEN", taken.Addr().String()}, []string{"serve"}, taken.Addr().String()},
		{"serve on a data dir that is a file", []string{"LATCH_DATA_DIR", file}, []string{"serve"}, file},
		{"setup on a data dir that is a file", []string{"LATCH_DATA_DIR", file}, setupArgs(t, "admin@example.com"), file},
		{"migrate on a data dir that is a file", []string{"LATCH_DATA_DIR", file}, []string{"migrate"}, file},
		{"data dir is a file, master key given", []string{"LATCH_DATA_DIR", file, "LATCH_MASTER_KEY", testutil.TestMasterKey}, []string{"serve"}, file},
		{"PostgreSQL unreachable", []string{"LATCH_DATABASE_URL", "postgres://latch:" + dbPassword + "@127.0.0.1:1/latch?sslmode=disable&connect_timeout=5",
			"LATCH_MASTER_KEY", testutil.TestMasterKey}, []string{"serve"}, "PostgreSQL"},
		{"PostgreSQL unreachable, setup", []string{"LATCH_DATABASE_URL", "postgres://latch:" + dbPassword + "@127.0.0.1:1/latch?sslmode=disable&connect_timeout=5",
			"LATCH_MASTER_KEY", testutil.TestMasterKey}, setupArgs(t, "admin@example.com"), "PostgreSQL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := with(freshEnv(t, testutil.Backend{Name: "sqlite"}), c.env...)
			_, stderr, code := latchRun(t, env, c.args...)
			if code == 0 {
				t.Fatalf("exit 0, want a failure")
			}
			if line := oneLine(t, "stderr", stderr); !strings.Contains(line, c.want) {
				t.Errorf("stderr %q does not mention %q", line, c.want)
			}
			if strings.Contains(stderr, dbPassword) {
				t.Errorf("the database password is on stderr: %q", stderr)
			}
		})
	}
}

func TestSetupWithServerStopped(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		env := freshEnv(t, b)
		stdout, stderr, code := latchRun(t, env, setupArgs(t, "admin@example.com", "--admin-name", "Ada Admin")...)
		if code != 0 {
			t.Fatalf("setup: exit %d: %s", code, stderr)
		}
		key := oneLine(t, "stdout", stdout) // only the key
		if len(key) < 43 {                  // at least 256 bits in base64
			t.Errorf("key %q is short", key)
		}
		if !strings.Contains(stderr, "admin@example.com") {
			t.Errorf("stderr does not confirm the admin: %q", stderr)
		}

		_, stderr, code = latchRun(t, env, setupArgs(t, "other@example.com")...)
		if code != 1 {
			t.Errorf("second setup: exit %d, want 1", code)
		}
		if line := oneLine(t, "stderr", stderr); !strings.Contains(line, "already") {
			t.Errorf("second setup message %q does not say setup was already done", line)
		}

		s := testutil.StartServer(t, testutil.WithBackend(b), testutil.WithDataDir(env["LATCH_DATA_DIR"]))
		if strings.Contains(s.Stdout.String(), setupURLMarker) {
			t.Errorf("setup offered after setup: %q", s.Stdout.String())
		}
		if !keyWorks(t, s, key) {
			t.Error("the initial key does not work")
		}
		st := instanceStore(t, env)
		if n, err := st.Read().CountAdmins(context.Background()); err != nil || n != 1 {
			t.Errorf("admins = %d, %v", n, err)
		}
		u, _, err := st.Read().UserByEmail(context.Background(), mustAdminTenant(t, st), "ADMIN@example.com")
		if err != nil || u.FullName != "Ada Admin" {
			t.Errorf("admin user = %+v, %v", u, err)
		}
	})
}

func mustAdminTenant(t *testing.T, st *store.Store) string {
	t.Helper()
	id, err := st.Read().ApplicationTenantID(context.Background(), model.AdminApplicationID)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestSetupWithServerRunning(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s := testutil.StartServer(t, testutil.WithBackend(b))
		if !strings.Contains(s.Stdout.String(), setupURLMarker) {
			t.Errorf("a fresh server offers no setup link: %q", s.Stdout.String())
		}
		key := s.Setup(t)
		if !keyWorks(t, s, key) {
			t.Error("the initial key does not work on the running server")
		}
		_, stderr, code := s.CLI(t, setupArgs(t, "other@example.com")...)
		if code != 1 || !strings.Contains(stderr, "already") {
			t.Errorf("second setup: exit %d, stderr %q", code, stderr)
		}
		if !keyWorks(t, s, key) {
			t.Error("the initial key stopped working after a refused setup")
		}
	})
}

func TestSetupKeyOut(t *testing.T) {
	cases := []struct {
		name     string
		existing []byte // content of a file already at the path, nil for none
	}{
		{"new file", nil},
		{"existing world-readable file", []byte("old content that must go\n")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := freshEnv(t, testutil.Backend{Name: "sqlite"})
			keyOut := filepath.Join(t.TempDir(), "initial.key")
			if c.existing != nil {
				if err := os.WriteFile(keyOut, c.existing, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			stdout, stderr, code := latchRun(t, env, setupArgs(t, "admin@example.com", "--key-out", keyOut)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout not empty with --key-out: %q", stdout)
			}
			fi, err := os.Stat(keyOut)
			if err != nil {
				t.Fatal(err)
			}
			if perm := fi.Mode().Perm(); perm != 0o600 {
				t.Errorf("key file mode %o, want 600", perm)
			}
			data, err := os.ReadFile(keyOut)
			if err != nil {
				t.Fatal(err)
			}
			key := strings.TrimSuffix(string(data), "\n")
			if key == "" || strings.ContainsAny(key, " \n\t") {
				t.Fatalf("key file holds more than the key: %q", data)
			}
			if strings.Contains(stderr, key) {
				t.Error("the key was printed on stderr too")
			}
			s := testutil.StartServer(t, testutil.WithDataDir(env["LATCH_DATA_DIR"]))
			if !keyWorks(t, s, key) {
				t.Error("the key from the file does not work")
			}
		})
	}
}

// Eight `latch setup` runs at once, each with its own pool like separate
// processes: one wins, the rest are refused with a clear message. Beside a
// running server, and on a fresh database where every run also creates the
// master key, migrates and bootstraps at the same moment (nodes starting cold).
func TestSetupRace(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		for _, running := range []bool{true, false} {
			name := map[bool]string{true: "server running", false: "fresh database"}[running]
			t.Run(name, func(t *testing.T) {
				var env map[string]string
				var s *testutil.Server
				if running {
					s = testutil.StartServer(t, testutil.WithBackend(b))
					env = s.Env
				} else {
					if b.DatabaseURL != "" {
						b.DatabaseURL = testutil.PostgresURL(t) // the subtest before used EachBackend's
					}
					env = freshEnv(t, b)
				}
				setupRace(t, env)
				if s == nil {
					s = testutil.StartServer(t, testutil.WithBackend(b), testutil.WithDataDir(env["LATCH_DATA_DIR"]))
				}
				if strings.Contains(s.Stdout.String(), setupURLMarker) && !running {
					t.Errorf("setup offered after the race: %q", s.Stdout.String())
				}
			})
		}
	})
}

func setupRace(t *testing.T, env map[string]string) {
	t.Helper()
	const runs = 8
	type result struct {
		stdout, stderr string
		code           int
	}
	results := make([]result, runs)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range runs {
		args := setupArgs(t, fmt.Sprintf("admin%d@example.com", i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out, errOut, code := testutil.RunCLI(t, env, nil, args...)
			results[i] = result{out, errOut, code}
		}()
	}
	close(start)
	wg.Wait()

	var winners []string
	for i, r := range results {
		switch r.code {
		case 0:
			winners = append(winners, strings.TrimSpace(r.stdout))
		case 1:
			if !strings.Contains(oneLine(t, "loser's stderr", r.stderr), "already") {
				t.Errorf("run %d refused without saying why: %q", i, r.stderr)
			}
		default:
			t.Errorf("run %d: exit %d: %s", i, r.code, r.stderr)
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d setups succeeded, want exactly 1", len(winners))
	}
	st := instanceStore(t, env)
	checks := []struct {
		what  string
		query string
		want  int
	}{
		{"users", "SELECT COUNT(*) FROM users", 1},
		{"admin registrations", "SELECT COUNT(*) FROM registrations WHERE application_id = '" + model.AdminApplicationID + "'", 1},
		{"api keys", "SELECT COUNT(*) FROM api_keys", 1},
		{"setup audit entries", "SELECT COUNT(*) FROM audit_log WHERE message LIKE 'Created the first admin%'", 1},
		{"tenants", "SELECT COUNT(*) FROM tenants", 1},
		{"applications", "SELECT COUNT(*) FROM applications", 1},
		{"admin roles", "SELECT COUNT(*) FROM application_roles WHERE application_id = '" + model.AdminApplicationID + "'", len(model.AdminRoles)},
		{"the admin role", "SELECT COUNT(*) FROM application_roles WHERE id = '" + model.AdminRoleID + "' AND name = 'admin'", 1},
	}
	for _, c := range checks {
		if n := countOf(t, st, c.query); n != c.want {
			t.Errorf("%s: %d, want %d", c.what, n, c.want)
		}
	}
	if n, err := st.Read().CountAdmins(context.Background()); err != nil || n != 1 {
		t.Errorf("CountAdmins = %d, %v", n, err)
	}
	keys, err := st.Read().AllAPIKeys(context.Background())
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys: %v, %v", keys, err)
	}
	k := keys[0].APIKey
	if k.Name != "Initial API key" || !k.KeyManager || !k.AllEndpoints() || !k.Global() || k.ExpirationInstant != nil || k.Retrievable {
		t.Errorf("initial key: %+v", k)
	}
	if keys[0].KeyHash != secrets.HashToken(winners[0]) || keys[0].KeySealed != "" {
		t.Error("the initial key is not stored as its SHA-256 hash only")
	}
}

func TestMigrateCommandIsIdempotent(t *testing.T) {
	files, err := os.ReadDir("../store/migrations")
	if err != nil {
		t.Fatal(err)
	}
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		env := freshEnv(t, b)
		for i, want := range []int{len(files), 0} {
			stdout, stderr, code := latchRun(t, env, "migrate")
			if code != 0 {
				t.Fatalf("migrate #%d: exit %d: %s", i+1, code, stderr)
			}
			if got := strings.TrimSpace(stdout); got != fmt.Sprintf("migrations applied: %d", want) {
				t.Errorf("migrate #%d printed %q, want %d applied", i+1, got, want)
			}
		}
		// A server on the migrated database starts and offers setup.
		s := testutil.StartServer(t, testutil.WithBackend(b), testutil.WithDataDir(env["LATCH_DATA_DIR"]))
		if !strings.Contains(s.Stdout.String(), setupURLMarker) {
			t.Errorf("no setup link after migrate: %q", s.Stdout.String())
		}
	})
}

// The initial key is stored as a hash only: its value appears in no file of
// the SQLite data dir and nowhere in a pg_dump.
func TestInitialKeyNotAtRest(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s := testutil.StartServer(t, testutil.WithBackend(b))
		key := s.Setup(t)
		if !keyWorks(t, s, key) { // use it, so usage gets written too
			t.Fatal("the initial key does not work")
		}
		if code := s.Stop(t); code != 0 {
			t.Fatalf("server exited %d: %s", code, s.Stderr.String())
		}
		hash := secrets.HashToken(key)

		if b.DatabaseURL == "" {
			var scanned []string
			hashSeen := false
			err := filepath.WalkDir(s.DataDir, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				data, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				scanned = append(scanned, d.Name())
				if bytes.Contains(data, []byte(key)) {
					t.Errorf("the initial key is in %s", path)
				}
				hashSeen = hashSeen || bytes.Contains(data, []byte(hash))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(scanned, "latch.db") || !hashSeen {
				t.Fatalf("scan proves nothing: files %v, key hash seen %v", scanned, hashSeen)
			}
			for _, name := range []string{"master.key", "latch.db"} {
				fi, err := os.Stat(filepath.Join(s.DataDir, name))
				if err != nil {
					t.Fatal(err)
				}
				if perm := fi.Mode().Perm(); perm != 0o600 {
					t.Errorf("%s mode %o, want 600", name, perm)
				}
			}
			return
		}

		dump := pgDump(t, b.DatabaseURL)
		if !bytes.Contains(dump, []byte(hash)) {
			t.Fatalf("the dump lacks the key's hash; it proves nothing (%d bytes)", len(dump))
		}
		if bytes.Contains(dump, []byte(key)) {
			t.Error("the initial key is in the pg_dump")
		}
		// PostgreSQL has no data dir to keep a generated master key in.
		env := with(s.Env)
		delete(env, "LATCH_MASTER_KEY")
		_, stderr, code := latchRun(t, env, "serve")
		if code != 2 || !strings.Contains(oneLine(t, "stderr", stderr), "master key") {
			t.Errorf("PostgreSQL without master key: exit %d, stderr %q", code, stderr)
		}
	})
}

// pgDump dumps a database with pg_dump from LATCH_TEST_PG_BIN (or PATH).
func pgDump(t *testing.T, url string) []byte {
	t.Helper()
	bin := filepath.Join(os.Getenv(testutil.EnvPGBin), "pg_dump")
	if os.Getenv(testutil.EnvPGBin) == "" {
		var err error
		if bin, err = exec.LookPath("pg_dump"); err != nil {
			t.Fatalf("no pg_dump: set %s", testutil.EnvPGBin)
		}
	}
	var out, errb bytes.Buffer
	cmd := exec.Command(bin, "--no-owner", "--dbname", url)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("pg_dump: %v: %s", err, errb.String())
	}
	return out.Bytes()
}

func TestStatusAndHealth(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s := testutil.StartServer(t, testutil.WithBackend(b))
		key := s.Setup(t)
		cases := []struct {
			name, path, key string
			details         bool // version and checks in the body
			emptyBody       bool
		}{
			{"status without key", "/api/status", "", false, false},
			{"status with wrong key", "/api/status", "wrong", false, false},
			{"status with key", "/api/status", key, true, false},
			{"health without key", "/api/health", "", false, true},
			{"health with key", "/api/health", key, false, true},
		}
		for _, c := range cases {
			r := s.Do(t, "GET", c.path, c.key, nil)
			if r.Status != http.StatusOK {
				t.Errorf("%s: status %d", c.name, r.Status)
			}
			if c.emptyBody {
				if len(r.Body) != 0 {
					t.Errorf("%s: body %q, want none", c.name, r.Body)
				}
				continue
			}
			var body map[string]any
			r.JSON(t, &body)
			_, hasVersion := body["version"]
			_, hasChecks := body["checks"]
			if c.details != (hasVersion && hasChecks) {
				t.Errorf("%s: body %s, details wanted: %v", c.name, r.Body, c.details)
			}
			if !c.details && len(body) != 1 {
				t.Errorf("%s: anonymous body says more than the status: %s", c.name, r.Body)
			}
			if c.details && body["version"] != version.Version {
				t.Errorf("%s: version %v, want %s", c.name, body["version"], version.Version)
			}
		}
		r := s.Do(t, "GET", "/api/system/version", key, nil)
		var v map[string]string
		r.JSON(t, &v)
		if r.Status != http.StatusOK || v["version"] != version.Version || len(v) != 1 {
			t.Errorf("system version: %d %s", r.Status, r.Body)
		}
	})
}

// pollStatus asks path until it answers want. The deadline only keeps a broken
// build from hanging; it is not a performance bound.
func pollStatus(t *testing.T, s *testutil.Server, path, key string, want int) *testutil.Response {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		r := s.Do(t, "GET", path, key, nil)
		if r.Status == want {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s answered %d, never %d", path, r.Status, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// /api/status turns 452 while PostgreSQL is down and 200 again once it is
// back, with the same Latch process throughout.
func TestStatusFollowsPostgres(t *testing.T) {
	cluster := testutil.StartPGCluster(t)
	admin, err := sql.Open("pgx", cluster.URL())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec("CREATE DATABASE latch"); err != nil {
		t.Fatal(err)
	}
	admin.Close()
	url := strings.Replace(cluster.URL(), "/postgres?", "/latch?", 1)
	s := testutil.StartServer(t, testutil.WithBackend(testutil.Backend{Name: "postgres", DatabaseURL: url}))
	key := s.Setup(t)
	pollStatus(t, s, "/api/status", "", http.StatusOK)
	// A monitoring key has been used before the outage, so this node knows it.
	// (A key the node has never seen needs the database to be checked.)
	if !keyWorks(t, s, key) {
		t.Fatal("the initial key does not work")
	}

	cluster.Stop(t)
	pollStatus(t, s, "/api/status", "", 452)
	if r := s.Do(t, "GET", "/api/health", "", nil); r.Status == http.StatusOK || len(r.Body) != 0 {
		t.Errorf("health while PostgreSQL is down: %d %q", r.Status, r.Body)
	}
	// The key is known from the cache, so the details still come, saying what is wrong.
	r := s.Do(t, "GET", "/api/status", key, nil)
	var body struct {
		Version string            `json:"version"`
		Checks  map[string]string `json:"checks"`
	}
	r.JSON(t, &body)
	if r.Status != 452 || body.Version != version.Version || body.Checks["database"] == "ok" || body.Checks["database"] == "" {
		t.Errorf("status with key while down: %d %s", r.Status, r.Body)
	}

	cluster.Start(t)
	pollStatus(t, s, "/api/status", "", http.StatusOK)
	pollStatus(t, s, "/api/health", "", http.StatusOK)
	if !keyWorks(t, s, key) {
		t.Error("the key does not work after PostgreSQL came back")
	}
}

func TestDataSurvivesRestart(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		first := testutil.StartServer(t, testutil.WithBackend(b))
		if !strings.Contains(first.Stdout.String(), setupURLMarker) {
			t.Fatalf("a fresh server offers no setup link: %q", first.Stdout.String())
		}
		key := first.Setup(t)
		if code := first.Stop(t); code != 0 {
			t.Fatalf("first server exited %d: %s", code, first.Stderr.String())
		}
		second := testutil.StartServer(t, testutil.WithBackend(b), testutil.WithDataDir(first.DataDir))
		if out := second.Stdout.String(); strings.Contains(out, setupURLMarker) {
			t.Errorf("setup offered again after a restart: %q", out)
		}
		if !keyWorks(t, second, key) {
			t.Error("the initial key does not work after a restart")
		}
		if _, stderr, code := second.CLI(t, setupArgs(t, "other@example.com")...); code != 1 {
			t.Errorf("setup after restart: exit %d: %s", code, stderr)
		}
	})
}

// A request waiting on the database when shutdown begins still gets its
// answer; the server stops taking new connections meanwhile and exits 0.
func TestShutdownFinishesInFlightRequest(t *testing.T) {
	b := testutil.Backend{Name: "postgres", DatabaseURL: testutil.PostgresURL(t)}
	s := testutil.StartServer(t, testutil.WithBackend(b))
	s.Setup(t)

	db, err := sql.Open("pgx", b.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	lock, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback()
	if _, err := lock.Exec("LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}

	// An unknown key sends the server to the database, where it waits on the lock.
	type answer struct {
		status int
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequest("GET", s.URL+"/api/system/version", nil)
		req.Header.Set("Authorization", "an-unknown-key")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		answered <- answer{resp.StatusCode, err}
	}()
	waitFor(t, "the request to wait on the lock", func() bool {
		var n int
		err := db.QueryRow(`SELECT COUNT(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%key_hash%'`).Scan(&n)
		return err == nil && n > 0
	})

	stopped := make(chan int, 1)
	go func() { stopped <- s.Stop(t) }()
	waitFor(t, "the server to refuse new connections", func() bool {
		c, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	select {
	case a := <-answered:
		t.Fatalf("the in-flight request ended before the database answered: %+v", a)
	case code := <-stopped:
		t.Fatalf("the server exited (%d) with a request in flight", code)
	default:
	}

	if err := lock.Commit(); err != nil {
		t.Fatal(err)
	}
	if a := <-answered; a.err != nil || a.status != http.StatusUnauthorized {
		t.Errorf("in-flight request: status %d, err %v; want a complete 401", a.status, a.err)
	}
	if code := <-stopped; code != 0 {
		t.Errorf("server exited %d: %s", code, s.Stderr.String())
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stopping a busy server loses nothing: every request that got an answer was
// counted in the database before it closed, and the SQLite file is intact.
func TestShutdownUnderLoadClosesSQLiteCleanly(t *testing.T) {
	s := testutil.StartServer(t)
	key := s.Setup(t)
	const clients = 8
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		answered int
		stop     = make(chan struct{})
	)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Transport: &http.Transport{}}
			for {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest("GET", s.URL+"/api/system/version", nil)
				req.Header.Set("Authorization", key)
				resp, err := client.Do(req)
				if err != nil {
					return // the server is gone
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err == nil && resp.StatusCode == http.StatusOK {
					mu.Lock()
					answered++
					mu.Unlock()
				}
			}
		}()
	}
	waitFor(t, "some traffic", func() bool { mu.Lock(); defer mu.Unlock(); return answered >= 50 })
	code := s.Stop(t)
	close(stop)
	wg.Wait()
	if code != 0 {
		t.Fatalf("server exited %d: %s", code, s.Stderr.String())
	}

	db, err := sql.Open("sqlite", "file:"+filepath.Join(s.DataDir, "latch.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var integrity string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&integrity); err != nil || integrity != "ok" {
		t.Errorf("integrity_check: %q, %v", integrity, err)
	}
	var used int
	if err := db.QueryRow("SELECT use_count FROM api_keys").Scan(&used); err != nil {
		t.Fatal(err)
	}
	if used != answered {
		t.Errorf("use count %d in the database, %d requests answered", used, answered)
	}
}

var requestIDLine = regexp.MustCompile(`^[A-Za-z0-9_-]{8,}$`)

// JSON logs at debug: one object per line, a request id per request, and the
// key nowhere (the setup token goes to stdout by design).
func TestLogsAreJSONWithRequestIDsAndNoKey(t *testing.T) {
	s := testutil.StartServer(t, testutil.WithEnv("LATCH_LOG_LEVEL", "debug", "LATCH_LOG_FORMAT", "json"))
	m := regexp.MustCompile(regexp.QuoteMeta(setupURLMarker) + `([A-Za-z0-9_-]+)`).FindStringSubmatch(s.Stdout.String())
	if m == nil || len(m[1]) < 22 { // at least 128 bits
		t.Fatalf("no setup token on stdout: %q", s.Stdout.String())
	}
	stdout, cliStderr, code := s.CLI(t, setupArgs(t, "admin@example.com")...)
	if code != 0 {
		t.Fatalf("setup: exit %d: %s", code, cliStderr)
	}
	key := strings.TrimSpace(stdout)
	if strings.Contains(cliStderr, key) {
		t.Errorf("latch setup logged the key: %q", cliStderr)
	}

	wrongKey := secrets.Token(48)
	requests := []struct {
		path, key string
		want      int
	}{
		{"/api/system/version", key, 200},
		{"/api/status", key, 200},
		{"/api/status?apiKey=" + key, "", 200},
		{"/api/health", key, 200},
		{"/api/system/version", wrongKey, 401},
		{"/api/no-such-route", key, 404},
	}
	var ids []string
	for _, r := range requests {
		resp := s.Do(t, "GET", r.path, r.key, nil)
		if resp.Status != r.want {
			t.Errorf("GET %s: %d, want %d", r.path, resp.Status, r.want)
		}
		id := resp.Header.Get("X-Request-Id")
		if !requestIDLine.MatchString(id) {
			t.Errorf("GET %s: request id %q", r.path, id)
		}
		ids = append(ids, id)
	}
	if code := s.Stop(t); code != 0 {
		t.Fatalf("server exited %d", code)
	}

	logs := s.Stderr.String()
	if !strings.Contains(logs, setupURLMarker+m[1]) {
		t.Error("the setup link is not in the log")
	}
	for _, secret := range []string{key, wrongKey} {
		if strings.Contains(logs, secret) {
			t.Errorf("a key is in the server log")
		}
	}
	logged := map[string]bool{}
	lines := 0
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("log line is not JSON: %q", line)
			continue
		}
		lines++
		for _, field := range []string{"time", "level", "msg"} {
			if _, ok := rec[field]; !ok {
				t.Errorf("log line without %s: %q", field, line)
			}
		}
		if id, ok := rec["request_id"].(string); ok {
			logged[id] = true
		}
	}
	if lines == 0 {
		t.Fatal("no log lines at debug level")
	}
	for _, id := range ids {
		if !logged[id] {
			t.Errorf("request %s is not in the log", id)
		}
	}
}

// buildLatch builds the real binary, for what only a process shows: signals.
func buildLatch(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "latch")
	cmd := exec.Command("go", "build", "-o", out, "github.com/latchid/latch/cmd/latch")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, msg)
	}
	return out
}

// SIGTERM and SIGINT stop the binary gracefully: exit 0, usage flushed, and
// the SQLite file intact.
func TestSignalsStopTheBinaryGracefully(t *testing.T) {
	bin := buildLatch(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			dataDir := t.TempDir()
			var env []string
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "LATCH_") { // only this test's settings reach the binary
					env = append(env, kv)
				}
			}
			env = append(env, "LATCH_DATA_DIR="+dataDir, "LATCH_LISTEN=127.0.0.1:0", "LATCH_LOG_FORMAT=json", "LATCH_LOG_LEVEL=info")
			cmd := exec.Command(bin, "serve")
			cmd.Env = env
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			var logs testutil.SyncBuffer
			addr := make(chan string, 1)
			go func() {
				dec := json.NewDecoder(io.TeeReader(stderr, &logs))
				for {
					var rec map[string]any
					if err := dec.Decode(&rec); err != nil {
						break
					}
					if a, ok := rec["addr"].(string); ok && rec["msg"] == "latch listening" {
						addr <- a
					}
				}
				exited <- cmd.Wait()
			}()
			t.Cleanup(func() { _ = cmd.Process.Kill() })
			var base string
			select {
			case a := <-addr:
				base = "http://" + a
			case err := <-exited:
				t.Fatalf("exited before listening: %v\n%s", err, logs.String())
			case <-time.After(60 * time.Second):
				t.Fatalf("not listening after 60s:\n%s", logs.String())
			}

			setup := exec.Command(bin, setupArgs(t, "admin@example.com")...)
			setup.Env = env
			out, err := setup.Output()
			if err != nil {
				t.Fatalf("setup: %v", err)
			}
			key := strings.TrimSpace(string(out))
			req, _ := http.NewRequest("GET", base+"/api/system/version", nil)
			req.Header.Set("Authorization", key)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("version with the key: %d", resp.StatusCode)
			}

			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-exited:
				if err != nil {
					t.Errorf("exit after %v: %v\n%s", sig, err, logs.String())
				}
			case <-time.After(60 * time.Second):
				t.Fatalf("still running 60s after %v", sig)
			}
			if !strings.Contains(logs.String(), "shutting down") {
				t.Errorf("no shutdown in the log:\n%s", logs.String())
			}
			db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, "latch.db")+"?mode=ro")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var integrity string
			var used int
			if err := db.QueryRow("PRAGMA integrity_check").Scan(&integrity); err != nil || integrity != "ok" {
				t.Errorf("integrity_check: %q, %v", integrity, err)
			}
			if err := db.QueryRow("SELECT use_count FROM api_keys").Scan(&used); err != nil || used != 1 {
				t.Errorf("use count %d (%v), want the one request flushed before exit", used, err)
			}
		})
	}
}

// Two serving processes on one SQLite data dir would each cache and sweep as
// if alone: the second refuses to start, in one line, with exit code 2. After
// the first stops, the lock is gone with it.
func TestSecondServeOnSameDataDirExitsTwo(t *testing.T) {
	s := testutil.StartServer(t)
	env := with(s.Env, "LATCH_LISTEN", "127.0.0.1:0")
	// Should the second one start after all, Ready stops it and the test fails.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := false
	var errb testutil.SyncBuffer
	code := app.Run(ctx, app.Env{Args: []string{"latch", "serve"}, Getenv: func(k string) string { return env[k] },
		Stdout: io.Discard, Stderr: &errb, Opts: app.Options{Ready: func(string) { started = true; cancel() }}})
	stderr := errb.String()
	if started {
		t.Fatalf("a second serve started on the data dir %s", s.DataDir)
	}
	if code != 2 {
		t.Fatalf("second serve on %s: exit %d, want 2: %s", s.DataDir, code, stderr)
	}
	if !strings.Contains(stderr, "already using the data dir") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("second serve: want one line naming the data dir, got %q", stderr)
	}
	if code := s.Stop(t); code != 0 {
		t.Fatalf("first server exited %d", code)
	}
	again := testutil.StartServer(t, testutil.WithDataDir(s.DataDir))
	if again.Stop(t) != 0 {
		t.Fatal("serve after the first stopped did not run cleanly")
	}
}
