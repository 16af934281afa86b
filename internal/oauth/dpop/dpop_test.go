package dpop

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
)

// TestCheck covers the checks after the signature (internal/keys parses
// proofs; here Parse is a stub that answers a given proof).
func TestCheck(t *testing.T) {
	const now = int64(1_800_000_000) // epoch seconds
	const base = "https://latch.example"
	sum := sha256.Sum256([]byte("the-token"))
	ath := base64.RawURLEncoding.EncodeToString(sum[:])
	mac := func(purpose, value string) string { return purpose + value + "0123456789abcdef0123456789abcdef" }
	valid := func() Proof {
		return Proof{JKT: "thumbprint", JTI: "jti-1", HTM: "POST", HTU: base + "/oauth2/token", IAT: now}
	}
	current := (&Checker{MAC: mac, Now: func() int64 { return now * 1000 }}).nonceFor(now / nonceWindowSeconds)
	for _, c := range []struct {
		name     string
		headers  []string
		proof    func(p *Proof)
		token    string
		recorded bool  // the proof id was seen before
		recErr   error // the record fails
		wantJKT  string
		wantCode string
	}{
		{name: "no proof", headers: []string{}},
		{name: "valid", wantJKT: "thumbprint"},
		{name: "htu differs only in case of scheme and host, and by a query", proof: func(p *Proof) { p.HTU = "HTTPS://LATCH.example/oauth2/token?x=1" }, wantJKT: "thumbprint"},
		{name: "two proofs", headers: []string{"a", "b"}, wantCode: "invalid_dpop_proof"},
		{name: "htm", proof: func(p *Proof) { p.HTM = "GET" }, wantCode: "invalid_dpop_proof"},
		{name: "htu path", proof: func(p *Proof) { p.HTU = base + "/oauth2/userinfo" }, wantCode: "invalid_dpop_proof"},
		{name: "htu with user info", proof: func(p *Proof) { p.HTU = "https://u@latch.example/oauth2/token" }, wantCode: "invalid_dpop_proof"},
		{name: "iat too old", proof: func(p *Proof) { p.IAT = now - maxAgeSeconds - 1 }, wantCode: "invalid_dpop_proof"},
		{name: "iat ahead", proof: func(p *Proof) { p.IAT = now + maxSkewSeconds + 1 }, wantCode: "invalid_dpop_proof"},
		{name: "ath of the token", token: "the-token", proof: func(p *Proof) { p.ATH = ath }, wantJKT: "thumbprint"},
		{name: "ath missing", token: "the-token", wantCode: "invalid_dpop_proof"},
		{name: "ath of another token", token: "another", proof: func(p *Proof) { p.ATH = ath }, wantCode: "invalid_dpop_proof"},
		{name: "current nonce", proof: func(p *Proof) { p.Nonce = current }, wantJKT: "thumbprint"},
		{name: "stale nonce", proof: func(p *Proof) { p.Nonce = "1.stale" }, wantCode: "use_dpop_nonce"},
		{name: "jti too long", proof: func(p *Proof) { p.JTI = string(make([]byte, 257)) }, wantCode: "invalid_dpop_proof"},
		{name: "replayed", recorded: true, wantCode: "invalid_dpop_proof"},
		{name: "record fails", recErr: errors.New("database down"), wantCode: "server_error"},
	} {
		t.Run(c.name, func(t *testing.T) {
			pr := valid()
			if c.proof != nil {
				c.proof(&pr)
			}
			ck := &Checker{
				Parse: func(string) (*Proof, error) { p := pr; return &p, nil },
				Record: func(context.Context, string, int64) (bool, error) {
					return !c.recorded, c.recErr
				},
				MAC: mac, PublicURL: base, Now: func() int64 { return now * 1000 },
				Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			}
			r := httptest.NewRequest("POST", "/oauth2/token", nil)
			headers := c.headers
			if headers == nil {
				headers = []string{"proof"}
			}
			for _, h := range headers {
				r.Header.Add("DPoP", h)
			}
			jkt, e := ck.Check(r, c.token)
			code := ""
			if e != nil {
				code = e.Code
			}
			if jkt != c.wantJKT || code != c.wantCode {
				t.Fatalf("got %q, %q; want %q, %q", jkt, code, c.wantJKT, c.wantCode)
			}
			if e != nil && (Status(e) == 500) != (c.wantCode == "server_error") {
				t.Fatalf("status %d for %s", Status(e), e.Code)
			}
		})
	}
}
