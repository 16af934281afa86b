package keys

import (
	"crypto"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchid/latch/internal/model"
)

// Entry is a stored key with its private material opened, as the signing package hands
// it to NewSet. Private is the private key PEM or the HMAC secret, "" for a
// public key alone.
type Entry struct {
	ID          string
	Name        string
	Algorithm   string
	Kid         string
	PublicKey   string
	Certificate string
	Private     string
}

// key is one key of a Set, parsed once.
type key struct {
	id, name, kid, algorithm, typ string
	jws                           jose.SignatureAlgorithm
	publicPEM                     string
	public                        crypto.PublicKey // nil for HMAC
	certs                         []*x509.Certificate
	signer                        jose.Signer // nil without private material
	verify                        any         // what verifies this key's signatures; nil without private material
}

// publishable keys appear in the JWKS and the public-key API: key pairs Latch
// signs with. HMAC secrets are never published, and public keys imported
// alone are not Latch's to vouch for: publishing them would let whoever holds
// their private key mint tokens that relying parties take for Latch's.
func (k *key) publishable() bool { return k.public != nil && k.signer != nil }

// Set is every key, immutable once built: the rendered JWKS, the public keys
// by kid, a signer per key and the verifier. The signing cache rebuilds it when keys
// change and swaps it in whole.
type Set struct {
	byID       map[string]*key
	byKid      map[string]*key
	jwks       []byte
	etag       string
	publicKeys map[string]string // kid → PEM, publishable keys only
}

// EmptySet is a Set with no keys (the JWKS is {"keys":[]}).
func EmptySet() *Set {
	s, _ := NewSet(nil)
	return s
}

