package services_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// rules are the rules packages: no HTTP, and each readable in one sitting.
var rules = []string{"kit", "audit", "signing", "tenancy", "groups", "access", "tokens", "lockout", "identity", "authentication", "events", "email", "mailflows"}

// maxRulesLines bounds a rules package's non-test lines (docs/architecture.md).
const maxRulesLines = 4000

// TestRulesPackagesKnowNoHTTP checks that no rules package imports net/http,
// directly or through another package: HTTP belongs to api, ui, httpx and app.
func TestRulesPackagesKnowNoHTTP(t *testing.T) {
	for _, p := range rules {
		out, err := exec.Command("go", "list", "-deps", "github.com/latchid/latch/internal/"+p).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", p, err)
		}
		if slices.Contains(strings.Fields(string(out)), "net/http") {
			t.Errorf("internal/%s depends on net/http", p)
		}
	}
}

// TestRulesPackagesStaySmall checks the size bound of each rules package.
func TestRulesPackagesStaySmall(t *testing.T) {
	for _, p := range rules {
		files, err := filepath.Glob(filepath.Join("..", p, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("files of %s: %v", p, err)
		}
		lines := 0
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			lines += strings.Count(string(b), "\n")
		}
		if lines > maxRulesLines {
			t.Errorf("internal/%s has %d non-test lines, more than %d: split it", p, lines, maxRulesLines)
		}
	}
}
