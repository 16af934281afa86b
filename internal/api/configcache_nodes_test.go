package api_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/testutil"
)

// Tenant and application settings are cached in memory on every node
// (tenancy/configcache.go). A change made through one node applies on that node
// to the next request, and on the others within one poll (250ms; like the
// other cache tests, the delay is logged and only 10s fails).
func TestConfigChangesReachEveryNode(t *testing.T) {
	t.Parallel()
	pg := testutil.Backend{Name: "postgres", DatabaseURL: testutil.PostgresURL(t)}
	nodeA := testutil.StartServer(t, testutil.WithBackend(pg))
	nodeB := testutil.StartServer(t, testutil.WithBackend(pg))
	root := nodeA.Setup(t)

	var tenants struct{ Tenants []struct{ ID string } }
	nodeA.Do(t, "GET", "/api/tenant", root, nil).JSON(t, &tenants)
	tenantID := tenants.Tenants[0].ID
	patchTenant := func(attempts int) {
		t.Helper()
		r := nodeA.Do(t, "PATCH", "/api/tenant/"+tenantID, root, map[string]any{"tenant": map[string]any{
			"failedAuthenticationConfiguration": map[string]any{"tooManyAttempts": attempts, "actionDuration": 5,
				"actionDurationUnit": "MINUTES", "resetCountInSeconds": 600}}})
		if r.Status != 200 {
			t.Fatalf("patch tenant: %d %s", r.Status, r.Body)
		}
	}
	patchTenant(3)
	r := nodeA.Do(t, "POST", "/api/application", root, map[string]any{"application": map[string]any{"name": "cache nodes",
		"loginConfiguration": map[string]any{"requireAuthentication": false}}})
	if r.Status != 200 {
		t.Fatalf("create application: %d %s", r.Status, r.Body)
	}
	var app struct{ Application struct{ ID string } }
	r.JSON(t, &app)
	appID := app.Application.ID
	const email, pw = "cache-nodes@example.com", "correct horse battery"
	if r := nodeA.Do(t, "POST", "/api/user/registration", root, map[string]any{"skipVerification": true,
		"user": map[string]any{"email": email, "password": pw}, "registration": map[string]any{"applicationId": appID}}); r.Status != 200 {
		t.Fatalf("create user: %d %s", r.Status, r.Body)
	}
	var loginAs func(node *testutil.Server, key, loginID, password string) int
	login := func(node *testutil.Server, loginID, password string) int {
		return loginAs(node, "", loginID, password)
	}
	loginAs = func(node *testutil.Server, key, loginID, password string) int {
		return node.Do(t, "POST", "/api/login", key, map[string]any{"loginId": loginID, "password": password,
			"applicationId": appID, "noJWT": true}).Status
	}
	// lockedAfterOne: (with the key, which any requireAuthentication
	// accepts) one wrong password for a login id nobody used yet locks
	// it (tooManyAttempts 1) or does not (3).
	lockedAfterOne := func(node *testutil.Server) bool {
		id := "nobody-" + uuid.NewString()[:8] + "@example.com"
		if st := loginAs(node, root, id, "wrong"); st != 404 {
			t.Fatalf("first wrong password: %d, want 404", st)
		}
		switch st := loginAs(node, root, id, "wrong"); st {
		case 409:
			return true
		case 404:
			return false
		default:
			t.Fatalf("second wrong password: %d, want 404 or 409", st)
			return false
		}
	}
	waitFor := func(what string, cond func() bool) time.Duration {
		t.Helper()
		start := time.Now()
		for !cond() {
			if time.Since(start) > 10*time.Second {
				t.Fatalf("%s: not seen after 10s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
		return time.Since(start)
	}

	// Both nodes read (and cache) the settings first.
	for _, n := range []*testutil.Server{nodeA, nodeB} {
		if st := login(n, email, pw); st != 200 {
			t.Fatalf("anonymous login on %s: %d, want 200", n.Addr, st)
		}
		if lockedAfterOne(n) {
			t.Fatalf("node %s locks after one failure with tooManyAttempts 3", n.Addr)
		}
	}

	// The application now requires an API key.
	if r := nodeA.Do(t, "PATCH", "/api/application/"+appID, root, map[string]any{"application": map[string]any{
		"loginConfiguration": map[string]any{"requireAuthentication": true}}}); r.Status != 200 {
		t.Fatalf("patch application: %d %s", r.Status, r.Body)
	}
	if st := login(nodeA, email, pw); st != 401 {
		t.Errorf("node A after its own change: %d, want 401 at once", st)
	}
	d := waitFor("node B requiring authentication", func() bool { return login(nodeB, email, pw) == 401 })
	t.Logf("requireAuthentication reached node B after %v", d)

	// The tenant now locks after one failure.
	patchTenant(1)
	if !lockedAfterOne(nodeA) {
		t.Errorf("node A after its own change: no lockout after one failure")
	}
	d = waitFor("node B locking after one failure", func() bool { return lockedAfterOne(nodeB) })
	t.Logf("failedAuthenticationConfiguration reached node B after %v", d)
}
