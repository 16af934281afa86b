package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

// Events written in a transaction that rolls back leave nothing behind; the
// rest are claimed by exactly one of several concurrent claimers, in order
// per webhook and order key, and a row whose lease ran out is claimable again.
func TestOutboxClaims(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		st := migrated(t, b)
		const users, perUser = 5, 4
		for u := range users {
			for i := range perUser {
				inTx(t, st, func(tx *store.Tx) error {
					return tx.InsertWebhookEvent(ctx, &store.WebhookEventRow{ID: fmt.Sprintf("ev-%d-%d", u, i), EventType: "user.update",
						Body: fmt.Sprintf(`{"event":{"n":%d}}`, i), InsertInstant: 1000}, []string{"hook-a", "hook-b"}, fmt.Sprintf("user-%d", u))
				})
			}
		}
		if err := st.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.InsertWebhookEvent(ctx, &store.WebhookEventRow{ID: "rolled-back", EventType: "user.create", Body: "{}",
				InsertInstant: 1000}, []string{"hook-a"}, "user-x"); err != nil {
				return err
			}
			return fmt.Errorf("boom")
		}); err == nil {
			t.Fatal("want the callback's error")
		}
		if n, err := st.Read().PendingDeliveries(ctx); err != nil || n != users*perUser*2 {
			t.Fatalf("pending %d, %v", n, err)
		}

		// Rounds of concurrent claimers: each round, every claimed row is
		// delivered (finished) before the next round.
		seen := map[string]int{} // event id + webhook -> claims
		last := map[string]int{} // webhook + order key -> last event n delivered
		for round := 0; ; round++ {
			var mu sync.Mutex
			var claimed []*store.Delivery
			var wg sync.WaitGroup
			for c := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var got []*store.Delivery
					if err := st.InTx(ctx, func(tx *store.Tx) error {
						var err error
						got, err = tx.ClaimDeliveries(ctx, fmt.Sprintf("node-%d", c), 2000, 9000, 3)
						return err
					}); err != nil {
						t.Error(err)
						return
					}
					for _, d := range got {
						d.Body = fmt.Sprintf("node-%d|%s", c, d.Body)
					}
					mu.Lock()
					claimed = append(claimed, got...)
					mu.Unlock()
				}()
			}
			wg.Wait()
			if len(claimed) == 0 {
				break
			}
			if round > 100 {
				t.Fatal("claims do not converge")
			}
			for _, d := range claimed {
				k := d.EventID + "/" + d.WebhookID
				seen[k]++
				var owner string
				var n int
				fmt.Sscanf(d.Body, "%6s|{\"event\":{\"n\":%d}}", &owner, &n)
				ok := d.EventID[len("ev-"):]
				key := d.WebhookID + "/" + ok[:1]
				if prev, had := last[key]; had && n != prev+1 || !had && n != 0 {
					t.Fatalf("%s delivered n=%d after %d", key, n, prev)
				}
				last[key] = n
				inTx(t, st, func(tx *store.Tx) error {
					held, err := tx.FinishDelivery(ctx, d, owner, false, 2000)
					if err == nil && !held {
						err = fmt.Errorf("lease of %s lost", k)
					}
					return err
				})
			}
		}
		if len(seen) != users*perUser*2 {
			t.Fatalf("%d deliveries claimed, want %d", len(seen), users*perUser*2)
		}
		for k, n := range seen {
			if n != 1 {
				t.Fatalf("%s claimed %d times", k, n)
			}
		}
		ev, err := st.Read().WebhookEventByID(ctx, "ev-0-0")
		if err != nil || ev.EventResult != "Succeeded" {
			t.Fatalf("settled event: %+v %v", ev, err)
		}
		if _, err := st.Read().WebhookEventByID(ctx, "rolled-back"); err != store.ErrNoRows {
			t.Fatalf("rolled-back event: %v", err)
		}

		// A lease that runs out (its node died) is claimed again.
		inTx(t, st, func(tx *store.Tx) error {
			return tx.InsertWebhookEvent(ctx, &store.WebhookEventRow{ID: "orphan", EventType: "user.create", Body: "{}", InsertInstant: 1000},
				[]string{"hook-a"}, "user-9")
		})
		claim := func(owner string, now int64) []*store.Delivery {
			var got []*store.Delivery
			inTx(t, st, func(tx *store.Tx) error {
				var err error
				got, err = tx.ClaimDeliveries(ctx, owner, now, now+5000, 10)
				return err
			})
			return got
		}
		if got := claim("dead-node", 3000); len(got) != 1 {
			t.Fatalf("first claim: %d", len(got))
		}
		if got := claim("live-node", 4000); len(got) != 0 {
			t.Fatalf("claimed under a live lease: %d", len(got))
		}
		got := claim("live-node", 9000)
		if len(got) != 1 || got[0].EventID != "orphan" || got[0].Attempts != 2 {
			t.Fatalf("after the lease ran out: %+v", got)
		}
		inTx(t, st, func(tx *store.Tx) error {
			if held, err := tx.FinishDelivery(ctx, got[0], "dead-node", false, 9000); err != nil || held {
				return fmt.Errorf("the dead node finished a row it no longer holds: %v %v", held, err)
			}
			return nil
		})
	})
}
