package apps

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/latchid/latch/internal/admin/pagekit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
)

// An application's token (JWT) settings, its sign-in and registration
// settings, and deactivation: merge patches through tenancy, as
// PATCH /api/application, DELETE /api/application/{id} (without hardDelete)
// and PUT /api/application/{id}?reactivate=true do.

var usagePolicies = []pagekit.Option{{Value: "Reusable", Label: "Reusable until it expires"},
	{Value: "OneTimeUse", Label: "One use: each refresh returns a new refresh token"}}

// expirationPolicies are when a refresh token expires, FusionAuth's names.
var expirationPolicies = []pagekit.Option{{Value: "Fixed", Label: "A fixed lifetime from sign-in"},
	{Value: "SlidingWindow", Label: "Sliding: each use starts a new lifetime"},
	{Value: "SlidingWindowWithMaximumLifetime", Label: "Sliding, up to a maximum lifetime from sign-in"}}

// tokensForm is the JWT settings form, as stored or as entered: numbers
// stay text, so that a bad one is shown back as typed. Invalid marks the
// inputs (by name) a refusal names.
type tokensForm struct {
	Enabled                    bool
	AccessTokenKey, IDTokenKey string
	TTL, RefreshTTL            string
	UsagePolicy                string
	ExpirationPolicy           string
	MaxLifetime, GracePeriod   string
	Invalid                    map[string]bool
}

func tokensFormOf(a *model.ApplicationConfig) tokensForm {
	j := a.JWTConfiguration
	return tokensForm{Enabled: j.Enabled, AccessTokenKey: j.AccessTokenKeyID, IDTokenKey: j.IDTokenKeyID,
		TTL: strconv.Itoa(j.TimeToLiveInSeconds), RefreshTTL: strconv.Itoa(j.RefreshTokenTimeToLiveInMinutes), UsagePolicy: j.RefreshTokenUsagePolicy,
		ExpirationPolicy: j.RefreshTokenExpirationPolicy, MaxLifetime: strconv.Itoa(j.RefreshTokenSlidingWindowConfiguration.MaximumTimeToLiveInMinutes),
		GracePeriod: strconv.Itoa(j.RefreshTokenOneTimeUseConfiguration.GracePeriodInSeconds)}
}

// tokenNumber is a whole-number input of the JWT form: its name (the
// member's), the jwtConfiguration object holding it ("" for none), and
// what a value that is not a number says.
type tokenNumber struct {
	input, object, say string
	text               *string
	optional           bool // only changed when the form sends it
}

func (form *tokensForm) numbers() []tokenNumber {
	return []tokenNumber{
		{"timeToLiveInSeconds", "", "The access token lifetime must be a whole number of seconds.", &form.TTL, false},
		{"refreshTokenTimeToLiveInMinutes", "", "The refresh token lifetime must be a whole number of minutes.", &form.RefreshTTL, false},
		{"maximumTimeToLiveInMinutes", "refreshTokenSlidingWindowConfiguration",
			"The maximum refresh token lifetime must be a whole number of minutes.", &form.MaxLifetime, true},
		{"gracePeriodInSeconds", "refreshTokenOneTimeUseConfiguration",
			"The reuse grace period must be a whole number of seconds.", &form.GracePeriod, true},
	}
}

// readNumbers puts the form's numbers into the patch jwt; msgs are the
// ones that are not whole numbers (marked invalid).
func readNumbers(f url.Values, form *tokensForm, jwt kit.Object) (msgs []string) {
	for _, n := range form.numbers() {
		if n.optional && !f.Has(n.input) {
			continue
		}
		*n.text = strings.TrimSpace(f.Get(n.input))
		v, err := strconv.ParseInt(*n.text, 10, 64)
		if err != nil {
			msgs, form.Invalid[n.input] = append(msgs, n.say), true
			continue
		}
		if n.object == "" {
			jwt[n.input] = v
		} else {
			jwt[n.object] = kit.Object{n.input: v}
		}
	}
	return msgs
}

// markTokens marks the inputs a refusal of tenancy names: the last part of
// a jwtConfiguration field's name is its input's name.
func markTokens(err error, form *tokensForm) {
	var verrs *model.Errors
	if !errors.As(err, &verrs) {
		return
	}
	const prefix = "application.jwtConfiguration."
	for field := range verrs.FieldErrors {
		if rest, ok := strings.CutPrefix(field, prefix); ok {
			form.Invalid[rest[strings.LastIndex(rest, ".")+1:]] = true
		}
	}
}

