package admin_test

import (
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/testutil"
)

func TestDashboardKeySafetyPanel(t *testing.T) {
	e := start(t, testutil.Backend{})
	// A key that expires in 10 days, and one nobody has used for 91 days.
	e.api("POST", "/api/api-key", map[string]any{"apiKey": map[string]any{"name": "soon gone",
		"permissions":       map[string]any{"endpoints": map[string]any{"/api/user": []string{"GET"}}},
		"expirationInstant": e.clock.Now().Add(10 * 24 * time.Hour).UnixMilli()}}, 200)
	e.clock.Advance(-91 * 24 * time.Hour)
	e.api("POST", "/api/api-key", map[string]any{"apiKey": map[string]any{"name": "forgotten",
		"permissions": map[string]any{"endpoints": map[string]any{"/api/user": []string{"GET"}}}}}, 200)
	e.clock.Advance(91 * 24 * time.Hour)

	br := e.browser()
	p := br.signIn("admin@example.com", testPassword)
	for _, want := range []string{"Only one full-access key-manager key is left", "Initial API key", `href="/admin/runbook"`,
		"Expiring within 14 days (1)", "soon gone", "Unused for 90 days (1)", "forgotten"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	if rb := br.get("/admin/runbook"); rb.status != 200 || !strings.Contains(rb.body, "latch recover api-key") {
		t.Errorf("runbook page: %d", rb.status)
	}
	// An admin who may not see keys gets the counts but not the panel.
	e.admin("viewer@example.com", "user_support_viewer")
	v := e.browser().signIn("viewer@example.com", testPassword)
	if v.status != 200 || !strings.Contains(v.body, "logins in the last 24 hours") || strings.Contains(v.body, "Key safety") {
		t.Fatalf("viewer's dashboard: %d %s", v.status, v.body)
	}
	if strings.Contains(v.body, `href="/admin/api-keys"`) {
		t.Error("the navigation shows API keys to a role that may not see them")
	}
}