// NewSet parses entries into a Set. An entry that does not parse is left out
// and reported (by id, never with its material) so that one bad row cannot
// take every key down; the caller logs the errors.
func NewSet(entries []Entry) (*Set, []error) {
	s := &Set{byID: map[string]*key{}, byKid: map[string]*key{}, publicKeys: map[string]string{}}
	var errs []error
	jwks := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for _, e := range entries {
		k, err := parseEntry(e)
		if err != nil {
			errs = append(errs, fmt.Errorf("signing key %s: %w", e.ID, err))
			continue
		}
		s.byID[k.id] = k
		s.byKid[k.kid] = k
		if !k.publishable() {
			continue
		}
		s.publicKeys[k.kid] = k.publicPEM
		jwk := jose.JSONWebKey{Key: k.public, KeyID: k.kid, Algorithm: string(k.jws), Use: "sig", Certificates: k.certs}
		if len(k.certs) > 0 {
			s1 := sha1.Sum(k.certs[0].Raw)
			s256 := sha256.Sum256(k.certs[0].Raw)
			jwk.CertificateThumbprintSHA1, jwk.CertificateThumbprintSHA256 = s1[:], s256[:]
		}
		jwks.Keys = append(jwks.Keys, jwk)
	}
	b, err := json.Marshal(jwks)
	if err != nil { // every key here parsed; a failure is a bug, not bad data
		errs = append(errs, fmt.Errorf("render JWKS: %w", err))
		b = []byte(`{"keys":[]}`)
	}
	s.jwks = b
	sum := sha256.Sum256(b)
	s.etag = `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
	return s, errs
}

func parseEntry(e Entry) (*key, error) {
	sp, ok := lookup(e.Algorithm)
	if !ok {
		return nil, fmt.Errorf("unknown algorithm %q", e.Algorithm)
	}
	k := &key{id: e.ID, name: e.Name, kid: e.Kid, algorithm: sp.name, typ: sp.typ, jws: sp.jws}
	var signingKey any
	if sp.typ == model.KeyTypeHMAC {
		if e.Private == "" {
			return nil, errors.New("HMAC key without a secret")
		}
		secret := []byte(e.Private)
		signingKey, k.verify = secret, secret
	} else {
		var err error
		switch {
		case e.PublicKey != "":
			k.public, err = parsePublicKey(e.PublicKey)
		case e.Certificate != "":
			var c *x509.Certificate
			if c, err = parseCertificate(e.Certificate); err == nil {
				k.public = c.PublicKey
			}
		default:
			err = errors.New("no public key")
		}
		if err != nil {
			return nil, fmt.Errorf("public key: %w", err)
		}
		k.publicPEM = e.PublicKey
		if e.Certificate != "" {
			c, err := parseCertificate(e.Certificate)
			if err != nil {
				return nil, fmt.Errorf("certificate: %w", err)
			}
			k.certs = []*x509.Certificate{c}
		}
		if e.Private != "" {
			priv, err := parsePrivateKey(e.Private)
			if err != nil {
				return nil, fmt.Errorf("private key: %w", err)
			}
			if !samePublic(priv.Public(), k.public) {
				return nil, errors.New("the private key does not match the public key")
			}
			signingKey, k.verify = priv, k.public
		}
	}
	if signingKey != nil {
		// The kid goes in as a header of its own: the library sets it from a
		// wrapping JWK only for asymmetric keys.
		sg, err := jose.NewSigner(jose.SigningKey{Algorithm: sp.jws, Key: signingKey},
			(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", e.Kid))
		if err != nil {
			return nil, fmt.Errorf("signer: %w", err)
		}
		k.signer = sg
	}
	return k, nil
}

// JWKS is the rendered {"keys":[…]} document.
func (s *Set) JWKS() []byte { return s.jwks }

// ETag is a strong validator of the JWKS document.
func (s *Set) ETag() string { return s.etag }

// Len is the number of keys in the set, published or not.
func (s *Set) Len() int { return len(s.byID) }

// Has reports whether the set holds a key with this id.
func (s *Set) Has(id string) bool { return s.byID[id] != nil }

// PublicKey is the PEM public key of a published key, by kid.
func (s *Set) PublicKey(kid string) (string, bool) {
	p, ok := s.publicKeys[kid]
	return p, ok
}

// PublicKeyByID is the PEM public key of a published key, by key id.
func (s *Set) PublicKeyByID(id string) (string, bool) {
	k := s.byID[id]
	if k == nil || !k.publishable() {
		return "", false
	}
	return k.publicPEM, true
}

// PublicKeys are the published keys' PEM public keys by kid (a copy).
func (s *Set) PublicKeys() map[string]string { return maps.Clone(s.publicKeys) }

// Errors callers of Signer and Verify can tell apart.
var (
	ErrUnknownKey   = errors.New("no signing key with this id")
	ErrCannotSign   = errors.New("the signing key has no private key")
	ErrInvalidToken = errors.New("invalid token")
)

// Signer signs with one key. It is safe for concurrent use.
type Signer struct{ k *key }

// Signer returns the signer of the key with this id.
func (s *Set) Signer(id string) (*Signer, error) {
	k := s.byID[id]
	switch {
	case k == nil:
		return nil, ErrUnknownKey
	case k.signer == nil:
		return nil, ErrCannotSign
	}
	return &Signer{k: k}, nil
}

// Sign returns payload (the JWT claims, JSON) as a compact JWS with "typ":
// "JWT", "alg" and "kid" in its header.
func (sg *Signer) Sign(payload []byte) (string, error) {
	obj, err := sg.k.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign with key %s: %w", sg.k.id, err)
	}
	return obj.CompactSerialize()
}

// KeyID is the signing key's id.
func (sg *Signer) KeyID() string { return sg.k.id }

// Kid is the kid the signatures carry.
func (sg *Signer) Kid() string { return sg.k.kid }

// Algorithm is the JWS "alg" the signatures carry.
func (sg *Signer) Algorithm() string { return string(sg.k.jws) }

// MaxTokenLength bounds the tokens Verify reads; longer ones are refused unread.
const MaxTokenLength = 16 << 10

// Verified is a token whose signature checked out. Its claims are not checked
// yet: that is the caller's job.
type Verified struct {
	Payload   []byte
	KeyID     string
	Kid       string
	Algorithm string
}

// Verify checks a compact JWS against the set's keys. It names the key by the
// token's kid and requires the token's alg to be that key's own, so "none",
// an HMAC signed with a public key, or an RSA key used under another
// algorithm all fail. Headers that bring their own key (jwk, jku, x5u, x5c)
// are refused outright. Every failure wraps ErrInvalidToken.
func (s *Set) Verify(token string) (*Verified, error) {
	if len(token) > MaxTokenLength {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrInvalidToken, MaxTokenLength)
	}
	obj, err := jose.ParseSignedCompact(token, allJWS)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	if len(obj.Signatures) != 1 {
		return nil, fmt.Errorf("%w: %d signatures", ErrInvalidToken, len(obj.Signatures))
	}
	h := obj.Signatures[0].Protected
	if h.JSONWebKey != nil {
		return nil, fmt.Errorf("%w: the header carries a key (jwk)", ErrInvalidToken)
	}
	for _, name := range []jose.HeaderKey{"jku", "x5u"} {
		if _, ok := h.ExtraHeaders[name]; ok {
			return nil, fmt.Errorf("%w: the header names a key (%s)", ErrInvalidToken, name)
		}
	}
	if _, err := h.Certificates(x509.VerifyOptions{}); !errors.Is(err, jose.ErrMissingX5cHeader) {
		return nil, fmt.Errorf("%w: the header carries a certificate (x5c)", ErrInvalidToken)
	}
	k := s.byKid[h.KeyID]
	if k == nil || k.verify == nil {
		return nil, fmt.Errorf("%w: unknown kid %q", ErrInvalidToken, h.KeyID)
	}
	if h.Algorithm != string(k.jws) {
		return nil, fmt.Errorf("%w: alg %q is not the key's %s", ErrInvalidToken, h.Algorithm, k.jws)
	}
	payload, err := obj.Verify(k.verify)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	return &Verified{Payload: payload, KeyID: k.id, Kid: k.kid, Algorithm: string(k.jws)}, nil
}

// Kids lists the kids of the set's keys, sorted (for logs and tests).
func (s *Set) Kids() []string { return slices.Sorted(maps.Keys(s.byKid)) }
