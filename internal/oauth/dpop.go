package oauth

import (
	"net/http"

	"github.com/latchid/latch/internal/oauth/dpop"
)

// DPoP proofs are checked by internal/oauth/dpop; the provider applies
// them to its grants and resource endpoints.

func invalidDPoP(desc string) *oauthError { return dpop.Invalid(desc) }

// dpopProof checks the request's proof, if any (dpop.Checker.Check).
func (p *Provider) dpopProof(r *http.Request, accessToken string) (string, *oauthError) {
	return p.dpop.Check(r, accessToken)
}

// offerDPoPNonce sets DPoP-Nonce on the answer to a request with a proof.
func (p *Provider) offerDPoPNonce(w http.ResponseWriter, r *http.Request) { p.dpop.OfferNonce(w, r) }

// tokenJKT is the DPoP key an access token is bound to ("" for a bearer token).
func tokenJKT(at *AccessToken) string {
	cnf, _ := at.Claims["cnf"].(map[string]any)
	jkt, _ := cnf["jkt"].(string)
	return jkt
}
