package oauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"

	"github.com/latchid/latch/internal/oauth/clientcheck"
)

// DPoP (RFC 9449): a client proves possession of a key with a signed proof
// per request; tokens issued on such a request are bound to the key's
// thumbprint (cnf.jkt), and a bound access token is only accepted with a
// fresh proof of the same key.

// dpopAlgs are the JWS algorithms a DPoP proof may use: asymmetric only
// (RFC 9449 4.2), as discovery lists them.
var dpopAlgs = []string{"ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA"}

// DPoPAlgorithms is a copy of the JWS algorithms DPoP proofs may use.
func DPoPAlgorithms() []string { return slices.Clone(dpopAlgs) }

// DPoPProof is a proof whose form and signature checked out.
type DPoPProof struct {
	JKT   string // SHA-256 JWK thumbprint of the proof's key
	JTI   string
	HTM   string
	HTU   string
	IAT   int64 // epoch seconds
	ATH   string
	Nonce string
}

// How far a proof's iat may lie from the server's clock. Proofs are
// remembered (jti) for the whole window, so a replay inside it is caught.
const (
	dpopMaxAgeSeconds  = 300
	dpopMaxSkewSeconds = 60
)

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
	if pr.HTM != r.Method {
		return "", invalidDPoP("The DPoP proof's htm is not this request's method.")
	}
	if !clientcheck.SameEndpoint(pr.HTU, p.PublicURL+r.URL.Path) {
		return "", invalidDPoP("The DPoP proof's htu is not this endpoint's URL.")
	}
	now := p.now() / 1000
	if pr.IAT < now-dpopMaxAgeSeconds || pr.IAT > now+dpopMaxSkewSeconds {
		return "", invalidDPoP("The DPoP proof's iat is too old or in the future.")
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		want := base64.RawURLEncoding.EncodeToString(sum[:])
		if subtle.ConstantTimeCompare([]byte(pr.ATH), []byte(want)) != 1 {
			return "", invalidDPoP("The DPoP proof's ath does not match the access token.")
		}
	}
	if pr.Nonce != "" && !p.validDPoPNonce(pr.Nonce) {
		return "", &oauthError{Code: "use_dpop_nonce", Reason: "use_dpop_nonce", Description: "Send the proof again with the nonce of the DPoP-Nonce header."}
	}
	if len(pr.JTI) > 256 {
		return "", invalidDPoP("The DPoP proof's jti is too long.")
	}
	fresh, err := p.State.RecordDPoPProof(r.Context(), hashToken(pr.JKT+"\x00"+pr.JTI), (now+dpopMaxAgeSeconds+dpopMaxSkewSeconds)*1000)
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
