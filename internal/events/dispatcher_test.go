package events_test

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/latchid/latch/internal/events"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/services"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

// recorder is a Sender that keeps the seq member of every event it is sent
// and accepts it unless refuse says otherwise.
type recorder struct {
	mu     sync.Mutex
	seqs   []int
	refuse func(seq int) bool
	during func() // runs in every request
	notify chan struct{}
}

func (r *recorder) Send(_ context.Context, _ *model.Webhook, body []byte) events.SendResult {
	var ev struct{ Event struct{ Seq int } }
	if err := json.Unmarshal(body, &ev); err != nil {
		return events.SendResult{Err: err}
	}
	r.mu.Lock()
	r.seqs = append(r.seqs, ev.Event.Seq)
	refused := r.refuse != nil && r.refuse(ev.Event.Seq)
	if r.during != nil {
		r.during()
	}
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
	if refused {
		return events.SendResult{StatusCode: 500}
	}
	return events.SendResult{StatusCode: 200}
}

func (r *recorder) sent() []int { r.mu.Lock(); defer r.mu.Unlock(); return slices.Clone(r.seqs) }

// waitSent waits until the recorder was sent n events. Not a speed bound:
// the dispatcher polls once an hour here, so events that wait for a poll
// do not come.
func (r *recorder) waitSent(t *testing.T, n int) []int {
	t.Helper()
	deadline := time.After(time.Minute)
	for len(r.sent()) < n {
		select {
		case <-r.notify:
		case <-deadline:
			t.Fatalf("%d of %d events sent: %v; the rest wait for the next poll", len(r.sent()), n, r.sent())
		}
	}
	return r.sent()
}

// outbox is a store, the services on it with a webhook taking user.update,
// and a recorder as the sender.
func outbox(t *testing.T, b testutil.Backend) (*store.Store, *testutil.FakeClock, *services.Set, *recorder) {
	ctx := context.Background()
	st, clock := testutil.OpenStore(t, b), testutil.NewFakeClock()
	svc := testutil.ServicesOn(t, st, clock)
	rec := &recorder{notify: make(chan struct{}, 1)}
	svc.Events.UseSender(rec)
	if _, err := svc.Events.CreateWebhook(ctx, kit.Actor{Type: kit.ActorSystem}, "", &model.Webhook{URL: "https://hooks.example/latch", Global: true,
		EventsEnabled: map[string]bool{model.EventUserUpdate: true}}); err != nil {
		t.Fatal(err)
	}
	svc.Events.Refresh(ctx)
	return st, clock, svc, rec
}

