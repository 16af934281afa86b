package oauth

import (
	"errors"
	"net/http"

	"github.com/latchid/latch/internal/oauth/device"
)

// FusionAuth's APIs for a client that builds its own code-entry page
// (the grant's other calls are internal/oauth/device):
// /oauth2/device/user-code describes a pending grant, and
// /oauth2/device/approve approves it for the user of an access token the
// client obtained itself. Both need the client's own authentication; the
// API-key form of /oauth2/device/user-code is not offered.

// deviceClient reads a device API request's form (the query string for a
// GET) and authenticates the client as its policy demands.
func (p *Provider) deviceClient(w http.ResponseWriter, r *http.Request) (*clientAuth, bool) {
	if r.Method == http.MethodGet {
		r.PostForm = r.URL.Query()
	} else if e := readForm(r); e != nil {
		writeError(w, http.StatusBadRequest, e)
		return nil, false
	}
	ca, status, e := p.authenticateClient(r)
	if e != nil {
		writeError(w, status, e)
		return nil, false
	}
	if status, e := requireAuthenticated(ca); e != nil {
		writeError(w, status, e)
		return nil, false
	}
	return ca, true
}

// deviceAuthorize is POST /oauth2/device_authorize.
func (p *Provider) deviceAuthorize(w http.ResponseWriter, r *http.Request) {
	if ca, ok := p.deviceClient(w, r); ok {
		p.devices.Authorize(w, r, ca.client.App, ca.client.Tenant)
	}
}

// deviceUserCode is GET|POST /oauth2/device/user-code.
func (p *Provider) deviceUserCode(w http.ResponseWriter, r *http.Request) {
	if ca, ok := p.deviceClient(w, r); ok {
		p.devices.UserCode(w, r, ca.client.App.ID)
	}
}

// deviceApprove is POST /oauth2/device/approve: token is an access token
// of the user, issued for this client's application and tenant.
func (p *Provider) deviceApprove(w http.ResponseWriter, r *http.Request) {
	ca, ok := p.deviceClient(w, r)
	if !ok {
		return
	}
	tok := r.PostForm.Get("token")
	if tok == "" {
		writeError(w, http.StatusBadRequest, errInvalidRequest("missing_token", "The request has no token (the user's access token)."))
		return
	}
	d, ok := p.devices.PendingOf(w, r, ca.client.App.ID)
	if !ok {
		return
	}
	invalidToken := func() {
		writeError(w, http.StatusBadRequest, &oauthError{Code: "invalid_request", Reason: "access_token_invalid",
			Description: "The token is not a valid access token of this application's user."})
	}
	at, err := p.Tokens.VerifyAccessToken(r.Context(), tok)
	if err != nil && !errors.Is(err, ErrNotFound) {
		p.serverError(w, r, "verify access token", err)
		return
	}
	appID := ""
	if at != nil {
		appID = at.ApplicationID
		if appID == "" {
			appID = at.Audience
		}
	}
	if err != nil || at.Claims["authenticationType"] == nil || appID != ca.client.App.ID || at.TenantID != d.TenantID {
		invalidToken()
		return
	}
	u, err := p.Users.User(r.Context(), at.Subject, ca.client.App.ID)
	if errors.Is(err, ErrNotFound) || (err == nil && !u.Active) {
		invalidToken()
		return
	}
	if err != nil {
		p.serverError(w, r, "load user", err)
		return
	}
	if ca.client.App.OAuthConfiguration.RequireRegistration && !u.Registered {
		writeError(w, http.StatusBadRequest, &oauthError{Code: "access_denied", Reason: "registration_required", Description: "The user is not registered for this application."})
		return
	}
	authType, _ := at.Claims["authenticationType"].(string)
	authInstant := p.now()
	if t, ok := at.Claims["auth_time"].(float64); ok && t > 0 {
		authInstant = int64(t) * 1000
	}
	approved, err := p.State.ApproveDeviceGrant(r.Context(), d.UserCode, device.Approval{UserID: u.ID, AuthInstant: authInstant, AuthType: authType}, p.now())
	if err != nil {
		p.serverError(w, r, "approve device grant", err)
		return
	}
	if !approved {
		writeError(w, http.StatusBadRequest, errInvalidRequest("invalid_user_code", "The user code is unknown, expired, used or another client's."))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"deviceGrantStatus": "Approved", "tenantId": d.TenantID, "userId": u.ID})
}
