package kickstart

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/model"
)

const (
	firstKey    = "4737ea8520bd454caabb7cb3d36e14bc1832c0d3f70a4189b82598670f11b1bd"
	defTenant   = "11111111-2222-3333-4444-555555555555"
	signingKey  = "99999999-8888-7777-6666-555555555555"
	chosenTenID = "30663132-6464-6665-3032-326466613934"
)

// write creates files in a fresh directory and returns its path.
func write(t *testing.T, files map[string]string) string {
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
	return dir
}

// counter makes predictable UUIDs.
func counter() func() string {
	n := 0
	return func() string { n++; return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }
}

func testEnv(env map[string]string) Env {
	return Env{
		Getenv:    func(k string) string { return env[k] },
		Builtins:  map[string]string{VarApplicationID: model.AdminApplicationID, VarTenantID: defTenant, VarDefaultSigningKey: signingKey},
		NowMillis: 1_700_000_000_000,
		NewUUID:   counter(),
	}
}

func load(t *testing.T, files map[string]string, env Env) (*Plan, error) {
	t.Helper()
	dir := write(t, files)
	return Load(filepath.Join(dir, "kickstart.json"), env)
}

func body(t *testing.T, r Request) map[string]any {
	t.Helper()
	v, err := model.DecodeJSONValue(r.Body)
	if err != nil {
		t.Fatalf("request %d body %q: %v", r.Index, r.Body, err)
	}
	return v.(map[string]any)
}

func TestSimplestFile(t *testing.T) {
	plan, err := load(t, map[string]string{"kickstart.json": `{"apiKeys":[{"key":"` + firstKey + `"}]}`}, testEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Keys) != 1 || plan.Keys[0].Value != firstKey || !plan.Keys[0].KeyManager || plan.Keys[0].Retrievable {
		t.Errorf("keys: %+v", plan.Keys)
	}
	if len(plan.Requests) != 0 || plan.DefaultTenantID != "" {
		t.Errorf("plan: %+v", plan)
	}
}