// enqueue writes n user.update events of one user, seq 0 … n-1, in one commit.
func enqueue(t *testing.T, st *store.Store, svc *services.Set, n int) {
	ctx := context.Background()
	err := st.InTx(ctx, func(tx *store.Tx) error {
		for i := range n {
			ev := model.Event{Type: model.EventUserUpdate, UserID: "6f9f1c3e-5d2a-4b8e-9c1f-2a3b4c5d6e7f", Body: map[string]any{"seq": i}}
			if err := svc.Events.Enqueue(ctx, tx, kit.Actor{Type: kit.ActorSystem}, []model.Event{ev}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// waitEvents waits (a minute at most) until the stored events satisfy done,
// and returns them.
func waitEvents(t *testing.T, st *store.Store, done func([]*store.WebhookEventRow) bool) []*store.WebhookEventRow {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		rows, _, err := st.Read().SearchWebhookEvents(context.Background(), store.WebhookEventFilter{}, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if done(rows) || time.Now().After(deadline) {
			return rows
		}
	}
}

// run runs a dispatcher polling once an hour until the test ends.
func run(t *testing.T, svc *services.Set) *events.Dispatcher {
	ctx, stop := context.WithCancel(context.Background())
	d := svc.Events.NewDispatcher()
	done := make(chan struct{})
	go func() { d.Run(ctx, time.Hour); close(done) }()
	t.Cleanup(func() { stop(); <-done })
	return d
}

// TestDispatcherDrainsABacklog: one commit of many events of one user wakes
// the dispatcher once, and a round sends a user's events only as far as a
// chain goes (the rest become due as those before them are delivered). The
// dispatcher keeps going while rounds find rows, so the whole backlog
// arrives, in order, long before its next poll.
func TestDispatcherDrainsABacklog(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		st, _, svc, rec := outbox(t, b)
		const n = 100 // several batches, all of one user
		enqueue(t, st, svc, n)
		run(t, svc)
		got := rec.waitSent(t, n)
		for i, seq := range got {
			if seq != i {
				t.Fatalf("sent %v, want 0 … %d in order", got, n-1)
			}
		}
	})
}

// TestDispatcherStopsAChainAtAFailure: a user's events go out one after
// another in a round; when one is refused, those behind it are not sent
// (they are given back, not counted as attempts) until it is delivered on
// its retry, so the receiver still sees them in order.
func TestDispatcherStopsAChainAtAFailure(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		st, clock, svc, rec := outbox(t, b)
		refused := false
		rec.refuse = func(seq int) bool {
			if seq == 2 && !refused {
				refused = true
				return true
			}
			return false
		}
		enqueue(t, st, svc, 6)
		d := run(t, svc)
		if got := rec.waitSent(t, 3); !slices.Equal(got, []int{0, 1, 2}) {
			t.Fatalf("sent %v, want 0 1 2 and a stop at the refusal", got)
		}
		// Once the refusal is written (its retry due after a backoff from
		// the time it was answered), past the backoff.
		waitEvents(t, st, func(rows []*store.WebhookEventRow) bool {
			return slices.ContainsFunc(rows, func(r *store.WebhookEventRow) bool { return r.FailedAttempts == 1 })
		})
		clock.Advance(time.Minute)
		d.Kick()
		if got := rec.waitSent(t, 7); !slices.Equal(got, []int{0, 1, 2, 2, 3, 4, 5}) {
			t.Fatalf("sent %v, want the refused event again, then the rest in order", got)
		}
		// One attempt recorded per request: the refused one failed once.
		// (The last round's bookkeeping commits after its requests.)
		rows := waitEvents(t, st, func(rows []*store.WebhookEventRow) bool {
			return !slices.ContainsFunc(rows, func(r *store.WebhookEventRow) bool { return r.EventResult == "Running" })
		})
		failed, succeeded := 0, 0
		for _, r := range rows {
			failed, succeeded = failed+r.FailedAttempts, succeeded+r.SuccessfulAttempts
			if r.EventResult != "Succeeded" {
				t.Errorf("event %s: %s", r.ID, r.EventResult)
			}
		}
		if len(rows) != 6 || failed != 1 || succeeded != 6 {
			t.Fatalf("%d events, %d failed and %d successful attempts; want 6, 1, 6", len(rows), failed, succeeded)
		}
	})
}

// TestDispatcherCutsAChainPastItsLease: a chain's requests run under one
// lease, made for one request of the longest a webhook allows; once a chain
// has run for half the lease's margin, the rest of it is given back (each
// row later goes out in a round of its own) rather than sent when another
// node may already have taken it.
func TestDispatcherCutsAChainPastItsLease(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		st, clock, svc, rec := outbox(t, b)
		rec.during = func() { clock.Advance(6 * time.Second) } // a slow receiver
		enqueue(t, st, svc, 3)
		d := svc.Events.NewDispatcher()
		ctx := context.Background()
		for round, want := range [][]int{{0}, {0, 1}, {0, 1, 2}} {
			n, err := d.Round(ctx)
			if err != nil || n != 3-round || !slices.Equal(rec.sent(), want) {
				t.Fatalf("round %d: claimed %d (%v), sent %v; want %d claimed, %v sent", round, n, err, rec.sent(), 3-round, want)
			}
		}
		rows := waitEvents(t, st, func([]*store.WebhookEventRow) bool { return true })
		for _, r := range rows {
			if r.EventResult != "Succeeded" || r.SuccessfulAttempts != 1 || r.FailedAttempts != 0 {
				t.Errorf("event %s: %s after %d and %d attempts", r.ID, r.EventResult, r.SuccessfulAttempts, r.FailedAttempts)
			}
		}
	})
}
