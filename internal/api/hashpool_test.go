package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/latchid/latch/internal/password"
	"github.com/latchid/latch/internal/testutil"
)

// hashHold is a server's hash observer that, once armed, holds the next hash
// in its worker slot until released, and counts every hash by operation.
type hashHold struct {
	armed   atomic.Bool
	entered chan password.Job
	gate    chan struct{}

	mu   sync.Mutex
	jobs []password.Job
}

func newHashHold() *hashHold {
	return &hashHold{entered: make(chan password.Job, 1), gate: make(chan struct{})}
}

func (h *hashHold) observe(_ context.Context, j password.Job) {
	h.mu.Lock()
	h.jobs = append(h.jobs, j)
	h.mu.Unlock()
	if h.armed.CompareAndSwap(true, false) {
		h.entered <- j
		<-h.gate
	}
}

// take returns the hashes seen since the last take.
func (h *hashHold) take() []password.Job {
	h.mu.Lock()
	defer h.mu.Unlock()
	j := h.jobs
	h.jobs = nil
	return j
}

// rawPost posts JSON without the test's helpers (safe off the test goroutine).
func rawPost(url string, body any) (int, error) {
	b, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// The operator's limits bound every factor a tenant key or an import may
// set: beyond them a 400 field error, within them accepted; raising the
// limit (LATCH_MAX_BCRYPT_COST) lets a higher cost through.
func TestHashFactorLimits(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := lgStart(t, b, testutil.WithEnv("LATCH_MAX_BCRYPT_COST", "13", "LATCH_MAX_HASH_ITERATIONS", "100000"))
		tenantPath := "/api/tenant/" + e.tenant
		pe := func(scheme string, factor int) map[string]any {
			return map[string]any{"tenant": map[string]any{"passwordEncryptionConfiguration": map[string]any{
				"encryptionScheme": scheme, "encryptionSchemeFactor": factor}}}
		}
		for _, c := range []struct {
			scheme string
			factor int
			status int
		}{
			{"bcrypt", 31, 400},
			{"bcrypt", 14, 400},
			{"salted-pbkdf2-hmac-sha256", 100001, 400},
			{"salted-pbkdf2-hmac-sha512-512", 1 << 30, 400},
			{"salted-sha256", 5_000_000, 400},
			{"bcrypt", 13, 200},
			{"salted-pbkdf2-hmac-sha256", 100000, 200},
		} {
			r := e.do("PATCH", tenantPath, e.root, pe(c.scheme, c.factor))
			if r.Status != c.status {
				t.Errorf("%s/%d: status %d, want %d: %s", c.scheme, c.factor, r.Status, c.status, r.Body)
			}
			if c.status == 400 && !strings.Contains(string(r.Body), "tenant.passwordEncryptionConfiguration.encryptionSchemeFactor") {
				t.Errorf("%s/%d: %s", c.scheme, c.factor, r.Body)
			}
		}

		// Import rows beyond the limits are field errors; nothing is written.
		bc, err := password.NewWith(password.SchemeBcrypt, 4, "pw")
		if err != nil {
			t.Fatal(err)
		}
		pb := func(factor int) map[string]any {
			return map[string]any{"email": "pb@import.example.com", "password": "ee1mq4b+7KtiZt1uOOgy7A==", "salt": "jVqbuA9k2Mlo37OWXBMKLw==",
				"encryptionScheme": "salted-md5", "factor": factor}
		}
		for _, c := range []struct {
			name  string
			user  map[string]any
			field string
		}{
			{"bcrypt string of cost 31", map[string]any{"email": "bc@import.example.com", "password": "$2a$31$" + bc.Salt + bc.Value,
				"encryptionScheme": "bcrypt"}, "users[0].factor"},
			{"bcrypt cost 20", map[string]any{"email": "bc@import.example.com", "password": bc.Value, "salt": bc.Salt,
				"encryptionScheme": "bcrypt", "factor": 20}, "users[0].factor"},
			{"md5 iterations", pb(2_000_000), "users[0].factor"},
		} {
			r := e.do("POST", "/api/user/import", e.root, map[string]any{"users": []any{c.user}})
			if r.Status != 400 || !strings.Contains(string(r.Body), `"`+c.field+`"`) {
				t.Errorf("import %s: %d %s", c.name, r.Status, r.Body)
			}
		}
		e.want("import within the limits", e.do("POST", "/api/user/import", e.root, map[string]any{"users": []any{pb(20000)}}), 200)
	})
}

// With every worker busy and the queue full, a login (a hash) is refused
// at once with 503 and Retry-After instead of waiting; once the worker is
// free, logins work again.
func TestHashPoolFullRefuses(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		hold := newHashHold()
		e := lgStart(t, b, testutil.WithHashObserver(hold.observe),
			testutil.WithEnv("LATCH_HASH_WORKERS", "1", "LATCH_HASH_QUEUE", "0"))
		app := e.app("App", lgAppOpts{})
		email := lgEmail("pool")
		e.register(e.user(email, lgPassword, nil), app)

		hold.armed.Store(true)
		done := make(chan int, 1)
		go func() {
			status, err := rawPost(e.s.URL+"/api/login", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app})
			if err != nil {
				t.Error(err)
			}
			done <- status
		}()
		select {
		case <-hold.entered: // the only worker is busy with that login
		case s := <-done:
			t.Fatalf("the login finished (%d) without hashing", s)
		}

		r := e.login("", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app})
		if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
			t.Errorf("login with the pool full: %d, Retry-After %q; want 503 with Retry-After", r.Status, r.Header.Get("Retry-After"))
		}
		r = e.login("", map[string]any{"loginId": "nobody@example.com", "password": "whatever", "applicationId": app})
		if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
			t.Errorf("unknown user with the pool full: %d, Retry-After %q", r.Status, r.Header.Get("Retry-After"))
		}
		r = e.do("POST", "/api/user", e.root, map[string]any{"user": map[string]any{"email": lgEmail("new"), "password": lgPassword}})
		if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
			t.Errorf("create user with the pool full: %d, Retry-After %q", r.Status, r.Header.Get("Retry-After"))
		}

		close(hold.gate)
		if s := <-done; s != 200 && s != 202 {
			t.Errorf("held login: %d", s)
		}
		e.want("login after the pool drained", e.login("", map[string]any{"loginId": email, "password": lgPassword, "applicationId": app}), 200)
	})
}
