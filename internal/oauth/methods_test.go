package oauth_test

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/oauth"
	"github.com/latchid/latch/internal/testutil"
)

// TestWrongMethod: a request to one of the provider's endpoints with a
// method it does not answer is 405 with an Allow header listing those it
// does (RFC 9110 15.5.6), on every route of the table; a path that is no
// endpoint stays 404.
func TestWrongMethod(t *testing.T) {
	e := start(t, testutil.Backend{Name: "sqlite"})
	allowed := map[string][]string{} // a concrete path → its methods
	wildcard := regexp.MustCompile(`\{[^}$]+\}`)
	for _, rt := range oauth.New(oauth.Deps{}).Routes() {
		method, pattern, _ := strings.Cut(rt.Pattern, " ")
		path := strings.ReplaceAll(wildcard.ReplaceAllString(pattern, "x"), "{$}", "")
		allowed[path] = append(allowed[path], method)
		if method == http.MethodGet {
			allowed[path] = append(allowed[path], http.MethodHead)
		}
	}
	if len(allowed) < 20 {
		t.Fatalf("only %d paths in the route table", len(allowed))
	}
	for path, methods := range allowed {
		slices.Sort(methods)
		for _, m := range []string{"GET", "POST", "PUT", "DELETE", "PATCH"} {
			if slices.Contains(methods, m) {
				continue
			}
			req, _ := http.NewRequest(m, e.s.URL+path, nil)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			allow := strings.Split(strings.ReplaceAll(res.Header.Get("Allow"), " ", ""), ",")
			slices.Sort(allow)
			if res.StatusCode != 405 || !slices.Equal(allow, methods) || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
				t.Errorf("%s %s: %d, Allow %q; want 405, Allow %v", m, path, res.StatusCode, res.Header.Get("Allow"), methods)
			}
		}
	}
	for _, path := range []string{"/oauth2/nothing", "/app/nothing"} {
		if r := e.s.Do(t, "GET", path, "", nil); r.Status != 404 {
			t.Errorf("GET %s: %d, want 404", path, r.Status)
		}
	}
}
