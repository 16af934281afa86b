package app_test

// Kickstart (issue 6): FusionAuth kickstart files replayed through the API on
// a fresh instance, at `latch serve` start and with `latch kickstart`,
// resumable after a failure, with a dry run. Helpers carry a ks prefix.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/latchid/latch/internal/api"
	"github.com/latchid/latch/internal/config"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/testutil"
)

// ksKey is the first key of the test files: FusionAuth's documented example.
const ksKey = "4737ea8520bd454caabb7cb3d36e14bc1832c0d3f70a4189b82598670f11b1bd"

// ksDefaultTenant is the Default tenant's id the files choose.
const ksDefaultTenant = "30663132-6464-6665-3032-326466613934"

// ksWrite writes files into a fresh directory and returns the path of its
// kickstart.json.
func ksWrite(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "kickstart.json")
}

// ksHasRoute reports whether the API has a route (users and registrations
// land in parallel with kickstart; the tests use them once they exist).
func ksHasRoute(pattern string) bool {
	for _, r := range api.New(nil, &config.Config{}, nil, nil).Routes() {
		if r.Pattern == pattern {
			return true
		}
	}
	return false
}

// ksGet reads an API object with key and decodes it; it fails unless 200.
func ksGet(t *testing.T, s *testutil.Server, path, key string) map[string]any {
	t.Helper()
	res := s.Do(t, "GET", path, key, nil)
	if res.Status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, res.Status, res.Body)
	}
	v, err := model.DecodeJSONValue(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return v.(map[string]any)
}

func ksAt(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// ksAudit returns the audit entries whose message contains text.
func ksAudit(t *testing.T, s *testutil.Server, key, text string) []model.AuditLog {
	t.Helper()
	res := s.Do(t, "POST", "/api/system/audit-log/search", key, map[string]any{"search": map[string]any{"numberOfResults": 500}})
	if res.Status != http.StatusOK {
		t.Fatalf("audit search: %d %s", res.Status, res.Body)
	}
	var out struct {
		AuditLogs []model.AuditLog `json:"auditLogs"`
	}
	res.JSON(t, &out)
	var hits []model.AuditLog
	for _, a := range out.AuditLogs {
		if strings.Contains(a.Message, text) {
			hits = append(hits, a)
		}
	}
	return hits
}

// ksNoSetupLink checks that the server printed no setup-wizard link.
func ksNoSetupLink(t *testing.T, s *testutil.Server) {
	t.Helper()
	if strings.Contains(s.Stdout.String(), setupURLMarker) {
		t.Errorf("a kickstarted instance printed a setup-wizard link: %s", s.Stdout.String())
	}
}

func TestKickstartSimplestFileAtServeStart(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		path := ksWrite(t, map[string]string{"kickstart.json": `{"apiKeys": [{"key": "` + ksKey + `"}]}`})
		s := testutil.StartServer(t, testutil.WithBackend(b), testutil.WithEnv("LATCH_KICKSTART_FILE", path, "LATCH_LOG_LEVEL", "info"))
		if !keyWorks(t, s, ksKey) {
			t.Fatalf("the kickstart key does not work: %s", s.Stderr.String())
		}
		ksNoSetupLink(t, s)
		// The key is a full key manager, stored as a hash only.
		var list struct {
			APIKeys []model.APIKey `json:"apiKeys"`
		}
		res := s.Do(t, "GET", "/api/api-key", ksKey, nil)
		res.JSON(t, &list)
		if len(list.APIKeys) != 1 || !list.APIKeys[0].KeyManager || list.APIKeys[0].Retrievable || !list.APIKeys[0].AllEndpoints() || !list.APIKeys[0].Global() {
			t.Fatalf("keys: %s", res.Body)
		}
		ksGet(t, s, "/api/api-key/"+list.APIKeys[0].ID, ksKey)
		if got := ksAt(ksGet(t, s, "/api/api-key/"+list.APIKeys[0].ID, ksKey), "apiKey", "key"); got != nil {
			t.Errorf("a kickstart key is retrievable: %v", got)
		}
		st := instanceStore(t, s.Env)
		if n := countOf(t, st, "SELECT COUNT(*) FROM api_keys WHERE key_sealed IS NOT NULL"); n != 0 {
			t.Errorf("%d sealed key values at rest", n)
		}
		if n := countOf(t, st, "SELECT COUNT(*) FROM system_settings WHERE name = 'setup_completed_instant'"); n != 1 {
			t.Errorf("a kickstart does not count as setup")
		}
		created := ksAudit(t, s, ksKey, "Created API key")
		if len(created) != 1 || created[0].ActorType != "kickstart" || created[0].InsertUser != "kickstart "+path {
			t.Errorf("the key's audit entry does not name the kickstart: %+v", created)
		}

		// Restarting with the variable still set does nothing, in one line.
		s.Stop(t)
		s2 := testutil.StartServer(t, testutil.WithBackend(b), testutil.WithDataDir(s.DataDir),
			testutil.WithEnv("LATCH_KICKSTART_FILE", path, "LATCH_LOG_LEVEL", "info"))
		if !keyWorks(t, s2, ksKey) {
			t.Fatal("the key stopped working after a restart")
		}
		lines := 0
		for _, l := range strings.Split(s2.Stderr.String(), "\n") {
			if strings.Contains(l, "kickstart") {
				lines++
				if !strings.Contains(l, "kickstart did not run") || !strings.Contains(l, "already kickstarted") {
					t.Errorf("restart log line: %s", l)
				}
			}
		}
		if lines != 1 {
			t.Errorf("want one kickstart line on restart, got %d: %s", lines, s2.Stderr.String())
		}
		if n := countOf(t, instanceStore(t, s2.Env), "SELECT COUNT(*) FROM api_keys"); n != 1 {
			t.Errorf("%d keys after a restart", n)
		}
		ksNoSetupLink(t, s2)
	})
}

