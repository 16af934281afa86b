package oauth

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/oauth/clientcheck"
	"github.com/latchid/latch/internal/oauth/clientcreds"
	"github.com/latchid/latch/internal/oauth/reply"
)

// tokenResponse is FusionAuth's AccessToken.
type tokenResponse struct {
	AccessToken    string `json:"access_token"`
	ExpiresIn      int64  `json:"expires_in"`
	IDToken        string `json:"id_token,omitempty"`
	RefreshToken   string `json:"refresh_token,omitempty"`
	RefreshTokenID string `json:"refresh_token_id,omitempty"`
	Scope          string `json:"scope,omitempty"`
	TokenType      string `json:"token_type"`
	UserID         string `json:"userId"`
}

// readForm parses a form-encoded POST body; anything else is invalid_request.
func readForm(r *http.Request) *oauthError {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return errInvalidRequest("invalid_request", "The request body must be application/x-www-form-urlencoded.")
	}
	r.Body = http.MaxBytesReader(nil, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return errInvalidRequest("invalid_request", "The request body could not be read.")
	}
	for k, vs := range r.PostForm {
		if len(vs) > 1 {
			return errInvalidRequest("invalid_request", "The request repeats the parameter "+k+".")
		}
	}
	return nil
}

// clientAuth is who called a client-authenticated endpoint.
type clientAuth struct {
	client        *Client
	authenticated bool   // proved with the client secret
	dpopJKT       string // the key of the request's DPoP proof ("" without one)
}

// authenticateClient reads client_secret_basic or client_secret_post (never
// both) and checks the secret in constant time. A client that sends no
// secret is identified by client_id; the caller applies the policy.
func (p *Provider) authenticateClient(r *http.Request) (*clientAuth, int, *oauthError) {
	id, secret, basic := r.BasicAuth()
	if basic {
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return nil, http.StatusUnauthorized, &oauthError{Code: "invalid_client", Reason: "invalid_client_authentication", Description: "The Authorization header could not be read."}
		}
		if r.PostForm.Get("client_secret") != "" {
			return nil, http.StatusBadRequest, errInvalidRequest("invalid_client_authentication_scheme", "Use one way to authenticate the client, not two.")
		}
		if bid := r.PostForm.Get("client_id"); bid != "" && bid != id {
			return nil, http.StatusBadRequest, errInvalidRequest("client_id_mismatch", "client_id differs from the client that authenticated.")
		}
	} else if h := r.Header.Get("Authorization"); h != "" && !strings.HasPrefix(strings.ToLower(h), "basic ") {
		return nil, http.StatusUnauthorized, &oauthError{Code: "invalid_client", Reason: "invalid_client_authentication_scheme", Description: "Client authentication must be HTTP Basic or client_secret_post."}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id == "" {
		return nil, http.StatusUnauthorized, &oauthError{Code: "invalid_client", Reason: "missing_client_id", Description: "The request names no client."}
	}
	c, err := p.Clients.Client(r.Context(), id)
	if err != nil || !c.App.Active {
		if err != nil && !errors.Is(err, ErrNotFound) {
			p.Log.ErrorContext(r.Context(), "oauth: look up client", "err", err)
			return nil, http.StatusInternalServerError, &oauthError{Code: "server_error", Description: "The server could not complete the request."}
		}
		return nil, http.StatusUnauthorized, &oauthError{Code: "invalid_client", Reason: "invalid_client_id", Description: "Client authentication failed."}
	}
	ca := &clientAuth{client: c}
	// An empty secret (Basic "id:" as libraries send for public clients)
	// only identifies the client.
	if secret != "" {
		stored, err := p.Clients.ClientSecret(r.Context(), c.App.ID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			p.Log.ErrorContext(r.Context(), "oauth: read client secret", "err", err)
			return nil, http.StatusInternalServerError, &oauthError{Code: "server_error", Description: "The server could not complete the request."}
		}
		want := stored.Reveal()
		if want == "" || subtle.ConstantTimeCompare([]byte(secret), []byte(want)) != 1 {
			return nil, http.StatusUnauthorized, &oauthError{Code: "invalid_client", Reason: "invalid_client_authentication", Description: "Client authentication failed."}
		}
		ca.authenticated = true
	}
	return ca, 0, nil
}

// requireAuthenticated applies clientAuthenticationPolicy Required.
func requireAuthenticated(ca *clientAuth) (int, *oauthError) {
	if !ca.authenticated && clientcheck.ClientAuthPolicy(ca.client.App.OAuthConfiguration) == "Required" {
		return http.StatusUnauthorized, &oauthError{Code: "invalid_client", Reason: "client_authentication_missing", Description: "This client must authenticate with its client secret."}
	}
	return 0, nil
}

