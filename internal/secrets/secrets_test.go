package secrets_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/latchid/latch/internal/secrets"
)

var rawKey = bytes.Repeat([]byte{0x5a}, secrets.KeySize)

func mustKey(t *testing.T, raw []byte) *secrets.MasterKey {
	t.Helper()
	k, err := secrets.NewMasterKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpenRoundTrip(t *testing.T) {
	k := mustKey(t, rawKey)
	for _, plain := range []string{"", "k", "a retrievable API key value", strings.Repeat("é", 1000)} {
		sealed := k.Seal(plain, "key-id-1")
		if len(plain) >= 8 && strings.Contains(sealed, plain) {
			t.Errorf("ciphertext contains the plaintext")
		}
		got, err := k.Open(sealed, "key-id-1")
		if err != nil || got != plain {
			t.Errorf("Open(Seal(%.20q)) = %.20q, %v", plain, got, err)
		}
	}
	if a, b := k.Seal("same", "id"), k.Seal("same", "id"); a == b {
		t.Error("two seals of one value are equal: the nonce is not random")
	}
}

func TestOpenRefuses(t *testing.T) {
	k := mustKey(t, rawKey)
	other := mustKey(t, bytes.Repeat([]byte{0x11}, secrets.KeySize))
	sealed := k.Seal("secret value", "key-id-1")
	body := strings.TrimPrefix(sealed, "v1:")
	raw, err := base64.RawStdEncoding.DecodeString(body)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) string {
		b := bytes.Clone(raw)
		b[i] ^= 0x01
		return "v1:" + base64.RawStdEncoding.EncodeToString(b)
	}
	cases := []struct {
		name, sealed, associated string
		key                      *secrets.MasterKey
	}{
		{"wrong associated data", sealed, "key-id-2", k},
		{"empty associated data", sealed, "", k},
		{"other master key", sealed, "key-id-1", other},
		{"tampered nonce", flip(0), "key-id-1", k},
		{"tampered ciphertext", flip(len(raw) / 2), "key-id-1", k},
		{"tampered tag", flip(len(raw) - 1), "key-id-1", k},
		{"truncated", "v1:" + base64.RawStdEncoding.EncodeToString(raw[:len(raw)-1]), "key-id-1", k},
		{"shorter than a nonce", "v1:" + base64.RawStdEncoding.EncodeToString(raw[:4]), "key-id-1", k},
		{"unknown version", "v2:" + body, "key-id-1", k},
		{"no version", body, "key-id-1", k},
		{"not base64", "v1:***", "key-id-1", k},
		{"empty", "", "key-id-1", k},
	}
	for _, c := range cases {
		if got, err := c.key.Open(c.sealed, c.associated); err == nil {
			t.Errorf("%s: opened to %q", c.name, got)
		}
	}
}

func TestParseMasterKey(t *testing.T) {
	hexKey := hex.EncodeToString(rawKey)
	valid := []struct{ name, text string }{
		{"hex", hexKey},
		{"upper-case hex", strings.ToUpper(hexKey)},
		{"hex with newline", hexKey + "\n"},
		{"hex with spaces around", "  " + hexKey + " \n"},
		{"base64", base64.StdEncoding.EncodeToString(rawKey)},
		{"base64 without padding", base64.RawStdEncoding.EncodeToString(rawKey)},
		{"URL base64", base64.URLEncoding.EncodeToString(rawKey)},
		{"URL base64 without padding", base64.RawURLEncoding.EncodeToString(rawKey)},
	}
	ref := mustKey(t, rawKey)
	sealed := ref.Seal("probe", "ad")
	for _, c := range valid {
		k, err := secrets.ParseMasterKey(c.text)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		// The same 32 bytes whatever the spelling.
		if got, err := k.Open(sealed, "ad"); err != nil || got != "probe" {
			t.Errorf("%s: parsed to another key", c.name)
		}
	}
	invalid := []struct{ name, text string }{
		{"empty", ""},
		{"blank", "  \n"},
		{"31 bytes hex", hexKey[:62]},
		{"33 bytes hex", hexKey + "ab"},
		{"16 bytes base64", base64.StdEncoding.EncodeToString(rawKey[:16])},
		{"33 bytes base64", base64.StdEncoding.EncodeToString(append(bytes.Clone(rawKey), 1))},
		{"not hex or base64", strings.Repeat("z!", 32)},
		{"a passphrase", "correct horse battery staple"},
	}
	for _, c := range invalid {
		if _, err := secrets.ParseMasterKey(c.text); err == nil {
			t.Errorf("%s: accepted %q", c.name, c.text)
		} else if strings.Contains(err.Error(), c.text) && c.text != "" && strings.TrimSpace(c.text) != "" {
			t.Errorf("%s: the error repeats the key text: %v", c.name, err)
		}
	}
	if _, err := secrets.NewMasterKey(rawKey[:31]); err == nil {
		t.Error("NewMasterKey accepted 31 bytes")
	}
}

func TestLoadOrCreateMasterKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "master.key")
	if _, err := secrets.LoadOrCreateMasterKeyFile(path, false); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file without create: %v, want not-exist", err)
	}
	first, err := secrets.LoadOrCreateMasterKeyFile(path, true)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("master key file mode %o, want 600", perm)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := secrets.ParseMasterKey(string(text)); err != nil {
		t.Errorf("the file does not hold a parseable key: %v", err)
	}
	sealed := first.Seal("v", "ad")
	for _, create := range []bool{true, false} {
		again, err := secrets.LoadOrCreateMasterKeyFile(path, create)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := again.Open(sealed, "ad"); err != nil || got != "v" {
			t.Errorf("create=%v: the file was not reused", create)
		}
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, text) {
		t.Error("the key file changed on reuse")
	}

	bad := filepath.Join(t.TempDir(), "bad.key")
	if err := os.WriteFile(bad, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := secrets.LoadOrCreateMasterKeyFile(bad, true); err == nil {
		t.Error("a file with a bad key was accepted")
	}
	if content, _ := os.ReadFile(bad); string(content) != "not a key" {
		t.Error("a file with a bad key was overwritten")
	}
}

