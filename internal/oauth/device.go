package oauth

import (
	"crypto/rand"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/oauth/clientcheck"
)

// The device authorization grant (RFC 8628) on FusionAuth's paths: the
// device asks /oauth2/device_authorize for a device code and a user code,
// the user types the user code on the hosted page /oauth2/device and signs
// in (or is signed in already), which approves the grant, and the device
// polls /oauth2/token with grant_type urn:ietf:params:oauth:grant-type:device_code.

const (
	// userCodeAlphabet: consonants only (no vowels: no words; no look-alikes).
	userCodeAlphabet        = "BCDFGHJKLMNPQRSTVWXZ"
	userCodeLength          = 8
	defaultDeviceTTLSeconds = 600
	maxDeviceTTLSeconds     = 1800
	deviceIntervalSeconds   = 5
)

func newUserCode() string {
	b := make([]byte, userCodeLength)
	_, _ = rand.Read(b)
	out := make([]byte, userCodeLength)
	for i, c := range b {
		out[i] = userCodeAlphabet[int(c)%len(userCodeAlphabet)] // 256 % 20 bias is negligible for a short-lived code
	}
	return string(out)
}

// normalizeUserCode accepts what people type: any case, dashes and spaces.
func normalizeUserCode(s string) string {
	s = strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(s))
	if len(s) != userCodeLength {
		return ""
	}
	for _, c := range s {
		if !strings.ContainsRune(userCodeAlphabet, c) {
			return ""
		}
	}
	return s
}

// deviceAuthorize is POST /oauth2/device_authorize.
func (p *Provider) deviceAuthorize(w http.ResponseWriter, r *http.Request) {
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
	c := ca.client
	if !slices.Contains(c.App.OAuthConfiguration.EnabledGrants, model.GrantDeviceCode) {
		writeError(w, http.StatusBadRequest, &oauthError{Code: "unauthorized_client", Reason: "grant_type_disabled", Description: "The application does not enable the device grant."})
		return
	}
	scope := clientcheck.NormalizeScope(r.PostForm.Get("scope"))
	if len(scope) > maxParamLength {
		writeError(w, http.StatusBadRequest, &oauthError{Code: "invalid_scope", Reason: "unknown_scope", Description: "The scope is too long."})
		return
	}
	ttl := int64(c.Tenant.ExternalIdentifierConfiguration.DeviceCodeTimeToLiveInSeconds)
	if ttl <= 0 {
		ttl = defaultDeviceTTLSeconds
	}
	ttl = min(ttl, maxDeviceTTLSeconds)
	now := p.now()
	deviceCode := newToken()
	var userCode string
	for range 5 {
		userCode = newUserCode()
		err := p.State.CreateDeviceGrant(r.Context(), hashToken(deviceCode), &DeviceGrant{UserCode: userCode, ClientID: c.App.ID,
			TenantID: c.Tenant.ID, Scope: scope, IntervalSeconds: deviceIntervalSeconds, ExpiresInstant: now + ttl*1000}, now)
		if errors.Is(err, ErrConflict) {
			userCode = ""
			continue
		}
		if err != nil {
			p.serverError(w, r, "store device grant", err)
			return
		}
		break
	}
	if userCode == "" {
		p.serverError(w, r, "store device grant", errors.New("no free user code"))
		return
	}
	verification := c.App.OAuthConfiguration.DeviceVerificationURL
	if verification == "" {
		verification = p.PublicURL + "/oauth2/device"
	}
	complete, _ := url.Parse(verification)
	q := complete.Query()
	q.Set("user_code", userCode)
	complete.RawQuery = q.Encode()
	writeJSON(w, http.StatusOK, map[string]any{"device_code": deviceCode, "user_code": userCode, "expires_in": ttl,
		"interval": deviceIntervalSeconds, "verification_uri": verification, "verification_uri_complete": complete.String()})
}

