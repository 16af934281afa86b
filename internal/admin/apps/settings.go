package apps

import (
	"net/http"

	"github.com/latchid/latch/internal/admin/pagekit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
)

// An application's token (JWT) settings, its sign-in and registration
// settings, and deactivation: merge patches through tenancy, as
// PATCH /api/application, DELETE /api/application/{id} (without hardDelete)
// and PUT /api/application/{id}?reactivate=true do.

// tokensForm is the JWT settings form: whether the application's settings
// apply, its keys, and the lifetimes and policies pagekit reads.
type tokensForm struct {
	Enabled                    bool
	AccessTokenKey, IDTokenKey string
	pagekit.TokenForm
}

func tokensFormOf(a *model.ApplicationConfig) tokensForm {
	j := a.JWTConfiguration
	return tokensForm{Enabled: j.Enabled, AccessTokenKey: j.AccessTokenKeyID, IDTokenKey: j.IDTokenKeyID, TokenForm: pagekit.TokenFormOf(j)}
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
	form := tokensForm{Enabled: f.Get("jwtEnabled") == "on", AccessTokenKey: f.Get("accessTokenKeyId"), IDTokenKey: f.Get("idTokenKeyId")}
	jwt := kit.Object{"enabled": form.Enabled, "accessTokenKeyId": keyRef(form.AccessTokenKey), "idTokenKeyId": keyRef(form.IDTokenKey)}
	var msgs []string
	if form.TokenForm, msgs = pagekit.ReadTokenForm(f, jwt); len(msgs) > 0 {
		p.show(w, r, s, http.StatusBadRequest, appPage{enteredTokens: true, Tokens: form, Errors: msgs})
		return
	}
	err := p.patch(r, s, kit.Object{"jwtConfiguration": jwt})
	form.MarkRefusal(err, "application.jwtConfiguration.")
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
