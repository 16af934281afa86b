// Package clientcheck holds the OAuth provider's checks of what a client
// sends that need no state and no HTTP: redirect URIs against the
// registered ones, PKCE challenges and verifiers, scopes, the client's
// authentication and PKCE policies, a DPoP proof's claims.
package clientcheck

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/latchid/latch/internal/model"
)

// NormalizeScope drops repeated scopes, keeping the order given.
func NormalizeScope(s string) string {
	var out []string
	for _, f := range strings.Fields(s) {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return strings.Join(out, " ")
}

func HasScope(scope, want string) bool { return slices.Contains(strings.Fields(scope), want) }

// ClientAuthPolicy is the application's clientAuthenticationPolicy.
func ClientAuthPolicy(oc model.OAuth2Configuration) string {
	if oc.ClientAuthenticationPolicy != "" {
		return oc.ClientAuthenticationPolicy
	}
	if oc.RequireClientAuthentication {
		return "Required"
	}
	return "NotRequired"
}

// PKCERequired: the application's proofKeyForCodeExchangePolicy demands
// PKCE, or the client need not authenticate (a public client must prove
// possession with PKCE; OAuth 2.1 and RFC 9700).
func PKCERequired(oc model.OAuth2Configuration) bool {
	switch oc.ProofKeyForCodeExchangePolicy {
	case "Required":
		return true
	}
	return ClientAuthPolicy(oc) != "Required"
}

var challengePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

func ValidChallenge(c string) bool { return challengePattern.MatchString(c) }

var verifierPattern = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// PKCEMatches checks a code_verifier against an S256 challenge in constant time.
func PKCEMatches(verifier, challenge string) bool {
	if !verifierPattern.MatchString(verifier) {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}

// RedirectAllowed compares a redirect URI with the application's
// authorized redirect URLs: exactly (RFC 9700), except that a loopback
// redirect (http://127.0.0.1 or http://[::1]) may use any port (RFC 8252),
// and that under AllowWildcards a registered URL's * matches within one
// host label, port, path segment or query value.
func RedirectAllowed(oc model.OAuth2Configuration, uri string) bool {
	u, err := url.Parse(uri)
	if err != nil || !u.IsAbs() || u.Host == "" && u.Scheme == "http" || u.Fragment != "" || strings.Contains(uri, "#") || u.User != nil {
		return false
	}
	for _, reg := range oc.AuthorizedRedirectURLs {
		if reg == uri {
			return true
		}
		if loopbackMatch(reg, u) {
			return true
		}
		if oc.AuthorizedURLValidationPolicy == "AllowWildcards" && strings.Contains(reg, "*") && wildcardMatch(reg, uri) {
			return true
		}
	}
	return false
}

func loopbackMatch(reg string, u *url.URL) bool {
	if u.Scheme != "http" {
		return false
	}
	ip := net.ParseIP(u.Hostname())
	if ip == nil || !ip.IsLoopback() {
		return false
	}
	ru, err := url.Parse(reg)
	if err != nil || ru.Scheme != "http" || ru.Hostname() != u.Hostname() {
		return false
	}
	return ru.EscapedPath() == u.EscapedPath() && ru.RawQuery == u.RawQuery && ru.User == nil && ru.Fragment == ""
}

// wildcardMatch matches uri against a registered URL with * wildcards: in
// the authority a * spans characters of one label (no dot, colon, slash or
// @), after it characters of one path segment or query value.
func wildcardMatch(reg, uri string) bool {
	schemeEnd := strings.Index(reg, "://")
	if schemeEnd < 0 {
		return false
	}
	rest := reg[schemeEnd+3:]
	authEnd := strings.IndexAny(rest, "/?")
	if authEnd < 0 {
		authEnd = len(rest)
	}
	var b strings.Builder
	b.WriteString("^")
	b.WriteString(regexp.QuoteMeta(reg[:schemeEnd+3]))
	for i, part := range strings.Split(rest[:authEnd], "*") {
		if i > 0 {
			b.WriteString(`[^./:?#@]+`)
		}
		b.WriteString(regexp.QuoteMeta(part))
	}
	for i, part := range strings.Split(rest[authEnd:], "*") {
		if i > 0 {
			b.WriteString(`[^/?#&=]*`)
		}
		b.WriteString(regexp.QuoteMeta(part))
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	return err == nil && re.MatchString(uri)
}

// SameEndpoint compares htu with an endpoint's URL, without query and
// fragment, scheme and host case-insensitively (RFC 9449 4.3 step 9).
func SameEndpoint(htu, endpoint string) bool {
	a, err1 := url.Parse(htu)
	b, err2 := url.Parse(endpoint)
	if err1 != nil || err2 != nil || a.Opaque != "" || a.User != nil {
		return false
	}
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host) && a.EscapedPath() == b.EscapedPath()
}

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
// remembered (jti) for the whole window (DPoPWindowSeconds from now), so a
// replay inside it is caught.
const (
	dpopMaxAgeSeconds  = 300
	dpopMaxSkewSeconds = 60
	DPoPWindowSeconds  = dpopMaxAgeSeconds + dpopMaxSkewSeconds
)

// CheckDPoPProof checks a proof against the request it came with (RFC 9449
// 4.3): its htm, its htu (endpoint's URL), its iat (now, epoch seconds),
// its ath when accessToken is given, its jti's length. It answers why it
// fails ("" when it passes); the nonce and the jti's novelty need state
// and are the caller's.
func CheckDPoPProof(pr *DPoPProof, method, endpoint string, now int64, accessToken string) string {
	if pr.HTM != method {
		return "The DPoP proof's htm is not this request's method."
	}
	if !SameEndpoint(pr.HTU, endpoint) {
		return "The DPoP proof's htu is not this endpoint's URL."
	}
	if pr.IAT < now-dpopMaxAgeSeconds || pr.IAT > now+dpopMaxSkewSeconds {
		return "The DPoP proof's iat is too old or in the future."
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		want := base64.RawURLEncoding.EncodeToString(sum[:])
		if subtle.ConstantTimeCompare([]byte(pr.ATH), []byte(want)) != 1 {
			return "The DPoP proof's ath does not match the access token."
		}
	}
	if len(pr.JTI) > 256 {
		return "The DPoP proof's jti is too long."
	}
	return ""
}
