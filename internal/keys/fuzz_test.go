package keys_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchid/latch/internal/keys"
)

// FuzzVerify feeds the verifier arbitrary compact tokens, seeded with good
// ones of each kind. It must never panic, must refuse with ErrInvalidToken,
// and may accept only a token whose signed part is one the signers made.
func FuzzVerify(f *testing.F) {
	set := newSet(f, entry("es", generate(f, "ES256", 0)), entry("hs", generate(f, "HS256", 0)), entry("ed", generate(f, "EdDSA", 0)))
	signed := map[string]bool{}
	for _, id := range []string{"es", "hs", "ed"} {
		s, err := set.Signer(id)
		if err != nil {
			f.Fatal(err)
		}
		for _, payload := range []string{`{"sub":"x","exp":1}`, `{}`, `{"roles":["admin"]}`} {
			tok, err := s.Sign([]byte(payload))
			if err != nil {
				f.Fatal(err)
			}
			signed[signingInput(tok)] = true
			f.Add(tok)
		}
	}
	b64 := base64.RawURLEncoding.EncodeToString
	f.Add(b64([]byte(`{"alg":"none"}`)) + "." + b64([]byte(`{}`)) + ".")
	f.Add("..")
	f.Add(strings.Repeat(".", 100))
	f.Fuzz(func(t *testing.T, token string) {
		v, err := set.Verify(token)
		if err != nil {
			if !errors.Is(err, keys.ErrInvalidToken) {
				t.Fatalf("Verify(%q) failed with %v, want ErrInvalidToken", token, err)
			}
			return
		}
		if v == nil || !signed[signingInput(token)] {
			t.Fatalf("Verify accepted a token no signer made: %q", token)
		}
	})
}

// signingInput is the part of a compact JWS the signature covers, decoded
// (so that two spellings of the same bytes count as one).
func signingInput(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	var out bytes.Buffer
	for _, p := range parts[:2] {
		b, err := base64.RawURLEncoding.DecodeString(p)
		if err != nil {
			return ""
		}
		out.Write(b)
		out.WriteByte(0)
	}
	return out.String()
}

// FuzzParseDPoPProof feeds the DPoP proof parser arbitrary strings, seeded
// with a valid proof and mutations of it. It must never panic, and whatever
// it accepts must name a key thumbprint and the required claims.
func FuzzParseDPoPProof(f *testing.F) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: priv},
		(&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		f.Fatal(err)
	}
	for _, payload := range []string{`{"jti":"a","htm":"POST","htu":"https://x/oauth2/token","iat":1}`, `{"jti":"a"}`, `[]`, `{"iat":"x"}`} {
		jws, err := signer.Sign([]byte(payload))
		if err != nil {
			f.Fatal(err)
		}
		s, _ := jws.CompactSerialize()
		f.Add(s)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	f.Add(b64([]byte(`{"alg":"none","typ":"dpop+jwt"}`)) + "." + b64([]byte(`{}`)) + ".")
	f.Add("..")
	algs := []string{"ES256", "RS256", "EdDSA", "HS256"}
	f.Fuzz(func(t *testing.T, proof string) {
		p, err := keys.ParseDPoPProof(proof, algs)
		if err != nil {
			return
		}
		if p.JKT == "" || p.JTI == "" {
			t.Fatalf("accepted a proof without a thumbprint or jti: %+v", p)
		}
	})
}
