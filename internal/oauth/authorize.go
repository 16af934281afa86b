package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/oauth/clientcheck"
	"github.com/latchid/latch/internal/oauth/discovery"
)

// authParams are the authorization request's parameters, carried through
// the sign-in forms as hidden fields (the pages keep no server state).
var authParams = []string{"client_id", "redirect_uri", "response_type", "response_mode", "scope", "state", "nonce",
	"code_challenge", "code_challenge_method", "prompt", "max_age", "login_hint", "id_token_hint", "tenantId", "idp_hint", "dpop_jkt"}

// Bounds on what a request may carry.
const (
	maxParamLength = 2048
	// maxCodeTTLSeconds: an authorization code lives at most this long
	// (RFC 6749 4.1.2 recommends at most 10 minutes).
	maxCodeTTLSeconds     = 600
	defaultCodeTTLSeconds = 30
)

// authRequest is a validated authorization request.
type authRequest struct {
	client       *Client
	params       url.Values // the request's own parameters (authParams only)
	redirectURI  string
	responseMode string
	scope        string
	state        string
	nonce        string
	challenge    string
	dpopJKT      string // RFC 9449 10: the key the code's exchange must prove
	prompts      []string
	maxAge       int64 // seconds; -1 when not given
	idTokenHint  string
	userCode     string // a device grant's user code: sign-in approves it instead of issuing a code
	consented    bool   // the user allowed it on the consent page just now
	// wantToken, wantIDToken: an implicit grant's response type (implicit.go).
	wantToken, wantIDToken bool
	// signedInOnly: a passwordless sign-in outside an OAuth request ends
	// on a "signed in" page, not at a client.
	signedInOnly bool
}

func (a *authRequest) prompt(p string) bool { return slices.Contains(a.prompts, p) }

// readAuthRequest reads the authorization request of a page's query or
// form; a bad one is answered (an error page, or an error redirected to a
// valid client's redirect URI) and ok is false.
func (p *Provider) readAuthRequest(w http.ResponseWriter, r *http.Request) (ar *authRequest, ok bool) {
	if err := r.ParseForm(); err != nil {
		p.errorPage(w, r, http.StatusBadRequest, "The request could not be read", "The sign-in request was malformed. Go back to the application and start again.")
		return nil, false
	}
	ar, pageErr, redirErr := p.parseAuthRequest(r.Context(), r.Form)
	if pageErr != nil {
		p.errorPage(w, r, http.StatusBadRequest, "This sign-in request cannot be completed", pageErr.Description)
		return nil, false
	}
	if redirErr != nil {
		p.redirectError(w, r, ar, redirErr)
		return nil, false
	}
	return ar, true
}

// authorize is GET|POST /oauth2/authorize.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	ar, ok := p.readAuthRequest(w, r)
	if !ok {
		return
	}
	if r.Method == http.MethodPost && r.PostForm.Get("latch_step") == "login" {
		p.loginSubmit(w, r, ar)
		return
	}
	sess, user := p.currentSession(r, ar.client)
	// select_account: a browser holds one session, so the sign-in page is
	// where the user picks the account.
	needLogin := sess == nil || ar.prompt("login") || ar.prompt("select_account")
	if sess != nil && ar.maxAge >= 0 && p.now()-sess.AuthInstant > ar.maxAge*1000 {
		needLogin = true
	}
	if sess != nil && ar.idTokenHint != "" {
		claims, err := p.Tokens.VerifySignature(r.Context(), ar.idTokenHint)
		if err != nil {
			p.redirectError(w, r, ar, &oauthError{Code: "invalid_request", Reason: "invalid_id_token_hint", Description: "The id_token_hint is not a token Latch issued."})
			return
		}
		if sub, _ := claims["sub"].(string); sub != sess.UserID {
			needLogin = true
		}
	}
	if needLogin {
		if ar.prompt("none") {
			p.redirectError(w, r, ar, &oauthError{Code: "login_required", Reason: "login_required", Description: "The user is not signed in."})
			return
		}
		p.showLogin(w, r, ar, http.StatusOK, ar.params.Get("login_hint"), "")
		return
	}
	p.completeAuthorization(w, r, ar, sess, user)
}

