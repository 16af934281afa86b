package oauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/oauth/clientcheck"
)

// FusionAuth's hosted backend (/app/*), which its front-end SDKs use: the
// browser is sent to /app/login, which starts an authorization code flow
// with PKCE whose redirect URI is /app/callback; the callback exchanges the
// code and keeps the tokens in cookies (app.at and app.rt HttpOnly, app.idt
// and app.at_exp readable by the page); /app/refresh and /app/me are called
// by the page with credentials, through CORS; /app/logout clears the
// cookies and continues to /oauth2/logout.

const (
	appPendingCookie = "latch.app"
	cookieAT         = "app.at"
	cookieRT         = "app.rt"
	cookieIDT        = "app.idt"
	cookieATExp      = "app.at_exp"
	// appDefaultScope is FusionAuth's default scope of /app/login.
	appDefaultScope = "openid offline_access"
	// appPendingSeconds bounds how long a started sign-in may take.
	appPendingSeconds = 1800
	maxAppState       = 1024
)

// appPending is what /app/login remembers for /app/callback, in an HttpOnly
// cookie only Latch reads: the PKCE verifier, the state Latch sent, and the
// application's own redirect URI and state. Nothing in it is trusted
// without a check: the state must match the callback's, the redirect URI is
// checked again, and the verifier is checked by the code exchange.
type appPending struct {
	ClientID    string `json:"c"`
	RedirectURI string `json:"r"`
	State       string `json:"s,omitempty"`
	Verifier    string `json:"v"`
	OurState    string `json:"o"`
}

// hostedCallback is the redirect URI of the hosted backend's flows; every
// client may use it (the callback sends the browser on only to the
// client's own registered redirect URIs).
func (p *Provider) hostedCallback() string { return p.PublicURL + "/app/callback" }

