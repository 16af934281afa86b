package ui

import (
	"errors"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/latchid/latch/internal/access"
	"github.com/latchid/latch/internal/httpx"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/throttle"
)

// maxSetupForm bounds the wizard's form body: four short fields and a token.
const maxSetupForm = 64 << 10

// The wizard's form fields, and the setup rules' error keys they display.
const (
	fieldToken           = "token"
	fieldEmail           = "email"
	fieldFullName        = "fullName"
	fieldPassword        = "password"
	fieldPasswordConfirm = "passwordConfirm"
)

var setupErrorFields = map[string]string{
	"user.email":           fieldEmail,
	"user.fullName":        fieldFullName,
	"user.password":        fieldPassword,
	"user.passwordConfirm": fieldPasswordConfirm,
}

// field is one input of a form, as the layout's "field" template renders it.
type field struct {
	ID           string // also the input's name
	Label        string
	Type         string
	Value        string
	Autocomplete string
	Hint         string
	Required     bool
	Autofocus    bool
	NoSpellcheck bool
	Errors       []string
}

// DescribedBy links the hint and the error text to the input for assistive technology.
func (f field) DescribedBy() string {
	ids := ""
	if f.Hint != "" {
		ids = f.ID + "-hint"
	}
	if len(f.Errors) > 0 {
		if ids != "" {
			ids += " "
		}
		ids += f.ID + "-error"
	}
	return ids
}

// summaryItem is one line of a form's error summary.
type summaryItem struct {
	FieldID string // empty for a general error
	Message string
}

type setupFormData struct {
	Token   string
	Fields  []field
	Summary []summaryItem
}

type setupDoneData struct {
	Email     string
	Key       string
	PublicURL string
}

