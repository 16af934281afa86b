package oauth

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/oauth/device"
)

// The device grant's hosted code page (/oauth2/device), a sign-in step:
// the user types the user code and signs in (or is signed in already),
// which approves the grant. The rest of the grant is internal/oauth/device.

// deviceRequest turns a typed user code into the sign-in it approves; nil
// and a message for the page when the code is not pending.
func (p *Provider) deviceRequest(r *http.Request, typed string) (*authRequest, string) {
	uc := device.NormalizeUserCode(typed)
	if uc == "" {
		return nil, "That code is not valid. Check it and try again."
	}
	d, err := p.State.PendingDeviceGrant(r.Context(), uc, p.now())
	if err != nil {
		if !errors.Is(err, device.ErrNotFound) {
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
		// RFC 8628 5.4: a user signed in already is shown which application
		// the device asks for, and lets it in or not, before anything is
		// approved (the sign-in form names it to a user who signs in).
		switch r.PostForm.Get("decision") {
		case "allow":
			p.completeAuthorization(w, r, ar, sess, user)
		case "deny":
			p.showDevice(w, r, ar.client.Tenant, "", "The device was not connected. Enter its code again if you meant to connect it.")
		default:
			p.confirmDevice(w, r, ar, user)
		}
		return
	}
	p.showLogin(w, r, ar, http.StatusOK, "", "")
}

// confirmDevice asks a signed-in user whether to connect the device: the
// application, the code, what it asks for and the account it will use.
func (p *Provider) confirmDevice(w http.ResponseWriter, r *http.Request, ar *authRequest, user *User) {
	if ar.client.App.OAuthConfiguration.RequireRegistration && !user.Registered {
		p.showDevice(w, r, ar.client.Tenant, "", "You are not registered for this application.")
		return
	}
	account := user.Email
	if account == "" {
		account = user.Username
	}
	data := consentPage{formPage: formPage{Action: "/oauth2/device", Step: "device-confirm", Hidden: p.hidden(ar), CSRF: p.csrfToken(w, r),
		AppName: appName(ar.client), LoginID: account, UserCode: ar.userCode}, Scopes: scopeList(ar.scope)}
	p.Pages.Page(w, r, http.StatusOK, "oauth_device_confirm", "Connect a device", ar.client.Tenant, data, "")
}

// approveDevice approves the grant of a signed-in user.
func (p *Provider) approveDevice(w http.ResponseWriter, r *http.Request, ar *authRequest, sess *Session, user *User) {
	if ar.client.App.OAuthConfiguration.RequireRegistration && !user.Registered {
		p.showDevice(w, r, ar.client.Tenant, "", "You are not registered for this application.")
		return
	}
	ok, err := p.State.ApproveDeviceGrant(r.Context(), ar.userCode,
		device.Approval{UserID: sess.UserID, SessionID: sess.ID, AuthType: sess.AuthType, AuthInstant: sess.AuthInstant}, p.now())
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
	p.devices.Poll(w, r, ca.client.App.ID, func(d *device.Grant) {
		t, err := p.Tokens.IssueTokens(r.Context(), ca.bind(Grant{UserID: d.UserID, ClientID: d.ClientID, AuthType: d.AuthType, AuthInstant: d.AuthInstant,
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
	})
}
