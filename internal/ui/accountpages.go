package ui

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/latchid/latch/internal/authentication"
	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/mailflows"
	"github.com/latchid/latch/internal/model"
)

// The hosted account pages the emails link to: forgot password
// (/password/forgot), choose a new password with an emailed id
// (/password/change/{changePasswordId}), verify an email address
// (/email/verify/{verificationId}). Ids are used on POST only, so a mail
// scanner that fetches links uses nothing up. Each page takes the theme of
// its tenant where that is known (the emailed id's, or the tenantId or
// client_id in the address), as the OAuth pages do.

var (
	msgLinkExpired = message{Status: http.StatusNotFound, Title: "Link expired", Heading: "This link no longer works",
		Paragraphs: []template.HTML{"The link was already used, or it expired. Ask for a new one."}}
	msgCrossSite = message{Status: http.StatusForbidden, Title: "Forbidden", Heading: "The form came from another site",
		Paragraphs: []template.HTML{"This form can only be sent from Latch's own page. Open the page again and send it from there."}}
)

type forgotData struct {
	Action string
	Sent   bool
	Error  string
}

type setPasswordData struct {
	Action string
	Done   bool
	Error  string
	// NeedCode: the user has a second factor, so the change needs a code
	// of it (or the trust token a code earned on an earlier try).
	NeedCode   bool
	TrustToken string
	// CanEmailCode: the user has an email method, whose code the page
	// mails on request (CodeSent: it just did).
	CanEmailCode bool
	CodeSent     bool
}

type verifyData struct {
	Action   string
	What     string // "email address", "registration"
	Done     bool
	NeedCode bool
	Error    string
}

// sameSite refuses form posts from other sites: browsers say where a
// request comes from (Sec-Fetch-Site, else Origin).
func sameSite(r *http.Request) bool {
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" {
		return s == "same-origin" || s == "none"
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		return err == nil && u.Host == r.Host
	}
	return true
}

// formPost checks a POST of the account pages; false: the answer is sent.
func (u *UI) formPost(w http.ResponseWriter, r *http.Request, t *model.TenantConfig) bool {
	if !sameSite(r) {
		u.showMessageIn(w, r, msgCrossSite, t)
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		u.showMessageIn(w, r, msgBadForm, t)
		return false
	}
	return true
}

// tenantByID is a tenant's settings for its theme (nil when unknown).
func (u *UI) tenantByID(r *http.Request, id string) *model.TenantConfig {
	if id == "" {
		return nil
	}
	t, err := u.svc.Tenancy.LoginTenantConfig(r.Context(), id)
	if err != nil {
		if !errors.Is(err, model.ErrNotFound) {
			u.log.ErrorContext(r.Context(), "ui: tenant of a page", "err", err)
		}
		return nil
	}
	return t
}

// addressTenant is the tenant a page's address names: tenantId, else the
// tenant of client_id's application (nil: none).
func (u *UI) addressTenant(r *http.Request) *model.TenantConfig {
	q := r.URL.Query()
	if id, ok := kit.CanonicalID(q.Get("tenantId")); ok {
		return u.tenantByID(r, id)
	}
	if id, ok := kit.CanonicalID(q.Get("client_id")); ok {
		if app, err := u.svc.Tenancy.LoginApplicationConfig(r.Context(), id); err == nil {
			return u.tenantByID(r, app.TenantID)
		}
	}
	return nil
}

func (u *UI) pageActor(r *http.Request) kit.Actor {
	return kit.Actor{Type: kit.ActorSystem, Name: "hosted account pages", IP: u.clientIP(r), Method: r.Method, Path: r.URL.Path}
}

