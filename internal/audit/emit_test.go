package audit_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

var errVeto = errors.New("vetoed")

// fakeOutbox takes every event, refuses those of type "veto", and counts
// what was committed, by transaction. Its first Enqueue waits until the
// other callers have gathered behind it, so the batches are known.
type fakeOutbox struct {
	l       *audit.Log
	waitFor int
	mu      sync.Mutex
	first   bool
	txs     map[*store.Tx]int // committed transactions and their events
}

func (o *fakeOutbox) Wants(string, string) bool { return true }

func (o *fakeOutbox) Enqueue(_ context.Context, tx *store.Tx, _ kit.Actor, evs []model.Event) error {
	o.mu.Lock()
	first := !o.first
	o.first = true
	o.mu.Unlock()
	for first && o.gathered() < o.waitFor {
		time.Sleep(time.Millisecond)
	}
	if evs[0].Type == "veto" {
		return errVeto
	}
	tx.AfterCommit(func() { o.mu.Lock(); o.txs[tx] += len(evs); o.mu.Unlock() })
	return nil
}

func (o *fakeOutbox) gathered() int { return audit.GatheredEmits(o.l) }

// TestEmitGroupCommit: concurrent Emit calls share transactions, every
// call returns only its own outcome, and every accepted event is
// committed exactly once.
func TestEmitGroupCommit(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		st, err := store.Open(context.Background(), b.DatabaseURL, filepath.Join(t.TempDir(), "latch.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		for _, tc := range []struct {
			name  string
			vetos int
		}{{"all accepted", 0}, {"one vetoed", 1}, {"three vetoed", 3}} {
			t.Run(tc.name, func(t *testing.T) {
				const n = 16
				l := audit.New(st, kit.SystemClock{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
				o := &fakeOutbox{l: l, waitFor: n - 1, txs: map[*store.Tx]int{}}
				l.UseOutbox(o)
				errs := make([]error, n)
				var wg sync.WaitGroup
				for i := range n {
					typ := "user.login.success"
					if i > 0 && i <= tc.vetos {
						typ = "veto"
					}
					wg.Add(1)
					go func() {
						defer wg.Done()
						if i > 0 { // the first call leads the first batch
							for o.gathered() == 0 && !o.started() {
								time.Sleep(time.Millisecond)
							}
						}
						errs[i] = l.Emit(context.Background(), kit.Actor{}, model.Event{Type: typ})
					}()
				}
				wg.Wait()
				for i, err := range errs {
					want := error(nil)
					if i > 0 && i <= tc.vetos {
						want = errVeto
					}
					if !errors.Is(err, want) {
						t.Errorf("call %d: err %v, want %v", i, err, want)
					}
				}
				total := 0
				for _, c := range o.txs {
					total += c
				}
				if total != n-tc.vetos {
					t.Errorf("committed %d events, want %d", total, n-tc.vetos)
				}
				// The leader's own transaction, then one for the n-1 that
				// gathered behind it (and, after a veto, one per call).
				wantTxs := 2
				if tc.vetos > 0 {
					wantTxs = 1 + n - 1 - tc.vetos
				}
				if len(o.txs) != wantTxs {
					t.Errorf("%d transactions committed, want %d", len(o.txs), wantTxs)
				}
			})
		}
	})
}

func (o *fakeOutbox) started() bool { o.mu.Lock(); defer o.mu.Unlock(); return o.first }
