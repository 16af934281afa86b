package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/api"
	"github.com/latchid/latch/internal/config"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/services"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

// newAPIServer builds the /api handler on a fresh, migrated SQLite database,
// the way the app wires it, without listening.
func newAPIServer(t testing.TB, cfg *config.Config) *api.Server {
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
	mk, err := secrets.ParseMasterKey(testutil.TestMasterKey)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := services.New(st, kit.SystemClock{}, mk, log, services.Options{})
	if err := svc.Tenancy.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	if cfg == nil {
		cfg = &config.Config{ForbiddenStatus: 401}
	}
	return api.New(svc, cfg, log, nil)
}

// permissionFamilies reads FusionAuth's list of endpoints a key's permissions
// can name (a verbatim copy of shared/reference/fusionauth's file).
func permissionFamilies(t *testing.T) map[string][]string {
	t.Helper()
	var doc struct {
		Endpoints []struct {
			Endpoint string   `json:"endpoint"`
			Methods  []string `json:"methods"`
		} `json:"endpoints"`
	}
	readTestdata(t, "api-key-permission-endpoints.json", &doc)
	out := map[string][]string{}
	for _, e := range doc.Endpoints {
		out[e.Endpoint] = e.Methods
	}
	if len(out) < 50 {
		t.Fatalf("only %d permission families read", len(out))
	}
	return out
}

// anonymousCalls reads the /api calls FusionAuth serves without an API key,
// as "METHOD /uri".
func anonymousCalls(t *testing.T) []string {
	t.Helper()
	var doc struct {
		Calls []struct{ Method, URI string } `json:"calls"`
	}
	readTestdata(t, "fusionauth-anonymous-calls.json", &doc)
	var out []string
	for _, c := range doc.Calls {
		out = append(out, c.Method+" "+c.URI)
	}
	return out
}

func readTestdata(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// latchAnonymous lists anonymous routes Latch adds beyond FusionAuth's own.
// Adding one here is a security decision: say why next to it.
var latchAnonymous = []string{
	// The Login API needs a key only when the application's (or tenant's)
	// loginConfiguration.requireAuthentication says so, as in FusionAuth; the
	// handler enforces the key and its /api/login permission (see login.go),
	// so the guard must let the request through.
	"POST /api/login",
	// Enabling and disabling two-factor without a user id act on the user of
	// the access token (FusionAuth's JWT forms); the handler accepts only a
	// valid JWT there (see twofactor.go).
	"POST /api/user/two-factor",
	"DELETE /api/user/two-factor",
}

func TestRouteTable(t *testing.T) {
	t.Parallel()
	routes := newAPIServer(t, nil).Routes()
	families := permissionFamilies(t)
	anonymous := append(anonymousCalls(t), latchAnonymous...)
	if len(routes) == 0 {
		t.Fatal("no routes")
	}
	for _, r := range routes {
		method, p, _ := strings.Cut(r.Pattern, " ")
		fam := r.Family()
		isKeyAPI := fam == "/api/api-key" || strings.HasPrefix(fam, "/api/api-key/")
		t.Run(r.Pattern, func(t *testing.T) {
			// Shape: a method, one clean /api path, ids as whole segments, no
			// catch-alls (a request must match exactly one spelling; see canonical).
			if method == "" || method != strings.ToUpper(method) || r.Method() != method {
				t.Errorf("pattern must start with an upper-case method")
			}
			if !strings.HasPrefix(p, "/api/") || p != path.Clean(p) || strings.Contains(p, "...") || strings.Contains(p, "{$}") {
				t.Errorf("path %q must be a clean /api/ path without trailing slash or wildcards", p)
			}
			for _, seg := range strings.Split(p, "/") {
				if strings.ContainsAny(seg, "{}") && !(strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}")) {
					t.Errorf("segment %q: ids must be whole segments", seg)
				}
			}
			if r.Handler == nil {
				t.Errorf("no handler")
			}
			switch r.Access {
			case api.Endpoint:
				methods, ok := families[fam]
				if !ok {
					t.Errorf("family %s is not one a key's permissions can name", fam)
				} else if !slices.Contains(methods, method) {
					t.Errorf("family %s does not take %s in FusionAuth's permissions (%v)", fam, method, methods)
				}
				if isKeyAPI {
					t.Errorf("the key API must be KeyManager, not Endpoint")
				}
			case api.KeyManager:
				if !isKeyAPI {
					t.Errorf("KeyManager is for /api/api-key routes only; family %s", fam)
				}
			case api.Anonymous:
				if !slices.Contains(anonymous, method+" "+fam) {
					t.Errorf("%s %s is not anonymous in FusionAuth and not listed in latchAnonymous", method, fam)
				}
				if r.GlobalOnly {
					t.Errorf("GlobalOnly means nothing on an anonymous route")
				}
			default:
				t.Errorf("no access rule (Access = %d)", r.Access)
			}
			if isKeyAPI && r.Access != api.KeyManager {
				t.Errorf("/api/api-key routes must be KeyManager")
			}
		})
	}
}
