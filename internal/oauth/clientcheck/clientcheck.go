// Package clientcheck holds the OAuth provider's checks of what a client
// sends that need no state and no HTTP: redirect URIs against the
// registered ones, PKCE challenges and verifiers, scopes, the client's
// authentication and PKCE policies, a DPoP proof's htu.
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
