package oauth_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

// fragment reads an authorization response from a redirect's fragment,
// and checks that nothing rode in the query string.
func fragment(t *testing.T, u *url.URL) url.Values {
	t.Helper()
	if u.RawQuery != "" {
		t.Fatalf("response in the query string: %s", u)
	}
	v, err := url.ParseQuery(u.EscapedFragment())
	if err != nil {
		t.Fatalf("fragment of %s: %v", u, err)
	}
	return v
}

// TestImplicitGrant covers response_type token, id_token and id_token
// token (OpenID Connect Core 3.2) where the application enables the
// implicit grant, and their refusal elsewhere; ID tokens are verified with
// go-oidc from discovery, at_hash with IDToken.VerifyAccessToken.
func TestImplicitGrant(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		impl := e.app(appOpts{public: true, grants: []string{"authorization_code", "implicit"}})
		codeOnly := e.app(appOpts{public: true})
		e.user("implicit@example.com", nil, impl.id, codeOnly.id)
		rp := e.rp(impl)
		authURL := func(c client, responseType string, params ...string) string {
			v := url.Values{"client_id": {c.id}, "redirect_uri": {redirectURL}, "response_type": {responseType},
				"scope": {"openid profile email offline_access"}, "state": {"st4te"}, "nonce": {"n0nce"}}
			for i := 0; i+1 < len(params); i += 2 {
				if params[i+1] == "" {
					v.Del(params[i])
				} else {
					v.Set(params[i], params[i+1])
				}
			}
			return "/oauth2/authorize?" + v.Encode()
		}
		errorFragment := func(t *testing.T, p *page, code string) url.Values {
			t.Helper()
			f := fragment(t, e.redirected(p, 302))
			if f.Get("error") != code || f.Get("state") != "st4te" || f.Get("iss") != e.s.URL || f.Get("access_token") != "" || f.Get("id_token") != "" {
				t.Fatalf("want error %s with state and iss in the fragment, got %s", code, p.location)
			}
			return f
		}
		// checkTokens checks an implicit response: what the response type
		// asks for, nothing more, and an ID token go-oidc accepts.
		checkTokens := func(t *testing.T, f url.Values, wantToken, wantIDToken bool) {
			t.Helper()
			if f.Get("state") != "st4te" || f.Get("iss") != e.s.URL || f.Get("code") != "" || f.Get("refresh_token") != "" {
				t.Fatalf("response %v", f)
			}
			at := f.Get("access_token")
			if wantToken {
				if at == "" || f.Get("token_type") != "Bearer" || f.Get("expires_in") == "" || strings.Contains(f.Get("scope"), "offline_access") ||
					!strings.Contains(f.Get("scope"), "openid") {
					t.Fatalf("token response %v", f)
				}
				if st, _, info := e.resource("GET", "/oauth2/userinfo", "Bearer", at); st != 200 || info["email"] != "implicit@example.com" {
					t.Fatalf("userinfo with the implicit access token: %d %v", st, info)
				}
			} else if at != "" || f.Get("token_type") != "" {
				t.Fatalf("an access token nobody asked for: %v", f)
			}
			raw := f.Get("id_token")
			if !wantIDToken {
				if raw != "" {
					t.Fatalf("an ID token nobody asked for: %v", f)
				}
				return
			}
			idt, err := rp.verifier.Verify(rp.ctx, raw)
			if err != nil {
				t.Fatalf("verify ID token: %v", err)
			}
			if idt.Nonce != "n0nce" || idt.Issuer != e.s.URL {
				t.Fatalf("ID token nonce %q issuer %q", idt.Nonce, idt.Issuer)
			}
			if wantToken {
				if idt.AccessTokenHash == "" {
					t.Fatal("no at_hash beside the access token")
				}
				if err := idt.VerifyAccessToken(at); err != nil {
					t.Fatalf("at_hash: %v", err)
				}
				if idt.VerifyAccessToken(at+"x") == nil {
					t.Fatal("at_hash matched another access token")
				}
			} else if idt.AccessTokenHash != "" {
				t.Fatalf("at_hash %q without an access token", idt.AccessTokenHash)
			}
		}

		signedIn := e.browser() // keeps the SSO session for prompt=none
		t.Run("enabled: each response type through the sign-in page", func(t *testing.T) {
			for i, c := range []struct {
				responseType           string
				wantToken, wantIDToken bool
			}{
				{"token", true, false},
				{"id_token", false, true},
				{"id_token token", true, true},
				{"token id_token", true, true},
			} {
				br := e.browser()
				if i == 0 {
					br = signedIn
				}
				checkTokens(t, fragment(t, br.signIn(authURL(impl, c.responseType), "implicit@example.com")), c.wantToken, c.wantIDToken)
			}
		})

		t.Run("enabled: response_type=token needs no nonce, and no PKCE from a public client", func(t *testing.T) {
			checkTokens(t, fragment(t, e.redirected(signedIn.get(authURL(impl, "token", "nonce", "")), 302)), true, false)
		})

		t.Run("the nonce and state come back exactly as sent, encoded in the fragment", func(t *testing.T) {
			const odd = "n 0+n/c&e=é#"
			f := fragment(t, e.redirected(signedIn.get(authURL(impl, "id_token", "nonce", odd, "state", odd)), 302))
			idt, err := rp.verifier.Verify(rp.ctx, f.Get("id_token"))
			if err != nil {
				t.Fatalf("verify ID token: %v", err)
			}
			if idt.Nonce != odd || f.Get("state") != odd {
				t.Fatalf("nonce %q state %q, want %q", idt.Nonce, f.Get("state"), odd)
			}
		})

		t.Run("not enabled: unsupported_response_type in the fragment", func(t *testing.T) {
			for _, rt := range []string{"token", "id_token", "id_token token"} {
				f := errorFragment(t, signedIn.get(authURL(codeOnly, rt)), "unsupported_response_type")
				if f.Get("error_reason") != "grant_type_disabled" {
					t.Errorf("%s: %v", rt, f)
				}
			}
		})

		t.Run("oidcc-ensure-request-without-nonce-fails", func(t *testing.T) {
			for _, rt := range []string{"id_token", "id_token token"} {
				errorFragment(t, signedIn.get(authURL(impl, rt, "nonce", "")), "invalid_request")
			}
		})

		t.Run("id_token without the openid scope", func(t *testing.T) {
			errorFragment(t, signedIn.get(authURL(impl, "id_token", "scope", "profile")), "invalid_scope")
		})

		t.Run("response_mode=query refused for tokens", func(t *testing.T) {
			for _, rt := range []string{"token", "id_token", "id_token token"} {
				f := errorFragment(t, signedIn.get(authURL(impl, rt, "response_mode", "query")), "invalid_request")
				if f.Get("error_reason") != "invalid_response_mode" {
					t.Errorf("%s: %v", rt, f)
				}
			}
		})

		t.Run("an unknown response_mode: the error in the fragment", func(t *testing.T) {
			if f := errorFragment(t, signedIn.get(authURL(impl, "id_token token", "response_mode", "jwt")), "invalid_request"); f.Get("error_reason") != "invalid_response_mode" {
				t.Fatalf("%v", f)
			}
		})

		t.Run("response_mode=form_post", func(t *testing.T) {
			p := signedIn.get(authURL(impl, "id_token token", "response_mode", "form_post"))
			action, f := p.form(t)
			if p.status != 200 || action != redirectURL || p.header.Get("Cache-Control") != "no-store" {
				t.Fatalf("form_post page %d, action %q, Cache-Control %q", p.status, action, p.header.Get("Cache-Control"))
			}
			checkTokens(t, f, true, true)
		})

		t.Run("oidcc-prompt-none-logged-in (implicit)", func(t *testing.T) {
			p := signedIn.get(authURL(impl, "id_token token", "prompt", "none"))
			checkTokens(t, fragment(t, e.redirected(p, 302)), true, true)
			if p.header.Get("Cache-Control") != "no-store" {
				t.Fatalf("a redirect carrying tokens: Cache-Control %q", p.header.Get("Cache-Control"))
			}
		})

		t.Run("oidcc-prompt-none-not-logged-in (implicit)", func(t *testing.T) {
			errorFragment(t, e.browser().get(authURL(impl, "id_token token", "prompt", "none")), "login_required")
		})

		t.Run("a third party: consent, then tokens; denied in the fragment", func(t *testing.T) {
			third := e.app(appOpts{public: true, grants: []string{"implicit"}, relationship: "ThirdParty", consentMode: "AlwaysPrompt"})
			e.user("third@example.com", nil, third.id)
			br := e.browser()
			p := br.submit(br.get(authURL(third, "id_token token", "scope", "openid email")), "loginId", "third@example.com", "password", testPassword)
			if p.status != 200 || !strings.Contains(p.body, "Allow access?") {
				t.Fatalf("want the consent page, got %d %s", p.status, p.location)
			}
			f := fragment(t, e.redirected(br.submit(p, "decision", "allow"), 303))
			if f.Get("access_token") == "" || f.Get("id_token") == "" || f.Get("state") != "st4te" {
				t.Fatalf("after consent: %v", f)
			}
			p = br.get(authURL(third, "token"))
			if f := fragment(t, e.redirected(br.submit(p, "decision", "deny"), 303)); f.Get("error") != "access_denied" || f.Get("access_token") != "" {
				t.Fatalf("denied: %v", f)
			}
		})

		t.Run("hybrid response types: unsupported_response_type", func(t *testing.T) {
			for _, rt := range []string{"code id_token", "code token", "code id_token token", "id_token code"} {
				f := errorFragment(t, signedIn.get(authURL(impl, rt)), "unsupported_response_type")
				if f.Get("error_reason") != "invalid_response_type" {
					t.Errorf("%s: %v", rt, f)
				}
			}
			// Neither is an unknown response type a code flow.
			p := signedIn.get(authURL(impl, "none"))
			if u := e.redirected(p, 302); u.Query().Get("error") != "unsupported_response_type" || u.Query().Get("code") != "" {
				t.Errorf("response_type=none: %s", p.location)
			}
		})
	})
}
