package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// A cached statement evicted (and closed) between a caller's lookup and its
// use still runs: eviction must not close a statement a caller holds.
func TestStmtCacheEvictedWhileHeld(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, "", filepath.Join(t.TempDir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rd := st.Read()
	run := func(text string) {
		t.Helper()
		var n int
		if err := rd.q.QueryRowContext(ctx, text).Scan(&n); err != nil {
			t.Fatalf("%s: %v", text, err)
		}
	}
	const held = "SELECT 1"
	run(held) // seen once
	stmt, release, ok := st.stmts.stmt(ctx, held)
	if !ok {
		t.Fatal("not cached the second time")
	}
	defer release()
	// Meanwhile other requests cache enough texts to evict it.
	for i := range maxCachedStatements + 1 {
		text := fmt.Sprintf("SELECT %d", i+2)
		run(text)
		run(text)
	}
	var n int
	if err := stmt.QueryRowContext(ctx).Scan(&n); err != nil || n != 1 {
		t.Fatalf("held statement after eviction: %d, %v", n, err)
	}
}
