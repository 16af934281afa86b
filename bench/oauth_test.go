package bench

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchid/latch/internal/password"
)

// The OAuth provider's throughput on loopback: discovery, the code
// exchange, refresh, userinfo, introspection, and the whole browser-less
// authorization code flow (authorize → hosted sign-in form → token) against
// the raw rate of the one password check it makes.

const benchRedirect = "https://app.example/callback"

// oauthFixture is a login fixture whose application is an OAuth client.
type oauthFixture struct {
	*loginFixture
	secret string
}

func newOAuthFixture(b *testing.B) *oauthFixture {
	b.Helper()
	f := newLoginFixture(b, "Reusable")
	r := f.srv.Do(b, "PATCH", "/api/application/"+f.app, f.root, map[string]any{"application": map[string]any{"oauthConfiguration": map[string]any{
		"authorizedRedirectURLs": []string{benchRedirect}, "enabledGrants": []string{"authorization_code", "refresh_token"},
		"generateRefreshTokens": true, "clientAuthenticationPolicy": "Required", "proofKeyForCodeExchangePolicy": "Required"}}})
	if r.Status != 200 {
		b.Fatalf("oauth configuration: %d %s", r.Status, r.Body)
	}
	var a struct {
		Application struct {
			OAuthConfiguration struct {
				ClientSecret string `json:"clientSecret"`
			} `json:"oauthConfiguration"`
		} `json:"application"`
	}
	r.JSON(b, &a)
	return &oauthFixture{loginFixture: f, secret: a.Application.OAuthConfiguration.ClientSecret}
}

