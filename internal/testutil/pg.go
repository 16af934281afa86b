package testutil

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// Environment variables set by scripts/test.
const (
	// EnvPostgresURL points at a shared throwaway cluster; PostgresURL creates databases in it.
	EnvPostgresURL = "LATCH_TEST_POSTGRES_URL"
	// EnvRequirePostgres=1 turns "no PostgreSQL" from a skip into a failure (CI).
	EnvRequirePostgres = "LATCH_TEST_REQUIRE_POSTGRES"
	// EnvPGBin names the directory holding initdb and pg_ctl, for StartPGCluster.
	EnvPGBin = "LATCH_TEST_PG_BIN"
)

// noPostgres skips the test, or fails it where PostgreSQL is required.
func noPostgres(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv(EnvRequirePostgres) == "1" {
		t.Fatalf("%s (and %s=1)", msg, EnvRequirePostgres)
	}
	t.Skip(msg)
}

// PostgresURL returns the URL of a new, empty database for this test only, created in
// the cluster named by LATCH_TEST_POSTGRES_URL and dropped when the test ends.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvPostgresURL)
	if base == "" {
		noPostgres(t, "%s is not set", EnvPostgresURL)
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s must be a postgres:// URL, got %q", EnvPostgresURL, base)
	}

	name := "latch_test_" + randomHex(t, 8)
	ident := pgx.Identifier{name}.Sanitize()
	adminExec(t, base, "CREATE DATABASE "+ident)
	t.Cleanup(func() {
		// FORCE: a server under test may still hold connections when cleanup runs.
		adminExec(t, base, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)")
	})

	u.Path = "/" + name
	return u.String()
}