// parseAuthRequest validates an authorization request. pageErr: the
// client or redirect URI cannot be trusted, so the error is shown, never
// redirected. redirErr: an error for the client at its redirect URI.
func (p *Provider) parseAuthRequest(ctx context.Context, form url.Values) (ar *authRequest, pageErr, redirErr *oauthError) {
	ar = &authRequest{params: url.Values{}, maxAge: -1}
	for _, k := range authParams {
		vs := form[k]
		if len(vs) > 1 {
			if k == "client_id" || k == "redirect_uri" {
				return nil, errInvalidRequest("invalid_request", "The request repeats the parameter "+k+"."), nil
			}
			redirErr = errInvalidRequest("invalid_request", "The request repeats the parameter "+k+".")
		}
		if len(vs) > 0 && vs[0] != "" {
			if len(vs[0]) > maxParamLength {
				if k == "client_id" || k == "redirect_uri" {
					return nil, errInvalidRequest("invalid_request", "The parameter "+k+" is too long."), nil
				}
				redirErr = errInvalidRequest("invalid_request", "The parameter "+k+" is too long.")
				continue
			}
			ar.params.Set(k, vs[0])
		}
	}
	clientID := ar.params.Get("client_id")
	if clientID == "" {
		return nil, errInvalidRequest("missing_client_id", "The request names no client (client_id is missing)."), nil
	}
	c, err := p.Clients.Client(ctx, clientID)
	if err != nil || !c.App.Active {
		if err != nil && !errors.Is(err, ErrNotFound) {
			p.Log.ErrorContext(ctx, "oauth: look up client", "err", err)
		}
		return nil, &oauthError{Code: "invalid_client", Reason: "invalid_client_id", Description: "No active application has this client_id."}, nil
	}
	ar.client = c
	ar.redirectURI = ar.params.Get("redirect_uri")
	if ar.redirectURI == "" {
		return nil, errInvalidRequest("missing_redirect_uri", "The request has no redirect_uri."), nil
	}
	if !clientcheck.RedirectAllowed(c.App.OAuthConfiguration, ar.redirectURI) && ar.redirectURI != p.hostedCallback() {
		return nil, errInvalidRequest("invalid_redirect_uri", "The redirect_uri is not one of the application's authorized redirect URLs."), nil
	}
	// From here on errors go back to the client.
	ar.state, ar.nonce, ar.scope = ar.params.Get("state"), ar.params.Get("nonce"), clientcheck.NormalizeScope(ar.params.Get("scope"))
	ar.responseMode = ar.params.Get("response_mode")
	// A response type that returns tokens answers in the fragment by default,
	// errors too (RFC 6749 4.2.2.1), and never in a query string (OAuth 2.0
	// Multiple Response Type Encoding Practices 2.1).
	defaultMode := "query"
	if frontChannel(ar.params.Get("response_type")) {
		defaultMode = "fragment"
	}
	switch ar.responseMode {
	case "":
		ar.responseMode = defaultMode
	case "query":
		if defaultMode == "fragment" {
			ar.responseMode = defaultMode
			return ar, nil, errInvalidRequest("invalid_response_mode", "response_mode=query cannot carry tokens: use fragment or form_post.")
		}
	case "fragment", "form_post":
	default:
		ar.responseMode = defaultMode
		return ar, nil, errInvalidRequest("invalid_response_mode", "response_mode must be query, fragment or form_post.")
	}
	if redirErr != nil {
		return ar, nil, redirErr
	}
	if form.Get("request") != "" {
		return ar, nil, &oauthError{Code: "request_not_supported", Reason: "unknown", Description: "Request objects (request) are not supported."}
	}
	if form.Get("request_uri") != "" {
		return ar, nil, &oauthError{Code: "request_uri_not_supported", Reason: "unknown", Description: "Request objects by reference (request_uri) are not supported."}
	}
	switch rt := ar.params.Get("response_type"); {
	case rt == "":
		return ar, nil, errInvalidRequest("missing_response_type", "The request has no response_type.")
	case rt != "code":
		if e := implicitRequest(ar, rt); e != nil {
			return ar, nil, e
		}
	}
	oc := c.App.OAuthConfiguration
	if !ar.implicit() && !slices.Contains(oc.EnabledGrants, model.GrantAuthorizationCode) {
		return ar, nil, &oauthError{Code: "unauthorized_client", Reason: "grant_type_disabled", Description: "The application does not enable the authorization_code grant."}
	}
	if !ar.implicit() {
		if e := ar.parseCodeBinding(oc); e != nil {
			return ar, nil, e
		}
	} else if ar.params.Get("dpop_jkt") != "" {
		return ar, nil, errInvalidRequest("invalid_dpop_jkt", "dpop_jkt binds an authorization code; the implicit grant has none.")
	}
	if v := ar.params.Get("prompt"); v != "" {
		ar.prompts = strings.Fields(v)
		for _, pr := range ar.prompts {
			if !discovery.SupportsPrompt(pr) {
				return ar, nil, errInvalidRequest("invalid_prompt", "prompt must be none, login, consent or select_account.")
			}
		}
		if ar.prompt("none") && len(ar.prompts) > 1 {
			return ar, nil, errInvalidRequest("invalid_prompt", "prompt=none cannot be combined with other values.")
		}
	}
	if v := ar.params.Get("max_age"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return ar, nil, errInvalidRequest("invalid_request", "max_age must be a whole number of seconds.")
		}
		ar.maxAge = n
	}
	ar.idTokenHint = ar.params.Get("id_token_hint")
	return ar, nil, nil
}