// appClient reads the client of an /app/* request: the path segment, or
// the client_id query parameter the React SDK sends.
func (p *Provider) appClient(r *http.Request) (*Client, error) {
	id := r.PathValue("clientId")
	if id == "" {
		id = r.URL.Query().Get("client_id")
	}
	if id == "" || len(id) > maxParamLength {
		return nil, ErrNotFound
	}
	c, err := p.Clients.Client(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if !c.App.Active {
		return nil, ErrNotFound
	}
	return c, nil
}

func (p *Provider) appClientPage(w http.ResponseWriter, r *http.Request) (*Client, bool) {
	c, err := p.appClient(r)
	if err != nil {
		if !errors.Is(err, ErrNotFound) {
			p.pageFailure(w, r, "look up client", err)
			return nil, false
		}
		p.errorPage(w, r, http.StatusBadRequest, "This sign-in request cannot be completed", "No active application has this client_id.")
		return nil, false
	}
	return c, true
}

// appLogin is GET /app/login/{clientId}: it starts the authorization code
// flow with PKCE and sends the browser to /oauth2/authorize.
func (p *Provider) appLogin(w http.ResponseWriter, r *http.Request) {
	p.appStart(w, r, "/oauth2/authorize")
}

// appRegister is GET /app/register/{clientId}: as appLogin, to the
// registration page where the application enables self-service
// registration.
func (p *Provider) appRegister(w http.ResponseWriter, r *http.Request) {
	target := "/oauth2/authorize"
	if c, err := p.appClient(r); err == nil && c.App.Registration.Enabled && p.Registerer != nil {
		target = "/oauth2/register"
	}
	p.appStart(w, r, target)
}

func (p *Provider) appStart(w http.ResponseWriter, r *http.Request, target string) {
	c, ok := p.appClientPage(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	oc := c.App.OAuthConfiguration
	redirectURI := q.Get("redirect_uri")
	if redirectURI == "" && len(oc.AuthorizedRedirectURLs) > 0 && !strings.Contains(oc.AuthorizedRedirectURLs[0], "*") {
		redirectURI = oc.AuthorizedRedirectURLs[0]
	}
	if redirectURI == "" || len(redirectURI) > maxParamLength || !clientcheck.RedirectAllowed(oc, redirectURI) {
		p.errorPage(w, r, http.StatusBadRequest, "This sign-in request cannot be completed",
			"The redirect_uri is not one of the application's authorized redirect URLs.")
		return
	}
	state := q.Get("state")
	if len(state) > maxAppState {
		p.errorPage(w, r, http.StatusBadRequest, "This sign-in request cannot be completed", "The state is too long.")
		return
	}
	scope := clientcheck.NormalizeScope(q.Get("scope"))
	if scope == "" {
		scope = appDefaultScope
	}
	pending := appPending{ClientID: c.App.ID, RedirectURI: redirectURI, State: state, Verifier: newToken() + newToken(), OurState: newToken()}
	b, _ := json.Marshal(pending)
	http.SetCookie(w, &http.Cookie{Name: appPendingCookie, Value: base64.RawURLEncoding.EncodeToString(b), Path: "/app/",
		MaxAge: appPendingSeconds, HttpOnly: true, Secure: p.SecureCookies, SameSite: http.SameSiteLaxMode})
	sum := sha256.Sum256([]byte(pending.Verifier))
	v := url.Values{}
	v.Set("client_id", c.App.ID)
	v.Set("redirect_uri", p.hostedCallback())
	v.Set("response_type", "code")
	v.Set("scope", scope)
	v.Set("state", pending.OurState)
	v.Set("code_challenge", base64.RawURLEncoding.EncodeToString(sum[:]))
	v.Set("code_challenge_method", "S256")
	for _, k := range []string{"prompt", "login_hint", "idp_hint", "tenantId", "nonce", "max_age"} {
		if x := q.Get(k); x != "" && len(x) <= maxParamLength {
			v.Set(k, x)
		}
	}
	redirect(w, r, target+"?"+v.Encode())
}

// readPending reads the pending sign-in cookie.
func readPending(r *http.Request) (*appPending, bool) {
	ck, err := r.Cookie(appPendingCookie)
	if err != nil || ck.Value == "" || len(ck.Value) > 4096 {
		return nil, false
	}
	b, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil {
		return nil, false
	}
	var pd appPending
	if json.Unmarshal(b, &pd) != nil || pd.ClientID == "" || pd.Verifier == "" || pd.OurState == "" {
		return nil, false
	}
	return &pd, true
}

// appCallback is GET /app/callback: the end of the flow appStart began. It
// exchanges the code, sets the token cookies and sends the browser to the
// application's redirect URI with its state.
func (p *Provider) appCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	pd, ok := readPending(r)
	if !ok || subtle.ConstantTimeCompare([]byte(pd.OurState), []byte(q.Get("state"))) != 1 {
		p.errorPage(w, r, http.StatusBadRequest, "This sign-in cannot be completed",
			"The sign-in was started in another browser, or it took too long. Go back to the application and sign in again.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: appPendingCookie, Value: "", Path: "/app/", MaxAge: -1, HttpOnly: true, Secure: p.SecureCookies, SameSite: http.SameSiteLaxMode})
	c, err := p.Clients.Client(r.Context(), pd.ClientID)
	if err != nil || !c.App.Active || !clientcheck.RedirectAllowed(c.App.OAuthConfiguration, pd.RedirectURI) {
		if err != nil && !errors.Is(err, ErrNotFound) {
			p.pageFailure(w, r, "look up client", err)
			return
		}
		p.errorPage(w, r, http.StatusBadRequest, "This sign-in cannot be completed", "The application or its redirect URL is no longer available.")
		return
	}
	back := func(v url.Values) {
		u, _ := url.Parse(pd.RedirectURI)
		qq := u.Query()
		for k, vs := range v {
			qq[k] = vs
		}
		if pd.State != "" {
			qq.Set("state", pd.State)
		}
		u.RawQuery = qq.Encode()
		redirect(w, r, u.String())
	}
	if e := q.Get("error"); e != "" {
		v := url.Values{"error": {e}}
		for _, k := range []string{"error_description", "error_reason"} {
			if x := q.Get(k); x != "" {
				v.Set(k, x)
			}
		}
		back(v)
		return
	}
	t, code, _, oe, err := p.exchangeCode(r, &clientAuth{client: c, authenticated: true}, q.Get("code"), pd.Verifier, p.hostedCallback())
	if err != nil {
		p.pageFailure(w, r, "hosted callback exchange", err)
		return
	}
	if oe != nil {
		back(url.Values{"error": {oe.Code}, "error_description": {oe.Description}, "error_reason": {oe.Reason}})
		return
	}
	res, err := p.tokenResponse(r, c, t, code.Nonce, code.SessionID)
	if err != nil {
		p.pageFailure(w, r, "sign ID token", err)
		return
	}
	p.setAppCookies(w, c, res)
	back(url.Values{})
}

// appRefresh is POST /app/refresh/{clientId}: the app.rt cookie is
// exchanged under the application's refresh rules and new cookies set.
func (p *Provider) appRefresh(w http.ResponseWriter, r *http.Request) {
	c, err := p.appClient(r)
	if err != nil {
		if !errors.Is(err, ErrNotFound) {
			p.serverError(w, r, "look up client", err)
			return
		}
		writeError(w, http.StatusBadRequest, &oauthError{Code: "invalid_request", Reason: "invalid_client_id", Description: "No active application has this client_id."})
		return
	}
	ck, err := r.Cookie(cookieRT)
	if err != nil || ck.Value == "" || len(ck.Value) > maxParamLength {
		writeError(w, http.StatusBadRequest, errInvalidRequest("missing_refresh_token", "There is no refresh token cookie (app.rt); sign in again."))
		return
	}
	if !slices.Contains(c.App.OAuthConfiguration.EnabledGrants, model.GrantRefreshToken) {
		writeError(w, http.StatusBadRequest, &oauthError{Code: "unauthorized_client", Reason: "grant_type_disabled", Description: "The application does not enable the refresh_token grant."})
		return
	}
	t, err := p.Tokens.RefreshTokens(r.Context(), ck.Value, c.App.ID, p.issuer(c.Tenant), p.clientIP(r), "", "")
	if errors.Is(err, ErrGrantRefused) {
		p.clearAppCookies(w)
		writeError(w, http.StatusBadRequest, invalidGrant("refresh_token_not_found", "The refresh token is unknown, expired or revoked; sign in again."))
		return
	}
	if err != nil {
		p.serverError(w, r, "hosted refresh", err)
		return
	}
	res, err := p.tokenResponse(r, c, t, "", t.SessionID)
	if err != nil {
		p.serverError(w, r, "sign ID token", err)
		return
	}
	p.setAppCookies(w, c, res)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// appMe is GET /app/me: userinfo for the app.at cookie's token.
func (p *Provider) appMe(w http.ResponseWriter, r *http.Request) {
	unauthorized := func() {
		writeJSON(w, http.StatusUnauthorized, &oauthError{Code: "invalid_token", Reason: "access_token_invalid",
			Description: "There is no valid access token cookie (app.at); refresh or sign in again."})
	}
	ck, err := r.Cookie(cookieAT)
	if err != nil || ck.Value == "" || len(ck.Value) > 16384 {
		unauthorized()
		return
	}
	at, err := p.Tokens.VerifyAccessToken(r.Context(), ck.Value)
	if err != nil || at.Claims["authenticationType"] == nil {
		if err != nil && !errors.Is(err, ErrNotFound) {
			p.serverError(w, r, "verify access token", err)
			return
		}
		unauthorized()
		return
	}
	out, err := p.userinfoClaims(r.Context(), at)
	if errors.Is(err, ErrNotFound) {
		unauthorized()
		return
	}
	if err != nil {
		p.serverError(w, r, "load user", err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// appLogout is GET /app/logout/{clientId}: the cookies are cleared, the
// refresh token revoked, and the browser continues to /oauth2/logout, which
// ends the SSO session and checks where it may go next.
func (p *Provider) appLogout(w http.ResponseWriter, r *http.Request) {
	c, ok := p.appClientPage(w, r)
	if !ok {
		return
	}
	if ck, err := r.Cookie(cookieRT); err == nil && ck.Value != "" && len(ck.Value) <= maxParamLength {
		if err := p.Tokens.RevokeRefreshToken(r.Context(), ck.Value, c.App.ID); err != nil && !errors.Is(err, ErrNotFound) {
			p.Log.ErrorContext(r.Context(), "oauth: hosted logout revoke", "err", err)
		}
	}
	p.clearAppCookies(w)
	q := r.URL.Query()
	v := url.Values{"client_id": {c.App.ID}}
	target := q.Get("post_logout_redirect_uri")
	if target == "" {
		target = q.Get("redirect_uri")
	}
	if target != "" {
		v.Set("post_logout_redirect_uri", target)
	}
	redirect(w, r, "/oauth2/logout?"+v.Encode())
}

// appCookie is one hosted-backend cookie: Lax, Secure where browsers reach
// Latch over https, on the domain appCookieDomain picks.
func (p *Provider) appCookie(name, value string, maxAge int, httpOnly bool) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", Domain: appCookieDomain(p.PublicURL), MaxAge: maxAge,
		HttpOnly: httpOnly, Secure: p.SecureCookies, SameSite: http.SameSiteLaxMode}
}

// appCookieDomain is the Domain of the hosted backend's cookies: none (this
// host only) for an IP address or a name of one or two labels, else the
// parent of Latch's host, so that an application on a sibling host
// (app.example.com beside auth.example.com) can read app.at_exp and
// app.idt. FusionAuth widens to the broadest non-public suffix; Latch goes
// one level up only.
func appCookieDomain(publicURL string) string {
	u, err := url.Parse(publicURL)
	if err != nil {
		return ""
	}
	host := u.Hostname()
	if net.ParseIP(host) != nil || strings.Count(host, ".") < 2 {
		return ""
	}
	return host[strings.Index(host, ".")+1:]
}

// refreshMaxAge is how long the app.rt cookie is kept: the refresh token's
// lifetime under the application's or the tenant's settings.
func refreshMaxAge(c *Client) int {
	mins := c.Tenant.JWTConfiguration.RefreshTokenTimeToLiveInMinutes
	if c.App.JWTConfiguration.Enabled && c.App.JWTConfiguration.RefreshTokenTimeToLiveInMinutes > 0 {
		mins = c.App.JWTConfiguration.RefreshTokenTimeToLiveInMinutes
	}
	if mins <= 0 {
		mins = defaultKeepMinutes
	}
	return mins * 60
}

func (p *Provider) setAppCookies(w http.ResponseWriter, c *Client, t *tokenResponse) {
	ttl := int(t.ExpiresIn)
	exp := p.now()/1000 + t.ExpiresIn
	http.SetCookie(w, p.appCookie(cookieAT, t.AccessToken, ttl, true))
	http.SetCookie(w, p.appCookie(cookieATExp, strconv.FormatInt(exp, 10), ttl, false))
	if t.IDToken != "" {
		http.SetCookie(w, p.appCookie(cookieIDT, t.IDToken, ttl, false))
	}
	if t.RefreshToken != "" {
		http.SetCookie(w, p.appCookie(cookieRT, t.RefreshToken, refreshMaxAge(c), true))
	}
}

func (p *Provider) clearAppCookies(w http.ResponseWriter) {
	for _, n := range []string{cookieAT, cookieATExp, cookieIDT, cookieRT} {
		http.SetCookie(w, p.appCookie(n, "", -1, n == cookieAT || n == cookieRT))
	}
}