func TestReplacements(t *testing.T) {
	files := map[string]string{
		"kickstart.json": `{
  "variables": {
    "appId": "#{UUID()}",
    "port": 587,
    "admin": "#{ENV.ADMIN_EMAIL}",
    "pair": "#{UUID()}/#{UUID()}"
  },
  "apiKeys": [
    {"key": "#{ENV.KS_KEY}", "description": "the first"},
    {"key": "a-second-long-key-value", "tenantId": "#{FUSIONAUTH_TENANT_ID}", "keyManager": true,
     "permissions": {"endpoints": {"/api/user": ["get", "POST"]}}, "retrievable": true}
  ],
  "requests": [
    {"method": "post", "url": "/api/application/#{appId}", "tenantId": "#{FUSIONAUTH_TENANT_ID}", "body": "&{json/app.json}"},
    "&{json/request.json}",
    {"method": "PATCH", "url": "/api/tenant/#{FUSIONAUTH_TENANT_ID}", "contentType": "application/merge-patch+json",
     "body": {"tenant": {"emailConfiguration": {"port": "#{port}", "host": "smtp #{port}"},
       "note": "\\#{kept} \\@{kept} \\&{kept} back\\slash", "template": "<p>@{email.html}</p>",
       "#{appId}": "#{UUID()}", "ids": ["#{UUID()}", "#{FUSIONAUTH_APPLICATION_ID}", "#{FUSIONAUTH_DEFAULT_SIGNING_KEY_ID}"]}}}
  ],
  "licenseId": "abc",
  "settings": {"connectTimeout": 1000, "readTimeout": 5000}
}`,
		"json/app.json":     `{"application": {"name": "App #{appId}", "roles": [{"name": "admin"}], "owner": "#{admin}"}}`,
		"json/request.json": `{"method": "PUT", "url": "/api/application/#{appId}", "body": {"application": {"name": "renamed"}}}`,
		"email.html":        "Hi \"you\" & <b>me</b>\n",
	}
	plan, err := load(t, files, testEnv(map[string]string{"KS_KEY": "from-the-environment-1", "ADMIN_EMAIL": "a@example.com"}))
	if err != nil {
		t.Fatal(err)
	}
	// Variables are resolved in sorted order: appId, then pair.
	appID := "00000000-0000-4000-8000-000000000001"
	if plan.Keys[0].Value != "from-the-environment-1" || plan.Keys[0].Description != "the first" {
		t.Errorf("first key: %+v", plan.Keys[0])
	}
	k2 := plan.Keys[1]
	if k2.TenantIDs[0] != defTenant || !k2.KeyManager || !k2.Retrievable || len(k2.Endpoints["/api/user"]) != 2 {
		t.Errorf("second key: %+v", k2)
	}
	if len(plan.Requests) != 3 {
		t.Fatalf("requests: %+v", plan.Requests)
	}
	r0 := plan.Requests[0]
	if r0.Method != "POST" || r0.URL != "/api/application/"+appID || r0.TenantID != defTenant || r0.ContentType != "" {
		t.Errorf("request 0: %+v", r0)
	}
	b0 := body(t, r0)["application"].(map[string]any)
	if b0["name"] != "App "+appID || b0["owner"] != "a@example.com" {
		t.Errorf("included body: %v", b0)
	}
	if r1 := plan.Requests[1]; r1.Method != "PUT" || r1.URL != "/api/application/"+appID {
		t.Errorf("whole included request: %+v", r1)
	}
	r2 := plan.Requests[2]
	if r2.ContentType != "application/merge-patch+json" {
		t.Errorf("content type: %q", r2.ContentType)
	}
	tb := body(t, r2)["tenant"].(map[string]any)
	ec := tb["emailConfiguration"].(map[string]any)
	if ec["port"] != json.Number("587") || ec["host"] != "smtp 587" {
		t.Errorf("typed and spliced variables: %v", ec)
	}
	if tb["note"] != `#{kept} @{kept} &{kept} back\slash` {
		t.Errorf("escapes: %q", tb["note"])
	}
	if tb["template"] != "<p>Hi \"you\" & <b>me</b>\n</p>" {
		t.Errorf("text include: %q", tb["template"])
	}
	if _, ok := tb[appID]; !ok {
		t.Errorf("member names are resolved: %v", tb)
	}
	ids := tb["ids"].([]any)
	if ids[1] != model.AdminApplicationID || ids[2] != signingKey {
		t.Errorf("built-ins: %v", ids)
	}
	if !strings.Contains(string(r2.Body), "<b>") {
		t.Errorf("HTML is not escaped in bodies: %s", r2.Body)
	}
	if plan.ReadTimeout != 5000 || len(plan.Notes) != 1 {
		t.Errorf("settings/notes: %d %v", plan.ReadTimeout, plan.Notes)
	}
	// appId, pair×2, request 2's member name and ids[0].
	if plan.Fresh != 5 || len(plan.Generated) != 5 {
		t.Errorf("generated: %d %v", plan.Fresh, plan.Generated)
	}

	// A resume with the recorded values sends exactly the same requests.
	env := testEnv(map[string]string{"KS_KEY": "from-the-environment-1", "ADMIN_EMAIL": "a@example.com"})
	env.Generated = plan.Generated
	env.NewUUID = func() string { t.Fatal("a resume must not make new UUIDs"); return "" }
	again, err := load(t, files, env)
	if err != nil {
		t.Fatal(err)
	}
	if again.Fresh != 0 || again.KeysHash != plan.KeysHash {
		t.Errorf("resume: fresh %d, keys hash %s vs %s", again.Fresh, again.KeysHash, plan.KeysHash)
	}
	for i := range plan.Requests {
		if again.Requests[i].Hash != plan.Requests[i].Hash {
			t.Errorf("request %d hash changed on resume", i)
		}
	}
}