var (
	benchForm   = regexp.MustCompile(`(?s)<form[^>]*action="([^"]*)"[^>]*>(.*?)</form>`)
	benchHidden = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// pkcePair is a verifier and its S256 challenge.
func pkcePair(i int) (string, string) {
	v := fmt.Sprintf("bench-verifier-%040d", i)
	sum := sha256.Sum256([]byte(v))
	return v, base64.RawURLEncoding.EncodeToString(sum[:])
}

func (f *oauthFixture) authorizeURL(challenge string) string {
	q := url.Values{"client_id": {f.app}, "redirect_uri": {benchRedirect}, "response_type": {"code"}, "scope": {"openid offline_access"},
		"state": {"s"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	return f.srv.URL + "/oauth2/authorize?" + q.Encode()
}

// noRedirects is a browser: its own cookies, redirects not followed.
func (f *oauthFixture) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Transport: f.client.Transport, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// signIn runs the hosted sign-in in a fresh browser and returns the code
// (and the browser, signed in to an SSO session).
func (f *oauthFixture) signIn(challenge string) (string, *http.Client, error) {
	br := f.browser()
	res, err := br.Get(f.authorizeURL(challenge))
	if err != nil {
		return "", nil, err
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := benchForm.FindSubmatch(body)
	if res.StatusCode != 200 || m == nil {
		return "", nil, fmt.Errorf("authorize: %d", res.StatusCode)
	}
	form := url.Values{"loginId": {f.email}, "password": {benchPassword}}
	for _, h := range benchHidden.FindAllSubmatch(m[2], -1) {
		form.Set(html.UnescapeString(string(h[1])), html.UnescapeString(string(h[2])))
	}
	res, err = br.PostForm(f.srv.URL+html.UnescapeString(string(m[1])), form)
	if err != nil {
		return "", nil, err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	code, err := codeFrom(res)
	return code, br, err
}

func codeFrom(res *http.Response) (string, error) {
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		return "", fmt.Errorf("no code: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	return loc.Query().Get("code"), nil
}

// silentCode is a code from an SSO session (prompt=none: no password check).
func (f *oauthFixture) silentCode(br *http.Client, challenge string) (string, error) {
	res, err := br.Get(f.authorizeURL(challenge) + "&prompt=none")
	if err != nil {
		return "", err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return codeFrom(res)
}

type tokenAnswer struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// form posts a client-authenticated form and decodes a 200 answer into out.
func (f *oauthFixture) form(path string, v url.Values, out any) error {
	req, _ := http.NewRequest("POST", f.srv.URL+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(f.app, f.secret)
	res, err := f.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		body, _ := io.ReadAll(res.Body)
		return fmt.Errorf("%s: %d %s", path, res.StatusCode, body)
	}
	if out == nil {
		_, err = io.Copy(io.Discard, res.Body)
		return err
	}
	return json.NewDecoder(res.Body).Decode(out)
}

func (f *oauthFixture) exchange(code, verifier string) (tokenAnswer, error) {
	var t tokenAnswer
	err := f.form("/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier},
		"redirect_uri": {benchRedirect}}, &t)
	return t, err
}

func (f *oauthFixture) get(path, bearer string) error {
	req, _ := http.NewRequest("GET", f.srv.URL+path, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := f.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		return fmt.Errorf("%s: %d", path, res.StatusCode)
	}
	return nil
}

// parallel runs op from 4 clients per core, as BenchmarkLogin does.
func parallel(b *testing.B, op func(i int) error) {
	b.SetParallelism(4)
	var mu sync.Mutex
	next := 0
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.Lock()
			i := next
			next++
			mu.Unlock()
			if err := op(i); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkOAuth measures the provider's endpoints on loopback (SQLite, or
// PostgreSQL with LATCH_BENCH_POSTGRES=1). "flow" is the whole code flow of
// a user without an SSO session, and "flow/hash" the ratio of its rate to
// the raw rate of its password check (PBKDF2-SHA256, 24,000 iterations)
// measured in the same run (goal ≥ 0.8).
func BenchmarkOAuth(b *testing.B) {
	f := newOAuthFixture(b)
	verifier, challenge := pkcePair(0)
	code, br, err := f.signIn(challenge)
	if err != nil {
		b.Fatal(err)
	}
	tok, err := f.exchange(code, verifier)
	if err != nil {
		b.Fatal(err)
	}

	b.Run("discovery", func(b *testing.B) {
		parallel(b, func(int) error { return f.get("/.well-known/openid-configuration", "") })
	})
	b.Run("jwks", func(b *testing.B) {
		parallel(b, func(int) error { return f.get("/.well-known/jwks.json", "") })
	})
	b.Run("userinfo", func(b *testing.B) {
		parallel(b, func(int) error { return f.get("/oauth2/userinfo", tok.AccessToken) })
	})
	b.Run("introspect", func(b *testing.B) {
		parallel(b, func(int) error { return f.form("/oauth2/introspect", url.Values{"token": {tok.AccessToken}}, nil) })
	})
	b.Run("refresh", func(b *testing.B) {
		parallel(b, func(int) error {
			return f.form("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, nil)
		})
	})
	b.Run("code-exchange", func(b *testing.B) {
		// Codes from the SSO session, made before the clock runs.
		b.StopTimer()
		codes := make([]string, b.N)
		verifiers := make([]string, b.N)
		for i := range codes {
			v, c := pkcePair(i + 1)
			if codes[i], err = f.silentCode(br, c); err != nil {
				b.Fatal(err)
			}
			verifiers[i] = v
		}
		b.StartTimer()
		parallel(b, func(i int) error {
			_, err := f.exchange(codes[i], verifiers[i])
			return err
		})
	})

	h, err := password.NewWith(password.SchemePBKDF2SHA256, 24000, benchPassword)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("flow", func(b *testing.B) {
		// Password checks right before and after the flows, as in BenchmarkLogin.
		b.StopTimer()
		before := b.N / 2
		hashTime, _ := parallelChecks(h, before)
		b.StartTimer()
		start := time.Now()
		parallel(b, func(i int) error {
			v, c := pkcePair(1_000_000 + i)
			code, _, err := f.signIn(c)
			if err != nil {
				return err
			}
			_, err = f.exchange(code, v)
			return err
		})
		flowTime := time.Since(start)
		b.StopTimer()
		t, _ := parallelChecks(h, b.N-before)
		b.ReportMetric((hashTime+t).Seconds()/flowTime.Seconds(), "flow/hash")
	})
}