func TestKickstartFusionAuthVariable(t *testing.T) {
	path := ksWrite(t, map[string]string{"kickstart.json": `{"apiKeys": [{"key": "` + ksKey + `"}]}`})
	s := testutil.StartServer(t, testutil.WithEnv("FUSIONAUTH_APP_KICKSTART_FILE", path))
	if !keyWorks(t, s, ksKey) {
		t.Fatalf("FUSIONAUTH_APP_KICKSTART_FILE was not run: %s", s.Stderr.String())
	}
}

// ksFullFiles is a kickstart like FusionAuth's documented examples: a chosen
// Default tenant id, a second tenant, an application with roles, a user with
// the admin role on the admin application, an IP ACL, includes and the
// environment.
func ksFullFiles() map[string]string {
	requests := []string{
		`{"method": "POST", "url": "/api/tenant/#{tenantId}", "body": "&{json/tenant.json}"}`,
		`{"method": "PATCH", "url": "/api/tenant/#{FUSIONAUTH_TENANT_ID}", "body": {"tenant": {"issuer": "@{issuer.txt}"}}}`,
		`"&{json/application.json}"`,
		`{"method": "POST", "url": "/api/application/#{appId}/role", "tenantId": "#{tenantId}", "body": {"role": {"name": "viewer", "description": "#{ENV.KS_ROLE_DESCRIPTION}"}}}`,
		`{"method": "POST", "url": "/api/ip-acl/#{aclId}", "body": {"ipAccessControlList": {"name": "office", "entries": [{"startIPAddress": "*", "action": "Block"}, {"startIPAddress": "10.0.0.1", "endIPAddress": "10.0.0.9", "action": "Allow"}]}}}`,
	}
	if ksHasRoute("POST /api/user/registration/{userId}") {
		requests = append(requests,
			`{"method": "POST", "url": "/api/user/registration/#{userId}", "body": {
				"user": {"email": "#{adminEmail}", "password": "#{ENV.KS_ADMIN_PASSWORD}", "fullName": "Kick Start"},
				"registration": {"applicationId": "#{FUSIONAUTH_APPLICATION_ID}", "roles": ["admin"]},
				"skipVerification": true}}`,
		)
	}
	return map[string]string{
		"kickstart.json": `{
  "variables": {
    "defaultTenantId": "` + ksDefaultTenant + `",
    "tenantId": "#{UUID()}",
    "appId": "#{UUID()}",
    "userId": "#{UUID()}",
    "aclId": "#{UUID()}",
    "adminEmail": "#{ENV.KS_ADMIN_EMAIL}"
  },
  "apiKeys": [
    {"key": "#{ENV.KS_API_KEY}", "description": "Kickstart key"},
    {"key": "reader-key-0123456789", "name": "reader", "tenantId": "#{tenantId}",
     "permissions": {"endpoints": {"/api/application": ["GET"]}}}
  ],
  "requests": [` + strings.Join(requests, ",\n    ") + `],
  "licenseId": "ignored"
}`,
		"json/tenant.json":      `{"tenant": {"name": "Pied Piper", "issuer": "piedpiper.example"}}`,
		"json/application.json": `{"method": "POST", "url": "/api/application/#{appId}", "tenantId": "#{tenantId}", "body": {"application": {"name": "Pied Piper app", "roles": [{"name": "admin", "isSuperRole": true}, {"name": "user", "isDefault": true}]}}}`,
		"issuer.txt":            "latch.example",
	}
}

