package api_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/testutil"
)

// Helpers of the tenant and application tests, prefixed "ta" (other tests of
// this package keep their own helpers).

type taEnv struct{ *apiEnv }

func taStart(t *testing.T, b testutil.Backend) *taEnv {
	t.Helper()
	return &taEnv{startEnv(t, b)}
}

// ok fails unless r is 200 and returns the body's member name.
func (e *taEnv) ok(what string, r *testutil.Response, name string) map[string]any {
	e.t.Helper()
	if r.Status != 200 {
		e.t.Fatalf("%s: status %d, want 200; body %s", what, r.Status, r.Body)
	}
	m, ok := decodeObject(e.t, r)[name].(map[string]any)
	if !ok {
		e.t.Fatalf("%s: no %q object in %s", what, name, r.Body)
	}
	return m
}

func (e *taEnv) createTenant(name string) map[string]any {
	e.t.Helper()
	return e.ok("create tenant "+name, e.do("POST", "/api/tenant", e.root, map[string]any{"tenant": map[string]any{"name": name}}), "tenant")
}

func (e *taEnv) createApp(tenantID, name string) map[string]any {
	e.t.Helper()
	return e.ok("create application "+name, e.do("POST", "/api/application", e.root,
		map[string]any{"application": map[string]any{"name": name, "tenantId": tenantID}}), "application")
}

// scopedKey makes a key limited to the tenants, allowed every endpoint, and
// returns its value and id.
func (e *taEnv) scopedKey(tenants ...string) (string, string) {
	e.t.Helper()
	k := map[string]any{"tenantIds": tenants}
	if len(tenants) == 1 {
		k = map[string]any{"tenantId": tenants[0]}
	}
	r := e.do("POST", "/api/api-key", e.root, map[string]any{"apiKey": k})
	if r.Status != 200 {
		e.t.Fatalf("create scoped key: %d %s", r.Status, r.Body)
	}
	var body struct {
		APIKey model.APIKey `json:"apiKey"`
	}
	r.JSON(e.t, &body)
	return body.APIKey.Key, body.APIKey.ID
}

// taNum is a JSON number for comparisons with model.JSONEqual.
func taNum(n int64) json.Number { return json.Number(fmt.Sprint(n)) }

// taExample reads a FusionAuth documentation example kept in testdata
// (copied verbatim from FusionAuth's site, Apache-2.0; see
// shared/reference/fusionauth/examples/MANIFEST.json for the source).
func taExample(t *testing.T, name string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	v, err := model.DecodeJSONValue(data)
	if err != nil {
		t.Fatalf("example %s: %v", name, err)
	}
	return v.(map[string]any)
}

// exampleKeys generates the signing keys an example's jwtConfiguration names
// and the email templates its emailConfiguration names, with those ids: a
// tenant or application may only name keys and templates that exist.
func (e *taEnv) exampleKeys(o map[string]any) {
	e.t.Helper()
	ec, _ := o["emailConfiguration"].(map[string]any)
	for f, v := range ec {
		id, _ := v.(string)
		if !strings.HasSuffix(f, "EmailTemplateId") || id == "" {
			continue
		}
		if r := e.do("GET", "/api/email/template/"+id, e.root, nil); r.Status == 200 {
			continue
		}
		r := e.do("POST", "/api/email/template/"+id, e.root, map[string]any{"emailTemplate": map[string]any{"name": "example " + f + " " + id,
			"defaultSubject": "Example", "defaultTextTemplate": "Example"}})
		if r.Status != 200 {
			e.t.Fatalf("create example template %s: %d %s", id, r.Status, r.Body)
		}
	}
	jwt, _ := o["jwtConfiguration"].(map[string]any)
	for _, f := range []string{"accessTokenKeyId", "idTokenKeyId"} {
		id, _ := jwt[f].(string)
		if id == "" {
			continue
		}
		if r := e.do("GET", "/api/key/"+id, e.root, nil); r.Status == 200 {
			continue
		}
		r := e.do("POST", "/api/key/generate/"+id, e.root, map[string]any{"key": map[string]any{"name": "example " + f, "algorithm": "ES256"}})
		if r.Status != 200 {
			e.t.Fatalf("generate example key %s: %d %s", id, r.Status, r.Body)
		}
	}
}