// parseCodeBinding reads what binds an authorization code's exchange: the
// PKCE challenge and the DPoP key (dpop_jkt).
func (ar *authRequest) parseCodeBinding(oc model.OAuth2Configuration) *oauthError {
	ar.challenge = ar.params.Get("code_challenge")
	method := ar.params.Get("code_challenge_method")
	switch {
	case method != "" && method != "S256":
		return errInvalidRequest("invalid_pkce_code_challenge_method", "code_challenge_method must be S256.")
	case method != "" && ar.challenge == "":
		return errInvalidRequest("missing_code_challenge", "code_challenge_method was given without a code_challenge.")
	case ar.challenge != "" && method == "":
		// RFC 7636 defaults to plain, which Latch refuses.
		return errInvalidRequest("invalid_pkce_code_challenge_method", "code_challenge_method must be S256 (plain is not accepted).")
	case ar.challenge != "" && !clientcheck.ValidChallenge(ar.challenge):
		return errInvalidRequest("invalid_pkce_code_challenge", "The code_challenge is not a base64url SHA-256 value.")
	case ar.challenge == "" && clientcheck.PKCERequired(oc):
		return errInvalidRequest("missing_code_challenge", "This application requires PKCE: send code_challenge with code_challenge_method=S256.")
	}
	if ar.dpopJKT = ar.params.Get("dpop_jkt"); ar.dpopJKT != "" && !clientcheck.ValidChallenge(ar.dpopJKT) {
		return errInvalidRequest("invalid_dpop_jkt", "dpop_jkt is not a base64url SHA-256 JWK thumbprint.")
	}
	return nil
}

// redirectError sends an error to the client's redirect URI, with state
// and iss (RFC 9207).
func (p *Provider) redirectError(w http.ResponseWriter, r *http.Request, ar *authRequest, e *oauthError) {
	v := url.Values{}
	v.Set("error", e.Code)
	if e.Description != "" {
		v.Set("error_description", e.Description)
	}
	if e.Reason != "" {
		v.Set("error_reason", e.Reason)
	}
	p.respond(w, r, ar, v)
}

