package authentication

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/store"
)

// LoginRecorder buffers the writes of a plain successful login (its login
// record and lastLoginInstant) in memory and flushes them in one
// transaction per interval, so that such a login writes nothing itself: a
// write transaction (on SQLite, the database's one write lock and a WAL
// commit) per login cost more than the rest of the login beyond its
// password hash. Logins that must write at once still do (login.go): a
// refresh token (it must work on every node at once), failures or an ended
// lockout to clear, a re-hash, a change-password id.
//
// The trade-off: the records and lastLoginInstant of up to one interval of
// logins (1s in `latch serve`) are lost if the process dies without a
// graceful shutdown (SIGKILL, a crash, power loss); a graceful shutdown
// flushes them. Until a flush, other requests (and other nodes) show the
// previous lastLoginInstant; the login's own answer shows the new one.
type LoginRecorder struct {
	store *store.Store
	log   *slog.Logger

	mu      sync.Mutex
	running bool // Run is flushing; otherwise logins write at once
	pending []store.LoginRecord
	flushMu sync.Mutex // one flush at a time
}

// maxPendingLogins bounds the memory of a buffer the database does not take
// (it is away): past it, logins write at once (and fail while it is away).
const maxPendingLogins = 100_000

func newLoginRecorder(st *store.Store, log *slog.Logger) *LoginRecorder {
	return &LoginRecorder{store: st, log: log}
}

// add buffers a login's writes. false: not buffered (no Run flushes this
// buffer, or it is full); the caller writes them itself.
func (r *LoginRecorder) add(rec store.LoginRecord) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.running || len(r.pending) >= maxPendingLogins {
		return false
	}
	r.pending = append(r.pending, rec)
	return true
}

// Flush writes the buffered logins in one transaction. On failure they stay
// buffered for the next flush.
func (r *LoginRecorder) Flush(ctx context.Context) error {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	r.mu.Lock()
	batch := r.pending
	r.pending = nil
	r.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	err := r.store.InTx(ctx, func(tx *store.Tx) error { return tx.RecordLogins(ctx, batch) })
	if err != nil {
		r.mu.Lock()
		if !r.running { // the final flush: there is no next one
			r.mu.Unlock()
			r.log.ErrorContext(ctx, "login records lost: the flush at shutdown failed", "logins", len(batch), "err", err)
			return err
		}
		r.pending = append(batch, r.pending...)
		if over := len(r.pending) - maxPendingLogins; over > 0 {
			r.pending = r.pending[over:] // the oldest go first
			r.log.WarnContext(ctx, "login records dropped: the buffer is full", "dropped", over)
		}
		r.mu.Unlock()
		r.log.WarnContext(ctx, "login records flush failed; kept for the next one", "logins", len(batch), "err", err)
	}
	return err
}

// Run buffers logins and flushes them every flushEvery until ctx ends, then
// stops buffering and flushes once more (the graceful shutdown's flush).
func (r *LoginRecorder) Run(ctx context.Context, flushEvery time.Duration) {
	r.mu.Lock()
	r.running = true
	r.mu.Unlock()
	kit.Every(ctx, flushEvery, func() { _ = r.Flush(ctx) })
	r.mu.Lock()
	r.running = false
	r.mu.Unlock()
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = r.Flush(fctx)
}
