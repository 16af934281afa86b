package oauth

import (
	"crypto/subtle"
	"net/http"
	"strconv"

	"github.com/latchid/latch/internal/oauth/clientcheck"
)

// DPoP (RFC 9449): a client proves possession of a key with a signed proof
// per request; tokens issued on such a request are bound to the key's
// thumbprint (cnf.jkt), and a bound access token is only accepted with a
// fresh proof of the same key.

// DPoPAlgorithms is a copy of the JWS algorithms DPoP proofs may use.
func DPoPAlgorithms() []string { return clientcheck.DPoPAlgorithms() }

// DPoPProof is a proof whose form and signature checked out.
type DPoPProof = clientcheck.DPoPProof

func invalidDPoP(desc string) *oauthError {
	return &oauthError{Code: "invalid_dpop_proof", Reason: "invalid_dpop_proof", Description: desc}
}

// dpopProof checks the request's DPoP header, if any (RFC 9449 4.3): one
// proof, for this method and URL, fresh, never seen before, and when
// accessToken is given, bound to it by ath. It returns the key's
// thumbprint ("" when the request has no proof).
func (p *Provider) dpopProof(r *http.Request, accessToken string) (string, *oauthError) {
	hs := r.Header.Values("DPoP")
	if len(hs) == 0 {
		return "", nil
	}
	if len(hs) > 1 {
		return "", invalidDPoP("The request carries more than one DPoP proof.")
	}
	if p.ParseDPoPProof == nil {
		return "", invalidDPoP("DPoP is not supported.")
	}
	pr, err := p.ParseDPoPProof(hs[0])
	if err != nil {
		return "", invalidDPoP("The DPoP proof is malformed or its signature does not verify.")
	}
	now := p.now() / 1000
	if why := clientcheck.CheckDPoPProof(pr, r.Method, p.PublicURL+r.URL.Path, now, accessToken); why != "" {
		return "", invalidDPoP(why)
	}
	if pr.Nonce != "" && !p.validDPoPNonce(pr.Nonce) {
		return "", &oauthError{Code: "use_dpop_nonce", Reason: "use_dpop_nonce", Description: "Send the proof again with the nonce of the DPoP-Nonce header."}
	}
	fresh, err := p.State.RecordDPoPProof(r.Context(), hashToken(pr.JKT+"\x00"+pr.JTI), (now+clientcheck.DPoPWindowSeconds)*1000)
	if err != nil {
		p.Log.ErrorContext(r.Context(), "oauth: record DPoP proof", "err", err)
		return "", &oauthError{Code: "server_error", Description: "The server could not complete the request."}
	}
	if !fresh {
		return "", invalidDPoP("The DPoP proof was used before (jti).")
	}
	return pr.JKT, nil
}

// tokenJKT is the DPoP key an access token is bound to ("" for a bearer token).
func tokenJKT(at *AccessToken) string {
	cnf, _ := at.Claims["cnf"].(map[string]any)
	jkt, _ := cnf["jkt"].(string)
	return jkt
}

// Server nonces (RFC 9449 8, 9): Latch does not demand them, but answers
// every request that carried a proof with a DPoP-Nonce header, and a proof
// that carries a nonce must carry a current one (use_dpop_nonce otherwise),
// so a client that uses nonces gets their freshness guarantee. A nonce is
// the MAC of a 5-minute window under a key all nodes share: the current
// and the previous window's are accepted.
const dpopNonceWindowSeconds = 300

func (p *Provider) dpopNonceFor(window int64) string {
	if p.MAC == nil {
		return ""
	}
	w := strconv.FormatInt(window, 10)
	return w + "." + p.MAC("dpop-nonce", w)[:32]
}

// dpopNonce is the current nonce ("" when nonces are not offered).
func (p *Provider) dpopNonce() string {
	return p.dpopNonceFor(p.now() / 1000 / dpopNonceWindowSeconds)
}

func (p *Provider) validDPoPNonce(n string) bool {
	now := p.now() / 1000 / dpopNonceWindowSeconds
	for _, w := range []int64{now, now - 1} {
		if want := p.dpopNonceFor(w); want != "" && subtle.ConstantTimeCompare([]byte(n), []byte(want)) == 1 {
			return true
		}
	}
	return false
}

// offerDPoPNonce sets DPoP-Nonce on the answer to a request with a proof.
func (p *Provider) offerDPoPNonce(w http.ResponseWriter, r *http.Request) {
	if len(r.Header.Values("DPoP")) > 0 {
		if n := p.dpopNonce(); n != "" {
			w.Header().Set("DPoP-Nonce", n)
		}
	}
}
