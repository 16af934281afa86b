package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/latchid/latch/internal/oauth/clientcheck"
	"github.com/latchid/latch/internal/oauth/clientcreds"
)

// bearerToken reads an access token from Authorization: Bearer or DPoP
// (RFC 9449 7.1; dpop reports which), or from a form body's access_token
// (RFC 6750 2.2), one way only (RFC 6750 2); never from the query string.
func bearerToken(r *http.Request) (tok string, dpop bool, e *oauthError) {
	inBody := ""
	if r.Method == http.MethodPost && readForm(r) == nil {
		inBody = r.PostForm.Get("access_token")
	}
	h := r.Header.Get("Authorization")
	if h != "" {
		if inBody != "" {
			return "", false, errInvalidRequest("multiple_access_tokens", "Send the access token one way: in the Authorization header or in the body, not both.")
		}
		scheme, tok, ok := strings.Cut(h, " ")
		dpop = strings.EqualFold(scheme, "DPoP")
		if !ok || !(dpop || strings.EqualFold(scheme, "Bearer")) || strings.TrimSpace(tok) == "" {
			return "", false, &oauthError{Code: "invalid_token", Reason: "access_token_malformed", Description: "Send the access token as Authorization: Bearer <token> (or DPoP <token> with a DPoP proof)."}
		}
		return strings.TrimSpace(tok), dpop, nil
	}
	if inBody != "" {
		return inBody, false, nil
	}
	return "", false, &oauthError{Code: "invalid_request", Reason: "access_token_required", Description: "The request has no access token."}
}