// respond delivers an authorization response (code or error) in the
// request's response mode, with state and iss.
func (p *Provider) respond(w http.ResponseWriter, r *http.Request, ar *authRequest, v url.Values) {
	if ar.state != "" {
		v.Set("state", ar.state)
	}
	v.Set("iss", p.issuer(ar.client.Tenant))
	if ar.responseMode == "form_post" {
		type field struct{ Name, Value string }
		var fields []field
		for _, k := range sortedKeys(v) {
			fields = append(fields, field{k, v.Get(k)})
		}
		origin := ""
		if u, err := url.Parse(ar.redirectURI); err == nil {
			origin = u.Scheme + "://" + u.Host
		}
		p.Pages.Page(w, r, http.StatusOK, "oauth_form_post", "Continue", ar.client.Tenant, map[string]any{"Action": ar.redirectURI, "Fields": fields}, origin)
		return
	}
	u, _ := url.Parse(ar.redirectURI)
	if ar.responseMode == "fragment" {
		u.Fragment = ""
		u.RawFragment = ""
		target := u.String() + "#" + v.Encode()
		redirect(w, r, target)
		return
	}
	q := u.Query()
	for k, vs := range v {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	redirect(w, r, u.String())
}

// redirect answers 303 to a POST (so the browser GETs the target) and 302
// to a GET.
func redirect(w http.ResponseWriter, r *http.Request, target string) {
	status := http.StatusFound
	if r.Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", target)
	w.WriteHeader(status)
}

func sortedKeys(v url.Values) []string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// codeTTL is how long the tenant's authorization codes live, at most 10 minutes.
func codeTTL(t *model.TenantConfig) int64 {
	s := int64(t.ExternalIdentifierConfiguration.AuthorizationGrantIDTimeToLiveInSeconds)
	if s <= 0 {
		s = defaultCodeTTLSeconds
	}
	return min(s, maxCodeTTLSeconds)
}

// completeAuthorization completes the authorization of a signed-in user
// whose session is stored: a code (or tokens) to the client, or the step
// still missing (consent, the device's approval).
func (p *Provider) completeAuthorization(w http.ResponseWriter, r *http.Request, ar *authRequest, sess *Session, user *User) {
	next, err := p.nextStep(r, ar, user)
	p.complete(w, r, ar, sess, user, next, err, "")
}

// step is what completes an authorization for a signed-in user.
type step int

const (
	stepCode step = iota
	stepDevice
	stepSignedInPage
	stepNotRegistered
	stepConsent
	stepImplicit
)

// nextStep decides how an authorization completes, before anything is
// written: a sign-in that ends in a code stores its session with the code.
func (p *Provider) nextStep(r *http.Request, ar *authRequest, user *User) (step, error) {
	switch {
	case ar.userCode != "":
		return stepDevice, nil
	case ar.signedInOnly:
		return stepSignedInPage, nil
	case ar.client.App.OAuthConfiguration.RequireRegistration && !user.Registered:
		return stepNotRegistered, nil
	}
	ask, err := p.needsConsent(r, ar, user)
	switch {
	case err != nil:
		return 0, err
	case ask:
		return stepConsent, nil
	case ar.implicit():
		return stepImplicit, nil
	}
	return stepCode, nil
}

// complete carries out the step nextStep chose. newSessionHash is the
// cookie hash of a session not stored yet (stepCode only): it is stored
// with the code, in one transaction.
func (p *Provider) complete(w http.ResponseWriter, r *http.Request, ar *authRequest, sess *Session, user *User, next step, err error, newSessionHash string) {
	if err != nil {
		p.Log.ErrorContext(r.Context(), "oauth: read consent", "err", err)
		p.redirectError(w, r, ar, &oauthError{Code: "server_error", Description: "The server could not complete the request."})
		return
	}
	switch next {
	case stepDevice:
		p.approveDevice(w, r, ar, sess, user)
	case stepSignedInPage:
		p.Pages.Page(w, r, http.StatusOK, "oauth_passwordless", "Signed in", ar.client.Tenant, formPage{Step: "done", AppName: appName(ar.client)})
	case stepNotRegistered:
		p.redirectError(w, r, ar, &oauthError{Code: "access_denied", Reason: "registration_required", Description: "The user is not registered for this application."})
	case stepConsent:
		if ar.prompt("none") {
			p.redirectError(w, r, ar, &oauthError{Code: "consent_required", Reason: "consent_required", Description: "The user has not allowed this application."})
			return
		}
		p.showConsent(w, r, ar)
	case stepImplicit:
		p.completeImplicit(w, r, ar, sess)
	default:
		p.issueCode(w, r, ar, sess, newSessionHash)
	}
}

// issueCode answers the authorization with a new code.
func (p *Provider) issueCode(w http.ResponseWriter, r *http.Request, ar *authRequest, sess *Session, newSessionHash string) {
	code := newToken()
	now := p.now()
	c := &Code{ClientID: ar.client.App.ID, TenantID: ar.client.Tenant.ID, UserID: sess.UserID, SessionID: sess.ID,
		RedirectURI: ar.redirectURI, Scope: ar.scope, Nonce: ar.nonce, CodeChallenge: ar.challenge, DPoPJKT: ar.dpopJKT,
		AuthInstant: sess.AuthInstant, AuthType: sess.AuthType, ExpiresInstant: now + codeTTL(ar.client.Tenant)*1000}
	var err error
	if newSessionHash != "" {
		err = p.State.CreateSessionAndCode(r.Context(), newSessionHash, sess, hashToken(code), c, now)
	} else {
		err = p.State.CreateCode(r.Context(), hashToken(code), c, now)
	}
	if err != nil {
		p.Log.ErrorContext(r.Context(), "oauth: store authorization code", "err", err)
		p.redirectError(w, r, ar, &oauthError{Code: "server_error", Description: "The server could not complete the request."})
		return
	}
	v := url.Values{}
	v.Set("code", code)
	p.respond(w, r, ar, v)
}