var ksFullEnv = []string{"KS_API_KEY", ksKey, "KS_ADMIN_EMAIL", "richard@piedpiper.example",
	"KS_ADMIN_PASSWORD", "middle out compression", "KS_ROLE_DESCRIPTION", "can look"}

func TestKickstartFullFile(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		path := ksWrite(t, ksFullFiles())
		s := testutil.StartServer(t, testutil.WithBackend(b), testutil.WithEnv(append([]string{"LATCH_KICKSTART_FILE", path, "LATCH_LOG_LEVEL", "info"}, ksFullEnv...)...))
		if !keyWorks(t, s, ksKey) {
			t.Fatalf("kickstart failed: %s", s.Stderr.String())
		}
		ksNoSetupLink(t, s)
		gen := ksGenerated(t, s)
		tenantID, appID, aclID := gen["variables.tenantId#0"], gen["variables.appId#0"], gen["variables.aclId#0"]

		// The Default tenant has the chosen id, and the admin application moved with it.
		def := ksGet(t, s, "/api/tenant/"+ksDefaultTenant, ksKey)
		if ksAt(def, "tenant", "name") != "Default" || ksAt(def, "tenant", "issuer") != "latch.example" {
			t.Errorf("default tenant: %v", def["tenant"])
		}
		if got := ksAt(ksGet(t, s, "/api/application/"+model.AdminApplicationID, ksKey), "application", "tenantId"); got != ksDefaultTenant {
			t.Errorf("admin application's tenant: %v", got)
		}
		if n := len(ksAt(ksGet(t, s, "/api/tenant", ksKey), "tenants").([]any)); n != 2 {
			t.Errorf("%d tenants, want 2", n)
		}
		tenant := ksGet(t, s, "/api/tenant/"+tenantID, ksKey)
		if ksAt(tenant, "tenant", "name") != "Pied Piper" || ksAt(tenant, "tenant", "issuer") != "piedpiper.example" {
			t.Errorf("tenant: %v", tenant["tenant"])
		}
		app := ksGet(t, s, "/api/application/"+appID, ksKey)
		if ksAt(app, "application", "tenantId") != tenantID || ksAt(app, "application", "name") != "Pied Piper app" {
			t.Errorf("application: %v", app["application"])
		}
		var roles []string
		for _, r := range ksAt(app, "application", "roles").([]any) {
			roles = append(roles, fmt.Sprint(ksAt(r, "name"), "/", ksAt(r, "description")))
		}
		slices.Sort(roles)
		if strings.Join(roles, ",") != "admin/<nil>,user/<nil>,viewer/can look" && strings.Join(roles, ",") != "admin/,user/,viewer/can look" {
			t.Errorf("roles: %v", roles)
		}
		if ksAt(ksGet(t, s, "/api/ip-acl/"+aclID, ksKey), "ipAccessControlList", "name") != "office" {
			t.Error("the IP ACL was not made")
		}

		// The tenant-scoped key, made after the request that made its tenant,
		// reads its tenant's applications and nothing else.
		if res := s.Do(t, "GET", "/api/application/"+appID, "reader-key-0123456789", nil); res.Status != http.StatusOK {
			t.Errorf("reader key on its tenant's application: %d", res.Status)
		}
		if res := s.Do(t, "GET", "/api/application/"+model.AdminApplicationID, "reader-key-0123456789", nil); res.Status != http.StatusNotFound {
			t.Errorf("reader key on another tenant's application: %d", res.Status)
		}
		if res := s.Do(t, "GET", "/api/tenant/"+tenantID, "reader-key-0123456789", nil); res.Status != http.StatusUnauthorized {
			t.Errorf("reader key outside its permissions: %d", res.Status)
		}

		if ksHasRoute("POST /api/user/registration/{userId}") {
			userID := gen["variables.userId#0"]
			reg := ksGet(t, s, "/api/user/registration/"+userID+"/"+model.AdminApplicationID, ksKey)
			if r := ksAt(reg, "registration", "roles"); fmt.Sprint(r) != "[admin]" {
				t.Errorf("admin registration roles: %v", r)
			}
			if ksHasRoute("GET /api/user/{id}") {
				u := ksGet(t, s, "/api/user/"+userID, ksKey)
				if ksAt(u, "user", "email") != "richard@piedpiper.example" || ksAt(u, "user", "tenantId") != ksDefaultTenant {
					t.Errorf("user: %v", u["user"])
				}
			}
		} else {
			t.Log("TODO: no /api/user/registration route yet: the user and registration requests were left out")
		}

		// Every change names the kickstart, including the replayed requests;
		// the same key over HTTP is an API key again.
		for _, msg := range []string{"Created tenant", "Created application", "Changed the Default tenant's id", "Created API key", "Completed kickstart"} {
			hits := ksAudit(t, s, ksKey, msg)
			if len(hits) == 0 {
				t.Errorf("no audit entry %q", msg)
			}
			for _, h := range hits {
				if h.ActorType != "kickstart" || h.InsertUser != "kickstart "+path {
					t.Errorf("audit entry %q by %s %q", h.Message, h.ActorType, h.InsertUser)
				}
			}
		}
		if res := s.Do(t, "POST", "/api/tenant", ksKey, map[string]any{"tenant": map[string]any{"name": "After"}},
			"X-Kickstart", "yes", "X-Latch-Kickstart", path); res.Status != http.StatusOK {
			t.Fatalf("create after kickstart: %d %s", res.Status, res.Body)
		}
		after := ksAudit(t, s, ksKey, "Created tenant [After]")
		if len(after) != 1 || after[0].ActorType != "apiKey" {
			t.Errorf("a request over HTTP was recorded as %+v", after)
		}
		if !strings.Contains(s.Stderr.String(), "licenseId is ignored") {
			t.Error("licenseId was not noted in the log")
		}
	})
}

