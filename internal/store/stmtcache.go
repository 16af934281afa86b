package store

import (
	"container/list"
	"context"
	"database/sql"
	"sync"
	"time"
)

// Prepared statement caching for SQLite. The pure-Go driver parses and plans
// every statement text it is given, and a login runs about a dozen small
// statements: parsing was a tenth of a login's CPU time. A *sql.Stmt kept
// per statement text is prepared once on each pooled connection and reused
// there (inside transactions too, through sql.Tx.StmtContext).
// PostgreSQL needs none of this: pgx caches prepared statements per
// connection itself.

// Statement texts built at run time (search filters, IN lists, kickstart
// copies) come in many shapes, mostly seen once. A text is prepared and kept
// only when it is seen a second time and is at most maxCachedStatementText
// long (a one-off statement would otherwise be parsed twice, once by
// Prepare and once on the connection that runs it); past
// maxCachedStatements, the least recently used are closed.
const (
	maxCachedStatements    = 256
	maxCachedStatementText = 4096
	maxSeenStatements      = 4096
)

type stmtCache struct {
	db *sql.DB

	mu    sync.Mutex
	byTxt map[string]*list.Element // of *cachedStmt
	lru   list.List                // front: most recently used
	seen  map[string]struct{}      // texts seen once, not prepared yet
	// preparing: texts being prepared in the background for a transaction.
	preparing map[string]struct{}
	// background counts those preparations: close waits for them, since one
	// still holding a connection would touch the database files after the
	// store was closed.
	background sync.WaitGroup
	closed     bool
}

type cachedStmt struct {
	text string
	stmt *sql.Stmt
	// users: callers between lookup and the start of their query; an
	// evicted statement is closed when the last of them is done (a closed
	// *sql.Stmt fails with "statement is closed").
	users   int
	evicted bool
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, byTxt: map[string]*list.Element{}, seen: map[string]struct{}{},
		preparing: map[string]struct{}{}}
}

// stmt returns the cached statement for text, preparing it on first use,
// and the release to call once the query started. A statement that fails
// to prepare is not cached: the caller runs the text directly and gets the
// database's own error.
func (c *stmtCache) stmt(ctx context.Context, text string) (*sql.Stmt, func(), bool) {
	cs, prepare := c.lookup(text)
	if cs == nil && prepare {
		cs = c.prepare(ctx, text)
	}
	if cs == nil {
		return nil, nil, false
	}
	return cs.stmt, func() { c.release(cs) }, true
}

// release ends a use of cs; an evicted statement's last user closes it.
func (c *stmtCache) release(cs *cachedStmt) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cs.users--
	if cs.evicted && cs.users == 0 {
		// Close waits for no one: database/sql closes the driver
		// statements once the queries still using them are done.
		_ = cs.stmt.Close()
	}
}

// stmtInTx is stmt for a transaction, which must not wait for a second
// connection of the pool (DB.Prepare takes one): with every connection
// held by a transaction waiting for the write lock, the transaction that
// holds it would wait for ever. A text to cache is prepared in the
// background instead; this use runs it uncached.
func (c *stmtCache) stmtInTx(text string) (*sql.Stmt, func(), bool) {
	cs, prepare := c.lookup(text)
	if cs != nil {
		return cs.stmt, func() { c.release(cs) }, true
	}
	if !prepare {
		return nil, nil, false
	}
	c.mu.Lock()
	if _, busy := c.preparing[text]; busy || c.closed {
		c.mu.Unlock()
		return nil, nil, false
	}
	c.preparing[text] = struct{}{}
	c.background.Add(1)
	c.mu.Unlock()
	go func() {
		defer c.background.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if cs := c.prepare(ctx, text); cs != nil {
			c.release(cs)
		}
		c.mu.Lock()
		delete(c.preparing, text)
		c.mu.Unlock()
	}()
	return nil, nil, false
}

