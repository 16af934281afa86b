// Package store is the one database/sql implementation of Latch's storage, for
// SQLite and PostgreSQL with the same SQL text ($N placeholders, BIGINT epoch
// milliseconds, RETURNING).
package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// Dialect names the database behind a Store.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Store owns the connection pool.
type Store struct {
	db      *sql.DB
	dialect Dialect
	stmts   *stmtCache // SQLite only (stmtcache.go)
	// writer queues this process's write transactions on SQLite, in order
	// (nil on PostgreSQL). Without it they poll SQLite's one write lock in
	// the busy handler, where under load one can keep losing to the others
	// until busy_timeout fails it.
	writer chan struct{}
	// onBump hear the cache versions a committed transaction bumped
	// (configversion.go).
	onBump []func(ctx context.Context, names []string)
}

// Open connects to PostgreSQL when url is a postgres:// URL, otherwise to the
// SQLite file at sqlitePath (created with its directory when missing).
func Open(ctx context.Context, url, sqlitePath string) (*Store, error) {
	if url != "" {
		db, err := sql.Open("pgx", url)
		if err != nil {
			return nil, fmt.Errorf("open PostgreSQL: %w", err)
		}
		db.SetMaxOpenConns(32)
		db.SetMaxIdleConns(8)
		s := &Store{db: db, dialect: Postgres}
		if err := s.Ping(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
		}
		return s, nil
	}
	if err := os.MkdirAll(filepath.Dir(sqlitePath), 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	// WAL lets readers run beside the writer; immediate transactions take the
	// write lock at BEGIN so two writers queue instead of failing on upgrade.
	// busy_timeout comes first: pragmas run in order on every new connection,
	// and switching a fresh file to WAL needs a lock that another process
	// opening the same file at once may hold.
	// cache_size: up to 64 MiB of pages a connection (the default is 2 MiB),
	// allocated only as used. A user import writes nine B-trees of random
	// keys; once its dirty pages outgrow the cache, SQLite spills them to the
	// WAL mid-transaction and reads them back. temp_store keeps statement
	// journals and sorts in memory instead of temporary files.
	dsn := "file:" + sqlitePath + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=cache_size(-65536)&_pragma=temp_store(MEMORY)" +
		"&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open SQLite: %w", err)
	}
	db.SetMaxOpenConns(8)
	// As many idle as open: a connection closed for want of an idle slot
	// costs a reopen (schema parse) and its prepared statements.
	db.SetMaxIdleConns(8)
	s := &Store{db: db, dialect: SQLite, stmts: newStmtCache(db), writer: make(chan struct{}, 1)}
	if err := s.pingSQLite(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open SQLite database %s: %w", sqlitePath, err)
	}
	// Keep the file private: it holds password hashes and sealed secrets.
	_ = os.Chmod(sqlitePath, 0o600)
	return s, nil
}

// pingSQLite makes the first connection. Processes opening a fresh file at once
// race to switch it to WAL, and SQLite refuses the losers immediately (the busy
// timeout does not cover that lock upgrade); once the file is in WAL, opening
// no longer conflicts, so a short retry is enough.
func (s *Store) pingSQLite(ctx context.Context) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := s.Ping(ctx)
		if err == nil || !IsBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Dialect tells which database this is.
func (s *Store) Dialect() Dialect { return s.dialect }

// DB exposes the pool for tests and tools.
func (s *Store) DB() *sql.DB { return s.db }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Close closes the pool.
func (s *Store) Close() error {
	if s.stmts != nil {
		s.stmts.close()
	}
	return s.db.Close()
}

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Tx runs queries, inside a transaction (from InTx) or directly (from Read).
type Tx struct {
	q       querier
	dialect Dialect
	inTx    bool     // a write transaction (InTx)
	bumped  []string // cache versions to bump at commit (writeBumps)
	after   []func() // run once the transaction committed
}

// AfterCommit runs fn after the transaction commits (not at all when it
// rolls back): to wake what waits for the rows it wrote.
func (t *Tx) AfterCommit(fn func()) { t.after = append(t.after, fn) }

// Read returns a Tx that runs each query on its own, for reads.
func (s *Store) Read() *Tx {
	if s.stmts != nil {
		return &Tx{q: cachedDB{db: s.db, cache: s.stmts}, dialect: s.dialect}
	}
	return &Tx{q: s.db, dialect: s.dialect}
}

// InTx runs fn in one transaction, committed when fn returns nil.
func (s *Store) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	tx, err := s.runTx(ctx, fn)
	if err != nil {
		return err
	}
	if len(tx.bumped) > 0 {
		for _, fn := range s.onBump {
			fn(ctx, tx.bumped)
		}
	}
	for _, fn := range tx.after {
		fn()
	}
	return nil
}

// runTx runs fn in a transaction and commits it; on SQLite, after the
// process's write transactions queued before it.
func (s *Store) runTx(ctx context.Context, fn func(tx *Tx) error) (*Tx, error) {
	if s.writer != nil {
		select {
		case s.writer <- struct{}{}:
		case <-ctx.Done():
			return nil, fmt.Errorf("begin: %w", ctx.Err())
		}
		defer func() { <-s.writer }()
	}
	sqlTx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	var q querier = sqlTx
	if s.stmts != nil {
		q = cachedTx{tx: sqlTx, cache: s.stmts}
	}
	tx := &Tx{q: q, dialect: s.dialect, inTx: true}
	if err := fn(tx); err != nil {
		_ = sqlTx.Rollback()
		return nil, err
	}
	if err := tx.writeBumps(ctx); err != nil {
		_ = sqlTx.Rollback()
		return nil, err
	}
	if err := sqlTx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return tx, nil
}

// ErrNoRows is returned by single-row lookups that find nothing.
var ErrNoRows = sql.ErrNoRows