// Processes starting together on a fresh data dir must all end up with the one
// key that was written, never a half-written file.
func TestLoadOrCreateMasterKeyFileConcurrently(t *testing.T) {
	for range 20 {
		path := filepath.Join(t.TempDir(), "master.key")
		const n = 8
		keys := make([]*secrets.MasterKey, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				keys[i], errs[i] = secrets.LoadOrCreateMasterKeyFile(path, true)
			}()
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("starter %d: %v", i, errs[i])
			}
		}
		sealed := keys[0].Seal("v", "ad")
		for i := 1; i < n; i++ {
			if got, err := keys[i].Open(sealed, "ad"); err != nil || got != "v" {
				t.Fatalf("starter %d has another key", i)
			}
		}
		if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
			t.Fatalf("leftover files beside the key: %v", entries)
		}
	}
}

func TestTokenAndHash(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok := secrets.Token(24)
		if len(tok) != 32 || strings.ContainsAny(tok, "+/=") {
			t.Fatalf("token %q: want 32 URL-safe characters", tok)
		}
		if seen[tok] {
			t.Fatal("a token repeated")
		}
		seen[tok] = true
	}
	if got := secrets.HashToken("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("HashToken(abc) = %s", got)
	}
	cases := []struct {
		a, b string
		want bool
	}{{"x", "x", true}, {"x", "y", false}, {"x", "xx", false}, {"", "", true}}
	for _, c := range cases {
		if got := secrets.Equal(c.a, c.b); got != c.want {
			t.Errorf("Equal(%q, %q) = %v", c.a, c.b, got)
		}
	}
}

func TestSecretRedacts(t *testing.T) {
	const value = "s3cr3t-value-that-must-not-print"
	s := secrets.Secret(value)
	type holder struct {
		Name string
		Key  secrets.Secret
	}
	h := holder{Name: "n", Key: s}
	cases := []struct{ name, out string }{
		{"%v", fmt.Sprintf("%v", s)},
		{"%s", fmt.Sprintf("%s", s)},
		{"%+v", fmt.Sprintf("%+v", s)},
		{"%#v", fmt.Sprintf("%#v", s)},
		{"%q", fmt.Sprintf("%q", s)},
		{"Sprint", fmt.Sprint(s)},
		{"Println", fmt.Sprintln(s)},
		{"struct %v", fmt.Sprintf("%v", h)},
		{"struct %+v", fmt.Sprintf("%+v", h)},
		{"struct pointer %+v", fmt.Sprintf("%+v", &h)},
		{"wrapped error", fmt.Errorf("failed with %v", s).Error()},
		{"slice %v", fmt.Sprintf("%v", []secrets.Secret{s})},
	}
	var text, js bytes.Buffer
	textLog := slog.New(slog.NewTextHandler(&text, nil))
	jsonLog := slog.New(slog.NewJSONHandler(&js, nil))
	for _, l := range []*slog.Logger{textLog, jsonLog} {
		l.Info("msg", "key", s)
		l.Info("msg", slog.Any("key", s))
		l.Info("msg", "holder", h)
		l.Info("msg", slog.Group("g", "key", s))
		l.With("key", s).Info("msg")
	}
	cases = append(cases, struct{ name, out string }{"slog text", text.String()},
		struct{ name, out string }{"slog json", js.String()})
	enc, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	cases = append(cases, struct{ name, out string }{"json", string(enc)})
	for _, c := range cases {
		if strings.Contains(c.out, value) {
			t.Errorf("%s leaks the value: %s", c.name, c.out)
		}
		if !strings.Contains(c.out, "[redacted]") {
			t.Errorf("%s does not say [redacted]: %s", c.name, c.out)
		}
	}
	if s.Reveal() != value {
		t.Error("Reveal does not return the value")
	}
}

func TestMACIsKeyedAndBoundToPurpose(t *testing.T) {
	k := mustKey(t, rawKey)
	other := mustKey(t, bytes.Repeat([]byte{0x5b}, secrets.KeySize))
	a := k.MAC("entity-client-secret", "s3cret")
	if len(a) != 64 || a != k.MAC("entity-client-secret", "s3cret") {
		t.Fatalf("MAC not stable: %q", a)
	}
	for name, b := range map[string]string{
		"other key":     other.MAC("entity-client-secret", "s3cret"),
		"other purpose": k.MAC("application-client-secret", "s3cret"),
		"other value":   k.MAC("entity-client-secret", "s3cret!"),
		"plain sha256":  secrets.HashToken("s3cret"),
	} {
		if secrets.Equal(a, b) {
			t.Errorf("%s gives the same MAC", name)
		}
	}
}

// BenchmarkMACCheck is the cost of checking an entity's client secret on the
// client_credentials path: one HMAC-SHA256 and a constant-time compare.
func BenchmarkMACCheck(b *testing.B) {
	k, err := secrets.NewMasterKey(rawKey)
	if err != nil {
		b.Fatal(err)
	}
	secret := secrets.Token(32)
	stored := k.MAC("entity-client-secret", secret)
	for b.Loop() {
		if !secrets.Equal(k.MAC("entity-client-secret", secret), stored) {
			b.Fatal("mismatch")
		}
	}
}