// deviceValidate is GET /oauth2/device/validate: 200 when the user code is
// pending for the client, else 400.
func (p *Provider) deviceValidate(w http.ResponseWriter, r *http.Request) {
	uc := normalizeUserCode(r.URL.Query().Get("user_code"))
	clientID := r.URL.Query().Get("client_id")
	if uc == "" {
		writeError(w, http.StatusBadRequest, errInvalidRequest("invalid_user_code", "The user code is not valid."))
		return
	}
	d, err := p.State.PendingDeviceGrant(r.Context(), uc, p.now())
	if err != nil && !errors.Is(err, ErrNotFound) {
		p.serverError(w, r, "read device grant", err)
		return
	}
	if err != nil || (clientID != "" && d.ClientID != clientID) {
		writeError(w, http.StatusBadRequest, errInvalidRequest("invalid_user_code", "The user code is unknown, expired or used."))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// deviceRequest turns a typed user code into the sign-in it approves; nil
// and a message for the page when the code is not pending.
func (p *Provider) deviceRequest(r *http.Request, typed string) (*authRequest, string) {
	uc := normalizeUserCode(typed)
	if uc == "" {
		return nil, "That code is not valid. Check it and try again."
	}
	d, err := p.State.PendingDeviceGrant(r.Context(), uc, p.now())
	if err != nil {
		if !errors.Is(err, ErrNotFound) {
			p.Log.ErrorContext(r.Context(), "oauth: read device grant", "err", err)
		}
		return nil, "That code is unknown, expired or already used."
	}
	c, err := p.Clients.Client(r.Context(), d.ClientID)
	if err != nil || !c.App.Active {
		return nil, "That code is unknown, expired or already used."
	}
	return &authRequest{client: c, params: url.Values{"client_id": {c.App.ID}}, scope: d.Scope, maxAge: -1, userCode: uc}, ""
}

// showDevice renders the code entry page in t's theme, else in that of
// the client_id or tenantId the request names (kept in the form, so that a
// wrong code keeps the look).
func (p *Provider) showDevice(w http.ResponseWriter, r *http.Request, t *model.TenantConfig, userCode, errMsg string) {
	data := formPage{Action: "/oauth2/device", Step: "device", CSRF: p.csrfToken(w, r), LoginID: userCode, Error: errMsg}
	if t == nil {
		if t = p.pageTenant(r); t != nil {
			for _, k := range []string{"client_id", "tenantId"} {
				if v := r.FormValue(k); v != "" && len(v) <= maxParamLength {
					data.Hidden = append(data.Hidden, hiddenField{k, v})
				}
			}
		}
	}
	p.Pages.Page(w, r, http.StatusOK, "oauth_device", "Connect a device", t, data, "")
}

// devicePage is GET|POST /oauth2/device: enter the code, sign in if needed,
// and the grant is approved.
func (p *Provider) devicePage(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		uc := r.URL.Query().Get("user_code")
		if len(uc) > 64 {
			uc = ""
		}
		var t *model.TenantConfig
		if ar, _ := p.deviceRequest(r, uc); ar != nil {
			t = ar.client.Tenant
		}
		p.showDevice(w, r, t, uc, "")
		return
	}
	if err := r.ParseForm(); err != nil {
		p.errorPage(w, r, http.StatusBadRequest, "The form could not be read", "The submitted form was malformed or too large. Go back and try again.")
		return
	}
	if !p.csrfOK(r) {
		p.csrfFailed(w, r)
		return
	}
	typed := r.PostForm.Get("user_code")
	ar, msg := p.deviceRequest(r, typed)
	if ar == nil {
		if len(typed) > 64 {
			typed = ""
		}
		p.showDevice(w, r, nil, typed, msg)
		return
	}
	if r.PostForm.Get("latch_step") == "login" {
		p.loginSubmit(w, r, ar)
		return
	}
	if sess, user := p.currentSession(r, ar.client); sess != nil {
		p.completeAuthorization(w, r, ar, sess, user)
		return
	}
	p.showLogin(w, r, ar, http.StatusOK, "", "")
}

// approveDevice approves the grant of a signed-in user.
func (p *Provider) approveDevice(w http.ResponseWriter, r *http.Request, ar *authRequest, sess *Session, user *User) {
	if ar.client.App.OAuthConfiguration.RequireRegistration && !user.Registered {
		p.showDevice(w, r, ar.client.Tenant, "", "You are not registered for this application.")
		return
	}
	ok, err := p.State.ApproveDeviceGrant(r.Context(), ar.userCode, sess, p.now())
	if err != nil {
		p.pageFailure(w, r, "approve device grant", err)
		return
	}
	if !ok {
		p.showDevice(w, r, ar.client.Tenant, "", "That code is unknown, expired or already used.")
		return
	}
	p.Pages.Page(w, r, http.StatusOK, "oauth_device_done", "Device connected", ar.client.Tenant, formPage{AppName: appName(ar.client)}, "")
}

// deviceGrant is the token endpoint's device_code grant.
func (p *Provider) deviceGrant(w http.ResponseWriter, r *http.Request, ca *clientAuth) {
	if status, e := requireAuthenticated(ca); e != nil {
		writeError(w, status, e)
		return
	}
	code := r.PostForm.Get("device_code")
	if code == "" {
		writeError(w, http.StatusBadRequest, errInvalidRequest("missing_device_code", "The request has no device_code."))
		return
	}
	if len(code) > maxParamLength {
		writeError(w, http.StatusBadRequest, invalidGrant("invalid_device_code", "The device code is unknown."))
		return
	}
	ctx, h, now, me := r.Context(), hashToken(code), p.now(), ca.client.App.ID
	d, err := p.State.TakeApprovedDeviceGrant(ctx, h, now)
	if err == nil {
		if d.ClientID != me {
			writeError(w, http.StatusBadRequest, invalidGrant("client_id_mismatch", "The device code was issued to another client."))
			return
		}
		t, err := p.Tokens.IssueTokens(ctx, ca.bind(Grant{UserID: d.UserID, ClientID: me, AuthType: d.AuthType, AuthInstant: d.AuthInstant,
			Scope: d.Scope, SessionID: d.SessionID, Refresh: p.wantsRefresh(ca.client, d.Scope), IP: p.clientIP(r), Issuer: p.issuer(ca.client.Tenant)}))
		if errors.Is(err, ErrGrantRefused) {
			writeError(w, http.StatusBadRequest, invalidGrant("user_locked", "The user can no longer sign in to this application."))
			return
		}
		if err != nil {
			p.serverError(w, r, "issue tokens", err)
			return
		}
		p.writeTokens(w, r, ca.client, t, "", d.SessionID)
		return
	}
	if !errors.Is(err, ErrNotFound) {
		p.serverError(w, r, "take device grant", err)
		return
	}
	if d, err := p.State.PollDeviceGrant(ctx, h, now); err == nil {
		if d.ClientID != me {
			writeError(w, http.StatusBadRequest, invalidGrant("client_id_mismatch", "The device code was issued to another client."))
			return
		}
		writeError(w, http.StatusBadRequest, &oauthError{Code: "authorization_pending", Description: "The user has not approved the device yet."})
		return
	} else if !errors.Is(err, ErrNotFound) {
		p.serverError(w, r, "poll device grant", err)
		return
	}
	d, err = p.State.DeviceGrantByHash(ctx, h)
	switch {
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusBadRequest, invalidGrant("invalid_device_code", "The device code is unknown."))
	case err != nil:
		p.serverError(w, r, "read device grant", err)
	case d.ClientID != me:
		writeError(w, http.StatusBadRequest, invalidGrant("client_id_mismatch", "The device code was issued to another client."))
	case d.ExpiresInstant <= now:
		writeError(w, http.StatusBadRequest, &oauthError{Code: "expired_token", Reason: "invalid_device_code", Description: "The device code has expired."})
	default:
		writeError(w, http.StatusBadRequest, &oauthError{Code: "slow_down", Description: "Poll no more often than the interval."})
	}
}
