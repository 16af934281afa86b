// Package secrets holds the master key, at-rest encryption, random tokens and
// a string type that never prints its value.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// Secret is a string that redacts itself in fmt and slog output.
type Secret string

// Format redacts under every verb, not only those that call String.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte("[redacted]")) }

func (Secret) String() string                 { return "[redacted]" }
func (Secret) GoString() string               { return "[redacted]" }
func (Secret) LogValue() slog.Value           { return slog.StringValue("[redacted]") }
func (s Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Reveal returns the value. Call it only where the value must leave the process
// (the response that shows a key once, a file the operator asked for).
func (s Secret) Reveal() string { return string(s) }

// MasterKey is a 256-bit key that encrypts secrets at rest with AES-256-GCM,
// and keys the MACs of secrets that are checked on hot paths.
type MasterKey struct {
	aead   cipher.AEAD
	macKey []byte // derived: never the encryption key itself
}

// KeySize is the master key's length in bytes.
const KeySize = 32

// NewMasterKey wraps 32 raw bytes.
func NewMasterKey(raw []byte) (*MasterKey, error) {
	if len(raw) != KeySize {
		return nil, fmt.Errorf("master key must be %d bytes, got %d", KeySize, len(raw))
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	derive := hmac.New(sha256.New, raw)
	derive.Write([]byte("latch secret MAC key v1"))
	return &MasterKey{aead: aead, macKey: derive.Sum(nil)}, nil
}

// MAC is HMAC-SHA256, under a key derived from the master key, of a
// high-entropy secret for purpose (hex). Checking a secret against it costs
// about a microsecond, and the stored value is useless without the master key.
// Compare with Equal.
func (m *MasterKey) MAC(purpose, value string) string {
	h := hmac.New(sha256.New, m.macKey)
	h.Write([]byte(purpose))
	h.Write([]byte{0})
	h.Write([]byte(value))
	return hex.EncodeToString(h.Sum(nil))
}

// ParseMasterKey accepts the key as 64 hex digits or standard/URL base64 of 32 bytes.
func ParseMasterKey(text string) (*MasterKey, error) {
	text = strings.TrimSpace(text)
	if raw, err := hex.DecodeString(text); err == nil && len(raw) == KeySize {
		return NewMasterKey(raw)
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if raw, err := enc.DecodeString(text); err == nil && len(raw) == KeySize {
			return NewMasterKey(raw)
		}
	}
	return nil, errors.New("master key must be 32 bytes as 64 hex digits or base64")
}

// LoadOrCreateMasterKeyFile reads the key file, creating it with mode 0600 when
// it does not exist and create is true.
func LoadOrCreateMasterKeyFile(path string, create bool) (*MasterKey, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		return ParseMasterKey(string(data))
	}
	if !errors.Is(err, os.ErrNotExist) || !create {
		return nil, err
	}
	raw := make([]byte, KeySize)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	// Write a private temporary file, then link it into place: the key file
	// appears complete or not at all, so a process starting at the same time
	// never reads a half-written key, and a link never replaces theirs.
	f, err := os.CreateTemp(filepath.Dir(path), ".master.key-*") // mode 0600
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(hex.EncodeToString(raw) + "\n"); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	if err := os.Link(f.Name(), path); errors.Is(err, os.ErrExist) { // another process made it first: use theirs
		return LoadOrCreateMasterKeyFile(path, false)
	} else if err != nil {
		return nil, err
	}
	return NewMasterKey(raw)
}

// Seal encrypts plaintext; associated binds the ciphertext to its owner (for
// example a key id) so that ciphertexts cannot be swapped between rows.
func (m *MasterKey) Seal(plaintext, associated string) string {
	nonce := make([]byte, m.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	out := m.aead.Seal(nonce, nonce, []byte(plaintext), []byte(associated))
	return "v1:" + base64.RawStdEncoding.EncodeToString(out)
}

// Open decrypts what Seal produced.
func (m *MasterKey) Open(sealed, associated string) (string, error) {
	body, ok := strings.CutPrefix(sealed, "v1:")
	if !ok {
		return "", errors.New("unknown ciphertext version")
	}
	raw, err := base64.RawStdEncoding.DecodeString(body)
	if err != nil || len(raw) < m.aead.NonceSize() {
		return "", errors.New("malformed ciphertext")
	}
	n := m.aead.NonceSize()
	plain, err := m.aead.Open(nil, raw[:n], raw[n:], []byte(associated))
	if err != nil {
		return "", errors.New("ciphertext does not authenticate under this master key")
	}
	return string(plain), nil
}

// Token returns a URL-safe random string carrying nbytes of entropy.
func Token(nbytes int) string {
	b := make([]byte, nbytes)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken is the SHA-256 of a server-generated or caller-given secret, hex
// encoded. Keys carry enough entropy that a fast hash is the right tool.
func HashToken(value string) string {
	sum := sha256.Sum256([]byte(value))
	return hex.EncodeToString(sum[:])
}

// Equal compares two strings in constant time.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
