// Package dpop checks DPoP proofs (RFC 9449) for the OAuth surface: a
// client proves possession of a key with a signed proof per request; tokens
// issued on such a request are bound to the key's thumbprint (cnf.jkt), and
// a bound access token is only accepted with a fresh proof of the same key.
package dpop

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/latchid/latch/internal/oauth/reply"
)

// algs are the JWS algorithms a DPoP proof may use: asymmetric only
// (RFC 9449 4.2), as discovery lists them.
var algs = []string{"ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA"}

// Algorithms is a copy of the JWS algorithms DPoP proofs may use.
func Algorithms() []string { return slices.Clone(algs) }

// Proof is a proof whose form and signature checked out.
type Proof struct {
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
	maxAgeSeconds  = 300
	maxSkewSeconds = 60
)

// Invalid is invalid_dpop_proof.
func Invalid(desc string) *reply.Error {
	return &reply.Error{Code: "invalid_dpop_proof", Reason: "invalid_dpop_proof", Description: desc}
}

// Status is the status of a failed check: 400, or 500 when the server
// could not record the proof.
func Status(e *reply.Error) int {
	if e.Code == "server_error" {
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// Checker checks proofs. All nodes share what it depends on: proof ids
// are recorded in the database, nonces are MACs under a shared key.
type Checker struct {
	// Parse checks a proof's form and signature (internal/keys).
	Parse func(proof string) (*Proof, error)
	// Record remembers a proof's id until expires (epoch ms); false when
	// it was seen before (a replay).
	Record func(ctx context.Context, id string, expires int64) (bool, error)
	// MAC is an HMAC under a key every node shares (nil: no nonces).
	MAC func(purpose, value string) string
	// PublicURL is the base of the endpoints' URLs (htu).
	PublicURL string
	Now       func() int64 // epoch ms
	Log       *slog.Logger
}

// Check checks the request's DPoP header, if any (RFC 9449 4.3): one
// proof, for this method and URL, fresh, never seen before, and when
// accessToken is given, bound to it by ath. It returns the key's
// thumbprint ("" when the request has no proof).
func (c *Checker) Check(r *http.Request, accessToken string) (string, *reply.Error) {
	hs := r.Header.Values("DPoP")
	if len(hs) == 0 {
		return "", nil
	}
	if len(hs) > 1 {
		return "", Invalid("The request carries more than one DPoP proof.")
	}
	if c.Parse == nil {
		return "", Invalid("DPoP is not supported.")
	}
	pr, err := c.Parse(hs[0])
	if err != nil {
		return "", Invalid("The DPoP proof is malformed or its signature does not verify.")
	}
	if pr.HTM != r.Method {
		return "", Invalid("The DPoP proof's htm is not this request's method.")
	}
	if !sameEndpoint(pr.HTU, c.PublicURL+r.URL.Path) {
		return "", Invalid("The DPoP proof's htu is not this endpoint's URL.")
	}
	now := c.Now() / 1000
	if pr.IAT < now-maxAgeSeconds || pr.IAT > now+maxSkewSeconds {
		return "", Invalid("The DPoP proof's iat is too old or in the future.")
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		want := base64.RawURLEncoding.EncodeToString(sum[:])
		if subtle.ConstantTimeCompare([]byte(pr.ATH), []byte(want)) != 1 {
			return "", Invalid("The DPoP proof's ath does not match the access token.")
		}
	}
	if pr.Nonce != "" && !c.validNonce(pr.Nonce) {
		return "", &reply.Error{Code: "use_dpop_nonce", Reason: "use_dpop_nonce", Description: "Send the proof again with the nonce of the DPoP-Nonce header."}
	}
	if len(pr.JTI) > 256 {
		return "", Invalid("The DPoP proof's jti is too long.")
	}
	sum := sha256.Sum256([]byte(pr.JKT + "\x00" + pr.JTI))
	fresh, err := c.Record(r.Context(), hex.EncodeToString(sum[:]), (now+maxAgeSeconds+maxSkewSeconds)*1000)
	if err != nil {
		c.Log.ErrorContext(r.Context(), "oauth: record DPoP proof", "err", err)
		return "", reply.ServerError()
	}
	if !fresh {
		return "", Invalid("The DPoP proof was used before (jti).")
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

// Server nonces (RFC 9449 8, 9): Latch does not demand them, but answers
// every request that carried a proof with a DPoP-Nonce header, and a proof
// that carries a nonce must carry a current one (use_dpop_nonce otherwise),
// so a client that uses nonces gets their freshness guarantee. A nonce is
// the MAC of a 5-minute window under a key all nodes share: the current
// and the previous window's are accepted.
const nonceWindowSeconds = 300

func (c *Checker) nonceFor(window int64) string {
	if c.MAC == nil {
		return ""
	}
	w := strconv.FormatInt(window, 10)
	return w + "." + c.MAC("dpop-nonce", w)[:32]
}

func (c *Checker) validNonce(n string) bool {
	now := c.Now() / 1000 / nonceWindowSeconds
	for _, w := range []int64{now, now - 1} {
		if want := c.nonceFor(w); want != "" && subtle.ConstantTimeCompare([]byte(n), []byte(want)) == 1 {
			return true
		}
	}
	return false
}

// OfferNonce sets DPoP-Nonce on the answer to a request with a proof.
func (c *Checker) OfferNonce(w http.ResponseWriter, r *http.Request) {
	if len(r.Header.Values("DPoP")) > 0 {
		if n := c.nonceFor(c.Now() / 1000 / nonceWindowSeconds); n != "" {
			w.Header().Set("DPoP-Nonce", n)
		}
	}
}