// loginForm is the sign-in and registration settings form.
type loginForm struct {
	Registration, RequireAuthentication, GenerateRefreshTokens, AllowTokenRefresh, Passwordless bool
}

func loginFormOf(a *model.ApplicationConfig) loginForm {
	l := a.LoginConfiguration
	return loginForm{Registration: a.Registration.Enabled, RequireAuthentication: l.RequireAuthentication,
		GenerateRefreshTokens: l.GenerateRefreshTokens, AllowTokenRefresh: l.AllowTokenRefresh, Passwordless: a.Passwordless.Enabled}
}

// keyRef is a key choice in a merge patch: "" (the tenant's key) removes it.
func keyRef(id string) any {
	if id == "" {
		return nil
	}
	return id
}

// SaveTokens saves the application's JWT settings, with when its refresh
// tokens expire and whether they are used once. Numbers that are not whole
// numbers are refused here, with the field's name; the rest is checked by
// tenancy as for the API (lifetimes within bounds, a maximum lifetime not
// below the lifetime, keys that exist and can sign, known policies).
// Either way nothing is written and the inputs at fault are marked.
func (p *Pages) SaveTokens(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	if !p.mayChangeAdminApp(w, r, s) {
		return
	}
	f := r.PostForm
	form := tokensForm{Enabled: f.Get("jwtEnabled") == "on", AccessTokenKey: f.Get("accessTokenKeyId"), IDTokenKey: f.Get("idTokenKeyId"),
		UsagePolicy: f.Get("refreshTokenUsagePolicy"), ExpirationPolicy: f.Get("refreshTokenExpirationPolicy"), Invalid: map[string]bool{}}
	jwt := kit.Object{"enabled": form.Enabled, "accessTokenKeyId": keyRef(form.AccessTokenKey), "idTokenKeyId": keyRef(form.IDTokenKey)}
	for member, v := range map[string]string{"refreshTokenUsagePolicy": form.UsagePolicy, "refreshTokenExpirationPolicy": form.ExpirationPolicy} {
		if v != "" {
			jwt[member] = v
		}
	}
	if msgs := readNumbers(f, &form, jwt); len(msgs) > 0 {
		p.show(w, r, s, http.StatusBadRequest, appPage{enteredTokens: true, Tokens: form, Errors: msgs})
		return
	}
	err := p.patch(r, s, kit.Object{"jwtConfiguration": jwt})
	markTokens(err, &form)
	p.changed(w, r, s, "tokens", appPage{enteredTokens: true, Tokens: form}, err)
}

// SaveLogin saves self-service registration, the Login API's settings and
// passwordless sign-in.
func (p *Pages) SaveLogin(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	if !p.mayChangeAdminApp(w, r, s) {
		return
	}
	on := func(k string) bool { return r.PostForm.Get(k) == "on" }
	form := loginForm{Registration: on("registrationEnabled"), RequireAuthentication: on("requireAuthentication"),
		GenerateRefreshTokens: on("generateRefreshTokens"), AllowTokenRefresh: on("allowTokenRefresh"), Passwordless: on("passwordlessEnabled")}
	err := p.patch(r, s, kit.Object{
		"registrationConfiguration": kit.Object{"enabled": form.Registration},
		"loginConfiguration": kit.Object{"requireAuthentication": form.RequireAuthentication,
			"generateRefreshTokens": form.GenerateRefreshTokens, "allowTokenRefresh": form.AllowTokenRefresh},
		"passwordlessConfiguration": kit.Object{"enabled": form.Passwordless},
	})
	p.changed(w, r, s, "login", appPage{enteredLogin: true, Login: form}, err)
}

// Deactivate soft-deletes the application (DELETE /api/application/{id}
// without hardDelete): it keeps its settings, roles and registrations, and
// no one signs in to it until it is reactivated. Tenancy refuses the admin
// application.
func (p *Pages) Deactivate(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	err := p.Svc.Tenancy.DeactivateApplication(r.Context(), p.Actor(r, s), kit.TenantScope{}, r.PathValue("id"))
	p.changed(w, r, s, "deactivated", appPage{}, err)
}

// Reactivate undoes a deactivation (PUT /api/application/{id}?reactivate=true).
func (p *Pages) Reactivate(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	_, err := p.Svc.Tenancy.ReactivateApplication(r.Context(), p.Actor(r, s), kit.TenantScope{}, r.PathValue("id"))
	p.changed(w, r, s, "reactivated", appPage{}, err)
}
