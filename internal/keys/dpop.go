package keys

import (
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// DPoPProof is the content of a DPoP proof whose signature checked out
// against the public key in its own header.
type DPoPProof struct {
	JKT   string // the key's SHA-256 JWK thumbprint (RFC 7638), base64url
	JTI   string
	HTM   string
	HTU   string
	IAT   int64 // epoch seconds
	ATH   string
	Nonce string
}

// maxDPoPProofLength bounds what is parsed (a proof with an RSA-4096 key is
// under 2 KB).
const maxDPoPProofLength = 8 << 10

// ParseDPoPProof checks a DPoP proof's form and signature (RFC 9449 4.3,
// steps 1-7): one compact JWS, typ dpop+jwt, an asymmetric alg, a public
// jwk in the header that verifies the signature, and the claims' types.
// The caller checks htm, htu, iat, jti, ath and nonce. algs are the JWS
// algorithms accepted; symmetric ones are never accepted whatever it says.
func ParseDPoPProof(proof string, algs []string) (*DPoPProof, error) {
	if proof == "" || len(proof) > maxDPoPProofLength || strings.Count(proof, ".") != 2 {
		return nil, errors.New("not a compact JWS")
	}
	allowed := make([]jose.SignatureAlgorithm, 0, len(algs))
	for _, a := range algs {
		if !strings.HasPrefix(a, "HS") && a != "none" {
			allowed = append(allowed, jose.SignatureAlgorithm(a))
		}
	}
	jws, err := jose.ParseSignedCompact(proof, allowed)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("not exactly one signature")
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "dpop+jwt" {
		return nil, errors.New("typ is not dpop+jwt")
	}
	jwk := h.JSONWebKey
	if jwk == nil || !jwk.Valid() || !jwk.IsPublic() {
		return nil, errors.New("no public jwk in the header")
	}
	payload, err := jws.Verify(jwk)
	if err != nil {
		return nil, errors.New("signature does not verify")
	}
	var c struct {
		JTI   *string  `json:"jti"`
		HTM   *string  `json:"htm"`
		HTU   *string  `json:"htu"`
		IAT   *float64 `json:"iat"`
		ATH   *string  `json:"ath"`
		Nonce *string  `json:"nonce"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, errors.New("claims are not a JSON object")
	}
	if c.JTI == nil || *c.JTI == "" || c.HTM == nil || c.HTU == nil || c.IAT == nil {
		return nil, errors.New("jti, htm, htu or iat missing")
	}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("thumbprint: %w", err)
	}
	p := &DPoPProof{JKT: base64.RawURLEncoding.EncodeToString(tp), JTI: *c.JTI, HTM: *c.HTM, HTU: *c.HTU, IAT: int64(*c.IAT)}
	if c.ATH != nil {
		p.ATH = *c.ATH
	}
	if c.Nonce != nil {
		p.Nonce = *c.Nonce
	}
	return p, nil
}
