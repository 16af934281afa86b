package admin_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/testutil"
)

var valuePattern = regexp.MustCompile(`id="new-key" type="text" value="([^"]+)"`)

type apiKey struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	KeyManager  bool   `json:"keyManager"`
	Retrievable bool   `json:"retrievable"`
	Permissions struct {
		Endpoints map[string][]string `json:"endpoints"`
	} `json:"permissions"`
}

func (e *env) keys() map[string]apiKey {
	e.t.Helper()
	var out struct {
		APIKeys []apiKey `json:"apiKeys"`
	}
	e.api("GET", "/api/api-key", nil, 200).JSON(e.t, &out)
	m := map[string]apiKey{}
	for _, k := range out.APIKeys {
		m[k.Name] = k
	}
	return m
}

func TestCreateRestrictedKeyWithTheGrid(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		br := e.browser()
		br.signIn("admin@example.com", testPassword)
		form := br.get("/admin/api-keys/new")
		if form.status != 200 || !strings.Contains(form.body, `value="/api/user GET"`) {
			t.Fatalf("new key form: %d %s", form.status, form.body)
		}
		act, v := form.form(t, "/admin/api-keys")
		v.Set("name", "ci users")
		v.Set("description", "the CI job")
		v.Set("access", "some")
		v["perm"] = []string{"/api/user GET", "/api/user POST"}
		p := br.post(act, v)
		m := valuePattern.FindStringSubmatch(p.body)
		if p.status != 200 || m == nil {
			t.Fatalf("create: want the value page, got %d: %s", p.status, p.body)
		}
		value := m[1]
		if !strings.Contains(p.body, "will not be shown again") {
			t.Error("a non-retrievable key's page does not say it is shown once")
		}
		k := e.keys()["ci users"]
		if k.Retrievable || k.KeyManager || len(k.Permissions.Endpoints) != 1 || strings.Join(k.Permissions.Endpoints["/api/user"], ",") != "GET,POST" {
			t.Fatalf("stored key: %+v", k)
		}
		if r := e.s.Do(t, "GET", "/api/user?email=admin@example.com", value, nil); r.Status != 200 {
			t.Fatalf("the new key cannot read users: %d", r.Status)
		}
		if r := e.s.Do(t, "GET", "/api/tenant", value, nil); r.Status != 401 {
			t.Fatalf("the new key reads tenants: %d", r.Status)
		}
		// Never shown again: not on its page, not in the list.
		for _, path := range []string{"/admin/api-keys/" + k.ID, "/admin/api-keys"} {
			if got := br.get(path); got.status != 200 || strings.Contains(got.body, value) {
				t.Fatalf("%s: status %d, or it shows the value", path, got.status)
			}
		}
		// The creation is audited with the admin as the actor.
		var logs struct {
			AuditLogs []struct {
				InsertUser string `json:"insertUser"`
				Message    string `json:"message"`
			} `json:"auditLogs"`
		}
		e.api("GET", "/api/system/audit-log/search?message=ci%20users", nil, 200).JSON(t, &logs)
		found := false
		for _, l := range logs.AuditLogs {
			found = found || strings.HasPrefix(l.Message, "Created API key") && l.InsertUser == "admin@example.com"
		}
		if !found {
			t.Fatalf("no creation entry by the admin: %+v", logs)
		}
		// An empty grid is refused in words, nothing is created.
		act, v = form.form(t, "/admin/api-keys")
		v.Set("name", "nothing")
		v.Set("access", "some")
		if p := br.post(act, v); p.status != 400 || !strings.Contains(p.body, "Choose at least one endpoint") {
			t.Fatalf("empty grid: %d %s", p.status, p.body)
		}
	})
}

func TestLastKeyGuardInTheUI(t *testing.T) {
	e := start(t, testutil.Backend{})
	initial := e.keys()["Initial API key"]
	br := e.browser()
	p := br.signIn("admin@example.com", testPassword)
	csrf := p.csrf(t)
	del := "/admin/api-keys/" + initial.ID + "/delete"

	refused := br.post(del, url.Values{"csrf_token": {csrf}})
	if refused.status != 409 || !strings.Contains(refused.body, "Deleting this key would leave no key-manager key") ||
		!strings.Contains(refused.body, "confirm below") || strings.Contains(refused.body, "?force=true") {
		t.Fatalf("delete of the last manager key: %d %s", refused.status, refused.body)
	}
	if _, ok := e.keys()["Initial API key"]; !ok {
		t.Fatal("the refused delete deleted the key")
	}
	// Forcing needs a password entered within 5 minutes.
	e.clock.Advance(6 * time.Minute)
	if p := br.post(del, url.Values{"csrf_token": {csrf}, "force": {"on"}}); p.status != 403 || !strings.Contains(p.body, "Confirm it is you") {
		t.Fatalf("force without recent sign-in: %d %s", p.status, p.body)
	}
	if _, ok := e.keys()["Initial API key"]; !ok {
		t.Fatal("the force without re-authentication deleted the key")
	}
	// Sign in again (prompt=login asks for the password although the SSO session lives).
	again := br.get("/admin/login?reauth=1&next=" + url.QueryEscape("/admin/api-keys/"+initial.ID))
	if !strings.Contains(again.body, `name="loginId"`) {
		t.Fatalf("re-authentication does not ask for the password: %d %s", again.status, again.url)
	}
	back := br.submit(again, "/oauth2/authorize", "loginId", "admin@example.com", "password", testPassword)
	if back.url.Path != "/admin/api-keys/"+initial.ID {
		t.Fatalf("after re-authentication: at %s (%d)", back.url, back.status)
	}
	done := br.post(del, url.Values{"csrf_token": {back.csrf(t)}, "force": {"on"}})
	if done.status != 200 || done.url.Path != "/admin/api-keys" || strings.Contains(done.body, initial.ID) || !strings.Contains(done.body, "The API key was deleted") {
		t.Fatalf("forced delete: %d at %s", done.status, done.url)
	}
	if r := e.s.Do(t, "GET", "/api/api-key", e.key, nil); r.Status != 401 {
		t.Fatalf("the deleted initial key still works: %d", r.Status)
	}
	// The admin creates a new full-access key-manager key (the API cannot grant keyManager).
	form := br.get("/admin/api-keys/new")
	act, v := form.form(t, "/admin/api-keys")
	v.Set("name", "new manager")
	v.Set("access", "all")
	v.Set("keyManager", "on")
	created := br.post(act, v)
	m := valuePattern.FindStringSubmatch(created.body)
	if created.status != 200 || m == nil {
		t.Fatalf("create manager: %d %s", created.status, created.body)
	}
	if r := e.s.Do(t, "GET", "/api/api-key", m[1], nil); r.Status != 200 {
		t.Fatalf("the new manager key cannot manage keys: %d", r.Status)
	}
}
