// Package password hashes and checks passwords with FusionAuth's built-in
// schemes, so that hashes made by FusionAuth, or imported into it from other
// systems, keep working in Latch.
//
// The algorithms follow FusionAuth's password-hashes reference and its Import
// Users API documentation; scheme.go says, scheme by scheme, what was
// documented and what Latch decided where the documentation is silent.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Scheme names, as FusionAuth's API spells them (encryptionScheme).
const (
	SchemeSaltedMD5        = "salted-md5"
	SchemeSaltedSHA256     = "salted-sha256"
	SchemeSaltedHMACSHA256 = "salted-hmac-sha256"
	SchemePBKDF2SHA256     = "salted-pbkdf2-hmac-sha256"
	SchemePBKDF2SHA256x512 = "salted-pbkdf2-hmac-sha256-512"
	SchemePBKDF2SHA512x512 = "salted-pbkdf2-hmac-sha512-512"
	SchemeBcrypt           = "bcrypt"
	SchemePhpassMD5        = "phpass-md5"
	SchemePhpassSHA512     = "phpass-sha512"

	// DefaultScheme is FusionAuth's default tenant scheme.
	DefaultScheme = SchemePBKDF2SHA256
)

// phpassSHA512Typo is how FusionAuth's password-hashes reference spells the
// phpass SHA-512 scheme; its import documentation and issue tracker say
// phpass-sha512. Both are accepted; phpass-sha512 is what Latch stores.
const phpassSHA512Typo = "phppass-sha512"

// Errors callers branch on.
var (
	// ErrTooLongForScheme: the scheme would silently ignore part of the
	// password (bcrypt reads only the first 72 bytes), so Latch refuses it.
	ErrTooLongForScheme = errors.New("password too long for the hash scheme")
	// ErrUnsupportedScheme: not one of FusionAuth's built-in schemes.
	ErrUnsupportedScheme = errors.New("unsupported password scheme")
	// ErrMalformedHash: a stored or imported hash whose factor, salt or value
	// cannot be one of its scheme's.
	ErrMalformedHash = errors.New("malformed password hash")
)

// InvalidError says which part of a hash is wrong. Field is the FusionAuth
// user field holding it: encryptionScheme, factor, salt or password.
type InvalidError struct {
	Field  string
	Reason string
}

func (e *InvalidError) Error() string { return "invalid " + e.Field + ": " + e.Reason }

// Is makes an InvalidError match ErrMalformedHash (or ErrUnsupportedScheme for the scheme).
func (e *InvalidError) Is(target error) bool {
	if e.Field == "encryptionScheme" {
		return target == ErrUnsupportedScheme
	}
	return target == ErrMalformedHash
}

func invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Hash is a stored password: scheme, factor, salt and hash, as FusionAuth's
// user fields encryptionScheme, factor, salt and password. Salt and Value are
// kept as FusionAuth takes them on import (base64 for most schemes; see
// scheme.go for bcrypt and phpass).
type Hash struct {
	Scheme string
	Factor int
	Salt   string
	Value  string
}

// Encode packs the hash into one column value: scheme$factor$salt$value.
// Validate guarantees that no part of a valid hash contains "$".
func (h Hash) Encode() string {
	return strings.Join([]string{h.Scheme, strconv.Itoa(h.Factor), h.Salt, h.Value}, "$")
}

// Decode unpacks what Encode produced. It checks the layout only; Validate
// (which Check runs) checks the parts against the scheme.
func Decode(s string) (Hash, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 4 {
		return Hash{}, fmt.Errorf("%w: want 4 parts, got %d", ErrMalformedHash, len(parts))
	}
	f, ok := parseFactor(parts[1])
	if !ok {
		return Hash{}, fmt.Errorf("%w: bad factor", ErrMalformedHash)
	}
	return Hash{Scheme: parts[0], Factor: f, Salt: parts[2], Value: parts[3]}, nil
}

// parseFactor reads a factor in the one spelling Encode writes (plain decimal,
// no sign, no leading zeros), so that Decode(s) succeeds only when
// Encode(Decode(s)) == s.
func parseFactor(s string) (int, bool) {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > maxFactorValue {
		return 0, false
	}
	return n, true
}

// maxFactorValue bounds any factor (int32 in FusionAuth).
const maxFactorValue = 1<<31 - 1

// Schemes lists FusionAuth's built-in schemes, in its documentation's order.
func Schemes() []string {
	return []string{SchemeSaltedMD5, SchemeSaltedSHA256, SchemeSaltedHMACSHA256, SchemePBKDF2SHA256,
		SchemePBKDF2SHA256x512, SchemePBKDF2SHA512x512, SchemeBcrypt, SchemePhpassMD5, SchemePhpassSHA512}
}

// Canonical returns the name Latch stores for scheme, and whether it is supported.
func Canonical(scheme string) (string, bool) {
	if scheme == phpassSHA512Typo {
		return SchemePhpassSHA512, true
	}
	_, ok := lookup(scheme)
	return scheme, ok
}

// Supported reports whether scheme is one of FusionAuth's built-in schemes.
func Supported(scheme string) bool {
	_, ok := Canonical(scheme)
	return ok
}

