package storetest

import (
	"context"
	"maps"
	"testing"

	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/tokens"
)

// TokenRevocations is the contract of tokens.RevocationStorage: revoked
// access token ids are read back until they expire; an id recorded again
// keeps its first row and moves no cache version, a new one moves
// token_revocations' (every node reloads on that); the sweep takes expired
// ones.
func TokenRevocations(t *testing.T, st *store.Store) {
	type S = tokens.RevocationStorage
	ctx := context.Background()
	const now = int64(5_000_000)
	version := func() int64 {
		t.Helper()
		v, err := read[S](st).CacheVersion(ctx, store.CacheTokenRevocations)
		ok(t, "cache version", err)
		return v
	}
	v0 := version()
	for _, step := range []struct {
		what  string
		ids   []string
		until int64
		bump  bool
		want  map[string]int64
	}{
		{"two new ids", []string{"sid-1", "jti-1"}, now + 100, true, map[string]int64{"sid-1": now + 100, "jti-1": now + 100}},
		{"the same again, later", []string{"sid-1", "jti-1"}, now + 900, false, map[string]int64{"sid-1": now + 100, "jti-1": now + 100}},
		{"one new among old", []string{"jti-1", "jti-2"}, now + 200, true, map[string]int64{"sid-1": now + 100, "jti-1": now + 100, "jti-2": now + 200}},
		{"one that has expired", []string{"jti-3"}, now, true, map[string]int64{"sid-1": now + 100, "jti-1": now + 100, "jti-2": now + 200}},
		{"none", nil, now + 100, false, map[string]int64{"sid-1": now + 100, "jti-1": now + 100, "jti-2": now + 200}},
	} {
		before := version()
		mustWrite(t, st, func(s S) error { return s.RevokeAccessTokens(ctx, step.ids, step.until) })
		if moved := version() != before; moved != step.bump {
			t.Errorf("%s: cache version moved %v, want %v", step.what, moved, step.bump)
		}
		got, err := read[S](st).TokenRevocations(ctx, now)
		ok(t, step.what, err)
		if !maps.Equal(got, step.want) {
			t.Errorf("%s: revocations %v, want %v", step.what, got, step.want)
		}
	}
	if version() == v0 {
		t.Error("the cache version never moved")
	}
	var swept int64
	mustWrite(t, st, func(tx *store.Tx) (err error) { swept, err = tx.SweepExpired(ctx, now+150, 1000); return err })
	if got, err := read[S](st).TokenRevocations(ctx, 0); err != nil || !maps.Equal(got, map[string]int64{"jti-2": now + 200}) {
		t.Errorf("after the sweep (%d rows): %v, %v; want only jti-2", swept, got, err)
	}
}