// token is POST /oauth2/token.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if e := readForm(r); e != nil {
		writeError(w, http.StatusBadRequest, e)
		return
	}
	gt := r.PostForm.Get("grant_type")
	switch gt {
	case "":
		writeError(w, http.StatusBadRequest, errInvalidRequest("missing_grant_type", "The request has no grant_type."))
		return
	case model.GrantAuthorizationCode, model.GrantRefreshToken, model.GrantPassword, model.GrantDeviceCode:
	case clientcreds.GrantType: // the client is an entity, not an application
		p.entities.Grant(w, r)
		return
	default:
		writeError(w, http.StatusBadRequest, &oauthError{Code: "unsupported_grant_type", Reason: "invalid_grant_type", Description: "This grant_type is not supported."})
		return
	}
	ca, status, e := p.authenticateClient(r)
	if e != nil {
		writeError(w, status, e)
		return
	}
	// A client that must authenticate learns nothing (not even its grants) before it does.
	if status, e := requireAuthenticated(ca); e != nil {
		writeError(w, status, e)
		return
	}
	if !slices.Contains(ca.client.App.OAuthConfiguration.EnabledGrants, gt) {
		writeError(w, http.StatusBadRequest, &oauthError{Code: "unauthorized_client", Reason: "grant_type_disabled", Description: "The application does not enable the " + gt + " grant."})
		return
	}
	p.offerDPoPNonce(w, r)
	jkt, e := p.dpopProof(r, "")
	if e != nil {
		writeError(w, reply.StatusOf(e), e)
		return
	}
	ca.dpopJKT = jkt
	switch gt {
	case model.GrantAuthorizationCode:
		p.codeGrant(w, r, ca)
	case model.GrantRefreshToken:
		p.refreshGrant(w, r, ca)
	case model.GrantPassword:
		p.passwordGrant(w, r, ca)
	case model.GrantDeviceCode:
		p.deviceGrant(w, r, ca)
	}
}

// bind binds a grant's tokens to the request's DPoP key, if any: the access
// token always, the refresh token of a public client too (RFC 9449 5; a
// confidential client's refresh token is bound by its authentication).
func (ca *clientAuth) bind(g Grant) Grant {
	g.DPoPJKT = ca.dpopJKT
	g.BindRefresh = ca.dpopJKT != "" && !ca.authenticated
	return g
}

func invalidGrant(reason, desc string) *oauthError {
	return &oauthError{Code: "invalid_grant", Reason: reason, Description: desc}
}

// codeGrant exchanges an authorization code: once (one atomic statement),
// by the client it was issued to, with its redirect URI and PKCE verifier.
// A code presented again revokes what its first exchange issued.
func (p *Provider) codeGrant(w http.ResponseWriter, r *http.Request, ca *clientAuth) {
	if status, e := requireAuthenticated(ca); e != nil {
		writeError(w, status, e)
		return
	}
	t, c, status, e, err := p.exchangeCode(r, ca, r.PostForm.Get("code"), r.PostForm.Get("code_verifier"), r.PostForm.Get("redirect_uri"))
	if err != nil {
		p.serverError(w, r, "code exchange", err)
		return
	}
	if e != nil {
		writeError(w, status, e)
		return
	}
	p.writeTokens(w, r, ca.client, t, c.Nonce, c.SessionID)
}

// exchangeCode is the authorization code exchange, for the token endpoint
// and the hosted backend's callback: an OAuth error with its status, or
// err for a failure of the server.
func (p *Provider) exchangeCode(r *http.Request, ca *clientAuth, code, verifier, redirectURI string) (*Tokens, *Code, int, *oauthError, error) {
	ctx := r.Context()
	if code == "" {
		return nil, nil, http.StatusBadRequest, errInvalidRequest("missing_code", "The request has no code."), nil
	}
	if len(code) > maxParamLength {
		return nil, nil, http.StatusBadRequest, invalidGrant("auth_code_not_found", "The code is unknown, expired or used."), nil
	}
	h := hashToken(code)
	c, err := p.State.CodeByHash(ctx, h, p.now())
	if errors.Is(err, ErrNotFound) {
		p.codeReplayed(ctx, h)
		return nil, nil, http.StatusBadRequest, invalidGrant("auth_code_not_found", "The code is unknown, expired or used."), nil
	}
	if err != nil {
		return nil, nil, 0, nil, fmt.Errorf("read code: %w", err)
	}
	if status, e := checkCode(ca, c, verifier, redirectURI); e != nil {
		p.spendCode(ctx, h)
		return nil, nil, status, e, nil
	}
	// The code is used in the refresh token's transaction (or alone when
	// none is issued), once, whichever exchange of it gets there first.
	grant := ca.bind(Grant{UserID: c.UserID, ClientID: c.ClientID, AuthType: c.AuthType, AuthInstant: c.AuthInstant, Scope: c.Scope,
		SessionID: c.SessionID, Refresh: p.wantsRefresh(ca.client, c.Scope), IP: p.clientIP(r), Issuer: p.issuer(ca.client.Tenant),
		CodeHash: h})
	t, err := p.Tokens.IssueTokens(ctx, grant)
	switch {
	case errors.Is(err, ErrGrantRefused):
		p.spendCode(ctx, h)
		return nil, nil, http.StatusBadRequest, invalidGrant("user_locked", "The user can no longer sign in to this application."), nil
	case errors.Is(err, ErrCodeReplayed):
		p.codeReplayed(ctx, h)
		return nil, nil, http.StatusBadRequest, invalidGrant("auth_code_not_found", "The code is unknown, expired or used."), nil
	case err != nil:
		return nil, nil, 0, nil, fmt.Errorf("issue tokens: %w", err)
	}
	return t, c, 0, nil, nil
}