// setupWizard serves /setup-wizard. Once setup is done the route is gone
// (404 for every method); before that it needs the one-time token printed
// at start (403 without it).
func (u *UI) setupWizard(w http.ResponseWriter, r *http.Request) {
	done, err := u.svc.Access.SetupDone(r.Context())
	if err != nil {
		u.fail(w, r, "setup wizard: read setup state", err)
		return
	}
	if done {
		u.showMessage(w, r, msgSetupGone)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		u.setupForm(w, r)
	case http.MethodPost:
		u.setupSubmit(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		u.showMessage(w, r, msgMethodNotAllowed)
	}
}

func (u *UI) setupForm(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get(fieldToken)
	if !u.setupTokenOK(w, r, token, msgSetupGone) {
		return
	}
	u.renderSetupForm(w, r, http.StatusOK, token, access.SetupInput{}, nil)
}

func (u *UI) setupSubmit(w http.ResponseWriter, r *http.Request) {
	// Counted per address before anything else, so that neither setup
	// attempts nor token guesses come faster than the operator allows.
	if err := u.svc.Throttle.Allow(r.Context(), throttle.Request{Address: u.clientIP(r)}); err != nil {
		u.fail(w, r, "setup wizard: rate limit", err)
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		u.showMessage(w, r, msgBadForm)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxSetupForm)
	if err := r.ParseForm(); err != nil {
		u.showMessage(w, r, msgBadForm)
		return
	}
	form := r.PostForm // never the query string: the token must come from the form
	token := form.Get(fieldToken)
	if !u.setupTokenOK(w, r, token, msgSetupConflict) {
		return
	}
	in := access.SetupInput{Email: form.Get(fieldEmail), FullName: form.Get(fieldFullName), Password: form.Get(fieldPassword)}
	if verrs := validateSetupForm(in, form.Get(fieldPasswordConfirm)); verrs != nil {
		u.renderSetupForm(w, r, http.StatusBadRequest, token, in, verrs)
		return
	}

	actor := kit.Actor{Type: kit.ActorSetup, Name: "setup wizard", IP: u.clientIP(r), Method: r.Method, Path: r.URL.Path}
	res, err := u.svc.Access.Setup(r.Context(), actor, in)
	var verrs *model.Errors
	switch {
	case errors.Is(err, model.ErrSetupDone):
		u.showMessage(w, r, msgSetupConflict)
		return
	case errors.As(err, &verrs):
		u.renderSetupForm(w, r, http.StatusBadRequest, token, in, verrs)
		return
	case err != nil:
		u.fail(w, r, "setup wizard: setup", err)
		return
	}
	u.log.InfoContext(r.Context(), "setup completed through the wizard", "userId", res.UserID, "keyId", res.KeyID, "ip", actor.IP)
	// Shown in this response only, never behind a redirect: the key exists
	// nowhere else, and no-store keeps it out of caches and history.
	u.render(w, r, http.StatusOK, "setup_done", view{
		Title:   "Your initial API key",
		Scripts: []string{"copy.js"},
		Data:    setupDoneData{Email: strings.TrimSpace(in.Email), Key: res.Key.Reveal(), PublicURL: u.cfg.PublicURL},
	})
}

// setupTokenOK answers 403 unless token is a recorded wizard token. Setup
// deletes the tokens, so a token that vanished since setupWizard checked may
// mean that setup completed meanwhile: then the visitor sees ifDone instead.
func (u *UI) setupTokenOK(w http.ResponseWriter, r *http.Request, token string, ifDone message) bool {
	ok, err := u.svc.Access.SetupTokenValid(r.Context(), token)
	if err == nil && !ok {
		var done bool
		if done, err = u.svc.Access.SetupDone(r.Context()); err == nil && done {
			u.showMessage(w, r, ifDone)
			return false
		}
	}
	if err != nil {
		u.fail(w, r, "setup wizard: check token", err)
		return false
	}
	if !ok {
		u.showMessage(w, r, msgSetupForbidden)
	}
	return ok
}

// validateSetupForm adds the wizard's own rules (a readable form, a matching
// confirmation) to the setup rules'. It returns nil when the input is acceptable.
func validateSetupForm(in access.SetupInput, confirm string) *model.Errors {
	verrs := new(model.Errors)
	if err := access.ValidateSetup(in); err != nil && !errors.As(err, &verrs) {
		verrs = new(model.Errors).General("invalid", err.Error())
	}
	// Browsers send UTF-8; anything else could not be typed again at sign-in.
	if !utf8.ValidString(in.Email) && len(verrs.FieldErrors["user.email"]) == 0 {
		verrs.Field("user.email", "invalid", "The email address contains characters that could not be read.")
	}
	if !utf8.ValidString(in.FullName) {
		verrs.Field("user.fullName", "invalid", "The name contains characters that could not be read.")
	}
	if !utf8.ValidString(in.Password) && len(verrs.FieldErrors["user.password"]) == 0 {
		verrs.Field("user.password", "invalid", "The password contains characters that could not be read.")
	}
	switch {
	case in.Password == "":
	case confirm == "":
		verrs.Field("user.passwordConfirm", "blank", "Type the password again to confirm it.")
	case confirm != in.Password:
		verrs.Field("user.passwordConfirm", "mismatch", "The passwords do not match.")
	}
	if verrs.Empty() {
		return nil
	}
	return verrs
}

// renderSetupForm shows the wizard's form, keeping what was typed except the
// passwords, with each error next to its field and listed at the top.
func (u *UI) renderSetupForm(w http.ResponseWriter, r *http.Request, status int, token string, in access.SetupInput, verrs *model.Errors) {
	fields := []field{
		{ID: fieldEmail, Label: "Email address", Type: "email", Value: in.Email, Autocomplete: "username", Required: true, NoSpellcheck: true,
			Hint: "You sign in to the admin UI with this address."},
		{ID: fieldFullName, Label: "Full name", Type: "text", Value: in.FullName, Autocomplete: "name"},
		{ID: fieldPassword, Label: "Password", Type: "password", Autocomplete: "new-password", Required: true,
			Hint: "8 to 256 characters, not your email address."},
		{ID: fieldPasswordConfirm, Label: "Confirm password", Type: "password", Autocomplete: "new-password", Required: true},
	}
	var summary []summaryItem
	if verrs != nil {
		index := map[string]int{}
		for i, f := range fields {
			index[f.ID] = i
		}
		// In the form's order, so the summary reads top to bottom.
		for _, key := range []string{"user.email", "user.fullName", "user.password", "user.passwordConfirm"} {
			for _, item := range verrs.FieldErrors[key] {
				id := setupErrorFields[key]
				fields[index[id]].Errors = append(fields[index[id]].Errors, item.Message)
				summary = append(summary, summaryItem{FieldID: id, Message: item.Message})
			}
		}
		for key, items := range verrs.FieldErrors {
			if _, known := setupErrorFields[key]; !known {
				for _, item := range items {
					summary = append(summary, summaryItem{Message: item.Message})
				}
			}
		}
		for _, item := range verrs.GeneralErrors {
			summary = append(summary, summaryItem{Message: item.Message})
		}
	}
	// Focus the first field on arrival, or the first field that needs fixing.
	for i := range fields {
		if verrs == nil || len(fields[i].Errors) > 0 {
			fields[i].Autofocus = true
			break
		}
	}
	u.render(w, r, status, "setup", view{Title: "Set up Latch", Data: setupFormData{Token: token, Fields: fields, Summary: summary}})
}

// clientIP is the address recorded in the audit log for the wizard's actor.
func (u *UI) clientIP(r *http.Request) string {
	ip := httpx.ClientIP(r, u.cfg.TrustedProxies)
	if !ip.IsValid() {
		return ""
	}
	return ip.String()
}
