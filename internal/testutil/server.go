// Package testutil starts real Latch servers for tests: in-process through the
// same entry point as the binary, on 127.0.0.1:0, with a fresh database each.
package testutil

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchid/latch/internal/app"
	"github.com/latchid/latch/internal/password"
)

// Backend is a database to run a test against.
type Backend struct {
	Name        string // "sqlite" or "postgres"
	DatabaseURL string // empty for SQLite
}

// EachBackend runs fn as a subtest on SQLite and on a fresh PostgreSQL
// database. PostgreSQL is skipped only where LATCH_TEST_REQUIRE_POSTGRES is unset.
func EachBackend(t *testing.T, fn func(t *testing.T, b Backend)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, Backend{Name: "sqlite"}) })
	t.Run("postgres", func(t *testing.T) { fn(t, Backend{Name: "postgres", DatabaseURL: PostgresURL(t)}) })
}

// FakeClock is a settable clock for anything that expires.
type FakeClock struct {
	mu   sync.Mutex
	now  time.Time
	step time.Duration
}

// NewFakeClock starts at a fixed, realistic instant.
func NewFakeClock() *FakeClock {
	return &FakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

// Now returns the clock's time (and moves it on by the step, if any).
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now
	c.now = c.now.Add(c.step)
	return now
}

// Tick makes every reading move the clock forward by step (0: stands
// still), so that requests racing each other read different instants, as
// on a real clock.
func (c *FakeClock) Tick(step time.Duration) { c.mu.Lock(); c.step = step; c.mu.Unlock() }

// Advance moves the clock forward.
func (c *FakeClock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// SleepUntil moves the clock on to t unless it is there already: what
// waits for the clock (kit.SleepUntil) waits no real time.
func (c *FakeClock) SleepUntil(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.now.Before(t) {
		c.now = t
	}
}

// Set moves the clock to t.
func (c *FakeClock) Set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

// SyncBuffer is a goroutine-safe output buffer.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *SyncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.buf.String() }

// Server is a running in-process Latch.
type Server struct {
	URL     string // http://127.0.0.1:PORT
	Addr    string
	DataDir string
	Env     map[string]string // the LATCH_* environment it runs with
	Clock   *FakeClock        // nil unless asked for
	Stdout  *SyncBuffer
	Stderr  *SyncBuffer

	cancel context.CancelFunc
	done   chan int
}

// Option adjusts a server before it starts.
type Option func(*serverOptions)

type serverOptions struct {
	backend Backend
	clock   *FakeClock
	env     map[string]string
	dataDir string
	observe func(context.Context, password.Job)
	shared  bool
}

// WithSharedDataDir runs the server on dir while another server still runs
// on it: several in-process nodes on one SQLite file, a cheap stand-in for
// nodes sharing a database, which `latch serve` otherwise refuses.
func WithSharedDataDir(dir string) Option {
	return func(o *serverOptions) { o.dataDir, o.shared = dir, true }
}

// WithBackend selects the database (default SQLite).
func WithBackend(b Backend) Option { return func(o *serverOptions) { o.backend = b } }

// WithClock injects a fake clock.
func WithClock(c *FakeClock) Option { return func(o *serverOptions) { o.clock = c } }

// WithEnv adds environment variables.
func WithEnv(kv ...string) Option {
	return func(o *serverOptions) {
		for i := 0; i+1 < len(kv); i += 2 {
			o.env[kv[i]] = kv[i+1]
		}
	}
}

// WithHashObserver sees every password hash the server runs, in its worker
// slot, before it runs (to count hashes, or to hold a worker busy).
func WithHashObserver(f func(context.Context, password.Job)) Option {
	return func(o *serverOptions) { o.observe = f }
}

// WithDataDir reuses a data dir (for restart tests).
func WithDataDir(dir string) Option { return func(o *serverOptions) { o.dataDir = dir } }

// TestMasterKey is the master key test servers share with their CLI runs.
const TestMasterKey = "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0"

// StartServer starts `latch serve` in-process and waits until it listens. It
// stops when the test ends.
func StartServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	o := &serverOptions{env: map[string]string{}}
	for _, opt := range opts {
		opt(o)
	}
	if o.dataDir == "" {
		o.dataDir = t.TempDir()
	}
	env := map[string]string{
		"LATCH_DATA_DIR":  o.dataDir,
		"LATCH_LISTEN":    "127.0.0.1:0",
		"LATCH_LOG_LEVEL": "warn",
		// Tests log in far more often than people; the rate-limit tests
		// set their own limits.
		"LATCH_AUTH_RATE_PER_ADDRESS": "0",
		"LATCH_AUTH_RATE_PER_TENANT":  "0",
	}
	if o.backend.DatabaseURL != "" {
		env["LATCH_DATABASE_URL"] = o.backend.DatabaseURL
		env["LATCH_MASTER_KEY"] = TestMasterKey
	}
	for k, v := range o.env {
		env[k] = v
	}
	s := &Server{DataDir: o.dataDir, Env: env, Clock: o.clock, Stdout: &SyncBuffer{}, Stderr: &SyncBuffer{}, done: make(chan int, 1)}
	ready := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	appOpts := app.Options{Ready: func(addr string) { ready <- addr }, HashObserver: o.observe, SharedDataDir: o.shared}
	if o.clock != nil {
		appOpts.Clock = o.clock
	}
	go func() {
		s.done <- app.Run(ctx, app.Env{Args: []string{"latch", "serve"}, Getenv: s.getenv, Stdout: s.Stdout, Stderr: s.Stderr, Opts: appOpts})
	}()
	select {
	case addr := <-ready:
		s.Addr, s.URL = addr, "http://"+addr
	case code := <-s.done:
		cancel()
		t.Fatalf("latch serve exited with %d before listening: %s", code, s.Stderr.String())
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("latch serve did not start in 30s: %s", s.Stderr.String())
	}
	t.Cleanup(func() { s.Stop(t) })
	return s
}

