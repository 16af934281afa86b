package password

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// Where these algorithms come from: FusionAuth's password-hashes reference
// (fusionauth-site astro/src/content/docs/reference/password-hashes.mdx) gives
// pseudocode for each scheme; its Import Users API page (apis/users/import.mdx
// and _import-users-request-body.mdx) says hashes and salts are base64 and how
// a bcrypt string is split. Where those are silent, the choice is stated at
// the scheme below.

// algorithm is one scheme's behaviour.
type algorithm struct {
	defaultFactor        int
	minFactor, maxFactor int // both 0: the scheme takes no factor
	maxPasswordBytes     int // 0: no limit
	// create hashes password with a fresh salt.
	create func(password []byte, factor int) (salt, value string, err error)
	// verify recomputes and compares; h has passed validate.
	verify func(h Hash, password []byte) (bool, error)
	// validate checks the salt and value of h.
	validate func(h Hash) error
}

func (a algorithm) takesFactor() bool { return a.maxFactor > 0 }

func (a algorithm) checkFactor(f int) error {
	if f < 0 {
		return invalid("factor", "must not be negative")
	}
	if a.takesFactor() && (f < a.minFactor || f > a.maxFactor) {
		return invalid("factor", "must be between %d and %d", a.minFactor, a.maxFactor)
	}
	return nil
}

func (a algorithm) checkLength(password string) error {
	if a.maxPasswordBytes > 0 && len(password) > a.maxPasswordBytes {
		return fmt.Errorf("%w: at most %d bytes", ErrTooLongForScheme, a.maxPasswordBytes)
	}
	return nil
}

// maxIterations bounds iteration factors: enough for any real deployment
// (FusionAuth recommends 5,000-100,000 for PBKDF2; phpass tops out at 2^30 but
// ships 2^13-2^15), small enough that one stored hash cannot stall a login
// for minutes.
const maxIterations = 1 << 24

// saltBytes is the size of a fresh salt for the base64-salted schemes.
const saltBytes = 32

// lookup returns the algorithm of a canonical scheme name.
func lookup(scheme string) (algorithm, bool) {
	switch scheme {
	case SchemeSaltedMD5:
		// md5 applied factor times to password || base64decode(salt); output
		// base64 (the pseudocode ends "return result"; the import page and
		// FusionAuth's answer in fusionauth-issues#257 say the imported MD5
		// must be base64, not hex). 20,000 is the documented recommended minimum.
		return iteratedDigest(md5.New, 20000), true
	case SchemeSaltedSHA256:
		return iteratedDigest(sha256.New, 20000), true
	case SchemeSaltedHMACSHA256:
		// HMAC-SHA256 keyed with base64decode(salt) over the password, base64
		// output; documented as taking no factor.
		return algorithm{
			defaultFactor: 1,
			create:        createBase64Salted(hmacSHA256),
			verify:        verifyBase64Salted(sha256.Size, hmacSHA256),
			validate:      validateBase64Salted(sha256.Size),
		}, true
	case SchemePBKDF2SHA256:
		// PBKDF2 over base64decode(salt), 256- or 512-bit key, base64 output.
		// 24,000 is FusionAuth's default tenant factor.
		return pbkdf2Scheme(sha256.New, 32), true
	case SchemePBKDF2SHA256x512:
		return pbkdf2Scheme(sha256.New, 64), true
	case SchemePBKDF2SHA512x512:
		return pbkdf2Scheme(sha512.New, 64), true
	case SchemeBcrypt:
		return bcryptScheme(), true
	case SchemePhpassMD5:
		return phpassScheme(md5.New, 16, 22, 1<<13), true
	case SchemePhpassSHA512:
		return phpassScheme(sha512.New, 64, 43, 1<<15), true
	}
	return algorithm{}, false
}

func lookupCanonical(scheme string) (algorithm, bool) {
	name, ok := Canonical(scheme)
	if !ok {
		return algorithm{}, false
	}
	return lookup(name)
}

// --- base64-salted schemes: md5, sha256, hmac, pbkdf2 -----------------------

// digestFunc computes a raw digest from password, decoded salt and factor.
type digestFunc func(password, salt []byte, factor int) ([]byte, error)

func iteratedDigest(newHash func() hash.Hash, defaultFactor int) algorithm {
	size := newHash().Size()
	f := func(password, salt []byte, factor int) ([]byte, error) {
		h := newHash()
		sum := make([]byte, 0, len(password)+len(salt))
		sum = append(append(sum, password...), salt...)
		for range factor {
			h.Reset()
			h.Write(sum)
			sum = h.Sum(sum[:0])
		}
		return sum, nil
	}
	return algorithm{
		defaultFactor: defaultFactor, minFactor: 1, maxFactor: maxIterations,
		create:   createBase64Salted(f),
		verify:   verifyBase64Salted(size, f),
		validate: validateBase64Salted(size),
	}
}

