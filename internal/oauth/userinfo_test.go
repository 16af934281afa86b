package oauth_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

// TestUserinfoTokenMethods: userinfo takes the access token in the
// Authorization header or in a form body, one way only (RFC 6750 2: a
// request with two is 400 invalid_request), never in the query string.
func TestUserinfoTokenMethods(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		c := e.app(appOpts{})
		e.user("ui@example.com", nil, c.id)
		tok, _ := e.codeFlow(e.browser(), e.rp(c), "ui@example.com")
		at := tok.AccessToken
		for _, tc := range []struct {
			name   string
			method string
			header string     // Authorization
			form   url.Values // the body (POST) or the query (GET)
			status int
			err    string
		}{
			{"header, GET", "GET", "Bearer " + at, nil, 200, ""},
			{"header, POST without a body", "POST", "Bearer " + at, nil, 200, ""},
			{"header, POST with another parameter", "POST", "Bearer " + at, url.Values{"x": {"y"}}, 200, ""},
			{"body", "POST", "", url.Values{"access_token": {at}}, 200, ""},
			{"header and body, the same token", "POST", "Bearer " + at, url.Values{"access_token": {at}}, 400, "invalid_request"},
			{"header and body, other tokens", "POST", "Bearer " + at, url.Values{"access_token": {"other"}}, 400, "invalid_request"},
			{"query string", "GET", "", url.Values{"access_token": {at}}, 401, "invalid_request"},
			{"none", "POST", "", nil, 401, "invalid_request"},
		} {
			u := e.s.URL + "/oauth2/userinfo"
			var body io.Reader
			if tc.form != nil && tc.method == "GET" {
				u += "?" + tc.form.Encode()
			} else if tc.form != nil {
				body = strings.NewReader(tc.form.Encode())
			}
			req, _ := http.NewRequest(tc.method, u, body)
			if body != nil {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			_ = json.NewDecoder(res.Body).Decode(&m)
			res.Body.Close()
			if res.StatusCode != tc.status || (tc.err != "" && (m["error"] != tc.err || m["error_reason"] == nil)) {
				t.Errorf("%s: %d %v, want %d %s", tc.name, res.StatusCode, m, tc.status, tc.err)
			}
		}
	})
}