// ksGenerated reads the #{UUID()} values the instance's kickstart recorded.
func ksGenerated(t *testing.T, s *testutil.Server) map[string]string {
	t.Helper()
	var text string
	if err := instanceStore(t, s.Env).DB().QueryRow("SELECT generated FROM kickstart_runs").Scan(&text); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// ksResumeFile has five requests; the third fails until fixed.
func ksResumeFile(roleName, tenantName string, extraKey bool) map[string]string {
	keys := `{"id": "#{UUID()}", "key": "` + ksKey + `"}, {"id": "#{UUID()}", "key": "second-key-0123456789", "name": "second", "permissions": {"endpoints": {"/api/tenant": ["GET"]}}}`
	if extraKey {
		keys += `, {"key": "third-key-0123456789"}`
	}
	return map[string]string{"kickstart.json": `{
  "variables": {"defaultTenantId": "` + ksDefaultTenant + `", "appId": "#{UUID()}", "tenantId": "#{UUID()}"},
  "apiKeys": [` + keys + `],
  "requests": [
    {"method": "POST", "url": "/api/tenant/#{tenantId}", "body": {"tenant": {"name": "` + tenantName + `"}}},
    {"method": "POST", "url": "/api/application/#{appId}", "tenantId": "#{tenantId}", "body": {"application": {"name": "App", "roles": [{"id": "#{UUID()}", "name": "admin"}]}}},
    {"method": "POST", "url": "/api/application/#{appId}/role/#{UUID()}", "tenantId": "#{tenantId}", "body": {"role": {"name": "` + roleName + `"}}},
    {"method": "PATCH", "url": "/api/application/#{appId}", "tenantId": "#{tenantId}", "body": {"application": {"data": {"stage": "#{UUID()}"}}}},
    {"method": "PUT", "url": "/api/tenant/#{FUSIONAUTH_TENANT_ID}", "body": {"tenant": {"name": "Default", "issuer": "resumed.example"}}}
  ]
}`}
}

// ksState is what the API shows of an instance after a kickstart, with the
// values that differ between instances (generated ids, instants, the default
// signing key, secrets made by the server) replaced by stable names.
func ksState(t *testing.T, s *testutil.Server) string {
	t.Helper()
	names := map[string]string{}
	for slot, v := range ksGenerated(t, s) {
		names[v] = "<" + slot + ">"
	}
	for _, k := range ksAt(ksGet(t, s, "/api/key", ksKey), "keys").([]any) {
		names[fmt.Sprint(ksAt(k, "id"))] = "<key " + fmt.Sprint(ksAt(k, "name")) + ">"
	}
	var state []any
	for _, p := range []string{"/api/tenant", "/api/application", "/api/api-key"} {
		state = append(state, ksGet(t, s, p, ksKey))
	}
	var clean func(v any) any
	clean = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			out := map[string]any{}
			for k, e := range x {
				switch {
				case strings.HasSuffix(k, "Instant") || k == "useCount":
				case k == "clientSecret":
					out[k] = "<secret>"
				default:
					out[k] = clean(e)
				}
			}
			return out
		case []any:
			// Sorted: lists come ordered by id, which differ between instances.
			out := make([]any, len(x))
			for i, e := range x {
				out[i] = clean(e)
			}
			slices.SortFunc(out, func(a, b any) int {
				ja, _ := json.Marshal(a)
				jb, _ := json.Marshal(b)
				return strings.Compare(string(ja), string(jb))
			})
			return out
		case string:
			if n, ok := names[x]; ok {
				return n
			}
			return x
		default:
			return v
		}
	}
	b, err := json.MarshalIndent(clean(state), "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestKickstartResumesAfterAFailure(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s := testutil.StartServer(t, testutil.WithBackend(b))
		path := ksWrite(t, ksResumeFile("", "Hooli", false))

		_, stderr, code := s.CLI(t, "kickstart", path)
		if code != 1 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		for _, w := range []string{"stopped at request 3 of 5", "POST /api/application/", "/role/", "answered 400", "[blank]role.name",
			"resumes at request 3", "requests 1–2 stay done"} {
			if !strings.Contains(stderr, w) {
				t.Errorf("the failure message does not say %q: %s", w, stderr)
			}
		}
		if !keyWorks(t, s, ksKey) {
			t.Fatal("the key made before the failure does not work")
		}
		gen := ksGenerated(t, s)
		if ksAt(ksGet(t, s, "/api/application/"+gen["variables.appId#0"], ksKey), "application", "name") != "App" {
			t.Error("request 2 did not run")
		}

		// Unchanged, it stops at request 3 again: 1 and 2 are not replayed
		// (a replayed tenant create would fail on its name), keys not doubled.
		_, stderr, code = s.CLI(t, "kickstart", path)
		if code != 1 || !strings.Contains(stderr, "stopped at request 3 of 5") {
			t.Fatalf("second attempt: exit %d: %s", code, stderr)
		}
		st := instanceStore(t, s.Env)
		if n := countOf(t, st, "SELECT COUNT(*) FROM api_keys"); n != 2 {
			t.Errorf("%d keys, want 2", n)
		}
		if n := countOf(t, st, "SELECT COUNT(*) FROM tenants"); n != 2 {
			t.Errorf("%d tenants, want 2", n)
		}
		if got := ksGenerated(t, s); !mapsEqual(got, gen) {
			t.Errorf("generated values changed between attempts: %v → %v", gen, got)
		}

		// A completed request changed: refused, nothing replayed.
		changed := ksWrite(t, ksResumeFile("editor", "Hooli XYZ", false))
		_, stderr, code = s.CLI(t, "kickstart", changed)
		if code != 1 || !strings.Contains(stderr, "request 1 (was POST /api/tenant/") || !strings.Contains(stderr, "changed in the file") {
			t.Errorf("changed completed request: exit %d: %s", code, stderr)
		}
		// So are changed keys.
		moreKeys := ksWrite(t, ksResumeFile("editor", "Hooli", true))
		_, stderr, code = s.CLI(t, "kickstart", moreKeys)
		if code != 1 || !strings.Contains(stderr, "apiKeys (or variables.defaultTenantId) changed") {
			t.Errorf("changed keys: exit %d: %s", code, stderr)
		}

		// Fixed: the next start resumes at request 3 and completes.
		fixed := ksWrite(t, ksResumeFile("editor", "Hooli", false))
		s.Stop(t)
		s = testutil.StartServer(t, testutil.WithBackend(b), testutil.WithDataDir(s.DataDir), testutil.WithEnv("LATCH_KICKSTART_FILE", fixed))
		if !strings.Contains(ksGet(t, s, "/api/tenant/"+ksDefaultTenant, ksKey)["tenant"].(map[string]any)["issuer"].(string), "resumed.example") {
			t.Fatalf("the resumed kickstart did not finish: %s", s.Stderr.String())
		}
		if n := countOf(t, instanceStore(t, s.Env), "SELECT COUNT(*) FROM kickstart_steps"); n != 5 {
			t.Errorf("%d steps recorded, want 5", n)
		}
		if n := len(ksAudit(t, s, ksKey, "Created tenant [Hooli]")); n != 1 {
			t.Errorf("the tenant was created %d times", n)
		}
		resumed := ksState(t, s)

		// A clean run of the fixed file on another fresh instance ends the same.
		b2 := b
		if b.DatabaseURL != "" {
			b2.DatabaseURL = testutil.PostgresURL(t)
		}
		clean := testutil.StartServer(t, testutil.WithBackend(b2), testutil.WithEnv("LATCH_KICKSTART_FILE", fixed))
		if !keyWorks(t, clean, ksKey) {
			t.Fatalf("clean run failed: %s", clean.Stderr.String())
		}
		if got := ksState(t, clean); got != resumed {
			t.Errorf("the resumed instance differs from a clean run:\nresumed: %s\nclean:   %s", resumed, got)
		}
	})
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestKickstartBadFilesWriteNothing(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		env := freshEnv(t, b)
		key := `{"key": "` + ksKey + `"}`
		cases := []struct {
			name  string
			files map[string]string
			want  []string
		}{
			{"invalid JSON", map[string]string{"kickstart.json": "{\n  \"apiKeys\": [\n    " + key + ",\n  ]\n}"}, []string{"kickstart.json:4:3: invalid JSON"}},
			{"missing apiKeys", map[string]string{"kickstart.json": `{"requests": []}`}, []string{`"apiKeys" is missing`}},
			{"first key not full-access", map[string]string{"kickstart.json": `{"apiKeys": [{"key": "` + ksKey + `", "permissions": {"endpoints": {"/api/user": ["GET"]}}}]}`},
				[]string{"apiKeys[0]", "every endpoint and every tenant"}},
			{"unknown variable", map[string]string{"kickstart.json": `{"apiKeys": [` + key + `], "requests": [{"method": "POST", "url": "/api/tenant", "body": {"tenant": {"name": "#{nope}"}}}]}`},
				[]string{"unknown variable #{nope}"}},
			{"missing include", map[string]string{"kickstart.json": `{"apiKeys": [` + key + `], "requests": [{"method": "POST", "url": "/api/tenant", "body": "&{json/tenant.json}"}]}`},
				[]string{"&{json/tenant.json}", "does not exist"}},
			{"key expiring beyond 100 years", map[string]string{"kickstart.json": `{"apiKeys": [` + key + `, {"key": "another-key-0123456789", "expirationInstant": 9000000000000000}]}`},
				[]string{"apiKeys[1]", "at most 100 years"}},
			{"GET request", map[string]string{"kickstart.json": `{"apiKeys": [` + key + `], "requests": [{"method": "GET", "url": "/api/tenant"}]}`},
				[]string{"the method GET is not allowed"}},
			// Found only against the database, inside the transaction that
			// would make the keys: rolled back whole.
			{"duplicate key name", map[string]string{"kickstart.json": `{"apiKeys": [{"key": "` + ksKey + `", "name": "twin"}, {"key": "another-key-0123456789", "name": "twin"}]}`},
				[]string{"apiKeys[1]", "Another API key already has this name"}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, stderr, code := latchRun(t, env, "kickstart", ksWrite(t, c.files))
				if code != 1 {
					t.Errorf("exit %d: %s", code, stderr)
				}
				for _, w := range c.want {
					if !strings.Contains(stderr, w) {
						t.Errorf("stderr does not say %q: %s", w, stderr)
					}
				}
				st := instanceStore(t, env)
				for _, q := range []string{"SELECT COUNT(*) FROM api_keys", "SELECT COUNT(*) FROM kickstart_runs",
					"SELECT COUNT(*) FROM system_settings WHERE name = 'setup_completed_instant'",
					"SELECT COUNT(*) FROM audit_log WHERE actor_type = 'kickstart'"} {
					if n := countOf(t, st, q); n != 0 {
						t.Errorf("%s = %d after a bad file", q, n)
					}
				}
				if n := countOf(t, st, "SELECT COUNT(*) FROM tenants"); n != 1 {
					t.Errorf("%d tenants after a bad file", n)
				}
			})
		}
		// Still fresh: a good file runs.
		stdout, stderr, code := latchRun(t, env, "kickstart", ksWrite(t, map[string]string{"kickstart.json": `{"apiKeys": [` + key + `]}`}))
		if code != 0 || !strings.Contains(stdout, "Kickstart complete") {
			t.Fatalf("good file after bad ones: exit %d: %s %s", code, stdout, stderr)
		}
	})
}

