package api_test

import (
	"os"
	"strings"
	"testing"
)

// The compatibility table in docs/ is what integrators read to know whether a
// call works; it must name every route the server has, so it cannot go stale
// as endpoints land.
func TestCompatibilityTableListsEveryRoute(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/compatibility.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range newAPIServer(t, nil).Routes() {
		if !strings.Contains(string(doc), "`"+rt.Pattern+"`") {
			t.Errorf("docs/compatibility.md does not list `%s`", rt.Pattern)
		}
	}
}