// adminExec runs one statement on its own short-lived connection, so no pool outlives the call.
func adminExec(t testing.TB, dsn, stmt string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("open %s: %v", EnvPostgresURL, err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// PGCluster is a private PostgreSQL cluster for one test: for tests that stop and restart
// the database under a running server. Most tests want PostgresURL instead.
type PGCluster struct {
	bin     string // directory with initdb and pg_ctl
	dir     string // temp root owned by the postgres user: data/, server.log, socket
	port    int
	asPG    bool // running as root: run PostgreSQL tools as the postgres user
	pgUID   int
	pgGID   int
	mu      sync.Mutex
	running bool
}

// StartPGCluster creates and starts a private cluster on a free loopback port. It is
// stopped and deleted when the test ends.
func StartPGCluster(t testing.TB) *PGCluster {
	t.Helper()
	bin := findPGBin()
	if bin == "" {
		noPostgres(t, "no PostgreSQL binaries (initdb, pg_ctl) in $%s, PATH or /usr/lib/postgresql/*/bin", EnvPGBin)
	}
	c := &PGCluster{bin: bin}
	if os.Geteuid() == 0 {
		// initdb and postgres refuse to run as root.
		pg, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs a postgres OS user for PostgreSQL: %v", err)
		}
		c.asPG = true
		c.pgUID, _ = strconv.Atoi(pg.Uid)
		c.pgGID, _ = strconv.Atoi(pg.Gid)
	}

	// Not t.TempDir: its parent is private to the current user, and the socket path must stay short.
	dir, err := os.MkdirTemp("", "latch-pg-")
	if err != nil {
		t.Fatal(err)
	}
	c.dir = dir
	t.Cleanup(func() { c.destroy(t) })
	if c.asPG {
		if err := os.Chown(dir, c.pgUID, c.pgGID); err != nil {
			t.Fatal(err)
		}
	}

	// --no-sync and the settings below: the cluster lives for one test, durability is worthless.
	if out, err := c.run("initdb", "-D", c.dataDir(), "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--no-locale", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	conf := fmt.Sprintf("\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\n"+
		"fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n", dir)
	f, err := os.OpenFile(filepath.Join(c.dataDir(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString(conf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}

	// The port is chosen by the kernel and released before postgres binds it; retry if lost.
	var lastErr error
	for range 5 {
		if c.port, lastErr = freePort(); lastErr != nil {
			continue
		}
		if lastErr = c.start(); lastErr == nil {
			return c
		}
	}
	t.Fatalf("start PostgreSQL: %v", lastErr)
	return nil
}

// URL returns a URL for the cluster's postgres database. It stays the same across Stop and Start.
func (c *PGCluster) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

// Port returns the cluster's TCP port on 127.0.0.1.
func (c *PGCluster) Port() int { return c.port }

// Stop shuts the cluster down, disconnecting every client (pg_ctl -m fast).
func (c *PGCluster) Stop(t testing.TB) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.running {
		t.Fatal("PGCluster.Stop: not running")
	}
	if out, err := c.run("pg_ctl", "-D", c.dataDir(), "-m", "fast", "-w", "-t", "60", "stop"); err != nil {
		t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
	c.running = false
}

// Start starts a stopped cluster again, on the same port with the same data.
func (c *PGCluster) Start(t testing.TB) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running {
		t.Fatal("PGCluster.Start: already running")
	}
	if err := c.startLocked(); err != nil {
		t.Fatal(err)
	}
}

func (c *PGCluster) start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.startLocked()
}

func (c *PGCluster) startLocked() error {
	logFile := filepath.Join(c.dir, "server.log")
	out, err := c.run("pg_ctl", "-D", c.dataDir(), "-l", logFile, "-o", "-p "+strconv.Itoa(c.port), "-w", "-t", "60", "start")
	if err != nil {
		log, _ := os.ReadFile(logFile)
		return fmt.Errorf("pg_ctl start on port %d: %v\n%s\n%s", c.port, err, out, tail(log, 2000))
	}
	c.running = true
	return nil
}

// destroy stops the cluster if running and deletes its files.
func (c *PGCluster) destroy(t testing.TB) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running {
		// immediate: nothing here is worth a clean shutdown checkpoint.
		if out, err := c.run("pg_ctl", "-D", c.dataDir(), "-m", "immediate", "-w", "-t", "60", "stop"); err != nil {
			t.Errorf("pg_ctl stop: %v\n%s", err, out)
		}
		c.running = false
	}
	if err := os.RemoveAll(c.dir); err != nil {
		t.Errorf("remove PostgreSQL dir: %v", err)
	}
}

func (c *PGCluster) dataDir() string { return filepath.Join(c.dir, "data") }

// run runs a PostgreSQL tool, as the postgres user when we are root, from the cluster's
// own directory so an unreadable working directory does not matter.
func (c *PGCluster) run(tool string, args ...string) ([]byte, error) {
	path := filepath.Join(c.bin, tool)
	var cmd *exec.Cmd
	if c.asPG {
		cmd = exec.Command(runuserPath(), append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = c.dir
	// A file, not a pipe: if a started postmaster inherited a pipe, Run would wait for it to exit.
	outFile, err := os.CreateTemp("", "latch-pg-out-")
	if err != nil {
		return nil, err
	}
	defer os.Remove(outFile.Name())
	defer outFile.Close()
	cmd.Stdout, cmd.Stderr = outFile, outFile
	err = cmd.Run()
	out, _ := os.ReadFile(outFile.Name())
	return out, err
}

// findPGBin looks in $LATCH_TEST_PG_BIN, then PATH, then Debian's /usr/lib/postgresql/*/bin.
func findPGBin() string {
	ok := func(dir string) bool {
		for _, tool := range []string{"initdb", "pg_ctl", "postgres"} {
			if fi, err := os.Stat(filepath.Join(dir, tool)); err != nil || fi.IsDir() {
				return false
			}
		}
		return true
	}
	if dir := os.Getenv(EnvPGBin); dir != "" && ok(dir) {
		return dir
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		// /usr/local/bin/initdb may be a symlink; its real directory holds postgres too.
		if real, err := filepath.EvalSymlinks(p); err == nil && ok(filepath.Dir(real)) {
			return filepath.Dir(real)
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	// Newest major version first (numeric, so 15 sorts after 9).
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	for _, dir := range dirs {
		if ok(dir) {
			return dir
		}
	}
	return ""
}

// runuserPath finds runuser even when /usr/sbin is not in PATH (e.g. a trimmed CI environment).
func runuserPath() string {
	if p, err := exec.LookPath("runuser"); err == nil {
		return p
	}
	return "/usr/sbin/runuser"
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}