func TestKickstartOnlyOnAFreshInstance(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		path := ksWrite(t, map[string]string{"kickstart.json": `{"apiKeys": [{"key": "` + ksKey + `"}]}`})

		// Set up already: the command refuses, the server starts and says why.
		s := testutil.StartServer(t, testutil.WithBackend(b))
		initial := s.Setup(t)
		_, stderr, code := s.CLI(t, "kickstart", path)
		if code != 1 || !strings.Contains(stderr, "setup was already done") {
			t.Errorf("after setup: exit %d: %s", code, stderr)
		}
		s.Stop(t)
		s = testutil.StartServer(t, testutil.WithBackend(b), testutil.WithDataDir(s.DataDir),
			testutil.WithEnv("LATCH_KICKSTART_FILE", path, "LATCH_LOG_LEVEL", "info"))
		if !keyWorks(t, s, initial) || keyWorks(t, s, ksKey) {
			t.Error("the server did not start normally without the kickstart")
		}
		if !strings.Contains(s.Stderr.String(), "kickstart did not run: setup was already done") {
			t.Errorf("no log line says why: %s", s.Stderr.String())
		}

		// A key made by `latch recover api-key` before setup: not fresh either.
		b2 := b
		if b.DatabaseURL != "" {
			b2.DatabaseURL = testutil.PostgresURL(t)
		}
		s2 := testutil.StartServer(t, testutil.WithBackend(b2))
		if _, stderr, code := s2.CLI(t, "recover", "api-key"); code != 0 {
			t.Fatalf("recover: %s", stderr)
		}
		_, stderr, code = s2.CLI(t, "kickstart", path)
		if code != 1 || !strings.Contains(stderr, "not fresh: it has 1 API key(s)") {
			t.Errorf("after recover: exit %d: %s", code, stderr)
		}
	})
}

