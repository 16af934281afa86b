package events

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// The dispatcher runs on every node. Each round it leases a batch of due
// outbox rows in one atomic UPDATE (store.ClaimDeliveries), sends them, and
// deletes each delivered row or sets its next attempt. A row is deleted only
// after its receiver answered 2xx, so an event is delivered at least once:
// a node that dies mid-delivery leaves a lease that runs out, and another
// node (or this one, restarted) sends the row again with the same event id.

const (
	// MaxAttempts is how often an event is tried before it is given up and
	// written to the event log.
	MaxAttempts = 8
	claimBatch  = 32
	// chainMax bounds the rows of one webhook and order key in a batch,
	// so that one busy user leaves room for others.
	chainMax = 16
	// leaseMargin is how much longer than its longest request a node keeps
	// a claimed batch: time for the bookkeeping after the requests. A node
	// killed mid-delivery holds its rows no longer than that, then another
	// node (or this one, restarted) sends them again.
	leaseMargin = 10 * time.Second
	// gather is how long a kicked dispatcher waits for the commits right
	// behind the one that kicked it: under load one claim and one
	// bookkeeping transaction then carry several events instead of one
	// each, for a few milliseconds of delivery latency.
	gather = 10 * time.Millisecond
)

// leaseFor is how long a claimed batch stays with this node: the longest
// request a webhook allows (connect and read timeouts, redirects included:
// the sender's client bounds the whole exchange by their sum and a second)
// plus leaseMargin.
func (s *Service) leaseFor() time.Duration {
	longest := time.Duration(maxTimeout*2)*time.Millisecond + time.Second
	if hooks := s.hooks.Load().hooks; len(hooks) > 0 {
		longest = 0
		for _, h := range hooks {
			longest = max(longest, time.Duration(h.ConnectTimeout+h.ReadTimeout)*time.Millisecond+time.Second)
		}
	}
	return longest + leaseMargin
}

// backoff is the wait before attempt n+1 after n failed attempts: 1 s, 2 s,
// 4 s … capped at 10 minutes.
func backoff(n int) time.Duration {
	d := time.Second << min(n-1, 10)
	return min(d, 10*time.Minute)
}

// Dispatcher delivers outbox rows.
type Dispatcher struct {
	s     *Service
	owner string // this node's lease name
	kick  chan struct{}
}

// NewDispatcher makes this node's dispatcher.
func (s *Service) NewDispatcher() *Dispatcher {
	return &Dispatcher{s: s, owner: uuid.NewString(), kick: s.kick}
}

// Kick makes the dispatcher look for due rows now.
func (d *Dispatcher) Kick() { d.s.wake() }

// wake makes this node's dispatcher look for due rows now rather than at
// its next poll: called after a commit that wrote outbox rows.
func (s *Service) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, looking for due rows every pollEvery and
// whenever kicked. In-flight requests finish (or time out) before it returns.
func (d *Dispatcher) Run(ctx context.Context, pollEvery time.Duration) {
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		for {
			n, err := d.Round(ctx)
			if err != nil && ctx.Err() == nil {
				d.s.log.WarnContext(ctx, "event delivery round failed", "err", err)
			}
			// Go on while rows come: a delivered row makes the next one of
			// its user (or other object) claimable, and nothing kicks for it.
			if n == 0 || err != nil || ctx.Err() != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.kick:
			select {
			case <-ctx.Done():
				return
			case <-time.After(gather):
			}
		}
	}
}

// Round claims and delivers one batch; it returns how many rows it claimed.
// A batch is chains: the earliest due row of each webhook and order key
// (one user's events, say) and the rows right behind it, up to chainMax.
// Chains go out at once, each in order, one request after another; a chain
// stops at its first failure, and the rows behind that are given back
// unsent, so one user's events still arrive in order.
func (d *Dispatcher) Round(ctx context.Context) (int, error) {
	box := d.s.sender.Load()
	if box == nil {
		return 0, nil
	}
	now := d.s.clock.Now()
	// A read first: an idle node takes no write lock.
	if n, err := d.s.store.Read().DueDeliveries(ctx, now.UnixMilli()); err != nil || n == 0 {
		return 0, err
	}
	chains, claimed, err := d.claim(ctx, now)
	if err != nil {
		return 0, err
	}
	// The lease covers one request of the longest a webhook allows, plus
	// leaseMargin. A chain's next request starts only while one more fits
	// with half the margin left for the bookkeeping; the rest of a chain of
	// slow requests is given back, never sent past its lease.
	nextBy := now.Add(leaseMargin / 2)
	sent := make([][]sentDelivery, len(chains))
	var wg sync.WaitGroup
	for i, chain := range chains {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j, dl := range chain {
				if j > 0 && d.s.clock.Now().After(nextBy) {
					return
				}
				sd := d.send(context.WithoutCancel(ctx), box.s, dl)
				sent[i] = append(sent[i], sd)
				if sd.hook == nil || !sd.res.OK() {
					return
				}
			}
		}()
	}
	wg.Wait()
	d.settle(context.WithoutCancel(ctx), chains, sent)
	return claimed, nil
}

