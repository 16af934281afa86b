package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

// Helpers of the login, JWT and refresh token tests, prefixed "lg".

// lgEnv is a set-up server (fake clock, the test master key so that the test
// can open the signing keys) with the Default tenant's id.
type lgEnv struct {
	*akEnv
	clock  *testutil.FakeClock
	tenant string
}

func lgStart(t *testing.T, b testutil.Backend, opts ...testutil.Option) *lgEnv {
	t.Helper()
	clock := testutil.NewFakeClock()
	e := akStart(t, b, append([]testutil.Option{testutil.WithClock(clock), testutil.WithEnv("LATCH_MASTER_KEY", testutil.TestMasterKey)}, opts...)...)
	return &lgEnv{akEnv: e, clock: clock, tenant: e.defaultTenant()}
}

// want fails unless r has the status, and returns its body as an object (nil
// when empty).
func (e *lgEnv) want(what string, r *testutil.Response, status int) map[string]any {
	e.t.Helper()
	if r.Status != status {
		e.t.Fatalf("%s: status %d, want %d; body %s", what, r.Status, status, r.Body)
	}
	if len(r.Body) == 0 {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		e.t.Fatalf("%s: body %q: %v", what, r.Body, err)
	}
	return m
}

// patchTenant merges settings into the Default tenant.
func (e *lgEnv) patchTenant(settings map[string]any) {
	e.t.Helper()
	e.want("patch tenant", e.do("PATCH", "/api/tenant/"+e.tenant, e.root, map[string]any{"tenant": settings}), 200)
}

// lgAppOpts are the login settings of a test application.
type lgAppOpts struct {
	requireKey, refresh bool
	roles               []string
	jwt                 map[string]any // jwtConfiguration (enabled when set)
	verifyRegistration  bool
}

// app creates an application in the Default tenant and returns its id.
func (e *lgEnv) app(name string, o lgAppOpts) string {
	e.t.Helper()
	roles := []any{}
	for _, r := range o.roles {
		roles = append(roles, map[string]any{"name": r})
	}
	a := map[string]any{"name": name, "tenantId": e.tenant, "roles": roles, "verifyRegistration": o.verifyRegistration,
		"loginConfiguration": map[string]any{"requireAuthentication": o.requireKey, "generateRefreshTokens": o.refresh,
			"allowTokenRefresh": o.refresh}}
	if o.jwt != nil {
		j := map[string]any{"enabled": true, "timeToLiveInSeconds": 3600, "refreshTokenTimeToLiveInMinutes": 60,
			"refreshTokenExpirationPolicy": "Fixed", "refreshTokenUsagePolicy": "Reusable"}
		for k, v := range o.jwt {
			j[k] = v
		}
		a["jwtConfiguration"] = j
	}
	m := e.want("create application "+name, e.do("POST", "/api/application", e.root, map[string]any{"application": a}), 200)
	return m["application"].(map[string]any)["id"].(string)
}

// user creates a verified user with a password and returns its id.
func (e *lgEnv) user(email, pw string, extra map[string]any) string {
	e.t.Helper()
	u := map[string]any{"email": email, "password": pw, "tenantId": e.tenant}
	for k, v := range extra {
		u[k] = v
	}
	m := e.want("create user "+email, e.do("POST", "/api/user", e.root, map[string]any{"user": u, "skipVerification": true}), 200)
	return m["user"].(map[string]any)["id"].(string)
}

// register registers a user for an application with roles.
func (e *lgEnv) register(userID, appID string, roles ...string) {
	e.t.Helper()
	if roles == nil {
		roles = []string{}
	}
	e.want("register", e.do("POST", "/api/user/registration/"+userID, e.root,
		map[string]any{"registration": map[string]any{"applicationId": appID, "roles": roles}, "skipRegistrationVerification": true}), 200)
}

// login posts a LoginRequest with key (may be "").
func (e *lgEnv) login(key string, req map[string]any, headers ...string) *testutil.Response {
	e.t.Helper()
	return e.do("POST", "/api/login", key, req, headers...)
}

// loginOK logs in and wants status; it returns the body.
func (e *lgEnv) loginOK(what, key string, req map[string]any, status int) map[string]any {
	e.t.Helper()
	return e.want(what, e.login(key, req), status)
}

// lgClaims decodes a JWT's payload without checking it.
func lgClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %q", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("payload: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("payload: %v", err)
	}
	return m
}

// lgHeader decodes a JWT's header.
func lgHeader(t *testing.T, token string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatalf("header: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("header: %v", err)
	}
	return m
}

// validate calls /api/jwt/validate with the token as a Bearer header.
func (e *lgEnv) validate(token string) *testutil.Response {
	e.t.Helper()
	return e.do("GET", "/api/jwt/validate", "", nil, "Authorization", "Bearer "+token)
}

// refresh exchanges a refresh token.
func (e *lgEnv) refresh(rt string) *testutil.Response {
	e.t.Helper()
	return e.do("POST", "/api/jwt/refresh", "", map[string]any{"refreshToken": rt})
}

// loginKey makes a key allowed to call only the given family and methods.
func (e *lgEnv) loginKey(endpoint string, methods ...string) string {
	e.t.Helper()
	v, _ := e.insertKey(model.APIKey{Permissions: model.APIKeyPermissions{Endpoints: map[string][]string{endpoint: methods}}})
	return v
}

// cookie returns the value of a Set-Cookie of r, and whether it was set.
func lgCookie(r *testutil.Response, name string) (*http.Cookie, bool) {
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == name {
			return c, true
		}
	}
	return nil, false
}

func lgStr(v any) string { s, _ := v.(string); return s }

func lgEmail(prefix string) string {
	return fmt.Sprintf("%s-%s@example.com", prefix, uuid.NewString()[:8])
}

const lgPassword = "correct horse battery"

// lgAuditMessages lists audit messages with a target.
func (e *lgEnv) lgAuditMessages(target string) []string {
	e.t.Helper()
	var out []string
	for _, a := range e.audits(target) {
		out = append(out, a.Message)
	}
	return out
}

// loginRecords reads a user's login records, newest first.
func (e *lgEnv) loginRecords(userID string) []*store.LoginRecord {
	e.t.Helper()
	recs, err := e.st.Read().LoginRecords(context.Background(), userID, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	return recs
}

// modelKeyForTenant is a key of one tenant with every endpoint.
func modelKeyForTenant(tenantID string) model.APIKey { return model.APIKey{TenantID: tenantID} }

// refused fails unless r refuses a refresh token as FusionAuth does: 400
// with [invalid]refreshToken.
func (e *lgEnv) refused(what string, r *testutil.Response) {
	e.t.Helper()
	if r.Status != 400 || !slices.Contains(errorCodes(e.t, r), "[invalid]refreshToken") {
		e.t.Fatalf("%s: %d %s, want 400 [invalid]refreshToken", what, r.Status, r.Body)
	}
}
