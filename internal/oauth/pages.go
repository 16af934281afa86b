package oauth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/httpx"
	"github.com/latchid/latch/internal/model"
)

// The hosted sign-in steps: the sign-in form (posted to /oauth2/authorize
// with latch_step=login), the two-factor step and the password change. Each
// form carries the authorization request's parameters as hidden fields and a
// CSRF token that must equal the CSRF cookie (double submit; the cookie is
// SameSite=Lax and HttpOnly, so another site can neither send nor read it).

const (
	sessionCookie = "latch.sso"
	csrfCookie    = "latch.csrf"
	csrfField     = "csrf_token"
	// defaultSessionSeconds: the SSO session's inactivity window when the
	// tenant sets none (FusionAuth's httpSessionMaxInactiveInterval default).
	defaultSessionSeconds = 3600
	// defaultKeepMinutes: how long "keep me signed in" lasts when the
	// tenant sets no refresh token lifetime (FusionAuth's default, 30 days).
	defaultKeepMinutes  = 43200
	maxCredentialLength = 4096
)

func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}

// hiddenField is one hidden input of a page form.
type hiddenField struct{ Name, Value string }

// formPage is the data of every sign-in step page.
type formPage struct {
	Action     string
	Step       string
	Hidden     []hiddenField
	CSRF       string
	AppName    string
	LoginID    string
	Error      string // announced at the top of the form (role=alert)
	FieldError string // the field the error belongs to ("" for the form)
	Keep       bool
	Reason     string
	Notice     string // announced politely (role=status)
	EmailCode  bool   // the two-factor step may mail a code
	// Passwordless is the sign-in page's link to "email me a sign-in link"
	// ("": not offered).
	Passwordless string
	TrustDays    int    // how long "trust this device" skips the two-factor step
	UserCode     string // the device code the device page asks to confirm
}

// trustDays is the tenant's two-factor trust lifetime in whole days.
func trustDays(c *Client) int {
	if s := c.Tenant.ExternalIdentifierConfiguration.TwoFactorTrustIDTimeToLiveInSeconds; s > 0 {
		return max(1, s/86400)
	}
	return 30
}

// csrfToken returns the browser's CSRF token, setting the cookie when it
// has none.
func (p *Provider) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 32 && len(c.Value) <= 64 {
		return c.Value
	}
	v := newToken()
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: v, Path: "/oauth2/", HttpOnly: true, Secure: p.SecureCookies, SameSite: http.SameSiteLaxMode})
	return v
}

// csrfOK checks a posted form's CSRF token against the cookie in constant time.
func (p *Provider) csrfOK(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || c.Value == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostForm.Get(csrfField))) == 1
}

func (p *Provider) hidden(ar *authRequest) []hiddenField {
	var out []hiddenField
	for _, k := range authParams {
		if v := ar.params.Get(k); v != "" {
			out = append(out, hiddenField{k, v})
		}
	}
	if ar.userCode != "" {
		out = append(out, hiddenField{"user_code", ar.userCode})
	}
	if ar.signedInOnly {
		out = append(out, hiddenField{"latch_done", "page"})
	}
	return out
}

func appName(c *Client) string {
	if c.App.Name != "" {
		return c.App.Name
	}
	return "the application"
}

// redirectOrigins are the origins a sign-in step's form may end up at:
// browsers check every redirect after a form post against the page's
// form-action, so the client's redirect URI must be named (for the hosted
// backend's callback, every redirect URL the application registered, where
// the callback sends the browser on).
func (p *Provider) redirectOrigins(ar *authRequest) []string {
	if ar.userCode != "" || ar.signedInOnly {
		return nil // no redirect to a client
	}
	uris := []string{ar.redirectURI}
	if ar.redirectURI == p.hostedCallback() {
		uris = ar.client.App.OAuthConfiguration.AuthorizedRedirectURLs
	}
	var out []string
	for _, raw := range uris {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" || strings.Contains(u.Host, "*") || (u.Scheme != "http" && u.Scheme != "https") {
			continue // custom schemes and wildcards: not expressible as a source here
		}
		o := u.Scheme + "://" + u.Host
		if ip := net.ParseIP(u.Hostname()); u.Scheme == "http" && ip != nil && ip.IsLoopback() {
			o = u.Scheme + "://" + u.Hostname() + ":*" // a loopback redirect may use any port
			if ip.To4() == nil {
				o = "http://[" + u.Hostname() + "]:*"
			}
		}
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out
}