// writeBearerError answers a resource request that failed, with the
// challenges of both schemes (RFC 9449 7.1).
func writeBearerError(w http.ResponseWriter, e *oauthError) {
	errParam := ""
	if e.Code == "invalid_token" || e.Code == "invalid_dpop_proof" || e.Code == "use_dpop_nonce" {
		errParam = `, error="` + e.Code + `"`
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="latch"`+errParam)
	w.Header().Add("WWW-Authenticate", `DPoP realm="latch", algs="`+strings.Join(clientcheck.DPoPAlgorithms(), " ")+`"`+errParam)
	status := http.StatusUnauthorized
	switch {
	case e.Code == "server_error":
		status = http.StatusInternalServerError
	case e.Code == "invalid_request" && e.Reason != "access_token_required":
		status = http.StatusBadRequest
	}
	writeJSON(w, status, e)
}

// userinfo is GET|POST /oauth2/userinfo.
func (p *Provider) userinfo(w http.ResponseWriter, r *http.Request) {
	tok, dpop, e := bearerToken(r)
	if e != nil {
		writeBearerError(w, e)
		return
	}
	at, err := p.Tokens.VerifyAccessToken(r.Context(), tok)
	if err != nil || at.Claims["authenticationType"] == nil {
		// An ID token (no authenticationType) is not an access token.
		if err != nil && !errors.Is(err, ErrNotFound) {
			p.serverError(w, r, "verify access token", err)
			return
		}
		writeBearerError(w, &oauthError{Code: "invalid_token", Reason: "access_token_invalid", Description: "The access token is invalid or expired."})
		return
	}
	p.offerDPoPNonce(w, r)
	if e := p.checkBinding(r, tok, dpop, at); e != nil {
		writeBearerError(w, e)
		return
	}
	out, err := p.userinfoClaims(r.Context(), at)
	if errors.Is(err, ErrNotFound) {
		writeBearerError(w, &oauthError{Code: "invalid_token", Reason: "access_token_invalid", Description: "The access token's user is gone."})
		return
	}
	if err != nil {
		p.serverError(w, r, "load user", err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// checkBinding applies DPoP to a resource request (RFC 9449 7): a token
// bound to a key needs the DPoP scheme and a fresh proof of that key for
// this request and token; a bearer token sent under the DPoP scheme needs a
// valid proof too, and stays a bearer token.
func (p *Provider) checkBinding(r *http.Request, tok string, dpop bool, at *AccessToken) *oauthError {
	jkt := tokenJKT(at)
	if jkt != "" && !dpop {
		return &oauthError{Code: "invalid_token", Reason: "access_token_invalid", Description: "The access token is bound to a DPoP key: send it as Authorization: DPoP with a proof."}
	}
	if !dpop {
		return nil
	}
	if len(r.Header.Values("DPoP")) == 0 {
		return invalidDPoP("The request has no DPoP proof.")
	}
	proved, e := p.dpopProof(r, tok)
	if e != nil {
		return e
	}
	if jkt != "" && proved != jkt {
		return invalidDPoP("The DPoP proof's key is not the one the access token is bound to.")
	}
	return nil
}

// userinfoClaims is what userinfo shows of an access token's user, by its
// scope; ErrNotFound when the user is gone.
func (p *Provider) userinfoClaims(ctx context.Context, at *AccessToken) (map[string]any, error) {
	appID := at.ApplicationID
	if appID == "" {
		appID = at.Audience
	}
	u, err := p.Users.User(ctx, at.Subject, appID)
	if err != nil {
		return nil, err
	}
	scope, hasScopeClaim := at.Claims["scope"].(string)
	if !hasScopeClaim {
		scope = "openid email profile phone" // a Login API token: FusionAuth shows every claim
	}
	out := map[string]any{"sub": u.ID}
	userClaims(out, u, scope)
	if u.Registered && appID != "" {
		out["applicationId"] = appID
		roles := u.Roles
		if roles == nil {
			roles = []string{}
		}
		out["roles"] = roles
	}
	return out, nil
}

// introspect is POST /oauth2/introspect (RFC 7662 with FusionAuth's
// claims). A token of another client or tenant is {"active":false}.
func (p *Provider) introspect(w http.ResponseWriter, r *http.Request) {
	if e := readForm(r); e != nil {
		writeError(w, http.StatusBadRequest, e)
		return
	}
	if clientcreds.IsIntrospection(r) {
		p.entities.Introspect(w, r)
		return
	}
	ca, status, e := p.authenticateClient(r)
	if e != nil {
		writeError(w, status, e)
		return
	}
	if status, e := requireAuthenticated(ca); e != nil {
		writeError(w, status, e)
		return
	}
	tok := r.PostForm.Get("token")
	if tok == "" {
		writeError(w, http.StatusBadRequest, errInvalidRequest("missing_token", "The request has no token."))
		return
	}
	inactive := map[string]any{"active": false}
	if hint := r.PostForm.Get("token_type_hint"); hint != "" && hint != "access_token" && hint != "refresh_token" {
		writeError(w, http.StatusBadRequest, &oauthError{Code: "unsupported_token_type", Reason: "unsupported_token_type", Description: "token_type_hint must be access_token or refresh_token."})
		return
	}
	at, err := p.Tokens.VerifyAccessToken(r.Context(), tok)
	if err != nil {
		if !errors.Is(err, ErrNotFound) {
			p.serverError(w, r, "verify access token", err)
			return
		}
		// Not an access token: maybe the client's refresh token.
		rs, err := p.Tokens.RefreshTokenStatus(r.Context(), tok, ca.client.App.ID)
		if err != nil {
			if !errors.Is(err, ErrNotFound) {
				p.serverError(w, r, "read refresh token", err)
				return
			}
			writeJSON(w, http.StatusOK, inactive)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"active": true, "sub": rs.UserID, "tid": rs.TenantID, "client_id": rs.ApplicationID,
			"aud": rs.ApplicationID, "exp": rs.ExpiresInstant / 1000, "iat": rs.InsertInstant / 1000, "token_type": "refresh_token"})
		return
	}
	if at.Audience != ca.client.App.ID || at.TenantID != ca.client.Tenant.ID || at.Claims["authenticationType"] == nil {
		writeJSON(w, http.StatusOK, inactive)
		return
	}
	out := map[string]any{}
	for k, v := range at.Claims {
		out[k] = v
	}
	out["active"] = true
	out["client_id"] = at.Audience
	out["token_type"] = "Bearer"
	if tokenJKT(at) != "" {
		out["token_type"] = "DPoP" // cnf.jkt is among the claims
	}
	writeJSON(w, http.StatusOK, out)
}

// revoke is POST /oauth2/revoke (RFC 7009): the client's own refresh token
// is revoked with its family; anything else is acknowledged the same way.
func (p *Provider) revoke(w http.ResponseWriter, r *http.Request) {
	if e := readForm(r); e != nil {
		writeError(w, http.StatusBadRequest, e)
		return
	}
	ca, status, e := p.authenticateClient(r)
	if e != nil {
		writeError(w, status, e)
		return
	}
	if status, e := requireAuthenticated(ca); e != nil {
		writeError(w, status, e)
		return
	}
	tok := r.PostForm.Get("token")
	if tok == "" {
		writeError(w, http.StatusBadRequest, errInvalidRequest("missing_token", "The request has no token."))
		return
	}
	if err := p.Tokens.RevokeRefreshToken(r.Context(), tok, ca.client.App.ID); err != nil {
		p.serverError(w, r, "revoke", err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// logout is GET|POST /oauth2/logout (RP-initiated logout): it ends the
// browser's SSO session and redirects to post_logout_redirect_uri only when
// the application registered it (logoutURL or authorizedRedirectURLs).
func (p *Provider) logout(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.errorPage(w, r, http.StatusBadRequest, "The request could not be read", "The sign-out request was malformed.")
		return
	}
	for _, k := range []string{"client_id", "id_token_hint", "post_logout_redirect_uri", "state"} {
		if len(r.Form[k]) > 1 || len(r.Form.Get(k)) > maxParamLength*4 {
			p.errorPage(w, r, http.StatusBadRequest, "This sign-out request cannot be completed", "The request repeats or overlong parameter "+k+".")
			return
		}
	}
	clientID, hint := r.Form.Get("client_id"), r.Form.Get("id_token_hint")
	if hint != "" {
		claims, err := p.Tokens.VerifySignature(r.Context(), hint)
		if err != nil {
			p.errorPage(w, r, http.StatusBadRequest, "This sign-out request cannot be completed", "The id_token_hint is not a token Latch issued.")
			return
		}
		aud, _ := claims["aud"].(string)
		if clientID != "" && aud != clientID {
			p.errorPage(w, r, http.StatusBadRequest, "This sign-out request cannot be completed", "The id_token_hint was issued to another application.")
			return
		}
		clientID = aud
	}
	var c *Client
	if clientID != "" {
		var err error
		if c, err = p.Clients.Client(r.Context(), clientID); err != nil {
			if !errors.Is(err, ErrNotFound) {
				p.pageFailure(w, r, "look up client", err)
				return
			}
			p.errorPage(w, r, http.StatusBadRequest, "This sign-out request cannot be completed", "No application has this client_id.")
			return
		}
	}
	target := r.Form.Get("post_logout_redirect_uri")
	if target != "" {
		if c == nil || !logoutAllowed(c, target) {
			p.errorPage(w, r, http.StatusBadRequest, "This sign-out request cannot be completed",
				"The post_logout_redirect_uri is not registered for the application.")
			return
		}
	} else if c != nil {
		target = c.App.OAuthConfiguration.LogoutURL
		if target == "" {
			target = c.Tenant.LogoutURL
		}
	}
	p.endSession(w, r)
	if st := r.Form.Get("state"); st != "" && target != "" {
		if u, err := url.Parse(target); err == nil {
			q := u.Query()
			q.Set("state", st)
			u.RawQuery = q.Encode()
			target = u.String()
		}
	}
	// logoutBehavior AllApplications (FusionAuth's default): the other
	// applications of the tenant are told through their logout URLs, each
	// loaded in a frame of the sign-out page (front-channel logout).
	if c != nil && c.App.OAuthConfiguration.LogoutBehavior != "RedirectOnly" {
		urls, err := p.Clients.LogoutURLs(r.Context(), c.Tenant.ID)
		if err != nil {
			p.Log.ErrorContext(r.Context(), "oauth: list logout URLs", "err", err)
		}
		var frames []string
		for _, id := range sortedMapKeys(urls) {
			if u := urls[id]; id != c.App.ID && (strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")) && !slices.Contains(frames, u) {
				frames = append(frames, u)
			}
		}
		if len(frames) > 0 {
			p.Pages.FrontChannelLogout(w, r, target, frames)
			return
		}
	}
	if target == "" {
		p.Pages.Page(w, r, http.StatusOK, "oauth_logged_out", "Signed out", tenantOf(c), nil, "")
		return
	}
	redirect(w, r, target)
}

// logoutAllowed: the URI is the application's logoutURL or one of its
// authorized redirect URLs (under the same matching rules).
func logoutAllowed(c *Client, uri string) bool {
	oc := c.App.OAuthConfiguration
	if oc.LogoutURL != "" && uri == oc.LogoutURL {
		return true
	}
	return clientcheck.RedirectAllowed(oc, uri)
}

func sortedMapKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