// forgotPassword: GET shows the form, POST sends the email (the same page
// whether or not the address is known).
func (u *UI) forgotPassword(w http.ResponseWriter, r *http.Request) {
	action := r.URL.Path
	if r.URL.RawQuery != "" {
		action += "?" + r.URL.RawQuery
	}
	d := forgotData{Action: action}
	t := u.addressTenant(r)
	if r.Method == http.MethodPost {
		if !u.formPost(w, r, t) {
			return
		}
		address := strings.TrimSpace(r.PostForm.Get("email"))
		if !kit.IsEmail(address) {
			d.Error = "Enter the email address of your account."
			u.Page(w, r, http.StatusBadRequest, "password_forgot", "Forgot password", t, d, "")
			return
		}
		scope := kit.TenantScope{}
		if id, ok := kit.CanonicalID(r.URL.Query().Get("tenantId")); ok {
			scope.Tenants = []string{id}
		}
		_, err := u.svc.Identity.ForgotPassword(r.Context(), u.pageActor(r), scope, identity.ForgotPasswordRequest{LoginID: address,
			ApplicationID: r.URL.Query().Get("client_id"), Anonymous: true})
		var verrs *model.Errors
		switch {
		case errors.Is(err, model.ErrForbidden):
			u.Error(w, r, http.StatusForbidden, t, "Password reset is not available", "This account's organisation has not set up password reset emails.")
			return
		case errors.As(err, &verrs):
			u.Error(w, r, http.StatusBadRequest, t, "Password reset is not available", "Open this page from your application's sign-in page.")
			return
		case err != nil:
			u.fail(w, r, "forgot password page", err)
			return
		}
		d.Sent = true
	}
	u.Page(w, r, http.StatusOK, "password_forgot", "Forgot password", t, d, "")
}

// changePassword: GET shows the form when the id is valid, POST uses it.
// For a user with a second factor it asks for a code of it; a user with an
// email method may have the page mail one (the form's "send-code" action).
func (u *UI) changePassword(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("changePasswordId")
	d := setPasswordData{Action: "/password/change/" + url.PathEscape(id)}
	user, err := u.svc.Identity.UserByChangePasswordID(r.Context(), kit.TenantScope{}, id)
	if err == nil {
		err = u.svc.Identity.CheckChangePasswordID(r.Context(), id)
	}
	switch {
	case errors.Is(err, model.ErrNotFound):
		u.showMessage(w, r, msgLinkExpired)
		return
	case errors.Is(err, identity.ErrTrustTokenRequired):
		d.NeedCode = true
	case err != nil:
		u.fail(w, r, "change password page", err)
		return
	}
	t := u.tenantByID(r, user.TenantID)
	show := func(status int, title string) { u.Page(w, r, status, "password_set", title, t, d, "") }
	if d.NeedCode {
		if d.CanEmailCode, err = u.svc.Authentication.StepUpByEmail(r.Context(), user.ID); err != nil {
			u.fail(w, r, "change password page", err)
			return
		}
	}
	if r.Method != http.MethodPost {
		show(http.StatusOK, "Choose a new password")
		return
	}
	if !u.formPost(w, r, t) {
		return
	}
	if r.PostForm.Get("action") == "send-code" && d.CanEmailCode {
		if err := u.svc.Authentication.SendStepUpCode(r.Context(), u.pageActor(r), user.ID); err != nil {
			u.fail(w, r, "change password page: send code", err)
			return
		}
		d.CodeSent = true
		show(http.StatusOK, "Choose a new password")
		return
	}
	pw := r.PostForm.Get("password")
	if pw != r.PostForm.Get("passwordConfirm") {
		d.Error = "The two passwords are not the same."
		show(http.StatusBadRequest, "Choose a new password")
		return
	}
	req := identity.ChangePasswordRequest{Password: pw, TrustToken: r.PostForm.Get("trustToken")}
	if d.NeedCode && req.TrustToken == "" {
		// The reset link alone does not take over an account its second
		// factor protects: a code of that factor earns the trust token.
		if req.TrustToken, err = u.svc.Authentication.StepUpWithCode(r.Context(), u.pageActor(r), user.ID, r.PostForm.Get("code")); err != nil {
			var locked *model.StatusError
			switch {
			case errors.Is(err, authentication.ErrTwoFactorCodeInvalid):
				d.Error = "The code is not correct. Enter a current code from your authenticator app or your email, or a recovery code."
			case errors.Is(err, model.ErrNotFound):
				u.showMessageIn(w, r, msgLinkExpired, t)
				return
			case errors.As(err, &locked):
				d.Error = "Too many failed attempts: this account is locked for now. Try again later."
			default:
				u.fail(w, r, "change password page", err)
				return
			}
			show(http.StatusBadRequest, "Choose a new password")
			return
		}
	}
	// Kept across a refused password, so that the code is asked once.
	d.TrustToken = req.TrustToken
	_, err = u.svc.Identity.ChangePasswordByID(r.Context(), u.pageActor(r), id, req)
	var verrs *model.Errors
	switch {
	case errors.As(err, &verrs):
		d.Error = firstMessage(verrs, "The new password does not meet the requirements.")
		show(http.StatusBadRequest, "Choose a new password")
		return
	case errors.Is(err, model.ErrNotFound):
		u.showMessageIn(w, r, msgLinkExpired, t)
		return
	case err != nil:
		u.fail(w, r, "change password page", err)
		return
	}
	d.Done = true
	show(http.StatusOK, "Password changed")
}