func TestDefaultTenantID(t *testing.T) {
	plan, err := load(t, map[string]string{"kickstart.json": `{
		"variables": {"defaultTenantId": "` + strings.ToUpper(chosenTenID) + `", "other": "#{FUSIONAUTH_TENANT_ID}"},
		"apiKeys": [{"key": "` + firstKey + `"}],
		"requests": [{"method": "PATCH", "url": "/api/tenant/#{FUSIONAUTH_TENANT_ID}", "body": {"tenant": {"name": "#{other}"}}}]}`}, testEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if plan.DefaultTenantID != chosenTenID || plan.Requests[0].URL != "/api/tenant/"+chosenTenID {
		t.Errorf("plan: %+v", plan)
	}
	if body(t, plan.Requests[0])["tenant"].(map[string]any)["name"] != chosenTenID {
		t.Errorf("variables see the chosen id: %s", plan.Requests[0].Body)
	}
}

func TestBadFiles(t *testing.T) {
	key := `{"key": "` + firstKey + `"}`
	cases := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"invalid JSON names line and column", map[string]string{"kickstart.json": "{\n  \"apiKeys\": [\n    {\"key\": \"x\",}\n  ]\n}"},
			[]string{"kickstart.json:3:17: invalid JSON"}},
		{"truncated", map[string]string{"kickstart.json": `{"apiKeys": [`}, []string{"unexpected end of the file"}},
		{"empty", map[string]string{"kickstart.json": " \n"}, []string{"the file is empty"}},
		{"not an object", map[string]string{"kickstart.json": `[]`}, []string{"must be a JSON object"}},
		{"missing apiKeys", map[string]string{"kickstart.json": `{"requests": []}`}, []string{`"apiKeys" is missing`}},
		{"empty apiKeys", map[string]string{"kickstart.json": `{"apiKeys": []}`}, []string{`"apiKeys" is empty`}},
		{"first key limited to endpoints", map[string]string{"kickstart.json": `{"apiKeys": [{"key": "` + firstKey + `", "permissions": {"endpoints": {"/api/user": ["GET"]}}}]}`},
			[]string{"apiKeys[0]: the first API key", "must not limit permissions.endpoints"}},
		{"first key limited to a tenant", map[string]string{"kickstart.json": `{"apiKeys": [{"key": "` + firstKey + `", "tenantId": "` + defTenant + `"}]}`},
			[]string{"must not be limited to a tenant"}},
		{"first key not a manager", map[string]string{"kickstart.json": `{"apiKeys": [{"key": "` + firstKey + `", "keyManager": false}]}`},
			[]string{"must not set keyManager to false"}},
		{"key without value", map[string]string{"kickstart.json": `{"apiKeys": [{"description": "x"}]}`}, []string{`needs its value in "key"`}},
		{"short key", map[string]string{"kickstart.json": `{"apiKeys": [{"key": "short"}]}`}, []string{"at least 16 characters"}},
		{"duplicate key values", map[string]string{"kickstart.json": `{"apiKeys": [` + key + `,` + key + `]}`}, []string{"the same as apiKeys[0]'s"}},
		{"key member of the wrong type", map[string]string{"kickstart.json": `{"apiKeys": [{"key": "` + firstKey + `", "keyManager": "yes"}]}`},
			[]string{"keyManager must be a boolean"}},
		{"unknown key member", map[string]string{"kickstart.json": `{"apiKeys": [{"key": "` + firstKey + `", "secret": 1}]}`}, []string{`unknown member "secret"`}},
		{"key member in other letter case", map[string]string{"kickstart.json": `{"apiKeys": [` + key + `, {"key": "another-key-0123456789", "permissions": {"Endpoints": {"/api/user": ["GET"]}}}]}`},
			[]string{"apiKeys[1]: [permissions.Endpoints] differs from the field [permissions.endpoints] only in letter case"}},
		{"bad permission", map[string]string{"kickstart.json": `{"apiKeys": [` + key + `, {"key": "another-key-0123456789", "permissions": {"endpoints": {"/api/nope": ["GET"]}}}]}`},
			[]string{"apiKeys[1]", "/api/nope"}},
		{"unknown variable", map[string]string{"kickstart.json": `{"apiKeys": [` + key + `], "requests": [{"method": "POST", "url": "/api/tenant", "body": {"tenant": {"name": "#{nope}"}}}]}`},
			[]string{"requests[0].body.tenant.name: unknown variable #{nope}"}},
		{"unset environment variable", map[string]string{"kickstart.json": `{"apiKeys": [{"key": "#{ENV.NOT_SET}"}]}`}, []string{"NOT_SET in #{ENV.NOT_SET} is not set"}},
		{"variable using a variable", map[string]string{"kickstart.json": `{"variables": {"a": "x", "b": "#{a}"}, "apiKeys": [` + key + `]}`},
			[]string{"a variable cannot refer to another variable"}},
		{"redefined built-in", map[string]string{"kickstart.json": `{"variables": {"FUSIONAUTH_TENANT_ID": "x"}, "apiKeys": [` + key + `]}`},
			[]string{"cannot be redefined"}},
		{"bad defaultTenantId", map[string]string{"kickstart.json": `{"variables": {"defaultTenantId": "nope"}, "apiKeys": [` + key + `]}`},
			[]string{"defaultTenantId must be a UUID"}},
		{"missing JSON include", map[string]string{"kickstart.json": `{"apiKeys": [` + key + `], "requests": [{"method": "POST", "url": "/api/tenant", "body": "&{json/nope.json}"}]}`},
			[]string{"requests[0].body: &{json/nope.json}", "does not exist"}},
		{"missing text include", map[string]string{"kickstart.json": `{"apiKeys": [` + key + `], "requests": [{"method": "POST", "url": "/api/tenant", "body": {"t": "@{nope.txt}"}}]}`},
			[]string{"@{nope.txt}", "does not exist"}},
		{"include with invalid JSON", map[string]string{"kickstart.json": `{"apiKeys": [` + key + `], "requests": ["&{r.json}"]}`, "r.json": "{\n\"method\": POST}"},
			[]string{"r.json:2:11: invalid JSON"}},
		{"include cycle", map[string]string{"kickstart.json": `{"apiKeys": [` + key + `], "requests": ["&{a.json}"]}`, "a.json": `"&{b.json}"`, "b.json": `"&{a.json}"`},
			[]string{"cycle"}},
		{"JSON include inside a string", map[string]string{"kickstart.json": `{"apiKeys": [` + key + `], "requests": [{"method": "POST", "url": "/api/tenant", "body": {"t": "x &{a.json}"}}]}`},
			[]string{"must be the whole string value"}},
		{"unclosed marker", map[string]string{"kickstart.json": `{"apiKeys": [` + key + `], "requests": [{"method": "POST", "url": "/api/tenant", "body": {"t": "#{oops"}}]}`},
			[]string{"is not closed"}},
		{"GET request", map[string]string{"kickstart.json": `{"apiKeys": [` + key + `], "requests": [{"method": "GET", "url": "/api/tenant"}]}`},
			[]string{"requests[0]: the method GET is not allowed"}},
		{"DELETE request", map[string]string{"kickstart.json": `{"apiKeys": [` + key + `], "requests": [{"method": "DELETE", "url": "/api/tenant/x"}]}`},
			[]string{"the method DELETE is not allowed"}},
		{"absolute URL", map[string]string{"kickstart.json": `{"apiKeys": [` + key + `], "requests": [{"method": "POST", "url": "http://evil.example/api/tenant"}]}`},
			[]string{"must be an API path"}},
		{"missing url", map[string]string{"kickstart.json": `{"apiKeys": [` + key + `], "requests": [{"method": "POST"}]}`}, []string{"requests[0].url is missing"}},
		{"unknown request member", map[string]string{"kickstart.json": `{"apiKeys": [` + key + `], "requests": [{"method": "POST", "url": "/api/x", "headers": {}}]}`},
			[]string{`unknown member "headers"`}},
		{"bad request tenant", map[string]string{"kickstart.json": `{"apiKeys": [` + key + `], "requests": [{"method": "POST", "url": "/api/x", "tenantId": "nope"}]}`},
			[]string{"tenantId \"nope\" must be a UUID"}},
		{"unknown top-level member", map[string]string{"kickstart.json": `{"apiKeys": [` + key + `], "request": []}`}, []string{`unknown top-level member "request"`}},
		{"bad settings", map[string]string{"kickstart.json": `{"apiKeys": [` + key + `], "settings": {"readTimeout": -1}}`}, []string{"settings.readTimeout"}},
		{"several problems at once", map[string]string{"kickstart.json": `{"apiKeys": [{"key": "short"}], "requests": [{"method": "GET", "url": "/api/x"}, {"method": "POST", "url": "/api/#{x}"}]}`},
			[]string{"3 problems", "at least 16", "GET is not allowed", "unknown variable #{x}"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := load(t, c.files, testEnv(nil))
			var ferr *FileError
			if !errors.As(err, &ferr) {
				t.Fatalf("want a FileError, got %v", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.json"), testEnv(nil))
	var ferr *FileError
	if !errors.As(err, &ferr) || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("err = %v", err)
	}
}

// TestRequestHash: the hash identifies the request as sent, whatever the
// formatting of the file.
func TestRequestHash(t *testing.T) {
	a, err := load(t, map[string]string{"kickstart.json": `{"apiKeys": [{"key": "` + firstKey + `"}],
		"requests": [{"method": "POST", "url": "/api/tenant", "body": {"tenant": {"name": "A", "issuer": "x"}}}]}`}, testEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	b, err := load(t, map[string]string{"kickstart.json": `{"requests": [{"body": {"tenant": {"issuer": "x",
		"name": "A"}}, "url": "/api/tenant", "method": "post"}], "apiKeys": [{"key": "` + firstKey + `"}]}`}, testEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if a.Requests[0].Hash != b.Requests[0].Hash {
		t.Error("the same request written differently hashes differently")
	}
	c, err := load(t, map[string]string{"kickstart.json": `{"apiKeys": [{"key": "` + firstKey + `"}],
		"requests": [{"method": "POST", "url": "/api/tenant", "body": {"tenant": {"name": "B", "issuer": "x"}}}]}`}, testEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if a.Requests[0].Hash == c.Requests[0].Hash {
		t.Error("a changed body hashes the same")
	}
}

func FuzzLoad(f *testing.F) {
	f.Add(`{"apiKeys":[{"key":"` + firstKey + `"}],"requests":[{"method":"POST","url":"/api/x","body":{"a":"#{UUID()} \\#{x} @{y"}}]}`)
	f.Add(`{"variables":{"a":"#{ENV.A}"},"apiKeys":[{"key":"#{a}"}]}`)
	f.Fuzz(func(t *testing.T, text string) {
		dir := t.TempDir()
		p := filepath.Join(dir, "kickstart.json")
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		plan, err := Load(p, testEnv(map[string]string{"A": "0123456789abcdef0123"}))
		if err != nil {
			var ferr *FileError
			if !errors.As(err, &ferr) {
				t.Fatalf("not a FileError: %v", err)
			}
			return
		}
		if len(plan.Keys) == 0 {
			t.Fatal("a plan without keys")
		}
	})
}