// showLogin renders the sign-in form.
func (p *Provider) showLogin(w http.ResponseWriter, r *http.Request, ar *authRequest, status int, loginID, errMsg string) {
	if ar.signedInOnly { // a passwordless sign-in outside an OAuth request: no form to go back to
		p.errorPageIn(w, r, ar.client.Tenant, http.StatusBadRequest, "This sign-in cannot be completed", errMsg)
		return
	}
	action := "/oauth2/authorize"
	if ar.userCode != "" {
		action = "/oauth2/device"
	}
	data := formPage{Action: action, Step: "login", Hidden: p.hidden(ar), CSRF: p.csrfToken(w, r),
		AppName: appName(ar.client), LoginID: loginID, Error: errMsg, Passwordless: p.passwordlessURL(ar)}
	p.Pages.Page(w, r, status, "oauth_login", "Sign in", ar.client.Tenant, data, p.redirectOrigins(ar)...)
}

// errorPage renders the error page in the theme of the tenant the request
// names (pageTenant).
func (p *Provider) errorPage(w http.ResponseWriter, r *http.Request, status int, heading string, paragraphs ...string) {
	p.errorPageIn(w, r, nil, status, heading, paragraphs...)
}

// errorPageIn is errorPage in t's theme (nil: as errorPage).
func (p *Provider) errorPageIn(w http.ResponseWriter, r *http.Request, t *model.TenantConfig, status int, heading string, paragraphs ...string) {
	if t == nil {
		t = p.pageTenant(r)
	}
	p.Pages.Error(w, r, status, t, heading, paragraphs...)
}

// pageTenant is the tenant a page request names, for its theme: its
// client_id's, else its tenantId; nil when it names none that exists.
func (p *Provider) pageTenant(r *http.Request) *model.TenantConfig {
	q := r.Form
	if q == nil {
		q = r.URL.Query()
	}
	if id := q.Get("client_id"); id != "" && len(id) <= maxParamLength {
		if c, err := p.Clients.Client(r.Context(), id); err == nil {
			return c.Tenant
		}
	}
	if id := q.Get("tenantId"); id != "" && len(id) <= maxParamLength {
		if t, err := p.Clients.Tenant(r.Context(), id); err == nil {
			return t
		}
	}
	return nil
}

func (p *Provider) csrfFailed(w http.ResponseWriter, r *http.Request) {
	p.errorPage(w, r, http.StatusForbidden, "This form has expired",
		"The form was not sent from this sign-in page, or it is too old. Go back to the application and sign in again.")
}

// loginSubmit handles the sign-in form.
func (p *Provider) loginSubmit(w http.ResponseWriter, r *http.Request, ar *authRequest) {
	if !p.csrfOK(r) {
		p.csrfFailed(w, r)
		return
	}
	loginID, password := strings.TrimSpace(r.PostForm.Get("loginId")), r.PostForm.Get("password")
	if loginID == "" || password == "" {
		p.showLogin(w, r, ar, http.StatusOK, loginID, "Enter your email or username and your password.")
		return
	}
	if len(loginID) > maxCredentialLength || len(password) > maxCredentialLength {
		p.showLogin(w, r, ar, http.StatusOK, "", "Invalid login credentials.")
		return
	}
	out, err := p.Authenticator.Authenticate(r.Context(), ar.client, loginID, password, p.browser(r))
	if err != nil {
		p.pageFailure(w, r, "sign in", err)
		return
	}
	p.afterStep(w, r, ar, out, loginID, r.PostForm.Get("keep") == "on")
}

// afterStep continues a sign-in after a step's outcome.
func (p *Provider) afterStep(w http.ResponseWriter, r *http.Request, ar *authRequest, out *LoginOutcome, loginID string, keep bool) {
	hidden := p.hidden(ar)
	if keep {
		hidden = append(hidden, hiddenField{"keep", "on"})
	}
	switch out.Status {
	case LoginOK:
		p.signedIn(w, r, ar, out, keep)
	case LoginFailed:
		p.showLogin(w, r, ar, http.StatusOK, loginID, "Invalid login credentials.")
	case LoginLocked:
		p.showLogin(w, r, ar, http.StatusOK, loginID, "This account is locked after too many failed attempts. Try again later.")
	case LoginRefused:
		p.showLogin(w, r, ar, http.StatusOK, loginID, "This account cannot sign in. Contact the administrator.")
	case LoginExpired:
		p.showLogin(w, r, ar, http.StatusOK, loginID, "The sign-in took too long. Sign in again.")
	case LoginTwoFactor:
		if out.EmailCode {
			hidden = append(hidden, hiddenField{"email_code", "on"})
		}
		data := formPage{Action: "/oauth2/two-factor", Step: "two-factor", Hidden: append(hidden, hiddenField{"twoFactorId", out.TwoFactorID}),
			CSRF: p.csrfToken(w, r), AppName: appName(ar.client), EmailCode: out.EmailCode, TrustDays: trustDays(ar.client)}
		p.Pages.Page(w, r, http.StatusOK, "oauth_two_factor", "Two-factor verification", ar.client.Tenant, data, p.redirectOrigins(ar)...)
	case LoginChangePassword:
		data := formPage{Action: "/oauth2/change-password", Step: "change-password",
			Hidden: withTrust(append(hidden, hiddenField{"changePasswordId", out.ChangePasswordID}), out.TrustToken), CSRF: p.csrfToken(w, r),
			AppName: appName(ar.client), Reason: out.Reason}
		p.Pages.Page(w, r, http.StatusOK, "oauth_change_password", "Change your password", ar.client.Tenant, data, p.redirectOrigins(ar)...)
	default:
		p.showLogin(w, r, ar, http.StatusOK, loginID, "Invalid login credentials.")
	}
}

