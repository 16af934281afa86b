// Package keys is Latch's signing-key cryptography: it generates and imports
// key pairs and HMAC secrets, describes certificates, and holds the in-memory
// Set that signs JWTs, verifies them and renders the JWKS. It is the only
// package that imports the JOSE library; it knows nothing of storage.
package keys

import (
	"crypto"
	"crypto/elliptic"
	"crypto/x509"
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchid/latch/internal/model"
)

// spec is one algorithm a key can have, in FusionAuth's spelling.
type spec struct {
	name    string // FusionAuth's KeyAlgorithm
	typ     string // model.KeyType*
	jws     jose.SignatureAlgorithm
	hash    crypto.Hash    // HMAC: the secret must have at least this many bytes
	curve   elliptic.Curve // EC only
	bits    int            // EC: the curve's size, which FusionAuth reports as the length
	certSig x509.SignatureAlgorithm
}

// specs are the algorithms Latch signs with. Ed25519 is FusionAuth's name for
// EdDSA keys; "EdDSA" is accepted as an alias on input.
var specs = []spec{
	{name: "RS256", typ: model.KeyTypeRSA, jws: jose.RS256, hash: crypto.SHA256, certSig: x509.SHA256WithRSA},
	{name: "RS384", typ: model.KeyTypeRSA, jws: jose.RS384, hash: crypto.SHA384, certSig: x509.SHA384WithRSA},
	{name: "RS512", typ: model.KeyTypeRSA, jws: jose.RS512, hash: crypto.SHA512, certSig: x509.SHA512WithRSA},
	{name: "ES256", typ: model.KeyTypeEC, jws: jose.ES256, hash: crypto.SHA256, curve: elliptic.P256(), bits: 256, certSig: x509.ECDSAWithSHA256},
	{name: "ES384", typ: model.KeyTypeEC, jws: jose.ES384, hash: crypto.SHA384, curve: elliptic.P384(), bits: 384, certSig: x509.ECDSAWithSHA384},
	{name: "ES512", typ: model.KeyTypeEC, jws: jose.ES512, hash: crypto.SHA512, curve: elliptic.P521(), bits: 521, certSig: x509.ECDSAWithSHA512},
	{name: "HS256", typ: model.KeyTypeHMAC, jws: jose.HS256, hash: crypto.SHA256},
	{name: "HS384", typ: model.KeyTypeHMAC, jws: jose.HS384, hash: crypto.SHA384},
	{name: "HS512", typ: model.KeyTypeHMAC, jws: jose.HS512, hash: crypto.SHA512},
	{name: "Ed25519", typ: model.KeyTypeOKP, jws: jose.EdDSA, certSig: x509.PureEd25519},
}

const (
	minRSABits       = 2048
	minRSAPublicBits = 1024
	maxRSABits       = 4096 // the JOSE library refuses larger moduli
)

// ed25519Length is what FusionAuth reports as an Ed25519 key's length.
const ed25519Length = 32

// Algorithms lists the accepted algorithm names, FusionAuth's spelling.
func Algorithms() []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.name
	}
	return out
}

// Types lists the key types Latch supports.
func Types() []string {
	return []string{model.KeyTypeEC, model.KeyTypeHMAC, model.KeyTypeOKP, model.KeyTypeRSA}
}

// lookup finds an algorithm by name, case-insensitively; "EdDSA" means Ed25519.
func lookup(name string) (spec, bool) {
	name = strings.TrimSpace(name)
	if strings.EqualFold(name, "EdDSA") {
		name = "Ed25519"
	}
	i := slices.IndexFunc(specs, func(s spec) bool { return strings.EqualFold(s.name, name) })
	if i < 0 {
		return spec{}, false
	}
	return specs[i], true
}

// CanonicalAlgorithm returns FusionAuth's spelling of an algorithm name, and
// whether Latch supports it.
func CanonicalAlgorithm(name string) (string, bool) {
	s, ok := lookup(name)
	return s.name, ok
}

// CanonicalType returns the canonical spelling of a key type, and whether
// Latch supports it.
func CanonicalType(name string) (string, bool) {
	i := slices.IndexFunc(Types(), func(t string) bool { return strings.EqualFold(t, strings.TrimSpace(name)) })
	if i < 0 {
		return "", false
	}
	return Types()[i], true
}

// JWSAlgorithm is the "alg" a key's signatures carry: Ed25519 keys sign as
// EdDSA, every other algorithm under its own name.
func JWSAlgorithm(algorithm string) string {
	s, ok := lookup(algorithm)
	if !ok {
		return ""
	}
	return string(s.jws)
}

// allJWS are the header algorithms a token may name at all; anything else
// (including "none") fails parsing before any key is looked at.
var allJWS = func() []jose.SignatureAlgorithm {
	out := make([]jose.SignatureAlgorithm, len(specs))
	for i, s := range specs {
		out[i] = s.jws
	}
	return out
}()
