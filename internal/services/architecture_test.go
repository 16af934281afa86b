package services_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// rules are the rules packages: no HTTP, and each readable in one sitting.
var rules = []string{"kit", "audit", "signing", "tenancy", "groups", "access", "tokens", "lockout", "identity", "identity/userimport", "authentication", "events", "email", "mailflows"}

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

// TestSurfacePackagesStaySmall holds the admin UI (internal/admin and the
// area packages under it) and the OAuth provider (internal/oauth and the
// packages beside it) to the rules packages' size bound: a part that grows
// moves into a package of its own, as pagekit, clientcheck and clientcreds
// did.
func TestSurfacePackagesStaySmall(t *testing.T) {
	for _, root := range []string{"admin", "oauth"} {
		lines := map[string]int{}
		err := filepath.WalkDir(filepath.Join("..", root), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			lines[filepath.Dir(path)] += strings.Count(string(b), "\n")
			return nil
		})
		if err != nil || lines[filepath.Join("..", root)] == 0 {
			t.Fatalf("files of internal/%s: %v", root, err)
		}
		for dir, n := range lines {
			if n > maxRulesLines {
				t.Errorf("%s has %d non-test lines, more than %d: split it", dir, n, maxRulesLines)
			}
		}
	}
}

// TestAdminRendersInOnePlace: every admin page, error and refusal goes
// through pagekit's renderer (Render, Message, Fail), so that each carries
// the page headers and none leaks an internal detail; no other admin file
// writes a status itself.
func TestAdminRendersInOnePlace(t *testing.T) {
	direct := regexp.MustCompile(`\.WriteHeader\(|http\.Error\(`)
	err := filepath.WalkDir(filepath.Join("..", "admin"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") ||
			filepath.Base(filepath.Dir(path)) == "pagekit" {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if loc := direct.FindIndex(b); loc != nil {
			t.Errorf("%s writes a status itself (%q): render through pagekit", path, b[loc[0]:loc[1]])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
