package apps

import (
	"net/http"
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

// tokensForm is the JWT settings form, as stored or as entered: numbers
// stay text, so that a bad one is shown back as typed.
type tokensForm struct {
	Enabled                    bool
	AccessTokenKey, IDTokenKey string
	TTL, RefreshTTL            string
	UsagePolicy                string
}

func tokensFormOf(a *model.ApplicationConfig) tokensForm {
	j := a.JWTConfiguration
	return tokensForm{Enabled: j.Enabled, AccessTokenKey: j.AccessTokenKeyID, IDTokenKey: j.IDTokenKeyID,
		TTL: strconv.Itoa(j.TimeToLiveInSeconds), RefreshTTL: strconv.Itoa(j.RefreshTokenTimeToLiveInMinutes), UsagePolicy: j.RefreshTokenUsagePolicy}
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

// SaveTokens saves the application's JWT settings. Numbers that are not
// whole numbers are refused here, with the field's name; the rest is
// checked by tenancy as for the API (lifetimes within bounds, keys that
// exist and can sign, a known usage policy).
func (p *Pages) SaveTokens(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	if !p.mayChangeAdminApp(w, r, s) {
		return
	}
	f := r.PostForm
	form := tokensForm{Enabled: f.Get("jwtEnabled") == "on", AccessTokenKey: f.Get("accessTokenKeyId"), IDTokenKey: f.Get("idTokenKeyId"),
		TTL: strings.TrimSpace(f.Get("timeToLiveInSeconds")), RefreshTTL: strings.TrimSpace(f.Get("refreshTokenTimeToLiveInMinutes")),
		UsagePolicy: f.Get("refreshTokenUsagePolicy")}
	d := appPage{enteredTokens: true, Tokens: form}
	jwt := kit.Object{"enabled": form.Enabled, "accessTokenKeyId": keyRef(form.AccessTokenKey), "idTokenKeyId": keyRef(form.IDTokenKey)}
	if form.UsagePolicy != "" {
		jwt["refreshTokenUsagePolicy"] = form.UsagePolicy
	}
	var msgs []string
	for _, n := range []struct{ text, member, say string }{
		{form.TTL, "timeToLiveInSeconds", "The access token lifetime must be a whole number of seconds."},
		{form.RefreshTTL, "refreshTokenTimeToLiveInMinutes", "The refresh token lifetime must be a whole number of minutes."},
	} {
		v, err := strconv.ParseInt(n.text, 10, 64)
		if err != nil {
			msgs = append(msgs, n.say)
			continue
		}
		jwt[n.member] = v
	}
	if len(msgs) > 0 {
		d.Errors = msgs
		p.show(w, r, s, http.StatusBadRequest, d)
		return
	}
	p.changed(w, r, s, "tokens", d, p.patch(r, s, kit.Object{"jwtConfiguration": jwt}))
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