func TestKickstartDryRun(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s := testutil.StartServer(t, testutil.WithBackend(b))
		st := instanceStore(t, s.Env)
		untouched := func(what string) {
			t.Helper()
			if n := countOf(t, st, "SELECT COUNT(*) FROM api_keys"); n != 0 {
				t.Errorf("%s: %d keys", what, n)
			}
			if n := countOf(t, st, "SELECT COUNT(*) FROM tenants"); n != 1 {
				t.Errorf("%s: %d tenants", what, n)
			}
			if n := countOf(t, st, "SELECT COUNT(*) FROM kickstart_runs"); n != 0 {
				t.Errorf("%s: a kickstart run was recorded", what)
			}
		}
		full := ksWrite(t, ksFullFiles())
		cli := func(args ...string) (string, string, int) {
			return testutil.RunCLI(t, with(s.Env, ksFullEnv...), nil, args...)
		}
		stdout, stderr, code := cli("kickstart", "--dry-run", full)
		if code != 0 {
			t.Fatalf("dry run: exit %d: %s %s", code, stdout, stderr)
		}
		for _, w := range []string{"nothing was written", "Default tenant id: " + ksDefaultTenant, "API keys (2, to be made)",
			"ok 200       POST /api/tenant/", "Every request would succeed"} {
			if !strings.Contains(stdout, w) {
				t.Errorf("the plan does not say %q:\n%s", w, stdout)
			}
		}
		if strings.Contains(stdout, ksKey) || strings.Contains(stdout, "reader-key-0123456789") {
			t.Error("the plan prints key values")
		}
		untouched("after a good dry run")

		// A request the API refuses is reported with its error body; the
		// dry run goes on to the end.
		bad := ksWrite(t, ksResumeFile("", "Hooli", false))
		stdout, stderr, code = cli("kickstart", bad, "--dry-run")
		if code != 1 || !strings.Contains(stdout, "FAILED 400") || !strings.Contains(stdout, "[blank]role.name") ||
			!strings.Contains(stdout, "ok 200       PUT /api/tenant/"+ksDefaultTenant) || !strings.Contains(stderr, "1 of 5 request(s) would fail") {
			t.Errorf("dry run of a bad request: exit %d:\n%s\n%s", code, stdout, stderr)
		}
		untouched("after a failing dry run")

		// Half done: the dry run replays the rest on a copy of the instance.
		if _, _, code := s.CLI(t, "kickstart", bad); code != 1 {
			t.Fatal("the bad file did not fail")
		}
		var next int
		if err := st.DB().QueryRow("SELECT next_index FROM kickstart_runs").Scan(&next); err != nil || next != 2 {
			t.Fatalf("next index %d, %v", next, err)
		}
		fixed := ksWrite(t, ksResumeFile("editor", "Hooli", false))
		stdout, stderr, code = s.CLI(t, "kickstart", "--dry-run", fixed)
		if code != 0 || strings.Count(stdout, "done before") != 2 || strings.Count(stdout, "ok 200") != 3 {
			t.Errorf("dry run of a resume: exit %d:\n%s\n%s", code, stdout, stderr)
		}
		if err := st.DB().QueryRow("SELECT next_index FROM kickstart_runs").Scan(&next); err != nil || next != 2 {
			t.Errorf("the dry run moved the real run to %d, %v", next, err)
		}
		if n := countOf(t, st, "SELECT COUNT(*) FROM applications WHERE data LIKE '%stage%'"); n != 0 {
			t.Error("the dry run wrote to the instance")
		}

		// After completion the dry run checks against a fresh instance and says so.
		if _, stderr, code := s.CLI(t, "kickstart", fixed); code != 0 {
			t.Fatalf("resume: %s", stderr)
		}
		stdout, _, code = s.CLI(t, "kickstart", "--dry-run", fixed)
		if code != 0 || !strings.Contains(stdout, "already kickstarted") || !strings.Contains(stdout, "checked against a fresh instance instead") {
			t.Errorf("dry run on a kickstarted instance: exit %d:\n%s", code, stdout)
		}
	})
}

