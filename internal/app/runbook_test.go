package app_test

import (
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

// runbookBlocks returns the shell blocks of docs/runbook.md, by the name in
// the <!-- runbook-test: NAME --> comment above each.
func runbookBlocks(t *testing.T) map[string]string {
	t.Helper()
	doc, err := os.ReadFile("../../docs/runbook.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)<!-- runbook-test: ([a-z-]+) -->\\s*```sh\\n(.*?)```")
	blocks := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(string(doc), -1) {
		blocks[m[1]] = m[2]
	}
	return blocks
}

// runbookShell runs a runbook block as written, with bash and curl.
func runbookShell(t *testing.T, block string, env ...string) {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("the runbook's commands need curl (scripts/test installs it)")
	}
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", block)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("runbook block failed: %v\n%s\n--- block:\n%s", err, out, block)
	}
}

// The leaked-key steps of the runbook, run exactly as printed: afterwards the
// leaked key has lost what the runbook says it loses.
func TestRunbookLeakedKeyCommands(t *testing.T) {
	blocks := runbookBlocks(t)
	s := testutil.StartServer(t)
	key := s.Setup(t)
	userID := "00000000-0000-4000-8000-00000000aaaa"
	if st := s.Do(t, "POST", "/api/user/"+userID, key, map[string]any{"user": map[string]any{"email": "victim@example.com", "password": "a long enough password"}}).Status; st != http.StatusOK {
		t.Fatalf("create user: %d", st)
	}
	leaked := func(t *testing.T) (id, value string) {
		t.Helper()
		var out struct {
			APIKey struct {
				ID  string `json:"id"`
				Key string `json:"key"`
			} `json:"apiKey"`
		}
		r := s.Do(t, "POST", "/api/api-key", key, map[string]any{"apiKey": map[string]any{
			"metaData":    map[string]any{"attributes": map[string]any{"description": "leaked"}},
			"permissions": map[string]any{"endpoints": map[string]any{"/api/user": []string{"GET", "DELETE"}, "/api/user/search": []string{"POST"}}},
		}})
		if r.Status != http.StatusOK {
			t.Fatalf("create key: %d %s", r.Status, r.Body)
		}
		r.JSON(t, &out)
		return out.APIKey.ID, out.APIKey.Key
	}
	env := func(id string) []string {
		return []string{"LATCH=" + s.URL, "KEY=" + key, "LEAKED_ID=" + id}
	}
	status := func(method, path, k string) int { return s.Do(t, method, path, k, nil).Status }

	t.Run("narrow", func(t *testing.T) {
		block, ok := blocks["narrow-leaked-key"]
		if !ok {
			t.Fatal("docs/runbook.md lost its narrow-leaked-key block")
		}
		id, value := leaked(t)
		runbookShell(t, block, env(id)...)
		waitFor(t, "the narrowed key refused DELETE", func() bool {
			return status("DELETE", "/api/user/"+userID, value) == http.StatusUnauthorized
		})
		if got := status("GET", "/api/user/"+userID, value); got != http.StatusOK {
			t.Errorf("the narrowed key lost GET too: %d", got)
		}
		if got := s.Do(t, "POST", "/api/user/search", value, map[string]any{"search": map[string]any{"queryString": "*"}}).Status; got != http.StatusUnauthorized {
			t.Errorf("search after the runbook removed it: %d, want 401", got)
		}
	})
	t.Run("expire", func(t *testing.T) {
		block, ok := blocks["expire-leaked-key"]
		if !ok {
			t.Fatal("docs/runbook.md lost its expire-leaked-key block")
		}
		id, value := leaked(t)
		runbookShell(t, block, env(id)...)
		waitFor(t, "the expired key refused", func() bool {
			return status("GET", "/api/user/"+userID, value) == http.StatusUnauthorized
		})
	})
	if got := status("GET", "/api/user/"+userID, key); got != http.StatusOK {
		t.Errorf("the user is gone: %d", got)
	}
}
