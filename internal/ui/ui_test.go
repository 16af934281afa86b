package ui_test

import (
	"context"
	"database/sql"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

const (
	goodEmail    = "admin@example.com"
	goodName     = "Ada Admin"
	goodPassword = "correct horse battery staple"
)

// page is a fetched HTML page.
type page struct {
	status int
	header http.Header
	body   string
}

func fetch(t *testing.T, method, rawURL string, form url.Values) page {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, rawURL, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return send(t, req)
}

func send(t *testing.T, req *http.Request) page {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{status: resp.StatusCode, header: resp.Header, body: string(data)}
}

var tokenPattern = regexp.MustCompile(`/setup-wizard\?token=([A-Za-z0-9_-]+)`)

// setupToken reads the one-time token from the link the server printed.
func setupToken(t *testing.T, s *testutil.Server) string {
	t.Helper()
	m := tokenPattern.FindStringSubmatch(s.Stdout.String())
	if m == nil {
		t.Fatalf("no setup URL on stdout: %q", s.Stdout.String())
	}
	return m[1]
}

func validForm(token string) url.Values {
	return url.Values{"token": {token}, "email": {goodEmail}, "fullName": {goodName},
		"password": {goodPassword}, "passwordConfirm": {goodPassword}}
}

var (
	inputTag   = regexp.MustCompile(`<input\b[^>]*>`)
	attrRegexp = regexp.MustCompile(`([a-zA-Z-]+)(?:="([^"]*)")?`)
)

// inputs maps each input's id (or name, for hidden ones) to its attributes.
func inputs(body string) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, tag := range inputTag.FindAllString(body, -1) {
		attrs := map[string]string{}
		for _, m := range attrRegexp.FindAllStringSubmatch(strings.TrimSuffix(strings.TrimPrefix(tag, "<input"), ">"), -1) {
			attrs[m[1]] = html.UnescapeString(m[2])
		}
		key := attrs["id"]
		if key == "" {
			key = attrs["name"]
		}
		out[key] = attrs
	}
	return out
}

func checkPageHeaders(t *testing.T, p page) {
	t.Helper()
	want := map[string]string{
		"Content-Type":    "text/html; charset=utf-8",
		"X-Frame-Options": "DENY",
		"Cache-Control":   "no-store",
	}
	for k, v := range want {
		if got := p.header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	csp := p.header.Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("CSP %q lacks %q", csp, d)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows inline code: %q", csp)
	}
	if !strings.Contains(p.body, `<html lang="en">`) {
		t.Errorf("page has no lang attribute")
	}
	if strings.Contains(p.body, "<script>") || strings.Contains(p.body, " style=") {
		t.Errorf("page has inline script or style")
	}
}

func TestSetupWizardNeedsToken(t *testing.T) {
	s := testutil.StartServer(t)
	token := setupToken(t, s)
	cases := []struct {
		name, query string
		want        int
	}{
		{"no token", "", http.StatusForbidden},
		{"empty token", "?token=", http.StatusForbidden},
		{"wrong token", "?token=" + strings.Repeat("A", len(token)), http.StatusForbidden},
		{"right token", "?token=" + token, http.StatusOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := fetch(t, "GET", s.URL+"/setup-wizard"+c.query, nil)
			if p.status != c.want {
				t.Fatalf("status %d, want %d: %s", p.status, c.want, p.body)
			}
			checkPageHeaders(t, p)
			if c.want == http.StatusForbidden {
				if !strings.Contains(p.body, "link") || !strings.Contains(p.body, "log") {
					t.Errorf("403 page does not point to the link in the log: %s", p.body)
				}
				if strings.Contains(p.body, "<form") {
					t.Errorf("403 page shows the form")
				}
			}
		})
	}

	p := fetch(t, "GET", s.URL+"/setup-wizard?token="+token, nil)
	in := inputs(p.body)
	if got := in["token"]; got["type"] != "hidden" || got["value"] != token {
		t.Errorf("hidden token field = %v", got)
	}
	for _, id := range []string{"email", "fullName", "password", "passwordConfirm"} {
		if in[id] == nil {
			t.Errorf("no input %q", id)
			continue
		}
		if !strings.Contains(p.body, `<label for="`+id+`">`) {
			t.Errorf("input %q has no label", id)
		}
		if in[id]["maxlength"] != "" {
			t.Errorf("input %q has a maxlength: browsers would truncate pasted text", id)
		}
	}
	if in["password"]["type"] != "password" || in["passwordConfirm"]["type"] != "password" {
		t.Errorf("password inputs are not type=password: %v %v", in["password"], in["passwordConfirm"])
	}

	for _, method := range []string{"PUT", "DELETE", "PATCH"} {
		if p := fetch(t, method, s.URL+"/setup-wizard?token="+token, nil); p.status != http.StatusMethodNotAllowed {
			t.Errorf("%s: status %d, want 405", method, p.status)
		}
	}
}

