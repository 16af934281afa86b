package oauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
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
	if !sameEndpoint(pr.HTU, p.PublicURL+r.URL.Path) {
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

// sameEndpoint compares htu with an endpoint's URL, without query and
// fragment, scheme and host case-insensitively (RFC 9449 4.3 step 9).
func sameEndpoint(htu, endpoint string) bool {
	a, err1 := url.Parse(htu)
	b, err2 := url.Parse(endpoint)
	if err1 != nil || err2 != nil || a.Opaque != "" || a.User != nil {
		return false
	}
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host) && a.EscapedPath() == b.EscapedPath()
}

// tokenJKT is the DPoP key an access token is bound to ("" for a bearer token).
func tokenJKT(at *AccessToken) string {
	cnf, _ := at.Claims["cnf"].(map[string]any)
	jkt, _ := cnf["jkt"].(string)
	return jkt
}
