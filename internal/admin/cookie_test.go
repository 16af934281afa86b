package admin_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

// toServer sends every request to the test server, whatever its address,
// so a browser can reach Latch at an https public URL; it keeps each
// Set-Cookie header it sees.
type toServer struct {
	server *url.URL
	mu     sync.Mutex
	set    []string
}

func (ts *toServer) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.URL.Scheme, r.URL.Host = ts.server.Scheme, ts.server.Host
	res, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		ts.mu.Lock()
		ts.set = append(ts.set, res.Header.Values("Set-Cookie")...)
		ts.mu.Unlock()
	}
	return res, err
}

// The admin session cookie is HttpOnly and SameSite=Lax always, and Secure
// exactly when the public URL is https.
func TestSessionCookieAttributes(t *testing.T) {
	for _, c := range []struct {
		name, publicURL string
		secure          bool
	}{
		{"http", "", false},
		{"https public URL", "https://id.example.test", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			clock := testutil.NewFakeClock()
			opts := []testutil.Option{testutil.WithClock(clock), testutil.WithEnv("LATCH_MASTER_KEY", testutil.TestMasterKey)}
			if c.publicURL != "" {
				opts = append(opts, testutil.WithEnv("LATCH_PUBLIC_URL", c.publicURL))
			}
			s := testutil.StartServer(t, opts...)
			e := &env{t: t, s: s, key: s.Setup(t), clock: clock}
			server, _ := url.Parse(s.URL)
			ts := &toServer{server: server}
			jar, _ := cookiejar.New(nil)
			br := &browser{e: e, c: &http.Client{Jar: jar, Transport: ts}, base: c.publicURL}
			if p := br.signIn("admin@example.com", testPassword); p.status != 200 || !strings.Contains(p.body, "<h1>Dashboard</h1>") {
				t.Fatalf("sign-in: %d at %s", p.status, p.url)
			}
			var session *http.Cookie
			for _, line := range ts.set {
				ck, err := http.ParseSetCookie(line)
				if err != nil {
					t.Fatalf("Set-Cookie %q: %v", line, err)
				}
				if ck.Name == "latch.admin" && ck.MaxAge >= 0 {
					session = ck
				}
			}
			if session == nil {
				t.Fatalf("no admin session cookie among %q", ts.set)
			}
			if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/admin" || session.Secure != c.secure {
				t.Errorf("session cookie: HttpOnly=%v SameSite=%v Path=%q Secure=%v, want HttpOnly, Lax, /admin, Secure=%v",
					session.HttpOnly, session.SameSite, session.Path, session.Secure, c.secure)
			}
		})
	}
}