// lookup returns the cached statement of text (counted as in use until
// released), or whether to prepare it now (the second time it is seen).
func (c *stmtCache) lookup(text string) (*cachedStmt, bool) {
	if len(text) > maxCachedStatementText {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byTxt[text]; ok {
		c.lru.MoveToFront(e)
		cs := e.Value.(*cachedStmt)
		cs.users++
		return cs, false
	}
	if _, again := c.seen[text]; !again {
		if len(c.seen) >= maxSeenStatements {
			clear(c.seen)
		}
		c.seen[text] = struct{}{}
		return nil, false
	}
	delete(c.seen, text)
	return nil, true
}

// prepare prepares text on the pool and caches it; the caller must release
// the statement it returns (nil when it failed to prepare).
func (c *stmtCache) prepare(ctx context.Context, text string) *cachedStmt {
	st, err := c.db.PrepareContext(ctx, text)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		_ = st.Close()
		return nil
	}
	if e, ok := c.byTxt[text]; ok { // prepared meanwhile by another caller
		_ = st.Close()
		c.lru.MoveToFront(e)
		cs := e.Value.(*cachedStmt)
		cs.users++
		return cs
	}
	mine := &cachedStmt{text: text, stmt: st, users: 1}
	c.byTxt[text] = c.lru.PushFront(mine)
	for c.lru.Len() > maxCachedStatements {
		old := c.lru.Back()
		c.lru.Remove(old)
		cs := old.Value.(*cachedStmt)
		delete(c.byTxt, cs.text)
		if cs.users > 0 { // a caller holds it: the last release closes it
			cs.evicted = true
			continue
		}
		// Close waits for no one: database/sql closes the driver
		// statements once the queries still using them are done.
		_ = cs.stmt.Close()
	}
	return mine
}

// close waits for the background preparations, then closes every cached
// statement (before the pool closes).
func (c *stmtCache) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.background.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.seen)
	for _, e := range c.byTxt {
		_ = e.Value.(*cachedStmt).stmt.Close()
	}
	clear(c.byTxt)
	c.lru.Init()
}

// cachedDB runs statements outside transactions through the cache.
type cachedDB struct {
	db    *sql.DB
	cache *stmtCache
}

func (q cachedDB) ExecContext(ctx context.Context, text string, args ...any) (sql.Result, error) {
	if st, release, ok := q.cache.stmt(ctx, text); ok {
		defer release()
		return st.ExecContext(ctx, args...)
	}
	return q.db.ExecContext(ctx, text, args...)
}

func (q cachedDB) QueryContext(ctx context.Context, text string, args ...any) (*sql.Rows, error) {
	if st, release, ok := q.cache.stmt(ctx, text); ok {
		defer release()
		return st.QueryContext(ctx, args...)
	}
	return q.db.QueryContext(ctx, text, args...)
}

func (q cachedDB) QueryRowContext(ctx context.Context, text string, args ...any) *sql.Row {
	if st, release, ok := q.cache.stmt(ctx, text); ok {
		defer release()
		return st.QueryRowContext(ctx, args...)
	}
	return q.db.QueryRowContext(ctx, text, args...)
}

// PrepareContext prepares outside the cache, for callers that keep their
// statement for a batch (see insertRows).
func (q cachedDB) PrepareContext(ctx context.Context, text string) (*sql.Stmt, error) {
	return q.db.PrepareContext(ctx, text)
}

// cachedTx runs a transaction's statements through the cache: each is the
// cached statement as prepared on the transaction's connection.
type cachedTx struct {
	tx    *sql.Tx
	cache *stmtCache
}

func (q cachedTx) ExecContext(ctx context.Context, text string, args ...any) (sql.Result, error) {
	if st, release, ok := q.cache.stmtInTx(text); ok {
		defer release()
		return q.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return q.tx.ExecContext(ctx, text, args...)
}

func (q cachedTx) QueryContext(ctx context.Context, text string, args ...any) (*sql.Rows, error) {
	if st, release, ok := q.cache.stmtInTx(text); ok {
		defer release()
		return q.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return q.tx.QueryContext(ctx, text, args...)
}

func (q cachedTx) QueryRowContext(ctx context.Context, text string, args ...any) *sql.Row {
	if st, release, ok := q.cache.stmtInTx(text); ok {
		defer release()
		return q.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return q.tx.QueryRowContext(ctx, text, args...)
}

// PrepareContext prepares on the transaction, outside the cache.
func (q cachedTx) PrepareContext(ctx context.Context, text string) (*sql.Stmt, error) {
	return q.tx.PrepareContext(ctx, text)
}
