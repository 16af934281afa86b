package api_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

// The test kit every area of this package shares: a started server with its
// initial key and database (apiEnv), and the checks of FusionAuth's answers.
// An area's own helpers (creating its objects) are methods of its env type,
// which embeds apiEnv.

// apiEnv is a set-up server (fake clock unless an option gives one), its
// initial full-manager key, and its database opened beside it for fixtures
// the API cannot make and for checks of what was stored.
type apiEnv struct {
	t    *testing.T
	s    *testutil.Server
	b    testutil.Backend
	root string // the initial full-manager key
	st   *store.Store
}

func startEnv(t *testing.T, b testutil.Backend, opts ...testutil.Option) *apiEnv {
	t.Helper()
	opts = append([]testutil.Option{testutil.WithBackend(b), testutil.WithClock(testutil.NewFakeClock())}, opts...)
	s := testutil.StartServer(t, opts...)
	return &apiEnv{t: t, s: s, b: b, root: s.Setup(t), st: openServerStore(t, s)}
}

func (e *apiEnv) do(method, path, key string, body any, headers ...string) *testutil.Response {
	e.t.Helper()
	return e.s.Do(e.t, method, path, key, body, headers...)
}

// errorCodes lists every code of a FusionAuth Errors body, sorted.
func errorCodes(t *testing.T, r *testutil.Response) []string {
	t.Helper()
	var errs model.Errors
	r.JSON(t, &errs)
	var codes []string
	for _, items := range errs.FieldErrors {
		for _, it := range items {
			codes = append(codes, it.Code)
		}
	}
	for _, it := range errs.GeneralErrors {
		codes = append(codes, it.Code)
	}
	sort.Strings(codes)
	return codes
}

// want400 fails unless r is a 400 whose errors include every code.
func want400(t *testing.T, what string, r *testutil.Response, codes ...string) {
	t.Helper()
	if r.Status != 400 {
		t.Errorf("%s: status %d, want 400 %v; body %s", what, r.Status, codes, r.Body)
		return
	}
	got := errorCodes(t, r)
	for _, c := range codes {
		if !slices.Contains(got, c) {
			t.Errorf("%s: codes %v, want %s", what, got, c)
		}
	}
}

// wantEmpty fails unless r has status and an empty body.
func wantEmpty(t *testing.T, what string, r *testutil.Response, status int) {
	t.Helper()
	if r.Status != status || len(r.Body) != 0 {
		t.Errorf("%s: got %d %q, want %d with an empty body", what, r.Status, r.Body, status)
	}
}

// decodeObject decodes a body that is a JSON object, keeping numbers exact.
func decodeObject(t *testing.T, r *testutil.Response) map[string]any {
	t.Helper()
	v, err := model.DecodeJSONValue(r.Body)
	if err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("body is not an object: %s", r.Body)
	}
	return m
}

func millis(d time.Duration) int64 { return d.Milliseconds() }

// atRest returns every byte the database holds: the SQLite files, or a
// pg_dump. The server is stopped first so that nothing is in flight.
func (e *apiEnv) atRest() []byte {
	e.t.Helper()
	e.s.Stop(e.t)
	if e.b.DatabaseURL == "" {
		files, _ := filepath.Glob(filepath.Join(e.s.DataDir, "latch.db*"))
		var dump []byte
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				e.t.Fatal(err)
			}
			dump = append(dump, data...)
		}
		if len(dump) == 0 {
			e.t.Fatalf("no SQLite files in %s", e.s.DataDir)
		}
		return dump
	}
	return pgDump(e.t, e.b.DatabaseURL)
}

// pgDump dumps a PostgreSQL database as SQL text.
func pgDump(t *testing.T, url string) []byte {
	t.Helper()
	bin := os.Getenv(testutil.EnvPGBin)
	tool := filepath.Join(bin, "pg_dump")
	if bin == "" {
		var err error
		if tool, err = exec.LookPath("pg_dump"); err != nil {
			t.Fatalf("pg_dump not found: set %s", testutil.EnvPGBin)
		}
	}
	out, err := exec.Command(tool, "--no-owner", "--dbname", url).Output()
	if err != nil {
		t.Fatalf("pg_dump: %v", err)
	}
	return out
}

// defaultTenant is the id of the tenant bootstrap made.
func (e *apiEnv) defaultTenant() string {
	e.t.Helper()
	r := e.do("GET", "/api/tenant", e.root, nil)
	var body struct {
		Tenants []struct{ ID, Name string } `json:"tenants"`
	}
	r.JSON(e.t, &body)
	for _, tn := range body.Tenants {
		if tn.Name == "Default" {
			return tn.ID
		}
	}
	e.t.Fatalf("no Default tenant in %s", r.Body)
	return ""
}

// audits returns the audit entries about target, oldest first.
func (e *apiEnv) audits(target string) []*model.AuditLog {
	e.t.Helper()
	all, _, err := e.st.Read().SearchAudit(context.Background(), store.AuditFilter{}, 0, 100000)
	if err != nil {
		e.t.Fatalf("read audit log: %v", err)
	}
	var out []*model.AuditLog
	for _, a := range all {
		if a.TargetID == target {
			out = append(out, a)
		}
	}
	return out
}

// jsonAt walks a decoded document along keys (strings) and indexes (ints).
func jsonAt(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

// jsonSubset reports where want is not contained in got: every member of every
// object in want must be in got with the same value; arrays match element by
// element. It is how "a client gets back the object it sent" is checked when
// Latch adds owned fields and defaults.
func jsonSubset(want, got any, where string) error {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want an object, got %v", where, got)
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				return fmt.Errorf("%s.%s: missing", where, k)
			}
			if err := jsonSubset(wv, gv, where+"."+k); err != nil {
				return err
			}
		}
		return nil
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("%s: want %d elements, got %v", where, len(w), got)
		}
		for i := range w {
			if err := jsonSubset(w[i], g[i], fmt.Sprintf("%s[%d]", where, i)); err != nil {
				return err
			}
		}
		return nil
	default:
		if !model.JSONEqual(want, got) {
			return fmt.Errorf("%s: want %v, got %v", where, want, got)
		}
		return nil
	}
}