// checkCode holds a code against the exchange presenting it.
func checkCode(ca *clientAuth, c *Code, verifier, redirectURI string) (int, *oauthError) {
	switch {
	case c.ClientID != ca.client.App.ID:
		return http.StatusBadRequest, invalidGrant("client_id_mismatch", "The code was issued to another client.")
	case redirectURI == "":
		return http.StatusBadRequest, errInvalidRequest("missing_redirect_uri", "The request has no redirect_uri.")
	case redirectURI != c.RedirectURI:
		return http.StatusBadRequest, invalidGrant("invalid_redirect_uri", "The redirect_uri differs from the authorization request's.")
	case c.CodeChallenge != "" && verifier == "":
		return http.StatusBadRequest, invalidGrant("missing_code_verifier", "The request has no code_verifier.")
	case c.CodeChallenge != "" && !clientcheck.PKCEMatches(verifier, c.CodeChallenge):
		return http.StatusBadRequest, invalidGrant("invalid_pkce_code_verifier", "The code_verifier does not match the code_challenge.")
	case c.CodeChallenge == "" && verifier != "":
		return http.StatusBadRequest, invalidGrant("invalid_pkce_code_verifier", "A code_verifier was sent for a request without a code_challenge.")
	case c.DPoPJKT != "" && ca.dpopJKT != c.DPoPJKT:
		return http.StatusBadRequest, invalidDPoP("The code is bound to a DPoP key (dpop_jkt) this request does not prove.")
	case !ca.authenticated && (c.CodeChallenge == "" || clientcheck.ClientAuthPolicy(ca.client.App.OAuthConfiguration) == "Required"):
		return http.StatusUnauthorized, &oauthError{Code: "invalid_client", Reason: "client_authentication_missing", Description: "This client must authenticate with its client secret."}
	}
	return 0, nil
}

// spendCode uses up a code whose exchange was refused: a code is
// presented once, right or wrong.
func (p *Provider) spendCode(ctx context.Context, h string) {
	if _, err := p.State.ConsumeCode(ctx, h, p.now()); err != nil && !errors.Is(err, ErrNotFound) {
		p.Log.ErrorContext(ctx, "oauth: spend refused code", "err", err)
	}
}

// codeReplayed handles a code presented after its use: the code is
// flagged and what its first exchange issued revoked, refresh and access
// tokens alike (RFC 6749 4.1.2).
func (p *Provider) codeReplayed(ctx context.Context, h string) {
	first, err := p.State.MarkCodeReplayed(ctx, h)
	if err != nil {
		if !errors.Is(err, ErrNotFound) {
			p.Log.ErrorContext(ctx, "oauth: flag replayed code", "err", err)
		}
		return
	}
	if err := p.Tokens.RevokeCodeExchange(ctx, h, first.ClientID, first.RefreshTokenID); err != nil {
		p.Log.ErrorContext(ctx, "oauth: revoke after code replay", "err", err)
	}
	p.Log.WarnContext(ctx, "oauth: authorization code replayed; what its exchange issued is revoked", "client", first.ClientID, "user", first.UserID)
}

// wantsRefresh: a refresh token comes with offline_access when the
// application generates them.
func (p *Provider) wantsRefresh(c *Client, scope string) bool {
	return clientcheck.HasScope(scope, "offline_access") && c.App.OAuthConfiguration.GenerateRefreshTokens
}