func hmacSHA256(password, salt []byte, _ int) ([]byte, error) {
	m := hmac.New(sha256.New, salt)
	m.Write(password)
	return m.Sum(nil), nil
}

func pbkdf2Scheme[H hash.Hash](newHash func() H, keyLen int) algorithm {
	f := func(password, salt []byte, factor int) ([]byte, error) {
		return pbkdf2.Key(newHash, string(password), salt, factor, keyLen)
	}
	return algorithm{
		defaultFactor: 24000, minFactor: 1, maxFactor: maxIterations,
		create:   createBase64Salted(f),
		verify:   verifyBase64Salted(keyLen, f),
		validate: validateBase64Salted(keyLen),
	}
}

func createBase64Salted(f digestFunc) func([]byte, int) (string, string, error) {
	return func(password []byte, factor int) (string, string, error) {
		salt, err := randomBytes(saltBytes)
		if err != nil {
			return "", "", err
		}
		sum, err := f(password, salt, factor)
		if err != nil {
			return "", "", err
		}
		return base64.StdEncoding.EncodeToString(salt), base64.StdEncoding.EncodeToString(sum), nil
	}
}

func verifyBase64Salted(size int, f digestFunc) func(Hash, []byte) (bool, error) {
	return func(h Hash, password []byte) (bool, error) {
		salt, err1 := decodeBase64(h.Salt)
		want, err2 := decodeBase64(h.Value)
		if err1 != nil || err2 != nil || len(want) != size {
			return false, ErrMalformedHash // validate prevents this
		}
		got, err := f(password, salt, h.Factor)
		if err != nil {
			return false, err
		}
		return equal(got, want), nil
	}
}

func validateBase64Salted(size int) func(Hash) error {
	return func(h Hash) error {
		if _, err := decodeBase64(h.Salt); err != nil {
			return invalid("salt", "must be base64 (the salt's bytes, base64-encoded)")
		}
		v, err := decodeBase64(h.Value)
		if err != nil {
			return invalid("password", "must be the base64 of the hash (convert hex hashes to base64 first)")
		}
		if len(v) != size {
			return invalid("password", "must be the base64 of a %d-byte hash, not %d bytes", size, len(v))
		}
		return nil
	}
}

