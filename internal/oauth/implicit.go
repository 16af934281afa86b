package oauth

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/latchid/latch/internal/model"
)

// The implicit grant (RFC 6749 4.2, OpenID Connect Core 3.2): tokens are
// returned from /oauth2/authorize itself, in the fragment (or form_post),
// never in the query string, and never with a refresh token. OAuth 2.1 and
// RFC 9700 advise against it, so it is refused unless the application lists
// "implicit" in oauthConfiguration.enabledGrants, as FusionAuth does.
// Hybrid response types (code with token or id_token) are not supported.

func (a *authRequest) implicit() bool { return a.wantToken || a.wantIDToken }

// frontChannel: the response type returns tokens through the browser, so
// its default response mode is the fragment and query is refused.
func frontChannel(responseType string) bool {
	f := strings.Fields(responseType)
	return slices.Contains(f, "token") || slices.Contains(f, "id_token")
}

// implicitRequest reads a response type other than code: token, id_token
// or id_token token (in any order) where the application enables the
// implicit grant; id_token needs the openid scope and a nonce.
func implicitRequest(ar *authRequest, responseType string) *oauthError {
	f := strings.Fields(responseType)
	slices.Sort(f)
	switch strings.Join(slices.Compact(f), " ") {
	case "token":
		ar.wantToken = true
	case "id_token":
		ar.wantIDToken = true
	case "id_token token":
		ar.wantToken, ar.wantIDToken = true, true
	case "code id_token", "code token", "code id_token token":
		return &oauthError{Code: "unsupported_response_type", Reason: "invalid_response_type",
			Description: "Hybrid response types (code with id_token or token) are not supported: use response_type=code."}
	default:
		return &oauthError{Code: "unsupported_response_type", Reason: "invalid_response_type",
			Description: "response_type must be code, or token, id_token or id_token token where the application enables the implicit grant."}
	}
	if !slices.Contains(ar.client.App.OAuthConfiguration.EnabledGrants, model.GrantImplicit) {
		ar.wantToken, ar.wantIDToken = false, false
		return &oauthError{Code: "unsupported_response_type", Reason: "grant_type_disabled",
			Description: "The application does not enable the implicit grant: use response_type=code."}
	}
	if ar.wantIDToken && !slices.Contains(strings.Fields(ar.scope), "openid") {
		return &oauthError{Code: "invalid_scope", Reason: "missing_required_scope", Description: "response_type id_token needs the openid scope."}
	}
	if ar.wantIDToken && ar.nonce == "" { // OpenID Connect Core 3.2.2.1: it binds the ID token to the browser's session
		return errInvalidRequest("missing_nonce", "response_type id_token needs a nonce.")
	}
	return nil
}

// completeImplicit issues the implicit grant's tokens to a signed-in user
// and sends them to the redirect URI.
func (p *Provider) completeImplicit(w http.ResponseWriter, r *http.Request, ar *authRequest, sess *Session) {
	// No refresh token in the front channel, so offline_access is not granted.
	scope := strings.Join(slices.DeleteFunc(strings.Fields(ar.scope), func(s string) bool { return s == "offline_access" }), " ")
	// An ID token alone is still issued through IssueTokens: the same user
	// checks and lifetime as every grant; its access token is dropped.
	t, err := p.Tokens.IssueTokens(r.Context(), Grant{UserID: sess.UserID, ClientID: ar.client.App.ID, AuthType: sess.AuthType,
		AuthInstant: sess.AuthInstant, Scope: scope, SessionID: sess.ID, IP: p.clientIP(r), Issuer: p.issuer(ar.client.Tenant)})
	if errors.Is(err, ErrGrantRefused) {
		p.redirectError(w, r, ar, &oauthError{Code: "access_denied", Reason: "user_locked", Description: "The user can no longer sign in to this application."})
		return
	}
	if err != nil {
		p.Log.ErrorContext(r.Context(), "oauth: implicit grant", "err", err)
		p.redirectError(w, r, ar, &oauthError{Code: "server_error", Description: "The server could not complete the request."})
		return
	}
	v := url.Values{}
	if ar.wantToken {
		v.Set("access_token", t.AccessToken)
		v.Set("token_type", "Bearer")
		v.Set("expires_in", strconv.FormatInt(t.ExpiresIn, 10))
		v.Set("userId", t.UserID)
		if t.Scope != "" {
			v.Set("scope", t.Scope)
		}
	} else {
		t.AccessToken = ""
	}
	if ar.wantIDToken {
		idt, err := p.idToken(r, ar.client, t, ar.nonce, sess.ID)
		if err != nil {
			p.Log.ErrorContext(r.Context(), "oauth: sign ID token", "err", err)
			p.redirectError(w, r, ar, &oauthError{Code: "server_error", Description: "The server could not complete the request."})
			return
		}
		v.Set("id_token", idt)
	}
	p.respond(w, r, ar, v)
}