// refreshGrant exchanges the client's own refresh token.
func (p *Provider) refreshGrant(w http.ResponseWriter, r *http.Request, ca *clientAuth) {
	if status, e := requireAuthenticated(ca); e != nil {
		writeError(w, status, e)
		return
	}
	rt := r.PostForm.Get("refresh_token")
	if rt == "" {
		writeError(w, http.StatusBadRequest, errInvalidRequest("missing_refresh_token", "The request has no refresh_token."))
		return
	}
	scope := clientcheck.NormalizeScope(r.PostForm.Get("scope"))
	t, err := p.Tokens.RefreshTokens(r.Context(), rt, ca.client.App.ID, p.issuer(ca.client.Tenant), p.clientIP(r), ca.dpopJKT, scope)
	switch {
	case errors.Is(err, ErrGrantRefused):
		writeError(w, http.StatusBadRequest, invalidGrant("refresh_token_not_found", "The refresh token is unknown, expired, revoked or not this client's."))
	case errors.Is(err, ErrScopeWidened):
		writeError(w, http.StatusBadRequest, &oauthError{Code: "invalid_scope", Reason: "unknown_scope", Description: "A refresh cannot widen the granted scope."})
	case err != nil:
		p.serverError(w, r, "refresh", err)
	default:
		p.writeTokens(w, r, ca.client, t, "", t.SessionID)
	}
}

// passwordGrant is the resource owner password credentials grant, only
// where the application enables it; the Login API's rules apply.
func (p *Provider) passwordGrant(w http.ResponseWriter, r *http.Request, ca *clientAuth) {
	if status, e := requireAuthenticated(ca); e != nil {
		writeError(w, status, e)
		return
	}
	if !ca.authenticated && clientcheck.ClientAuthPolicy(ca.client.App.OAuthConfiguration) != "NotRequired" {
		writeError(w, http.StatusUnauthorized, &oauthError{Code: "invalid_client", Reason: "client_authentication_missing", Description: "This client must authenticate with its client secret."})
		return
	}
	user, pw := r.PostForm.Get("username"), r.PostForm.Get("password")
	if user == "" || pw == "" {
		writeError(w, http.StatusBadRequest, errInvalidRequest("invalid_user_credentials", "The request needs username and password."))
		return
	}
	if len(user) > maxCredentialLength || len(pw) > maxCredentialLength {
		writeError(w, http.StatusBadRequest, invalidGrant("invalid_user_credentials", "Invalid user credentials."))
		return
	}
	out, err := p.Authenticator.Authenticate(r.Context(), ca.client, user, pw, Signer{IP: p.clientIP(r), ClientAuthenticated: ca.authenticated})
	if err != nil {
		p.serverError(w, r, "password grant", err)
		return
	}
	switch out.Status {
	case LoginOK:
	case LoginTwoFactor:
		writeError(w, http.StatusBadRequest, &oauthError{Code: "two_factor_required", Reason: "multi_factor_challenge_required",
			Description: "The user must complete two-factor authentication.", TwoFactorID: out.TwoFactorID})
		return
	case LoginChangePassword:
		reason := "change_password_administrative"
		switch out.Reason {
		case "Expired":
			reason = "change_password_expired"
		case "Validation":
			reason = "change_password_validation"
		}
		writeError(w, http.StatusBadRequest, &oauthError{Code: "change_password_required", Reason: reason,
			Description: "The user is required to change their password.", ChangePasswordID: out.ChangePasswordID})
		return
	case LoginLocked:
		writeError(w, http.StatusBadRequest, invalidGrant("login_prevented", "The user is locked after too many failed attempts."))
		return
	case LoginRefused:
		writeError(w, http.StatusBadRequest, invalidGrant("user_locked", "The user cannot sign in."))
		return
	default:
		writeError(w, http.StatusBadRequest, invalidGrant("invalid_user_credentials", "Invalid user credentials."))
		return
	}
	if ca.client.App.OAuthConfiguration.RequireRegistration {
		u := out.User
		if u == nil {
			if u, err = p.Users.User(r.Context(), out.UserID, ca.client.App.ID); err != nil {
				p.serverError(w, r, "load user", err)
				return
			}
		}
		if !u.Registered { // as the hosted pages and the device approval refuse
			writeError(w, http.StatusBadRequest, &oauthError{Code: "access_denied", Reason: "registration_required", Description: "The user is not registered for this application."})
			return
		}
	}
	scope := clientcheck.NormalizeScope(r.PostForm.Get("scope"))
	t, err := p.Tokens.IssueTokens(r.Context(), ca.bind(Grant{UserID: out.UserID, ClientID: ca.client.App.ID, AuthType: "PASSWORD",
		AuthInstant: p.now(), Scope: scope, Refresh: p.wantsRefresh(ca.client, scope), IP: p.clientIP(r), Issuer: p.issuer(ca.client.Tenant)}))
	if errors.Is(err, ErrGrantRefused) {
		writeError(w, http.StatusBadRequest, invalidGrant("user_locked", "The user cannot sign in."))
		return
	}
	if err != nil {
		p.serverError(w, r, "issue tokens", err)
		return
	}
	p.writeTokens(w, r, ca.client, t, "", "")
}

