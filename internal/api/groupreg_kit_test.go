package api_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/services"
	"github.com/latchid/latch/internal/testutil"
)

// Helpers of the registration and group tests, prefixed "rg". They build on
// the tenant and application helpers (taEnv).

type rgEnv struct {
	*taEnv
}

func rgStart(t *testing.T, b testutil.Backend) *rgEnv {
	t.Helper()
	return &rgEnv{taStart(t, b)}
}

// user creates a user with the email in the tenant (the only one when "").
func (e *rgEnv) user(email, tenantID string) string {
	e.t.Helper()
	u := map[string]any{"email": email, "password": "correct horse battery"}
	if tenantID != "" {
		u["tenantId"] = tenantID
	}
	return e.ok("create user "+email, e.do("POST", "/api/user", e.root, map[string]any{"user": u}), "user")["id"].(string)
}

// appWithRoles creates an application with roles; the first is a default role.
func (e *rgEnv) appWithRoles(tenantID, name string, roles ...string) (string, map[string]string) {
	e.t.Helper()
	list := make([]any, len(roles))
	for i, r := range roles {
		list[i] = map[string]any{"name": r, "isDefault": i == 0}
	}
	app := map[string]any{"name": name, "roles": list}
	if tenantID != "" {
		app["tenantId"] = tenantID
	}
	created := e.ok("create application "+name, e.do("POST", "/api/application", e.root, map[string]any{"application": app}), "application")
	ids := map[string]string{}
	for _, r := range created["roles"].([]any) {
		ids[r.(map[string]any)["name"].(string)] = r.(map[string]any)["id"].(string)
	}
	return created["id"].(string), ids
}

// register registers a user and returns the registration.
func (e *rgEnv) register(userID string, reg map[string]any) map[string]any {
	e.t.Helper()
	return e.ok("register", e.do("POST", "/api/user/registration/"+userID, e.root, map[string]any{"registration": reg}), "registration")
}

// service is a set of domain services on the server's database, for what the API does
// not show yet (effective roles, memberships).
func (e *rgEnv) service() *services.Set {
	return services.New(e.st, e.s.Clock, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), services.Options{})
}

// rgStrings returns a decoded array of strings.
func rgStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func rgEqual(got []string, want ...string) bool {
	return slices.Equal(got, want) || (len(got) == 0 && len(want) == 0)
}

// auditMessages returns the messages of the audit entries about target.
func (e *rgEnv) auditMessages(target string) []string {
	var out []string
	for _, a := range e.audits(target) {
		out = append(out, a.Message)
	}
	return out
}

func rgHasPrefix(list []string, prefix string) bool {
	return slices.ContainsFunc(list, func(s string) bool { return strings.HasPrefix(s, prefix) })
}

// effective calls kit.EffectiveRoles.
func (e *rgEnv) effective(userID, appID string) ([]string, bool) {
	e.t.Helper()
	roles, registered, err := kit.EffectiveRoles(context.Background(), e.service().Store().Read(), userID, appID)
	if err != nil {
		e.t.Fatalf("effective roles: %v", err)
	}
	return roles, registered
}

func rgNewID() string { return uuid.NewString() }
