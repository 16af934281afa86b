package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

// TestClassifyErrors provokes each kind of violation on both databases and
// checks that Classify (and IsUnique, IsForeignKey, IsCheck, IsBusy) tells
// it from the driver's error code; text that merely looks like a
// violation is not one.
func TestClassifyErrors(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		path := filepath.Join(t.TempDir(), "latch.db")
		st := openAt(t, b, path)
		db := st.DB()
		for _, ddl := range []string{
			`CREATE TABLE kind_parent (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, n INTEGER NOT NULL CHECK (n > 0))`,
			`CREATE TABLE kind_child (id TEXT PRIMARY KEY, parent_id TEXT NOT NULL REFERENCES kind_parent (id))`,
			`INSERT INTO kind_parent (id, name, n) VALUES ('p1', 'one', 1)`,
			`INSERT INTO kind_child (id, parent_id) VALUES ('c1', 'p1')`,
		} {
			if _, err := db.ExecContext(ctx, ddl); err != nil {
				t.Fatalf("%s: %v", ddl, err)
			}
		}
		exec := func(q string) func() error {
			return func() error { _, err := db.ExecContext(ctx, q); return err }
		}
		for _, c := range []struct {
			name string
			run  func() error
			want store.ErrorKind
		}{
			{"primary key", exec(`INSERT INTO kind_parent (id, name, n) VALUES ('p1', 'two', 1)`), store.KindUnique},
			{"unique column", exec(`INSERT INTO kind_parent (id, name, n) VALUES ('p2', 'one', 1)`), store.KindUnique},
			{"unique on update", exec(`INSERT INTO kind_parent (id, name, n) VALUES ('p3', 'three', 1); UPDATE kind_parent SET name = 'one' WHERE id = 'p3'`), store.KindUnique},
			{"foreign key on insert", exec(`INSERT INTO kind_child (id, parent_id) VALUES ('c2', 'nope')`), store.KindForeignKey},
			{"foreign key on delete", exec(`DELETE FROM kind_parent WHERE id = 'p1'`), store.KindForeignKey},
			{"check", exec(`INSERT INTO kind_parent (id, name, n) VALUES ('p4', 'four', 0)`), store.KindCheck},
			{"not null is none of them", exec(`INSERT INTO kind_parent (id, name) VALUES ('p5', 'five')`), store.KindOther},
			{"syntax error", exec(`INSERT INTO nowhere VALUES (1)`), store.KindOther},
			{"busy", func() error { return lockConflict(t, b, st, path) }, store.KindBusy},
			{"wrapped unique", func() error {
				return fmt.Errorf("create: %w", exec(`INSERT INTO kind_parent (id, name, n) VALUES ('p1', 'x', 1)`)())
			}, store.KindUnique},
			{"nil", func() error { return nil }, store.KindOther},
			{"message text alone", func() error {
				return errors.New("UNIQUE constraint failed: kind_parent.name (SQLSTATE 23505) FOREIGN KEY constraint failed database is locked")
			}, store.KindOther},
		} {
			err := c.run()
			if got := store.Classify(err); got != c.want {
				t.Errorf("%s: Classify(%v) = %v, want %v", c.name, err, got, c.want)
			}
			for kind, is := range map[store.ErrorKind]func(error) bool{
				store.KindUnique: store.IsUnique, store.KindForeignKey: store.IsForeignKey,
				store.KindCheck: store.IsCheck, store.KindBusy: store.IsBusy,
			} {
				if is(err) != (kind == c.want) {
					t.Errorf("%s: Is%v(%v) = %v", c.name, kind, err, is(err))
				}
			}
		}
	})
}

// lockConflict makes the database refuse a lock: on SQLite a second
// connection without a busy timeout asks for the write lock another holds;
// on PostgreSQL a second transaction asks, NOWAIT, for a row another has
// locked.
func lockConflict(t *testing.T, b testutil.Backend, st *store.Store, path string) error {
	t.Helper()
	ctx := context.Background()
	holder, err := st.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback()
	if b.DatabaseURL != "" {
		if _, err := holder.ExecContext(ctx, `SELECT id FROM kind_parent WHERE id = 'p1' FOR UPDATE`); err != nil {
			t.Fatal(err)
		}
		other, err := st.DB().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Rollback()
		_, err = other.ExecContext(ctx, `SELECT id FROM kind_parent WHERE id = 'p1' FOR UPDATE NOWAIT`)
		return err
	}
	// The store's transactions are immediate: the holder has the write lock.
	if _, err := holder.ExecContext(ctx, `UPDATE kind_parent SET n = 2 WHERE id = 'p1'`); err != nil {
		t.Fatal(err)
	}
	impatient, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer impatient.Close()
	tx, err := impatient.BeginTx(ctx, nil)
	if err == nil {
		tx.Rollback()
	}
	return err
}
