package store

import (
	"context"
	"database/sql"
	"fmt"
)

// ReadTx runs a group of reads that belong together (a login's lookups) as
// cheaply as the database allows. On SQLite they share one deferred read
// transaction: each statement run on its own starts and ends a read
// transaction of its own (WAL locks taken and dropped through fcntl), which
// costs more than the small indexed read itself. On PostgreSQL the reads run
// one by one as with Read: a transaction there would add two round trips.
// The reads see one snapshot on SQLite and need not on PostgreSQL: callers
// must not rely on either. fn must not write.
func (s *Store) ReadTx(ctx context.Context, fn func(tx *Tx) error) error {
	if s.dialect != SQLite {
		return fn(s.Read())
	}
	sqlTx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}) // the driver's BEGIN DEFERRED
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	var q querier = sqlTx
	if s.stmts != nil {
		q = cachedTx{tx: sqlTx, cache: s.stmts}
	}
	err = fn(&Tx{q: q, dialect: s.dialect})
	// Nothing was written: ending the transaction either way only drops the
	// read lock.
	if rerr := sqlTx.Rollback(); err == nil && rerr != nil {
		err = fmt.Errorf("end read: %w", rerr)
	}
	return err
}