// writeTokens answers a token request, with an ID token when openid was granted.
func (p *Provider) writeTokens(w http.ResponseWriter, r *http.Request, c *Client, t *Tokens, nonce, sid string) {
	res, err := p.tokenResponse(r, c, t, nonce, sid)
	if err != nil {
		p.serverError(w, r, "sign ID token", err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// tokenResponse is a token answer's body, with an ID token when openid was granted.
func (p *Provider) tokenResponse(r *http.Request, c *Client, t *Tokens, nonce, sid string) (*tokenResponse, error) {
	res := &tokenResponse{AccessToken: t.AccessToken, ExpiresIn: t.ExpiresIn, RefreshToken: t.RefreshToken,
		RefreshTokenID: t.RefreshTokenID, Scope: t.Scope, TokenType: "Bearer", UserID: t.UserID}
	if t.DPoPJKT != "" {
		res.TokenType = "DPoP"
	}
	if clientcheck.HasScope(t.Scope, "openid") {
		idt, err := p.idToken(r, c, t, nonce, sid)
		if err != nil {
			return nil, err
		}
		res.IDToken = idt
	}
	return res, nil
}

// idToken builds and signs an ID token: the standard claims, at_hash, and
// the user's claims by scope.
func (p *Provider) idToken(r *http.Request, c *Client, t *Tokens, nonce, sid string) (string, error) {
	ctx := r.Context()
	u, err := p.Users.User(ctx, t.UserID, c.App.ID)
	if err != nil {
		return "", err
	}
	now := p.now() / 1000
	claims := map[string]any{
		"iss": p.issuer(c.Tenant), "sub": t.UserID, "aud": c.App.ID, "iat": now, "exp": now + t.ExpiresIn,
		"auth_time": t.AuthInstant / 1000, "tid": t.TenantID, "jti": newToken()[:22],
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	if sid != "" {
		claims["sid"] = sid
	}
	if u.Registered {
		claims["applicationId"] = c.App.ID
		roles := u.Roles
		if roles == nil {
			roles = []string{}
		}
		claims["roles"] = roles
	}
	userClaims(claims, u, t.Scope)
	alg, err := p.Tokens.IDTokenAlgorithm(ctx, c)
	if err != nil {
		return "", err
	}
	if hf := halfHash(alg); hf != nil && t.AccessToken != "" { // at_hash only beside an access token
		hf.Write([]byte(t.AccessToken))
		sum := hf.Sum(nil)
		claims["at_hash"] = base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
	}
	return p.Tokens.SignIDToken(ctx, c, claims)
}

// halfHash is the hash at_hash uses for a JWS algorithm (OIDC Core 3.1.3.6).
func halfHash(alg string) hash.Hash {
	switch alg {
	case "RS256", "ES256", "PS256", "HS256":
		return sha256.New()
	case "RS384", "ES384", "PS384", "HS384":
		return sha512.New384()
	case "RS512", "ES512", "PS512", "HS512", "EdDSA":
		return sha512.New()
	}
	return nil
}

// userClaims adds a user's claims by scope (OIDC Core 5.4).
func userClaims(claims map[string]any, u *User, scope string) {
	if clientcheck.HasScope(scope, "email") && u.Email != "" {
		claims["email"] = u.Email
		claims["email_verified"] = u.EmailVerified
	}
	if clientcheck.HasScope(scope, "profile") {
		for k, v := range map[string]string{"name": u.FullName, "given_name": u.FirstName, "family_name": u.LastName,
			"middle_name": u.MiddleName, "preferred_username": u.Username, "picture": u.ImageURL, "birthdate": u.Birthdate} {
			if v != "" {
				claims[k] = v
			}
		}
		if _, ok := claims["name"]; !ok {
			if n := strings.TrimSpace(strings.Join(slices.DeleteFunc([]string{u.FirstName, u.MiddleName, u.LastName}, func(s string) bool { return s == "" }), " ")); n != "" {
				claims["name"] = n
			}
		}
	}
	if clientcheck.HasScope(scope, "phone") && u.MobilePhone != "" {
		claims["phone_number"] = u.MobilePhone
	}
}
