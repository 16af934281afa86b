package api

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/access"
	"github.com/latchid/latch/internal/config"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/services"
	"github.com/latchid/latch/internal/store"
)

func TestFamilyOf(t *testing.T) {
	t.Parallel()
	cases := []struct{ pattern, want string }{
		{"GET /api/user/{id}", "/api/user"},
		{"POST /api/user", "/api/user"},
		{"DELETE /api/application/{id}/role/{roleId}", "/api/application/role"},
		{"POST /api/ip-acl/search", "/api/ip-acl/search"},
		{"GET /api/system/audit-log/{id}", "/api/system/audit-log"},
		{"GET /api/status", "/api/status"},
	}
	for _, c := range cases {
		if got := familyOf(c.pattern); got != c.want {
			t.Errorf("familyOf(%q) = %q, want %q", c.pattern, got, c.want)
		}
	}
}

// TestPermittedTenants: the tenant header narrows a global key to the tenant
// it names, narrows a scoped key to one of its own tenants, and refuses any
// other; global-only routes refuse scoped keys whatever the header.
func TestPermittedTenants(t *testing.T) {
	t.Parallel()
	s := &Server{cfg: &config.Config{ForbiddenStatus: 401}}
	tenantRoute := Route{Pattern: "GET /api/user/{id}", Access: Endpoint, family: "/api/user"}
	globalRoute := Route{Pattern: "GET /api/system/version", Access: Endpoint, GlobalOnly: true, family: "/api/system/version"}
	managerRoute := Route{Pattern: "GET /api/api-key/{id}", Access: KeyManager, family: "/api/api-key"}
	global := &access.AuthKey{APIKey: model.APIKey{ID: "g", KeyManager: true}}
	one := &access.AuthKey{APIKey: model.APIKey{ID: "one", KeyManager: true, TenantID: "A"}}
	two := &access.AuthKey{APIKey: model.APIKey{ID: "two", TenantIDs: []string{"A", "B"}}}
	cases := []struct {
		name    string
		route   Route
		key     *access.AuthKey
		header  string
		ok      bool
		tenants []string
	}{
		{"global, no header: every tenant", tenantRoute, global, "", true, nil},
		{"global, header narrows", tenantRoute, global, "C", true, []string{"C"}},
		{"global, header with spaces", tenantRoute, global, "  C ", true, []string{"C"}},
		{"scoped, no header", tenantRoute, one, "", true, []string{"A"}},
		{"scoped, own tenant", tenantRoute, one, "A", true, []string{"A"}},
		{"scoped, another tenant", tenantRoute, one, "B", false, nil},
		{"two tenants, no header", tenantRoute, two, "", true, []string{"A", "B"}},
		{"two tenants, narrowed to one", tenantRoute, two, "B", true, []string{"B"}},
		{"two tenants, a third", tenantRoute, two, "C", false, nil},
		{"global on a global-only route", globalRoute, global, "", true, nil},
		{"global on a global-only route, header still narrows", globalRoute, global, "C", true, []string{"C"}},
		{"scoped on a global-only route", globalRoute, one, "", false, nil},
		{"scoped on a global-only route, own tenant", globalRoute, one, "A", false, nil},
		{"scoped manager on the key API, another tenant", managerRoute, one, "B", false, nil},
		{"non-manager on the key API", managerRoute, two, "", false, nil},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/x", nil)
		if c.header != "" {
			r.Header.Set("X-FusionAuth-TenantId", c.header)
		}
		p := &Principal{Key: c.key}
		ok := s.permitted(c.route, r, p)
		if ok != c.ok {
			t.Errorf("%s: permitted = %v, want %v", c.name, ok, c.ok)
			continue
		}
		if ok && !slices.Equal(p.Scope.Tenants, c.tenants) {
			t.Errorf("%s: tenants %v, want %v", c.name, p.Scope.Tenants, c.tenants)
		}
	}
	// No key at all is never permitted on a keyed route.
	if s.permitted(tenantRoute, httptest.NewRequest("GET", "/x", nil), &Principal{}) {
		t.Error("no key permitted")
	}
}

// fuzzGuard is an /api server on a fresh SQLite database with one key that
// may only GET /api/ip-acl.
func fuzzGuard(t testing.TB) (*Server, string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "", filepath.Join(t.TempDir(), "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	mk, err := secrets.ParseMasterKey(strings.Repeat("ab", 32))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := services.New(st, kit.SystemClock{}, mk, log, services.Options{})
	if err := svc.Tenancy.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	value := secrets.Token(32)
	row := &store.APIKeyRow{KeyHash: secrets.HashToken(value), APIKey: model.APIKey{ID: uuid.NewString(), Name: "reader",
		Permissions: model.APIKeyPermissions{Endpoints: map[string][]string{"/api/ip-acl": {"GET"}}}}}
	if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.InsertAPIKey(ctx, row) }); err != nil {
		t.Fatal(err)
	}
	svc.Keys.Refresh(ctx)
	return New(svc, &config.Config{ForbiddenStatus: 401}, log, nil), value
}

// FuzzGuardPath: whatever the request line, a key that may only GET
// /api/ip-acl gets nothing but 401, 404 or that one route's answers, and
// never a 500. The request is parsed by net/http from raw bytes, as the
// server would.
func FuzzGuardPath(f *testing.F) {
	for _, seed := range []struct{ method, target string }{
		{"GET", "/api/system/version"}, {"GET", "//api/system/version"}, {"GET", "/api//system/version"},
		{"GET", "/api/ip-acl/../system/version"}, {"GET", "/api/%2e%2e/system/version"}, {"GET", "/api/system/version/"},
		{"GET", "/API/SYSTEM/VERSION"}, {"GET", "/api/system/Version"}, {"GET", "/api/ip-acl/%2F..%2Fsystem%2Fversion"},
		{"HEAD", "/api/ip-acl/x"}, {"OPTIONS", "/api/ip-acl/x"}, {"DELETE", "/api/ip-acl/x"}, {"GET", "/api/ip-acl/search?name=a"},
		{"GET", "http://h/api/system/version"}, {"POST", "/api/ip-acl/search"}, {"GET", "/api/ip-acl/x/../../system/version"},
	} {
		f.Add(seed.method, seed.target)
	}
	s, key := fuzzGuard(f)
	f.Fuzz(func(t *testing.T, method, target string) {
		raw := method + " " + target + " HTTP/1.1\r\nHost: h\r\nAuthorization: " + key + "\r\nContent-Length: 0\r\n\r\n"
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil || !strings.HasPrefix(strings.ToLower(r.URL.Path), "/api/") {
			return // not a request, or not one the root handler sends to the API
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		switch w.Code {
		case 401, 404:
			return
		case 200, 400:
			// Only the ip-acl GET routes may answer, for a GET or HEAD on a
			// canonical path.
			if (r.Method == "GET" || r.Method == "HEAD") && canonical(r) && path.Dir(r.URL.Path) == "/api/ip-acl" {
				return
			}
		}
		t.Fatalf("%s %q → %d %q", method, target, w.Code, w.Body.String())
	})
}