func TestSetupWizardInvalidInput(t *testing.T) {
	s := testutil.StartServer(t)
	token := setupToken(t, s)
	with := func(kv ...string) url.Values {
		f := validForm(token)
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	cases := []struct {
		name    string
		form    url.Values
		field   string // input that must be marked invalid
		message string
	}{
		{"short password", with("password", "short", "passwordConfirm", "short"), "password", "at least 8 characters"},
		{"long password", with("password", strings.Repeat("p", 257), "passwordConfirm", strings.Repeat("p", 257)), "password", "at most 256 characters"},
		{"bad email", with("email", "not-an-email"), "email", "not a valid email address"},
		{"blank email", with("email", ""), "email", "email address is required"},
		{"mismatch", with("passwordConfirm", goodPassword+"!"), "passwordConfirm", "passwords do not match"},
		{"blank confirmation", with("passwordConfirm", ""), "passwordConfirm", "again to confirm"},
		{"password is the email", with("password", goodEmail, "passwordConfirm", goodEmail), "password", "must not be the email"},
		{"blank password", with("password", "", "passwordConfirm", ""), "password", "password is required"},
		{"common password", with("password", "Password123", "passwordConfirm", "Password123"), "password", "most common leaked passwords"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := fetch(t, "POST", s.URL+"/setup-wizard", c.form)
			if p.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", p.status, p.body)
			}
			checkPageHeaders(t, p)
			if !strings.Contains(p.body, c.message) {
				t.Errorf("no message %q in %s", c.message, p.body)
			}
			in := inputs(p.body)
			if got := in[c.field]; got["aria-invalid"] != "true" || !strings.Contains(got["aria-describedby"], c.field+"-error") {
				t.Errorf("field %s not marked invalid: %v", c.field, got)
			}
			if !strings.Contains(p.body, `id="`+c.field+`-error"`) {
				t.Errorf("no error element for %s", c.field)
			}
			if got, want := in["email"]["value"], c.form.Get("email"); got != want {
				t.Errorf("email value %q, want the typed %q", got, want)
			}
			if got := in["fullName"]["value"]; got != goodName {
				t.Errorf("name value %q, want the typed %q", got, goodName)
			}
			for _, pw := range []string{"password", "passwordConfirm"} {
				if _, has := in[pw]["value"]; has {
					t.Errorf("%s field keeps a value: %v", pw, in[pw])
				}
			}
			if pw := c.form.Get("password"); len(pw) >= 8 && pw != goodEmail && strings.Contains(p.body, pw) {
				t.Errorf("the typed password appears in the page")
			}
			if in["token"]["value"] != token {
				t.Errorf("token not kept in the re-rendered form")
			}
		})
	}

	// Requests that never reach validation.
	rejects := []struct {
		name        string
		contentType string
		body        string
		want        int
	}{
		{"no token", "application/x-www-form-urlencoded", "email=a%40b.co&password=12345678&passwordConfirm=12345678", http.StatusForbidden},
		{"wrong token", "application/x-www-form-urlencoded", "token=nope&email=a%40b.co", http.StatusForbidden},
		{"malformed form", "application/x-www-form-urlencoded", "token=" + token + "&email=%zz", http.StatusBadRequest},
		{"too large", "application/x-www-form-urlencoded", "token=" + token + "&fullName=" + strings.Repeat("x", 1<<20), http.StatusBadRequest},
		{"JSON body", "application/json", `{"token":"` + token + `"}`, http.StatusBadRequest},
		{"no content type", "", "token=" + token, http.StatusBadRequest},
	}
	for _, c := range rejects {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest("POST", s.URL+"/setup-wizard", strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if c.contentType != "" {
				req.Header.Set("Content-Type", c.contentType)
			}
			if p := send(t, req); p.status != c.want {
				t.Errorf("status %d, want %d: %s", p.status, c.want, p.body)
			} else {
				checkPageHeaders(t, p)
			}
		})
	}

	// The token counts only in the form body, not in the query string.
	form := validForm(token)
	form.Del("token")
	if p := fetch(t, "POST", s.URL+"/setup-wizard?token="+token, form); p.status != http.StatusForbidden {
		t.Errorf("token in query only: status %d, want 403", p.status)
	}

	// None of the rejected posts set Latch up: the token still works.
	if p := fetch(t, "GET", s.URL+"/setup-wizard?token="+token, nil); p.status != http.StatusOK {
		t.Errorf("after rejected posts: status %d, want 200", p.status)
	}
}

