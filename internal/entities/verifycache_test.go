package entities

import (
	"testing"
	"time"

	"github.com/latchid/latch/internal/keys"
)

func testSet(t *testing.T, ids ...string) (*keys.Set, map[string]*keys.Material) {
	t.Helper()
	mats := map[string]*keys.Material{}
	var entries []keys.Entry
	for _, id := range ids {
		m, err := keys.Generate(keys.GenerateRequest{Algorithm: "ES256", Issuer: "example.com", Serial: []byte{1}, Now: time.Unix(1_700_000_000, 0)})
		if err != nil {
			t.Fatal(err)
		}
		mats[id] = m
		entries = append(entries, keys.Entry{ID: id, Name: id, Algorithm: m.Algorithm, Kid: m.Kid, PublicKey: m.PublicKey,
			Certificate: m.Certificate, Private: m.Private})
	}
	set, errs := keys.NewSet(entries)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return set, mats
}

// TestVerifiedTokensBelongToTheirKeySet: a token verified once is answered
// from the cache under the same keys, and verified afresh (refused) once
// its key is gone from the set.
func TestVerifiedTokensBelongToTheirKeySet(t *testing.T) {
	both, mats := testSet(t, "a", "b")
	sg, err := both.Signer("a")
	if err != nil {
		t.Fatal(err)
	}
	token, err := sg.Sign([]byte(`{"sub":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	var c verifiedTokens
	for range 2 {
		if vt, err := c.verify(both, token); err != nil || string(vt.payload) != `{"sub":"x"}` || vt.client {
			t.Fatalf("verify: %+v %v", vt, err)
		}
	}
	if _, err := c.verify(both, token[:len(token)-3]+"AAA"); err == nil {
		t.Error("a tampered token verified")
	}
	m := mats["b"]
	withoutA, errs := keys.NewSet([]keys.Entry{{ID: "b", Name: "b", Algorithm: m.Algorithm, Kid: m.Kid, PublicKey: m.PublicKey,
		Certificate: m.Certificate, Private: m.Private}})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if _, err := c.verify(withoutA, token); err == nil {
		t.Error("a token of a deleted key still verifies from the cache")
	}
	for i := range maxVerifiedTokens + 10 {
		tok, _ := sg.Sign([]byte(`{"n":` + string(rune('0'+i%10)) + `}`))
		_, _ = c.verify(both, tok)
	}
	if len(c.payload) > maxVerifiedTokens {
		t.Errorf("the cache holds %d tokens", len(c.payload))
	}
}
