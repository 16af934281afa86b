package oauth

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strings"

	"github.com/latchid/latch/internal/model"
)

// Self-service registration (/oauth2/register) where the application's
// registrationConfiguration.enabled: the user creates an account and a
// registration for the application, is signed in (an SSO session, as
// after the sign-in page) and the authorization completes. Elsewhere the
// address continues to /oauth2/authorize, as FusionAuth's does.

// Registration is what the registration page collects.
type Registration struct {
	Email, Password, FirstName, LastName string
}

// Registerer creates a user with a registration for the client's
// application under the identity rules (password rules, unique email,
// default roles), rate limited like a sign-in. A *model.Errors tells what
// to fix; the user's id otherwise.
type Registerer interface {
	Register(ctx context.Context, c *Client, in Registration, by Signer) (string, error)
}

type registerPage struct {
	formPage
	FirstName, LastName string
}

// register is GET|POST /oauth2/register.
func (p *Provider) register(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		p.registerSubmit(w, r)
		return
	}
	q := r.URL.Query()
	ar, pageErr, redirErr := p.parseAuthRequest(r.Context(), q)
	if pageErr != nil {
		p.errorPage(w, r, http.StatusBadRequest, "This registration request cannot be completed", pageErr.Description)
		return
	}
	if redirErr != nil {
		p.redirectError(w, r, ar, redirErr)
		return
	}
	if !ar.client.App.Registration.Enabled || p.Registerer == nil {
		redirect(w, r, "/oauth2/authorize?"+r.URL.RawQuery)
		return
	}
	p.showRegister(w, r, ar, registerPage{}, "", "")
}

func (p *Provider) showRegister(w http.ResponseWriter, r *http.Request, ar *authRequest, data registerPage, errMsg, field string) {
	data.Action, data.Step, data.Hidden, data.CSRF, data.AppName = "/oauth2/register", "register", p.hidden(ar), p.csrfToken(w, r), appName(ar.client)
	data.Error, data.FieldError = errMsg, field
	p.Pages.Page(w, r, http.StatusOK, "oauth_register", "Create an account", ar.client.Tenant, data, p.redirectOrigins(ar)...)
}

func (p *Provider) registerSubmit(w http.ResponseWriter, r *http.Request) {
	ar, ok := p.stepRequest(w, r)
	if !ok {
		return
	}
	if !ar.client.App.Registration.Enabled || p.Registerer == nil || ar.userCode != "" {
		p.errorPage(w, r, http.StatusBadRequest, "Registration is closed", "This application does not offer self-service registration.")
		return
	}
	f := r.PostForm
	in := Registration{Email: strings.TrimSpace(f.Get("email")), Password: f.Get("password"),
		FirstName: strings.TrimSpace(f.Get("firstName")), LastName: strings.TrimSpace(f.Get("lastName"))}
	data := registerPage{formPage: formPage{LoginID: in.Email}, FirstName: in.FirstName, LastName: in.LastName}
	switch {
	case in.Email == "" || len(in.Email) > maxCredentialLength:
		p.showRegister(w, r, ar, data, "Enter your email address.", "email")
		return
	case in.Password == "" || len(in.Password) > maxCredentialLength:
		p.showRegister(w, r, ar, data, "Choose a password.", "password")
		return
	case in.Password != f.Get("passwordConfirm"):
		p.showRegister(w, r, ar, data, "The two passwords do not match.", "password")
		return
	case len(in.FirstName) > 256 || len(in.LastName) > 256:
		p.showRegister(w, r, ar, data, "The name is too long.", "")
		return
	}
	id, err := p.Registerer.Register(r.Context(), ar.client, in, p.browser(r))
	var verrs *model.Errors
	if errors.As(err, &verrs) {
		msg, field := firstFieldError(verrs)
		p.showRegister(w, r, ar, data, msg, field)
		return
	}
	if err != nil {
		p.pageFailure(w, r, "register", err)
		return
	}
	p.signedIn(w, r, ar, &LoginOutcome{Status: LoginOK, UserID: id, AuthType: "REGISTRATION"}, false)
}

// firstFieldError is the message of a validation error to show, and the
// form field it belongs to.
func firstFieldError(verrs *model.Errors) (msg, field string) {
	fields := make([]string, 0, len(verrs.FieldErrors))
	for k := range verrs.FieldErrors {
		fields = append(fields, k)
	}
	sort.Strings(fields)
	for _, k := range fields {
		if items := verrs.FieldErrors[k]; len(items) > 0 {
			switch {
			case strings.HasSuffix(k, ".email"):
				field = "email"
			case strings.HasSuffix(k, ".password"):
				field = "password"
			}
			return items[0].Message, field
		}
	}
	if len(verrs.GeneralErrors) > 0 {
		return verrs.GeneralErrors[0].Message, ""
	}
	return "The registration could not be completed.", ""
}