var keyInput = regexp.MustCompile(`<input id="initial-key"[^>]*\bvalue="([^"]+)"`)

func TestSetupWizardCompletes(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s := testutil.StartServer(t, testutil.WithBackend(b))
		token := setupToken(t, s)

		p := fetch(t, "POST", s.URL+"/setup-wizard", validForm(token))
		if p.status != http.StatusOK {
			t.Fatalf("status %d, want 200: %s", p.status, p.body)
		}
		checkPageHeaders(t, p)
		m := keyInput.FindStringSubmatch(p.body)
		if m == nil {
			t.Fatalf("no key on the page: %s", p.body)
		}
		key := html.UnescapeString(m[1])
		for _, want := range []string{"readonly", `data-copy="initial-key"`, "/static/copy.js?v=", "not be shown again",
			"secrets manager", "latch recover api-key", "do not use it to sign in", "email address and password"} {
			if !strings.Contains(p.body, want) {
				t.Errorf("key page lacks %q", want)
			}
		}
		if got := s.Do(t, "GET", "/api/system/version", key, nil); got.Status != http.StatusOK {
			t.Errorf("GET /api/system/version with the wizard's key: %d", got.Status)
		}

		// The wizard is gone, token or not, whatever the method.
		for _, c := range []struct {
			method, query string
			form          url.Values
		}{
			{"GET", "?token=" + token, nil},
			{"GET", "", nil},
			{"POST", "", validForm(token)},
			{"PUT", "", nil},
		} {
			if p := fetch(t, c.method, s.URL+"/setup-wizard"+c.query, c.form); p.status != http.StatusNotFound {
				t.Errorf("%s /setup-wizard%s after setup: status %d, want 404", c.method, c.query, p.status)
			}
		}

		db := openDB(t, s, b)
		var n int
		var actorName, ip string
		if err := db.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE actor_type = $1`, "setup").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatalf("no audit entry by the setup wizard")
		}
		if err := db.QueryRow(`SELECT insert_user, ip_address FROM audit_log WHERE actor_type = $1 ORDER BY id LIMIT 1`, "setup").
			Scan(&actorName, &ip); err != nil {
			t.Fatal(err)
		}
		if actorName != "setup wizard" || ip != "127.0.0.1" {
			t.Errorf("audit actor %q from %q, want \"setup wizard\" from 127.0.0.1", actorName, ip)
		}
	})
}

func TestStaticAssets(t *testing.T) {
	s := testutil.StartServer(t)
	for _, c := range []struct {
		path, ctype string
		want        int
	}{
		{"/static/latch.css", "text/css; charset=utf-8", http.StatusOK},
		{"/static/copy.js", "text/javascript; charset=utf-8", http.StatusOK},
		{"/static/", "", http.StatusNotFound},
		{"/static/missing.css", "", http.StatusNotFound},
		{"/static/../templates/layout.html", "", http.StatusNotFound},
		{"/no-such-page", "", http.StatusNotFound},
	} {
		p := fetch(t, "GET", s.URL+c.path, nil)
		if p.status != c.want {
			t.Errorf("GET %s: status %d, want %d", c.path, p.status, c.want)
			continue
		}
		if c.want == http.StatusOK {
			if got := p.header.Get("Content-Type"); got != c.ctype {
				t.Errorf("GET %s: Content-Type %q, want %q", c.path, got, c.ctype)
			}
			if got := p.header.Get("Cache-Control"); !strings.Contains(got, "max-age=31536000") {
				t.Errorf("GET %s: Cache-Control %q, want a long max-age", c.path, got)
			}
		}
	}
	if p := fetch(t, "POST", s.URL+"/static/latch.css", url.Values{}); p.status != http.StatusMethodNotAllowed {
		t.Errorf("POST /static/latch.css: status %d, want 405", p.status)
	}
}

// TestSetupRace runs several wizard submissions and two `latch setup` runs at
// once: exactly one wins, and there is one admin and one API key.
func TestSetupRace(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		s := testutil.StartServer(t, testutil.WithBackend(b))
		token := setupToken(t, s)
		pwFile := filepath.Join(t.TempDir(), "pw")
		if err := os.WriteFile(pwFile, []byte("another strong password\n"), 0o600); err != nil {
			t.Fatal(err)
		}

		const browsers, clis = 6, 2
		start := make(chan struct{})
		var wg sync.WaitGroup
		pages := make([]page, browsers)
		cliCodes := make([]int, clis)
		cliErrs := make([]string, clis)
		for i := range browsers {
			wg.Go(func() {
				form := validForm(token)
				form.Set("email", "admin"+string(rune('a'+i))+"@example.com")
				req, err := http.NewRequest("POST", s.URL+"/setup-wizard", strings.NewReader(form.Encode()))
				if err != nil {
					t.Error(err)
					return
				}
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				<-start
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				defer resp.Body.Close()
				data, _ := io.ReadAll(resp.Body)
				pages[i] = page{status: resp.StatusCode, body: string(data)}
			})
		}
		for i := range clis {
			wg.Go(func() {
				<-start
				_, cliErrs[i], cliCodes[i] = s.CLI(t, "setup", "--admin-email", "cli"+string(rune('a'+i))+"@example.com",
					"--admin-password-file", pwFile)
			})
		}
		close(start)
		wg.Wait()

		wins := 0
		outcomes := map[int]int{}
		for _, p := range pages {
			outcomes[p.status]++
		}
		t.Logf("wizard statuses: %v; latch setup exit codes: %v", outcomes, cliCodes)
		for i, p := range pages {
			switch {
			case p.status == http.StatusOK && keyInput.MatchString(p.body):
				wins++
			case p.status == http.StatusConflict && strings.Contains(p.body, "completed by someone else"):
			// A submission that arrives after the winner committed finds the wizard gone.
			case p.status == http.StatusNotFound && strings.Contains(p.body, "already been set up"):
			default:
				t.Errorf("wizard %d: status %d: %s", i, p.status, title(p.body))
			}
		}
		for i, code := range cliCodes {
			switch {
			case code == 0:
				wins++
			case code == 1 && strings.Contains(cliErrs[i], "already done"):
			default:
				t.Errorf("latch setup %d: exit %d: %s", i, code, cliErrs[i])
			}
		}
		if wins != 1 {
			t.Errorf("%d setups succeeded, want exactly 1", wins)
		}

		db := openDB(t, s, b)
		for _, c := range []struct {
			what, query string
			args        []any
		}{
			{"admin registrations", `SELECT COUNT(*) FROM registrations WHERE application_id = $1`, []any{model.AdminApplicationID}},
			{"users", `SELECT COUNT(*) FROM users`, nil},
			{"API keys", `SELECT COUNT(*) FROM api_keys`, nil},
		} {
			var n int
			if err := db.QueryRow(c.query, c.args...).Scan(&n); err != nil {
				t.Fatalf("%s: %v", c.what, err)
			}
			if n != 1 {
				t.Errorf("%d %s, want 1", n, c.what)
			}
		}
	})
}

var titleTag = regexp.MustCompile(`<title>([^<]*)</title>`)

// title names a page in failure messages without dumping it.
func title(body string) string {
	if m := titleTag.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return body
}

// openDB opens the server's database directly, to count rows.
func openDB(t *testing.T, s *testutil.Server, b testutil.Backend) *sql.DB {
	t.Helper()
	st, err := store.Open(context.Background(), b.DatabaseURL, filepath.Join(s.DataDir, "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st.DB()
}
