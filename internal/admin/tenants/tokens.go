package tenants

import (
	"net/http"

	"github.com/latchid/latch/internal/admin/pagekit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
)

// The tenant's token (JWT) settings (jwtConfiguration): token lifetimes,
// refresh-token expiry and use, and when refresh tokens are revoked. The
// signing keys are left to the tenant page and the signing keys page.

// revocations are the refreshTokenRevocationPolicy members Latch applies,
// with what each revokes on. onOneTimeTokenReuse is not offered: a reused
// one-time token always ends its session in Latch.
var revocations = []pagekit.Option{
	{Value: "onLoginPrevented", Label: "A failed-sign-in lockout: the user's refresh tokens are revoked"},
	{Value: "onPasswordChanged", Label: "A password change: the user's refresh tokens are revoked"},
	{Value: "onMultiFactorEnable", Label: "Two-factor authentication turned on: the user's refresh tokens are revoked"},
}

// revocation is one revocation policy checkbox, as stored or as entered.
type revocation struct {
	pagekit.Option
	On bool
}

// tenantTokensForm is the page's form; Usage and Expiration are the
// policies' choices.
type tenantTokensForm struct {
	pagekit.TokenForm
	Revocations       []revocation
	Usage, Expiration []pagekit.Option
}

func tenantTokensFormOf(j model.JWTConfiguration) tenantTokensForm {
	rp := j.RefreshTokenRevocationPolicy
	stored := map[string]bool{"onLoginPrevented": rp.OnLoginPrevented, "onPasswordChanged": rp.OnPasswordChanged,
		"onMultiFactorEnable": rp.OnMultiFactorEnable}
	return newTenantTokensForm(pagekit.TokenFormOf(j), func(member string) bool { return stored[member] })
}

func newTenantTokensForm(tf pagekit.TokenForm, on func(member string) bool) tenantTokensForm {
	f := tenantTokensForm{TokenForm: tf, Usage: pagekit.UsagePolicies, Expiration: pagekit.ExpirationPolicies}
	for _, o := range revocations {
		f.Revocations = append(f.Revocations, revocation{o, on(o.Value)})
	}
	return f
}

// Tokens is the tenant's token settings.
func (p *Pages) Tokens(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	if t, ok := p.loadSub(w, r, s); ok {
		p.renderSub(w, r, s, http.StatusOK, "tenant_tokens", "Tokens (JWT)", t, tenantTokensFormOf(t.JWTConfiguration), nil)
	}
}

// SaveTokens saves the lifetimes, the refresh-token policies and the
// revocation policy. Numbers that are not whole numbers are refused here;
// tenancy refuses the rest as the API does (lifetimes and grace period
// within bounds, a maximum lifetime not below the lifetime, known
// policies). Either way nothing is written and the inputs at fault are
// marked.
func (p *Pages) SaveTokens(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	t, ok := p.loadSub(w, r, s)
	if !ok {
		return
	}
	f, jwt, policy := r.PostForm, kit.Object{}, kit.Object{}
	tf, msgs := pagekit.ReadTokenForm(f, jwt)
	form := newTenantTokensForm(tf, func(member string) bool { return f.Get(member) == "on" })
	for _, rv := range form.Revocations {
		policy[rv.Value] = rv.On
	}
	if len(msgs) > 0 {
		p.renderSub(w, r, s, http.StatusBadRequest, "tenant_tokens", "Tokens (JWT)", t, form, msgs)
		return
	}
	jwt["refreshTokenRevocationPolicy"] = policy
	err := p.patchTenant(r, s, kit.Object{"jwtConfiguration": jwt})
	form.MarkRefusal(err, "tenant.jwtConfiguration.")
	p.saved(w, r, s, "tenant_tokens", "Tokens (JWT)", t, form, err)
}
