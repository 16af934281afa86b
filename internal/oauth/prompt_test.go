package oauth_test

import (
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/latchid/latch/internal/testutil"
)

// TestPromptValues: discovery's prompt_values_supported lists exactly the
// prompt values /oauth2/authorize accepts, and each does what OpenID
// Connect Core 3.1.2.1 says for a signed-in user of a first-party
// application; any other value is invalid_prompt.
func TestPromptValues(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		c := e.app(appOpts{})
		e.user("prompt@example.com", nil, c.id)
		r := e.rp(c)
		var doc struct {
			Prompts []string `json:"prompt_values_supported"`
		}
		e.want("discovery", e.api("GET", "/.well-known/openid-configuration", nil), 200).decode(&doc)
		slices.Sort(doc.Prompts)
		if want := []string{"consent", "login", "none", "select_account"}; !slices.Equal(doc.Prompts, want) {
			t.Errorf("prompt_values_supported %v, want %v", doc.Prompts, want)
		}
		br := e.browser()
		e.codeFlow(br, r, "prompt@example.com") // signed in
		for _, tc := range []struct {
			prompt string
			page   bool   // the sign-in page (to sign in again, or as another account)
			err    string // an error at the redirect URI
		}{
			{prompt: "none"},
			{prompt: "consent"}, // a first-party application asks nobody
			{prompt: "login", page: true},
			{prompt: "select_account", page: true},
			{prompt: "login consent", page: true},
			{prompt: "unknown", err: "invalid_request"},
		} {
			p := br.get(r.conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("prompt", tc.prompt)))
			switch {
			case tc.page:
				if p.status != 200 || !strings.Contains(p.body, `name="loginId"`) {
					t.Errorf("prompt=%s: want the sign-in page, got %d %q", tc.prompt, p.status, p.location)
				}
			case tc.err != "":
				if u := e.redirected(p, 302); u.Query().Get("error") != tc.err || u.Query().Get("error_reason") != "invalid_prompt" {
					t.Errorf("prompt=%s: %s", tc.prompt, p.location)
				}
			default:
				if u := e.redirected(p, 302); u.Query().Get("code") == "" {
					t.Errorf("prompt=%s: want a code, got %s", tc.prompt, p.location)
				}
			}
		}
	})
}
