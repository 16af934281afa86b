package admin_test

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

// Helpers of the admin UI's tests: a set-up server with a fake clock, admins
// with given roles, and a cookie-keeping "browser" that signs in through
// the hosted sign-in page and fills in the admin UI's forms.

const (
	testPassword = "correct horse battery staple"
	adminAppID   = "3c219e58-ed0e-4b18-ad48-f4f92793ae32"
)

type env struct {
	t     *testing.T
	s     *testutil.Server
	key   string
	clock *testutil.FakeClock
}

func start(t *testing.T, b testutil.Backend) *env {
	t.Helper()
	clock := testutil.NewFakeClock()
	s := testutil.StartServer(t, testutil.WithBackend(b), testutil.WithClock(clock), testutil.WithEnv("LATCH_MASTER_KEY", testutil.TestMasterKey))
	return &env{t: t, s: s, key: s.Setup(t), clock: clock}
}

// api calls the API with the initial key and checks the status.
func (e *env) api(method, path string, body any, want int) *testutil.Response {
	e.t.Helper()
	r := e.s.Do(e.t, method, path, e.key, body)
	if r.Status != want {
		e.t.Fatalf("%s %s: want %d, got %d: %s", method, path, want, r.Status, r.Body)
	}
	return r
}

// admin creates a user registered to the admin application with roles.
func (e *env) admin(email string, roles ...string) string {
	e.t.Helper()
	var out struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	e.api("POST", "/api/user/registration", map[string]any{
		"user":         map[string]any{"email": email, "password": testPassword},
		"registration": map[string]any{"applicationId": adminAppID, "roles": roles},
	}, 200).JSON(e.t, &out)
	return out.User.ID
}

type browser struct {
	e    *env
	c    *http.Client
	base string // where relative addresses go; the test server when ""
}

func (b *browser) url(u string) string {
	if !strings.HasPrefix(u, "/") {
		return u
	}
	if b.base != "" {
		return b.base + u
	}
	return b.e.s.URL + u
}

type page struct {
	status int
	header http.Header
	body   string
	url    *url.URL // where the browser ended up
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar}}
}

func (b *browser) do(req *http.Request) *page {
	b.e.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return &page{status: res.StatusCode, header: res.Header, body: string(body), url: res.Request.URL}
}

func (b *browser) get(u string) *page {
	b.e.t.Helper()
	req, _ := http.NewRequest("GET", b.url(u), nil)
	return b.do(req)
}

func (b *browser) post(u string, form url.Values) *page {
	b.e.t.Helper()
	req, _ := http.NewRequest("POST", b.url(u), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var (
	formPattern   = regexp.MustCompile(`(?s)<form[^>]*action="([^"]*)"[^>]*>(.*?)</form>`)
	hiddenPattern = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// form reads the page's form posting to action (the first form when action
// is ""): its action and hidden fields.
func (p *page) form(t *testing.T, action string) (string, url.Values) {
	t.Helper()
	for _, m := range formPattern.FindAllStringSubmatch(p.body, -1) {
		if action != "" && html.UnescapeString(m[1]) != action {
			continue
		}
		v := url.Values{}
		for _, h := range hiddenPattern.FindAllStringSubmatch(m[2], -1) {
			v.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
		}
		return html.UnescapeString(m[1]), v
	}
	t.Fatalf("no form posting to %q on the page (status %d): %s", action, p.status, p.body)
	return "", nil
}

// submit posts the page's form to action with fields set.
func (b *browser) submit(p *page, action string, fields ...string) *page {
	b.e.t.Helper()
	act, v := p.form(b.e.t, action)
	for i := 0; i+1 < len(fields); i += 2 {
		v.Set(fields[i], fields[i+1])
	}
	return b.post(act, v)
}

// signIn opens /admin, signs in on the hosted page and returns the page the
// browser lands on.
func (b *browser) signIn(email, password string) *page {
	b.e.t.Helper()
	p := b.get("/admin")
	if p.status != 200 || !strings.Contains(p.body, `name="loginId"`) || p.url.Path != "/oauth2/authorize" {
		b.e.t.Fatalf("GET /admin: want the hosted sign-in page, got %d at %s: %s", p.status, p.url, p.body)
	}
	return b.submit(p, "/oauth2/authorize", "loginId", email, "password", password)
}

// csrf is the CSRF token of the admin page's sign-out form.
func (p *page) csrf(t *testing.T) string {
	t.Helper()
	_, v := p.form(t, "/admin/logout")
	return v.Get("csrf_token")
}