// stepRequest re-validates the authorization request a step's form carries.
func (p *Provider) stepRequest(w http.ResponseWriter, r *http.Request) (*authRequest, bool) {
	if err := r.ParseForm(); err != nil {
		p.errorPage(w, r, http.StatusBadRequest, "The form could not be read", "The submitted form was malformed or too large. Go back and try again.")
		return nil, false
	}
	if !p.csrfOK(r) {
		p.csrfFailed(w, r)
		return nil, false
	}
	if r.PostForm.Get("latch_done") == "page" {
		return p.signedInOnlyRequest(w, r, r.PostForm.Get("client_id"), "")
	}
	if uc := r.PostForm.Get("user_code"); uc != "" {
		ar, msg := p.deviceRequest(r, uc)
		if ar == nil {
			p.showDevice(w, r, nil, uc, msg)
			return nil, false
		}
		return ar, true
	}
	ar, pageErr, redirErr := p.parseAuthRequest(r.Context(), r.PostForm)
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

// twoFactorStep is the two-factor form's POST (input "code").
func (p *Provider) twoFactorStep(w http.ResponseWriter, r *http.Request) {
	ar, ok := p.stepRequest(w, r)
	if !ok {
		return
	}
	id, code := r.PostForm.Get("twoFactorId"), strings.TrimSpace(r.PostForm.Get("code"))
	keep := r.PostForm.Get("keep") == "on"
	if id == "" || len(id) > maxParamLength || len(code) > 64 {
		p.showLogin(w, r, ar, http.StatusOK, "", "The sign-in took too long. Sign in again.")
		return
	}
	if r.PostForm.Get("action") == "send-code" {
		err := p.Authenticator.SendTwoFactorCode(r.Context(), ar.client, id, p.browser(r))
		if errors.Is(err, ErrNotFound) {
			p.showLogin(w, r, ar, http.StatusOK, "", "The sign-in took too long. Sign in again.")
		} else if err != nil {
			p.pageFailure(w, r, "send two-factor code", err)
		} else {
			p.twoFactorAgain(w, r, ar, id, keep, "")
		}
		return
	}
	if code == "" {
		p.twoFactorAgain(w, r, ar, id, keep, "Enter the code from your authenticator app or a recovery code.")
		return
	}
	by := p.browser(r)
	by.TrustDevice = r.PostForm.Get("trust") == "on"
	out, err := p.Authenticator.CompleteTwoFactor(r.Context(), ar.client, id, code, by)
	if err != nil {
		p.pageFailure(w, r, "two-factor step", err)
		return
	}
	if out.Status == LoginCodeInvalid {
		p.twoFactorAgain(w, r, ar, id, keep, "That code is not valid. Try again.")
		return
	}
	if out.TwoFactorTrustID != "" {
		http.SetCookie(w, &http.Cookie{Name: trustCookie, Value: out.TwoFactorTrustID, Path: "/oauth2/", HttpOnly: true,
			Secure: p.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: trustDays(ar.client) * 86400})
	}
	p.afterStep(w, r, ar, out, "", keep)
}

func (p *Provider) twoFactorAgain(w http.ResponseWriter, r *http.Request, ar *authRequest, id string, keep bool, msg string) {
	hidden := append(p.hidden(ar), hiddenField{"twoFactorId", id})
	if keep {
		hidden = append(hidden, hiddenField{"keep", "on"})
	}
	email := r.PostForm.Get("email_code") == "on"
	if email {
		hidden = append(hidden, hiddenField{"email_code", "on"})
	}
	data := formPage{Action: "/oauth2/two-factor", Step: "two-factor", Hidden: hidden, CSRF: p.csrfToken(w, r),
		AppName: appName(ar.client), Error: msg, FieldError: "code", EmailCode: email, TrustDays: trustDays(ar.client)}
	if msg == "" { // a code was just mailed
		data.Notice, data.FieldError = "We sent a code to the email address of your two-factor method. It works once and expires soon.", ""
	}
	p.Pages.Page(w, r, http.StatusOK, "oauth_two_factor", "Two-factor verification", ar.client.Tenant, data, p.redirectOrigins(ar)...)
}

// withTrust adds the trust token of a second factor just passed, which the
// password change of such a user spends (identity.CodeTrustToken).
func withTrust(hidden []hiddenField, trust string) []hiddenField {
	if trust == "" {
		return hidden
	}
	return append(hidden, hiddenField{"trustToken", trust})
}

// changePasswordStep is the password-change form's POST.
func (p *Provider) changePasswordStep(w http.ResponseWriter, r *http.Request) {
	ar, ok := p.stepRequest(w, r)
	if !ok {
		return
	}
	id, pw, confirm := r.PostForm.Get("changePasswordId"), r.PostForm.Get("password"), r.PostForm.Get("passwordConfirm")
	trust := r.PostForm.Get("trustToken")
	keep := r.PostForm.Get("keep") == "on"
	again := func(msg string) {
		hidden := withTrust(append(p.hidden(ar), hiddenField{"changePasswordId", id}), trust)
		if keep {
			hidden = append(hidden, hiddenField{"keep", "on"})
		}
		data := formPage{Action: "/oauth2/change-password", Step: "change-password", Hidden: hidden, CSRF: p.csrfToken(w, r),
			AppName: appName(ar.client), Error: msg, FieldError: "password"}
		p.Pages.Page(w, r, http.StatusOK, "oauth_change_password", "Change your password", ar.client.Tenant, data, p.redirectOrigins(ar)...)
	}
	switch {
	case id == "" || len(id) > maxParamLength || len(trust) > maxParamLength:
		p.showLogin(w, r, ar, http.StatusOK, "", "The sign-in took too long. Sign in again.")
		return
	case pw == "" || len(pw) > maxCredentialLength:
		again("Enter a new password.")
		return
	case pw != confirm:
		again("The two passwords do not match.")
		return
	}
	out, err := p.Authenticator.ChangePassword(r.Context(), ar.client, id, trust, pw, p.browser(r))
	if err != nil {
		p.pageFailure(w, r, "change password", err)
		return
	}
	if out.Status == LoginPasswordInvalid {
		again(out.Message)
		return
	}
	p.afterStep(w, r, ar, out, "", keep)
}

// browser is the signer of a hosted page's form.
func (p *Provider) browser(r *http.Request) Signer {
	by := Signer{IP: p.clientIP(r)}
	if c, err := r.Cookie(trustCookie); err == nil && len(c.Value) <= maxParamLength {
		by.TrustID = c.Value
	}
	return by
}

// trustCookie holds the two-factor trust a browser earned with "trust this
// device": the Login API's twoFactorTrustId, valid for its user only.
const trustCookie = "latch.2fa_trust"

// pageFailure shows a throttled or busy step as a "try again shortly" page
// (429 or 503 with Retry-After); anything else is logged and shown as the
// generic error page.
func (p *Provider) pageFailure(w http.ResponseWriter, r *http.Request, what string, err error) {
	if status, after, ok := httpx.RetryLater(err); ok {
		w.Header().Set("Retry-After", strconv.Itoa(after))
		if status == http.StatusTooManyRequests {
			p.errorPage(w, r, status, "Too many sign-in attempts",
				"Too many attempts came from your address or for this organisation. Nothing was changed.",
				fmt.Sprintf("Wait %s, then go back and try again.", waitText(after)))
			return
		}
		p.errorPage(w, r, status, "Try again shortly",
			"Latch has more sign-ins than it can check right now. Nothing was changed.",
			fmt.Sprintf("Wait %s, then go back and try again.", waitText(after)))
		return
	}
	p.Log.ErrorContext(r.Context(), "oauth: "+what, "err", err)
	p.errorPage(w, r, http.StatusInternalServerError, "Something went wrong",
		"Latch could not complete this request. The cause was written to the server's log. Try again in a moment.")
}

// signedIn starts the SSO session of a user who just signed in and
// completes the authorization.
func (p *Provider) signedIn(w http.ResponseWriter, r *http.Request, ar *authRequest, out *LoginOutcome, keep bool) {
	now := p.now()
	t := ar.client.Tenant
	ttl := int64(t.HTTPSessionMaxInactiveInterval)
	if ttl <= 0 {
		ttl = defaultSessionSeconds
	}
	ttl *= 1000
	if keep {
		mins := int64(t.JWTConfiguration.RefreshTokenTimeToLiveInMinutes)
		if mins <= 0 {
			mins = defaultKeepMinutes
		}
		ttl = mins * 60_000
	}
	authType := out.AuthType
	if authType == "" {
		authType = "PASSWORD"
	}
	sess := &Session{ID: uuid.NewString(), UserID: out.UserID, TenantID: t.ID, AuthInstant: now, AuthType: authType,
		KeepSignedIn: keep, ExpiresInstant: now + ttl}
	value := newToken()
	// A previous session of this browser ends (no fixation, no pile-up).
	if old, err := r.Cookie(sessionCookie); err == nil && old.Value != "" {
		if s, err := p.State.SessionByHash(r.Context(), hashToken(old.Value), now); err == nil {
			_ = p.State.DeleteSession(r.Context(), s.ID)
		}
	}
	user := out.User
	if user == nil {
		var err error
		if user, err = p.Users.User(r.Context(), out.UserID, ar.client.App.ID); err != nil {
			p.pageFailure(w, r, "load user", err)
			return
		}
	}
	// A sign-in that ends in a code stores its session with the code.
	next, err := p.nextStep(r, ar, user)
	pending := hashToken(value)
	if err != nil || next != stepCode {
		if err := p.State.CreateSession(r.Context(), pending, sess); err != nil {
			p.pageFailure(w, r, "store SSO session", err)
			return
		}
		pending = ""
	}
	ck := &http.Cookie{Name: sessionCookie, Value: value, Path: "/", HttpOnly: true, Secure: p.SecureCookies, SameSite: http.SameSiteLaxMode}
	if keep {
		ck.MaxAge = int(ttl / 1000) // Max-Age only: relative, so no clock skew with the browser
	}
	http.SetCookie(w, ck)
	p.complete(w, r, ar, sess, user, next, err, pending)
}

// currentSession is the browser's SSO session when it is usable for the
// client: same tenant, user still active, password unchanged since, and
// the user's sessions for the application not ended since (a code from it
// would be refused).
func (p *Provider) currentSession(r *http.Request, c *Client) (*Session, *User) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" || len(ck.Value) > 128 {
		return nil, nil
	}
	now := p.now()
	s, err := p.State.SessionByHash(r.Context(), hashToken(ck.Value), now)
	if err != nil {
		if !errors.Is(err, ErrNotFound) {
			p.Log.ErrorContext(r.Context(), "oauth: read SSO session", "err", err)
		}
		return nil, nil
	}
	if s.TenantID != c.Tenant.ID {
		return nil, nil
	}
	u, err := p.Users.User(r.Context(), s.UserID, c.App.ID)
	if err != nil || !u.Active || u.PasswordLastUpdateInstant > s.AuthInstant {
		return nil, nil
	}
	if ended, err := p.Users.SignInsEndedBefore(r.Context(), s.UserID, c.App.ID); err != nil || s.AuthInstant < ended {
		return nil, nil
	}
	if !s.KeepSignedIn {
		ttl := int64(c.Tenant.HTTPSessionMaxInactiveInterval)
		if ttl <= 0 {
			ttl = defaultSessionSeconds
		}
		_ = p.State.ExtendSession(r.Context(), s.ID, now+ttl*1000)
	}
	return s, u
}

// endSession deletes the browser's SSO session and its cookie.
func (p *Provider) endSession(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(sessionCookie); err == nil && ck.Value != "" && len(ck.Value) <= 128 {
		if s, err := p.State.SessionByHash(r.Context(), hashToken(ck.Value), p.now()); err == nil {
			if err := p.State.DeleteSession(r.Context(), s.ID); err != nil {
				p.Log.ErrorContext(r.Context(), "oauth: end SSO session", "err", err)
			}
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: p.SecureCookies, SameSite: http.SameSiteLaxMode})
}

// waitText says how long to wait, for people.
func waitText(seconds int) string {
	switch {
	case seconds <= 1:
		return "a second"
	case seconds < 90:
		return fmt.Sprintf("%d seconds", seconds)
	default:
		return fmt.Sprintf("%d minutes", (seconds+59)/60)
	}
}

// tenantOf is a client's tenant (nil without a client): whose theme a page shows.
func tenantOf(c *Client) *model.TenantConfig {
	if c == nil {
		return nil
	}
	return c.Tenant
}
