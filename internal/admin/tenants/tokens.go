package tenants

import (
	"net/http"

	"github.com/latchid/latch/internal/admin/pagekit"
	"github.com/latchid/latch/internal/kit"
)

// The tenant's token (JWT) settings (jwtConfiguration): token lifetimes,
// refresh-token expiry and use, and when refresh tokens are revoked. The
// signing keys are left to the tenant page and the signing keys page.

// tenantTokensForm is the page's form; Usage and Expiration are the
// policies' choices.
type tenantTokensForm struct {
	pagekit.TokenForm
	Usage, Expiration []pagekit.Option
}

func newTenantTokensForm(tf pagekit.TokenForm) tenantTokensForm {
	return tenantTokensForm{TokenForm: tf, Usage: pagekit.UsagePolicies, Expiration: pagekit.ExpirationPolicies}
}

// Tokens is the tenant's token settings.
func (p *Pages) Tokens(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	if t, ok := p.loadSub(w, r, s); ok {
		p.renderSub(w, r, s, http.StatusOK, "tenant_tokens", "Tokens (JWT)", t, newTenantTokensForm(pagekit.TokenFormOf(t.JWTConfiguration)), nil)
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
	jwt := kit.Object{}
	tf, msgs := pagekit.ReadTokenForm(r.PostForm, jwt)
	form := newTenantTokensForm(tf)
	if len(msgs) > 0 {
		p.renderSub(w, r, s, http.StatusBadRequest, "tenant_tokens", "Tokens (JWT)", t, form, msgs)
		return
	}
	err := p.patchTenant(r, s, kit.Object{"jwtConfiguration": jwt})
	form.MarkRefusal(err, "tenant.jwtConfiguration.")
	p.saved(w, r, s, "tenant_tokens", "Tokens (JWT)", t, form, err)
}
