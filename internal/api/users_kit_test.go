package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/testutil"
)

// Helpers of the user tests, prefixed "us".

type usEnv struct {
	*apiEnv
	clock *testutil.FakeClock
}

func usStart(t *testing.T, b testutil.Backend, opts ...testutil.Option) *usEnv {
	t.Helper()
	clock := testutil.NewFakeClock()
	return &usEnv{apiEnv: startEnv(t, b, append([]testutil.Option{testutil.WithClock(clock)}, opts...)...), clock: clock}
}

// user fails unless r is 200 with a "user" object, and returns it.
func (e *usEnv) user(what string, r *testutil.Response) map[string]any {
	e.t.Helper()
	if r.Status != 200 {
		e.t.Fatalf("%s: status %d, want 200; body %s", what, r.Status, r.Body)
	}
	u, ok := decodeObject(e.t, r)["user"].(map[string]any)
	if !ok {
		e.t.Fatalf("%s: no user object in %s", what, r.Body)
	}
	return u
}

// create makes a user from a user object and returns it.
func (e *usEnv) create(u map[string]any, headers ...string) map[string]any {
	e.t.Helper()
	return e.user(fmt.Sprintf("create user %v", u["email"]), e.do("POST", "/api/user", e.root, map[string]any{"user": u}, headers...))
}

func (e *usEnv) createTenant(name string, extra map[string]any) string {
	e.t.Helper()
	tn := map[string]any{"name": name}
	for k, v := range extra {
		tn[k] = v
	}
	r := e.do("POST", "/api/tenant", e.root, map[string]any{"tenant": tn})
	if r.Status != 200 {
		e.t.Fatalf("create tenant %s: %d %s", name, r.Status, r.Body)
	}
	return decodeObject(e.t, r)["tenant"].(map[string]any)["id"].(string)
}

// patchTenant merges settings into a tenant (FusionAuth's PATCH).
func (e *usEnv) patchTenant(id string, tenant map[string]any) {
	e.t.Helper()
	r := e.do("PATCH", "/api/tenant/"+id, e.root, map[string]any{"tenant": tenant})
	if r.Status != 200 {
		e.t.Fatalf("patch tenant: %d %s", r.Status, r.Body)
	}
}

// scopedKey makes a key limited to the tenants, allowed every endpoint.
func (e *usEnv) scopedKey(tenants ...string) string {
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
	return body.APIKey.Key
}

// search runs a POST search and returns the ids in order, the total and nextResults.
func (e *usEnv) search(key string, criteria map[string]any, headers ...string) ([]string, int, string) {
	e.t.Helper()
	r := e.do("POST", "/api/user/search", key, map[string]any{"search": criteria}, headers...)
	if r.Status != 200 {
		e.t.Fatalf("search %v: %d %s", criteria, r.Status, r.Body)
	}
	var body struct {
		Users []struct {
			ID    string `json:"id"`
			Email string `json:"email"`
		} `json:"users"`
		Total       int    `json:"total"`
		NextResults string `json:"nextResults"`
	}
	r.JSON(e.t, &body)
	ids := make([]string, len(body.Users))
	for i, u := range body.Users {
		ids[i] = u.ID
	}
	return ids, body.Total, body.NextResults
}

// searchEmails is search returning emails instead of ids.
func (e *usEnv) searchEmails(criteria map[string]any) ([]string, int) {
	e.t.Helper()
	r := e.do("POST", "/api/user/search", e.root, map[string]any{"search": criteria})
	if r.Status != 200 {
		e.t.Fatalf("search %v: %d %s", criteria, r.Status, r.Body)
	}
	var body struct {
		Users []struct {
			Email string `json:"email"`
		} `json:"users"`
		Total int `json:"total"`
	}
	r.JSON(e.t, &body)
	out := make([]string, len(body.Users))
	for i, u := range body.Users {
		out[i] = u.Email
	}
	return out, body.Total
}

// auditText returns every audit entry the server wrote, as JSON text.
func (e *usEnv) auditText() string {
	e.t.Helper()
	var sb strings.Builder
	rows, err := e.st.DB().Query("SELECT message, COALESCE(data, ''), COALESCE(old_value, ''), COALESCE(new_value, '') FROM audit_log")
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var a, b, c, d string
		if err := rows.Scan(&a, &b, &c, &d); err != nil {
			e.t.Fatal(err)
		}
		sb.WriteString(a + "\n" + b + "\n" + c + "\n" + d + "\n")
	}
	return sb.String()
}
