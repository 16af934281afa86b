package audit

import (
	"context"
	"sync"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// emitGroup commits the events of concurrent Emit calls together (a group
// commit): while one transaction is being written, the calls that arrive
// gather in the next batch, and its first caller writes them all in one
// transaction. Each call still returns only after its events are
// committed, so a caller's later changes follow its events in the outbox.
type emitGroup struct {
	mu      sync.Mutex // guards open
	open    *emitBatch
	writing sync.Mutex // one batch is written at a time
}

type emitCall struct {
	ctx   context.Context
	actor kit.Actor
	evs   []model.Event
	err   error
}

type emitBatch struct {
	calls []*emitCall
	done  chan struct{}
}

func (g *emitGroup) commit(ctx context.Context, l *Log, c emitCall) error {
	c.ctx = ctx
	g.mu.Lock()
	b := g.open
	if b == nil {
		b = &emitBatch{done: make(chan struct{})}
		g.open = b
	}
	b.calls = append(b.calls, &c)
	leader := len(b.calls) == 1
	g.mu.Unlock()
	if !leader {
		<-b.done
		return c.err
	}
	g.writing.Lock()
	g.mu.Lock()
	g.open = nil // later calls start the next batch
	g.mu.Unlock()
	l.writeBatch(b.calls)
	g.writing.Unlock()
	close(b.done)
	return c.err
}

// writeBatch writes the calls' events in one transaction; when that fails,
// each call alone, so that one call's refusal (a veto, a bad event) is its
// own and not the others'. Another caller's cancellation must not lose
// events, hence the contexts without cancellation.
func (l *Log) writeBatch(calls []*emitCall) {
	write := func(tx *store.Tx, c *emitCall) error {
		return l.enqueue(context.WithoutCancel(c.ctx), tx, c.actor, c.evs)
	}
	if len(calls) > 1 {
		err := l.store.InTx(context.WithoutCancel(calls[0].ctx), func(tx *store.Tx) error {
			for _, c := range calls {
				if err := write(tx, c); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			return
		}
	}
	for _, c := range calls {
		c.err = l.store.InTx(context.WithoutCancel(c.ctx), func(tx *store.Tx) error { return write(tx, c) })
	}
}
