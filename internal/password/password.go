// Package password hashes and checks passwords with FusionAuth's schemes.
package password

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Default scheme and factor, as FusionAuth's tenant defaults.
const (
	SchemePBKDF2SHA256 = "salted-pbkdf2-hmac-sha256"
	DefaultFactor      = 24000
)

// Hash is a stored password: scheme, factor, salt and hash, as FusionAuth's user
// fields encryptionScheme, factor, salt and password.
type Hash struct {
	Scheme string
	Factor int
	Salt   string // base64, as FusionAuth stores it
	Value  string // base64
}

// Encode packs the hash into one column value.
func (h Hash) Encode() string {
	return strings.Join([]string{h.Scheme, strconv.Itoa(h.Factor), h.Salt, h.Value}, "$")
}

// Decode unpacks what Encode produced.
func Decode(s string) (Hash, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 4 {
		return Hash{}, errors.New("malformed password hash")
	}
	f, err := strconv.Atoi(parts[1])
	if err != nil {
		return Hash{}, errors.New("malformed password factor")
	}
	return Hash{Scheme: parts[0], Factor: f, Salt: parts[2], Value: parts[3]}, nil
}

// New hashes password with the default scheme and factor and a fresh salt.
func New(password string) (Hash, error) {
	salt := make([]byte, 32)
	if _, err := rand.Read(salt); err != nil {
		return Hash{}, err
	}
	h := Hash{Scheme: SchemePBKDF2SHA256, Factor: DefaultFactor, Salt: base64.StdEncoding.EncodeToString(salt)}
	v, err := compute(h, password)
	if err != nil {
		return Hash{}, err
	}
	h.Value = v
	return h, nil
}

// Check reports whether password matches h, in constant time for the compare.
func Check(h Hash, password string) (bool, error) {
	v, err := compute(h, password)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare([]byte(v), []byte(h.Value)) == 1, nil
}

func compute(h Hash, password string) (string, error) {
	switch h.Scheme {
	case SchemePBKDF2SHA256:
		salt, err := base64.StdEncoding.DecodeString(h.Salt)
		if err != nil {
			return "", errors.New("malformed salt")
		}
		key, err := pbkdf2.Key(sha256.New, password, salt, h.Factor, 32)
		if err != nil {
			return "", err
		}
		return base64.StdEncoding.EncodeToString(key), nil
	default:
		return "", fmt.Errorf("unsupported password scheme %q", h.Scheme)
	}
}
