package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// stmt is one write of writeAll: SQL in the store's one text and its
// arguments.
type stmt struct {
	sql  string
	args []any
}

// writeAll runs stmts as one transaction, all or nothing, for writes that
// need no result of one another. On PostgreSQL they travel together: one
// round trip instead of one for each statement and two more for BEGIN and
// COMMIT (the server runs the statements of a pipeline up to its Sync as
// one implicit transaction). On SQLite they run in a write transaction as
// any other.
func (s *Store) writeAll(ctx context.Context, stmts []stmt) error {
	if s.dialect != Postgres {
		return s.InTx(ctx, func(tx *Tx) error {
			for _, st := range stmts {
				if _, err := tx.q.ExecContext(ctx, st.sql, st.args...); err != nil {
					return err
				}
			}
			return nil
		})
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connection: %w", err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return errors.New("store: PostgreSQL connection of an unexpected driver")
		}
		var b pgx.Batch
		for _, st := range stmts {
			b.Queue(st.sql, st.args...)
		}
		return c.Conn().SendBatch(ctx, &b).Close()
	})
}
