package events_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/latchid/latch/internal/events"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

// recorder is a Sender that accepts every event and keeps its body.
type recorder struct {
	mu     sync.Mutex
	bodies [][]byte
	notify chan struct{}
}

func (r *recorder) Send(_ context.Context, _ *model.Webhook, body []byte) events.SendResult {
	r.mu.Lock()
	r.bodies = append(r.bodies, body)
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
	return events.SendResult{StatusCode: 200}
}

func (r *recorder) count() int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.bodies) }

// TestDispatcherDrainsABacklog: one commit of many events of one user wakes
// the dispatcher once, and a round delivers at most one row of a user (the
// next becomes due when the one before it is delivered). The dispatcher
// keeps going while rounds find rows, so the whole backlog arrives, in
// order, long before its next poll.
func TestDispatcherDrainsABacklog(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		st := testutil.OpenStore(t, b)
		svc := testutil.ServicesOn(t, st)
		rec := &recorder{notify: make(chan struct{}, 1)}
		svc.Events.UseSender(rec)
		actor := kit.Actor{Type: kit.ActorSystem}
		if _, err := svc.Events.CreateWebhook(ctx, actor, "", &model.Webhook{URL: "https://hooks.example/latch", Global: true,
			EventsEnabled: map[string]bool{model.EventUserUpdate: true}}); err != nil {
			t.Fatal(err)
		}
		svc.Events.Refresh(ctx)

		const n = 40 // more than a batch, all of one user
		user := "6f9f1c3e-5d2a-4b8e-9c1f-2a3b4c5d6e7f"
		err := st.InTx(ctx, func(tx *store.Tx) error {
			for i := range n {
				ev := model.Event{Type: model.EventUserUpdate, UserID: user, Body: map[string]any{"seq": i}}
				if err := svc.Events.Enqueue(ctx, tx, actor, []model.Event{ev}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}

		runCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { svc.Events.NewDispatcher().Run(runCtx, time.Hour); close(done) }()
		defer func() { stop(); <-done }()
		// Not a speed bound: without the loop, two rows arrive (the first
		// pass and the commit's wake-up) and the rest wait an hour.
		deadline := time.After(time.Minute)
		for rec.count() < n {
			select {
			case <-rec.notify:
			case <-deadline:
				t.Fatalf("%d of %d events delivered; the rest wait for the next poll", rec.count(), n)
			}
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for i, body := range rec.bodies {
			var got struct{ Event struct{ Seq int } }
			if err := json.Unmarshal(body, &got); err != nil || got.Event.Seq != i {
				t.Fatalf("delivery %d: %s, want seq %d (in order)", i, body, i)
			}
		}
		if len(rec.bodies) != n {
			t.Fatalf("%d deliveries, want %d", len(rec.bodies), n)
		}
	})
}
