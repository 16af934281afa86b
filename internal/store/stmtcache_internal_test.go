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

// Close returns only once nothing uses the database files: a statement still
// being prepared in the background for a transaction held a connection past
// Close, and its late file activity broke removing the data dir.
func TestCloseWaitsForBackgroundPrepares(t *testing.T) {
	ctx := context.Background()
	for i := range 20 {
		dir := t.TempDir()
		st, err := Open(ctx, "", filepath.Join(dir, "close.db"))
		if err != nil {
			t.Fatal(err)
		}
		if err := st.InTx(ctx, func(tx *Tx) error {
			for j := range 8 {
				text := fmt.Sprintf("SELECT %d", j)
				for range 2 { // the second sighting prepares it in the background
					var n int
					if err := tx.q.QueryRowContext(ctx, text).Scan(&n); err != nil {
						return err
					}
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		if open := st.db.Stats().OpenConnections; open != 0 {
			t.Fatalf("round %d: %d connections still open after Close", i, open)
		}
	}
}