// verifyEmail: GET shows a button (and the code field under the FormField
// strategy, ?code=1), POST verifies.
func (u *UI) verifyEmail(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("verificationId")
	u.verifyPage(w, r, verifyData{Action: "/email/verify/" + url.PathEscape(id), What: "email address"}, func(code string) error {
		return u.svc.MailFlows.VerifyEmail(r.Context(), u.pageActor(r), nil, mailflows.VerifyEmailRequest{VerificationID: id, OneTimeCode: code})
	})
}

// verifyRegistration is verifyEmail for a registration's verificationId.
func (u *UI) verifyRegistration(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("verificationId")
	u.verifyPage(w, r, verifyData{Action: "/registration/verify/" + url.PathEscape(id), What: "registration"}, func(code string) error {
		return u.svc.MailFlows.VerifyRegistration(r.Context(), u.pageActor(r), mailflows.VerifyRegistrationRequest{VerificationID: id, OneTimeCode: code})
	})
}

func (u *UI) verifyPage(w http.ResponseWriter, r *http.Request, d verifyData, verify func(oneTimeCode string) error) {
	d.NeedCode = r.URL.Query().Get("code") != ""
	title := "Verify your " + d.What
	var t *model.TenantConfig
	if id, err := u.svc.MailFlows.VerificationTenant(r.Context(), r.PathValue("verificationId")); err == nil {
		t = u.tenantByID(r, id)
	}
	if r.Method != http.MethodPost {
		u.Page(w, r, http.StatusOK, "email_verify", title, t, d, "")
		return
	}
	if !u.formPost(w, r, t) {
		return
	}
	err := verify(strings.TrimSpace(r.PostForm.Get("oneTimeCode")))
	var verrs *model.Errors
	switch {
	case errors.As(err, &verrs):
		d.Error, d.NeedCode = firstMessage(verrs, "The code is not right."), true
		u.Page(w, r, http.StatusBadRequest, "email_verify", title, t, d, "")
		return
	case errors.Is(err, model.ErrNotFound):
		u.showMessageIn(w, r, msgLinkExpired, t)
		return
	case err != nil:
		u.fail(w, r, "verify "+d.What+" page", err)
		return
	}
	d.Done = true
	u.Page(w, r, http.StatusOK, "email_verify", "Verified", t, d, "")
}

func firstMessage(verrs *model.Errors, fallback string) string {
	for _, items := range verrs.FieldErrors {
		if len(items) > 0 {
			return items[0].Message
		}
	}
	for _, g := range verrs.GeneralErrors {
		return g.Message
	}
	return fallback
}

// methods answers 405 unless the request uses one of the page's methods.
func (u *UI) methods(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodPost {
			w.Header().Set("Allow", "GET, HEAD, POST")
			u.showMessage(w, r, msgMethodNotAllowed)
			return
		}
		h(w, r)
	}
}
