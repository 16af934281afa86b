package oauth

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// Sign-in by emailed link (FusionAuth's passwordless login) on the hosted
// pages. The sign-in page of an application with
// passwordlessConfiguration.enabled links to /oauth2/passwordless, which
// mails a code whose state is the pending authorization request (FusionAuth
// keeps client_id, redirect_uri, scope, state … there too, so a code
// started through /api/passwordless/start with them continues that request
// as well). The emailed link, /oauth2/passwordless/{code}, signs in and
// answers the client as the sign-in form does.

// passwordlessURL is the sign-in page's link to the passwordless start
// ("" when the application does not offer it).
func (p *Provider) passwordlessURL(ar *authRequest) string {
	if p.Passwordless == nil || ar.userCode != "" || ar.signedInOnly || !ar.client.App.Passwordless.Enabled {
		return ""
	}
	return "/oauth2/passwordless?" + ar.params.Encode()
}

// passwordlessStart is GET|POST /oauth2/passwordless: the form asking for
// the login id, then the same "check your email" page whether or not an
// account has it.
func (p *Provider) passwordlessStart(w http.ResponseWriter, r *http.Request) {
	ar, ok := p.readAuthRequest(w, r)
	if !ok {
		return
	}
	if p.passwordlessURL(ar) == "" {
		p.errorPageIn(w, r, ar.client.Tenant, http.StatusBadRequest, "Sign-in links are not available",
			"This application does not offer sign-in by email link. Go back and sign in with your password.")
		return
	}
	data := formPage{Action: "/oauth2/passwordless", Step: "start", Hidden: p.hidden(ar), CSRF: p.csrfToken(w, r),
		AppName: appName(ar.client), LoginID: ar.params.Get("login_hint")}
	show := func() {
		p.Pages.Page(w, r, http.StatusOK, "oauth_passwordless", "Email me a sign-in link", ar.client.Tenant, data)
	}
	if r.Method != http.MethodPost {
		show()
		return
	}
	if !p.csrfOK(r) {
		p.csrfFailed(w, r)
		return
	}
	loginID := strings.TrimSpace(r.PostForm.Get("loginId"))
	if loginID == "" || len(loginID) > maxCredentialLength {
		data.LoginID, data.Error, data.FieldError = "", "Enter your email or username.", "loginId"
		show()
		return
	}
	state := map[string]any{}
	for k := range ar.params {
		state[k] = ar.params.Get(k)
	}
	if err := p.Passwordless.EmailLink(r.Context(), ar.client, loginID, state, p.browser(r)); errors.Is(err, ErrNotFound) {
		p.errorPageIn(w, r, ar.client.Tenant, http.StatusServiceUnavailable, "Sign-in links are not available",
			"This organisation has not set up sign-in emails. Go back and sign in with your password.")
		return
	} else if err != nil {
		p.pageFailure(w, r, "email sign-in link", err)
		return
	}
	// The login id is not repeated: the page is the same for every answer.
	data.Step, data.LoginID = "sent", ""
	show()
}

// passwordlessLink is GET|POST /oauth2/passwordless/{code}, the emailed
// link. Mail scanners fetch links before people click them, so a GET uses
// nothing up: it shows one button whose POST (with the CSRF token) signs
// in. Sending the browser on with a script instead would let any scanner
// that runs scripts spend the code.
func (p *Provider) passwordlessLink(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	if p.Passwordless == nil || len(code) > maxParamLength {
		p.linkExpired(w, r, nil)
		return
	}
	info, err := p.Passwordless.PeekLink(r.Context(), code)
	if errors.Is(err, ErrNotFound) {
		p.linkExpired(w, r, nil)
		return
	}
	if err != nil {
		p.pageFailure(w, r, "read sign-in link", err)
		return
	}
	ar, ok := p.linkRequest(w, r, info)
	if !ok {
		return
	}
	if r.Method != http.MethodPost {
		data := formPage{Action: "/oauth2/passwordless/" + url.PathEscape(code), Step: "link", CSRF: p.csrfToken(w, r), AppName: appName(ar.client)}
		p.Pages.Page(w, r, http.StatusOK, "oauth_passwordless", "Sign in", ar.client.Tenant, data, p.redirectOrigins(ar)...)
		return
	}
	if err := r.ParseForm(); err != nil || !p.csrfOK(r) {
		p.csrfFailed(w, r)
		return
	}
	out, err := p.Passwordless.CompleteLink(r.Context(), ar.client, code, p.browser(r))
	if err != nil {
		p.pageFailure(w, r, "sign in with link", err)
		return
	}
	switch out.Status {
	case LoginFailed, LoginExpired:
		p.linkExpired(w, r, ar.client)
	case LoginLocked:
		p.errorPageIn(w, r, ar.client.Tenant, http.StatusConflict, "This account is locked",
			"This account is locked after too many failed attempts. Try again later.")
	case LoginRefused:
		p.errorPageIn(w, r, ar.client.Tenant, http.StatusForbidden, "This account cannot sign in", "Contact the administrator.")
	default:
		p.afterStep(w, r, ar, out, "", false)
	}
}

func (p *Provider) linkExpired(w http.ResponseWriter, r *http.Request, c *Client) {
	p.errorPageIn(w, r, tenantOf(c), http.StatusNotFound, "This sign-in link no longer works",
		"The link was already used, or it expired. Go back to the application and ask for a new one.")
}

// linkRequest is the sign-in a code continues: the authorization request
// in its state when that names client_id and redirect_uri (checked again
// as if it came now), else a sign-in to the code's application that ends
// on a "signed in" page.
func (p *Provider) linkRequest(w http.ResponseWriter, r *http.Request, info *LinkCode) (*authRequest, bool) {
	v := url.Values{}
	for _, k := range authParams {
		if s, ok := info.State[k].(string); ok && s != "" {
			v.Set(k, s)
		}
	}
	if v.Get("client_id") == "" || v.Get("redirect_uri") == "" {
		return p.signedInOnlyRequest(w, r, info.ApplicationID, info.TenantID)
	}
	if v.Get("response_type") == "" {
		v.Set("response_type", "code")
	}
	if v.Get("prompt") == "none" { // the user is here, clicking
		v.Del("prompt")
	}
	ar, pageErr, redirErr := p.parseAuthRequest(r.Context(), v)
	if pageErr == nil && ar.client.Tenant.ID != info.TenantID {
		pageErr = errInvalidRequest("invalid_client_id", "The link was issued for another organisation than this application's.")
	}
	if pageErr != nil {
		p.errorPage(w, r, http.StatusBadRequest, "This sign-in link cannot be used", pageErr.Description)
		return nil, false
	}
	if redirErr != nil {
		p.redirectError(w, r, ar, redirErr)
		return nil, false
	}
	return ar, true
}

// signedInOnlyRequest is a sign-in to an application outside an OAuth
// request (tenantID, when given, must be the application's).
func (p *Provider) signedInOnlyRequest(w http.ResponseWriter, r *http.Request, clientID, tenantID string) (*authRequest, bool) {
	c, err := p.Clients.Client(r.Context(), clientID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		p.pageFailure(w, r, "look up client", err)
		return nil, false
	}
	if err != nil || !c.App.Active || tenantID != "" && c.Tenant.ID != tenantID {
		p.errorPage(w, r, http.StatusBadRequest, "This sign-in cannot be completed", "The application of this sign-in is no longer available.")
		return nil, false
	}
	return &authRequest{client: c, params: url.Values{"client_id": {c.App.ID}}, maxAge: -1, signedInOnly: true}, true
}