// DefaultFactor is the factor Latch uses for scheme when none is given; 0 for
// an unknown scheme.
func DefaultFactor(scheme string) int {
	a, ok := lookupCanonical(scheme)
	if !ok {
		return 0
	}
	return a.defaultFactor
}

// FactorRange is the range of factors Latch accepts for scheme. A scheme that
// takes no factor (salted-hmac-sha256) accepts any non-negative one and
// reports ok false.
func FactorRange(scheme string) (lo, hi int, ok bool) {
	a, found := lookupCanonical(scheme)
	if !found || !a.takesFactor() {
		return 0, 0, false
	}
	return a.minFactor, a.maxFactor, true
}

// MaxPasswordBytes is the longest password (in UTF-8 bytes) scheme can hash
// whole; 0 when it has no limit.
func MaxPasswordBytes(scheme string) int {
	a, ok := lookupCanonical(scheme)
	if !ok {
		return 0
	}
	return a.maxPasswordBytes
}

// New hashes password with the default scheme and factor and a fresh salt.
func New(password string) (Hash, error) {
	return NewWith(DefaultScheme, DefaultFactor(DefaultScheme), password)
}

// NewWith hashes password with scheme and factor (a tenant's configured
// ones) and a fresh salt. It refuses, with ErrTooLongForScheme, a password the
// scheme would only partly use.
func NewWith(scheme string, factor int, password string) (Hash, error) {
	name, ok := Canonical(scheme)
	if !ok {
		return Hash{}, fmt.Errorf("%w %q", ErrUnsupportedScheme, scheme)
	}
	a, _ := lookup(name)
	if err := a.checkFactor(factor); err != nil {
		return Hash{}, err
	}
	if err := a.checkLength(password); err != nil {
		return Hash{}, err
	}
	salt, value, err := a.create([]byte(password), factor)
	if err != nil {
		return Hash{}, err
	}
	return Hash{Scheme: name, Factor: factor, Salt: salt, Value: value}, nil
}

// Validate checks that h could be a hash of its scheme: a known scheme, a
// factor in range, and a salt and value of the scheme's form. Errors are
// *InvalidError naming the field.
func Validate(h Hash) error {
	name, ok := Canonical(h.Scheme)
	if !ok {
		return invalid("encryptionScheme", "%q is not a supported scheme; use one of %s", h.Scheme, strings.Join(Schemes(), ", "))
	}
	a, _ := lookup(name)
	if err := a.checkFactor(h.Factor); err != nil {
		return err
	}
	if len(h.Salt) > maxSaltLength {
		return invalid("salt", "longer than %d characters", maxSaltLength)
	}
	if strings.Contains(h.Salt, "$") {
		return invalid("salt", `contains "$"`)
	}
	if strings.Contains(h.Value, "$") {
		return invalid("password", `contains "$"`)
	}
	return a.validate(h)
}

// maxSaltLength bounds a salt Latch accepts; built-in schemes need far less.
const maxSaltLength = 1024

// Check reports whether password matches h. The final comparison takes the
// same time wherever the two differ. A malformed h is an error, never a match;
// so is a password longer than the scheme can use (ErrTooLongForScheme).
func Check(h Hash, password string) (bool, error) {
	if err := Validate(h); err != nil {
		return false, err
	}
	a, _ := lookupCanonical(h.Scheme)
	if err := a.checkLength(password); err != nil {
		return false, err
	}
	return a.verify(h, []byte(password))
}

// NeedsRehash reports whether h should be re-hashed to scheme and factor (a
// tenant's configuration) the next time its password is known: the scheme
// differs, or the factor does where the scheme takes one.
func NeedsRehash(h Hash, scheme string, factor int) bool {
	want, ok := Canonical(scheme)
	if !ok {
		return false // nothing to re-hash to
	}
	have, _ := Canonical(h.Scheme)
	if have != want {
		return true
	}
	a, _ := lookup(want)
	return a.takesFactor() && h.Factor != factor
}

// fastDigests are schemes built on a plain or iterated digest rather than a
// key-derivation function: cheap to brute-force once a database leaks.
var fastDigests = []string{SchemeSaltedMD5, SchemeSaltedSHA256, SchemeSaltedHMACSHA256, SchemePhpassMD5, SchemePhpassSHA512}

// Weaker reports whether h is weaker than a new hash with scheme and factor
// would be: a fast digest where scheme is a key-derivation function, or the
// same scheme with a smaller factor. A successful login re-hashes such a
// password whatever the tenant's modifyEncryptionSchemeOnLogin says.
func Weaker(h Hash, scheme string, factor int) bool {
	want, ok := Canonical(scheme)
	if !ok {
		return false
	}
	have, _ := Canonical(h.Scheme)
	if have == want {
		a, _ := lookup(want)
		return a.takesFactor() && h.Factor < factor
	}
	return slices.Contains(fastDigests, have) && !slices.Contains(fastDigests, want)
}

// equal compares in constant time (for equal lengths; lengths are not secret).
func equal(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

func randomBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("read random salt: %w", err)
	}
	return b, nil
}