// TestKickstartRace: two starters on one fresh instance; one runs it, the
// other is refused, and every request runs once.
func TestKickstartRace(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		env := freshEnv(t, b)
		if _, stderr, code := latchRun(t, env, "migrate"); code != 0 {
			t.Fatal(stderr)
		}
		path := ksWrite(t, ksResumeFile("editor", "Hooli", false))
		var wg sync.WaitGroup
		codes := make([]int, 2)
		errs := make([]string, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i], codes[i] = latchRun(t, env, "kickstart", path)
			}()
		}
		wg.Wait()
		slices.Sort(codes)
		if codes[0] != 0 || codes[1] != 1 {
			t.Fatalf("exit codes %v: %v", codes, errs)
		}
		for _, e := range errs {
			if e != "" && !strings.Contains(e, "kickstart did not run") {
				t.Errorf("the loser's message: %s", e)
			}
		}
		st := instanceStore(t, env)
		if n := countOf(t, st, "SELECT COUNT(*) FROM tenants"); n != 2 {
			t.Errorf("%d tenants", n)
		}
		if n := countOf(t, st, "SELECT COUNT(*) FROM api_keys"); n != 2 {
			t.Errorf("%d keys", n)
		}
	})
}

func TestKickstartUsage(t *testing.T) {
	env := map[string]string{"LATCH_DATA_DIR": t.TempDir()}
	if _, stderr, code := latchRun(t, env, "kickstart"); code != 2 || !strings.Contains(stderr, "name the kickstart file") {
		t.Errorf("no file: %d %s", code, stderr)
	}
	if _, stderr, code := latchRun(t, env, "kickstart", "a.json", "b.json"); code != 2 || !strings.Contains(stderr, "one kickstart file at a time") {
		t.Errorf("two files: %d %s", code, stderr)
	}
	if _, stderr, code := latchRun(t, env, "kickstart", filepath.Join(t.TempDir(), "nope.json")); code != 2 || !strings.Contains(stderr, "cannot read the kickstart file") {
		t.Errorf("missing file: %d %s", code, stderr)
	}
	stdout, _, code := latchRun(t, env, "kickstart", "--help")
	if code != 0 || !strings.Contains(stdout, "--dry-run") && !strings.Contains(stdout, "-dry-run") {
		t.Errorf("help: %d %s", code, stdout)
	}
	if entries, _ := os.ReadDir(env["LATCH_DATA_DIR"]); len(entries) != 0 {
		t.Errorf("usage errors wrote to the data dir: %v", entries)
	}
}