// decodeBase64 reads standard base64 with or without "=" padding, as Java's
// Base64 decoder (FusionAuth's) accepts it.
func decodeBase64(s string) ([]byte, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, errors.New("line breaks in base64") // Go would skip them; Java refuses them
	}
	if strings.HasSuffix(s, "=") {
		return base64.StdEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// --- bcrypt ------------------------------------------------------------------

// bcrypt: factor is the cost (log2 of the rounds). FusionAuth takes a modular
// crypt string $2a$10$<22-char salt><31-char hash> split in three: factor 10,
// salt the 22 characters, password the 31 (import.mdx, "Bcrypt"; an empty
// salt fails there with "Bad salt length", fusionauth-issues#1238). Both
// parts use bcrypt's own base64 alphabet. FusionAuth's maintainers give 12 as
// its default cost (fusionauth-issues#250).
const (
	bcryptAlphabet  = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	bcryptSaltLen   = 22
	bcryptHashLen   = 31
	bcryptMaxBytes  = 72
	bcryptMinFactor = 4
	bcryptMaxFactor = 31
)

func bcryptScheme() algorithm {
	return algorithm{
		defaultFactor: 12, minFactor: bcryptMinFactor, maxFactor: bcryptMaxFactor,
		maxPasswordBytes: bcryptMaxBytes,
		create: func(password []byte, factor int) (string, string, error) {
			out, err := bcrypt.GenerateFromPassword(password, factor)
			if err != nil {
				return "", "", fmt.Errorf("bcrypt: %w", err)
			}
			salt, value, _, ok := SplitBcrypt(string(out))
			if !ok {
				return "", "", errors.New("bcrypt: unexpected output")
			}
			return salt, value, nil
		},
		verify: func(h Hash, password []byte) (bool, error) {
			// $2a$, $2b$ and $2y$ compute the same for passwords of at most
			// 72 bytes, which is all Latch lets through.
			full := fmt.Sprintf("$2a$%02d$%s%s", h.Factor, h.Salt, h.Value)
			err := bcrypt.CompareHashAndPassword([]byte(full), password)
			switch {
			case err == nil:
				return true, nil
			case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
				return false, nil
			default:
				return false, fmt.Errorf("%w: %v", ErrMalformedHash, err)
			}
		},
		validate: func(h Hash) error {
			if len(h.Salt) != bcryptSaltLen || !inAlphabet(h.Salt, bcryptAlphabet) {
				return invalid("salt", "must be the %d characters after the cost in a bcrypt string ($2a$10$<salt><hash>)", bcryptSaltLen)
			}
			if len(h.Value) != bcryptHashLen || !inAlphabet(h.Value, bcryptAlphabet) {
				return invalid("password", "must be the last %d characters of a bcrypt string ($2a$10$<salt><hash>)", bcryptHashLen)
			}
			return nil
		},
	}
}

// SplitBcrypt splits a modular crypt bcrypt string ($2a$, $2b$ or $2y$) into
// FusionAuth's salt, password and factor fields.
func SplitBcrypt(s string) (salt, value string, cost int, ok bool) {
	if len(s) != 7+bcryptSaltLen+bcryptHashLen || s[0] != '$' || s[1] != '2' || s[3] != '$' || s[6] != '$' {
		return "", "", 0, false
	}
	if s[2] != 'a' && s[2] != 'b' && s[2] != 'y' {
		return "", "", 0, false // $2x$ is the buggy variant; $2$ predates 2a
	}
	cost, ok = parseFactor(strings.TrimPrefix(s[4:6], "0"))
	if !ok || cost < bcryptMinFactor || cost > bcryptMaxFactor {
		return "", "", 0, false
	}
	salt, value = s[7:7+bcryptSaltLen], s[7+bcryptSaltLen:]
	if !inAlphabet(salt, bcryptAlphabet) || !inAlphabet(value, bcryptAlphabet) {
		return "", "", 0, false
	}
	return salt, value, cost, true
}

func inAlphabet(s, alphabet string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(alphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

// --- phpass ------------------------------------------------------------------

// phpass (WordPress $P$, Drupal 7 $S$): digest = H(salt || password), then
// factor times digest = H(digest || password); the salt is used as given (not
// base64-decoded), as the pseudocode says and as phpass salts are not base64
// (fusionauth-issues#2206 fixed FusionAuth's import rejecting them). The
// factor is the iteration count, not its log2. Output: the first 16 bytes (MD5)
// or the first 43 characters (SHA-512) of a base64 encoding the reference does
// not name. phpass itself, WordPress and Drupal use phpass's "./0-9A-Za-z"
// encoding, so that the hash part of their strings imports unchanged; Latch
// writes that, and on check also accepts standard base64 of the same length.
const phpassAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// base64Alphabet is standard base64's, for the accepted alternative.
const base64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// phpassSaltLen is the salt length phpass generates.
const phpassSaltLen = 8

func phpassScheme(newHash func() hash.Hash, size, outLen, defaultFactor int) algorithm {
	digest := func(password []byte, salt string, factor int) []byte {
		h := newHash()
		h.Write([]byte(salt))
		h.Write(password)
		sum := h.Sum(nil)
		for range factor {
			h.Reset()
			h.Write(sum)
			h.Write(password)
			sum = h.Sum(sum[:0])
		}
		return sum
	}
	return algorithm{
		defaultFactor: defaultFactor, minFactor: 1, maxFactor: maxIterations,
		create: func(password []byte, factor int) (string, string, error) {
			raw, err := randomBytes(6)
			if err != nil {
				return "", "", err
			}
			salt := phpassEncode(raw)
			return salt, phpassEncode(digest(password, salt, factor))[:outLen], nil
		},
		verify: func(h Hash, password []byte) (bool, error) {
			sum := digest(password, h.Salt, h.Factor)
			want := []byte(h.Value)
			// Both comparisons always run, so timing does not tell which
			// encoding the stored value uses.
			a := equal(want, []byte(phpassEncode(sum)[:outLen]))
			std := base64.StdEncoding.EncodeToString(sum)
			if len(want) < len(std) {
				std = std[:len(want)]
			}
			b := equal(want, []byte(std))
			return a || b, nil
		},
		validate: func(h Hash) error {
			if h.Salt == "" {
				return invalid("salt", "is required (the %d characters after the count in a phpass string)", phpassSaltLen)
			}
			v := h.Value
			okLen := len(v) == outLen
			if size == 16 && len(v) == 24 && strings.HasSuffix(v, "==") {
				v, okLen = v[:22], true // padded standard base64 of 16 bytes
			}
			if !okLen || !(inAlphabet(v, phpassAlphabet) || inAlphabet(v, base64Alphabet)) {
				return invalid("password", "must be the %d-character hash part of a phpass string", outLen)
			}
			return nil
		},
	}
}

// phpassEncode is phpass's encode64: little-endian groups of 3 bytes, 6 bits
// at a time, in phpass's alphabet.
func phpassEncode(in []byte) string {
	var b strings.Builder
	for i := 0; i < len(in); {
		v := uint(in[i])
		i++
		b.WriteByte(phpassAlphabet[v&0x3f])
		if i < len(in) {
			v |= uint(in[i]) << 8
		}
		b.WriteByte(phpassAlphabet[(v>>6)&0x3f])
		if i >= len(in) {
			break
		}
		i++
		if i < len(in) {
			v |= uint(in[i]) << 16
		}
		b.WriteByte(phpassAlphabet[(v>>12)&0x3f])
		if i >= len(in) {
			break
		}
		i++
		b.WriteByte(phpassAlphabet[(v>>18)&0x3f])
	}
	return b.String()
}