func (s *Server) getenv(k string) string { return s.Env[k] }

// Stop shuts the server down gracefully (idempotent) and returns its exit code.
func (s *Server) Stop(t testing.TB) int {
	t.Helper()
	s.cancel()
	select {
	case code, ok := <-s.done:
		if ok {
			close(s.done)
		}
		return code
	case <-time.After(30 * time.Second):
		t.Fatalf("latch serve did not stop in 30s")
		return -1
	}
}

// CLI runs a latch subcommand in-process with the server's environment (same
// database and master key) and returns stdout, stderr and the exit code.
func (s *Server) CLI(t testing.TB, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return RunCLI(t, s.Env, s.Clock, args...)
}

// RunCLI runs a latch subcommand in-process with env as its whole environment.
func RunCLI(t testing.TB, env map[string]string, clock *FakeClock, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb SyncBuffer
	opts := app.Options{}
	if clock != nil {
		opts.Clock = clock
	}
	code = app.Run(context.Background(), app.Env{Args: append([]string{"latch"}, args...),
		Getenv: func(k string) string { return env[k] }, Stdout: &out, Stderr: &errb, Opts: opts})
	return out.String(), errb.String(), code
}

// Setup runs `latch setup` against the server's database and returns the initial key.
func (s *Server) Setup(t testing.TB) string {
	t.Helper()
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("correct horse battery staple\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := s.CLI(t, "setup", "--admin-email", "admin@example.com", "--admin-password-file", pw)
	if code != 0 {
		t.Fatalf("latch setup exited %d: %s", code, errOut)
	}
	key := strings.TrimSpace(out)
	if key == "" {
		t.Fatalf("latch setup printed no key: %s", errOut)
	}
	return key
}

// Response is a finished HTTP exchange.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test on error.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
}

// Do sends a request with key in Authorization (omitted when empty). body may
// be nil, a string/[]byte (sent as is) or a value encoded as JSON. Extra
// headers come as name, value pairs.
func (s *Server) Do(t testing.TB, method, path, key string, body any, headers ...string) *Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}