// claim leases a batch of chains, and says how many rows they hold.
func (d *Dispatcher) claim(ctx context.Context, now time.Time) ([][]*store.Delivery, int, error) {
	var chains [][]*store.Delivery
	claimed := 0
	err := d.s.store.InTx(ctx, func(tx *store.Tx) error {
		chains, claimed = nil, 0
		at, until := now.UnixMilli(), now.Add(d.s.leaseFor()).UnixMilli()
		heads, err := tx.ClaimDeliveries(ctx, d.owner, at, until, claimBatch)
		if err != nil {
			return err
		}
		claimed = len(heads)
		for _, h := range heads {
			chain := []*store.Delivery{h}
			if room := min(claimBatch-claimed, chainMax-1); room > 0 {
				more, err := tx.ClaimFollowers(ctx, d.owner, h, at, until, room)
				if err != nil {
					return err
				}
				chain = append(chain, more...)
				claimed += len(more)
			}
			chains = append(chains, chain)
		}
		return nil
	})
	return chains, claimed, err
}

// settle writes what became of a batch in one transaction: the accepted
// rows (nearly all) together, the others one by one, and the rows a chain
// did not send given back. If that fails (an event swept meanwhile, say),
// each chain is settled on its own, so that one does not undo the others;
// a row whose bookkeeping fails stays leased and is sent again when the
// lease runs out.
func (d *Dispatcher) settle(ctx context.Context, chains [][]*store.Delivery, sent [][]sentDelivery) {
	// chain settles chain i; accepted rows go to ok when it is not nil.
	chain := func(tx *store.Tx, i int, ok *accepted) error {
		for _, sd := range sent[i] {
			if ok != nil && sd.hook != nil && sd.res.OK() {
				ok.rows = append(ok.rows, sd.dl)
				ok.attempts = append(ok.attempts, attemptRow(sd.dl.EventSeq, sd.hook.ID, sd.start, sd.end, sd.res))
			} else if err := d.record(ctx, tx, sd); err != nil {
				return err
			}
		}
		for _, dl := range chains[i][len(sent[i]):] {
			if err := tx.ReleaseDelivery(ctx, dl, d.owner); err != nil {
				return err
			}
		}
		return nil
	}
	err := d.s.store.InTx(ctx, func(tx *store.Tx) error {
		var ok accepted
		for i := range chains {
			if err := chain(tx, i, &ok); err != nil {
				return err
			}
		}
		return tx.FinishDelivered(ctx, d.owner, ok.rows, ok.attempts)
	})
	if err == nil {
		return
	}
	for i := range chains {
		if err := d.s.store.InTx(ctx, func(tx *store.Tx) error { return chain(tx, i, nil) }); err != nil {
			d.s.log.WarnContext(ctx, "event delivery bookkeeping failed", "event", chains[i][0].EventID, "webhook", chains[i][0].WebhookID, "err", err)
		}
	}
}

// accepted is a batch's rows whose receivers accepted them, and their
// attempts.
type accepted struct {
	rows     []*store.Delivery
	attempts []*store.AttemptRow
}

// sentDelivery is one claimed row and what its request came to (hook nil:
// the webhook is not known to this node).
type sentDelivery struct {
	dl         *store.Delivery
	hook       *model.Webhook
	start, end int64
	res        SendResult
}

func (d *Dispatcher) send(ctx context.Context, snd Sender, dl *store.Delivery) sentDelivery {
	hook := d.s.hook(dl.WebhookID)
	if hook == nil {
		// Deleted (its rows went with it) or not yet seen by this node.
		d.s.Refresh(ctx)
		if hook = d.s.hook(dl.WebhookID); hook == nil {
			return sentDelivery{dl: dl}
		}
	}
	start := d.s.now()
	res := snd.Send(ctx, hook, []byte(dl.Body))
	return sentDelivery{dl: dl, hook: hook, start: start, end: d.s.now(), res: res}
}

// record writes one request's attempt and what follows: the row done, due
// again after its backoff, or given up into the event log.
func (d *Dispatcher) record(ctx context.Context, tx *store.Tx, sd sentDelivery) error {
	dl, hook, res, end := sd.dl, sd.hook, sd.res, sd.end
	if hook == nil {
		return tx.RetryDelivery(ctx, dl, d.owner, d.s.now()+time.Second.Milliseconds())
	}
	if err := tx.RecordAttempt(ctx, attemptRow(dl.EventSeq, hook.ID, sd.start, end, res)); err != nil {
		return err
	}
	if res.OK() {
		_, err := tx.FinishDelivery(ctx, dl, d.owner, false, end)
		return err
	}
	if dl.Attempts >= MaxAttempts {
		held, err := tx.FinishDelivery(ctx, dl, d.owner, true, end)
		if err != nil || !held {
			return err
		}
		typ := eventTypeOf(dl.Body)
		return d.s.audit.WriteEventLog(ctx, tx, &store.EventLogRow{InsertInstant: end, Type: "Error",
			Message: fmt.Sprintf("Webhook [%s] (%s) did not accept event [%s] (%s) after %d attempts; last: %s",
				hook.URL, hook.ID, typ, dl.EventID, dl.Attempts, describe(res))}, typ)
	}
	return tx.RetryDelivery(ctx, dl, d.owner, end+backoff(dl.Attempts).Milliseconds())
}

func describe(r SendResult) string {
	if r.Err != nil {
		return r.Err.Error()
	}
	return fmt.Sprintf("HTTP %d", r.StatusCode)
}
