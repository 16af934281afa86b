// Package events is FusionAuth's events and webhooks: the webhooks
// themselves (/api/webhook), the outbox that internal/audit writes events to
// in the transaction of the change, the dispatcher that delivers them from
// every node, and the webhook event log and event log. It speaks no HTTP:
// the app hands it a Sender (internal/outbound) that makes the requests.
package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/tenancy"
)

// Sender makes one webhook request: body POSTed to the webhook, signed and
// authenticated as it says. Success is a 2xx answer.
type Sender interface {
	Send(ctx context.Context, hook *model.Webhook, body []byte) SendResult
}

// SendResult is what one request came to.
type SendResult struct {
	StatusCode int
	Err        error // transport failure, refused address, timeout
	URL        string
}

// OK reports whether the receiver accepted the event.
func (r SendResult) OK() bool { return r.Err == nil && r.StatusCode >= 200 && r.StatusCode < 300 }

// Service owns webhooks and the outbox.
type Service struct {
	store   *store.Store
	clock   kit.Clock
	master  *secrets.MasterKey
	log     *slog.Logger
	audit   *audit.Log
	tenancy *tenancy.Service

	kick   chan struct{} // wakes this node's dispatcher (wake)
	sender atomic.Pointer[senderBox]
	hooks  atomic.Pointer[hookSet]
	mu     sync.Mutex // serialises refreshes
}

type senderBox struct{ s Sender }

// hookSet is the webhooks at one cache version, passwords opened.
type hookSet struct {
	version int64
	hooks   []*model.Webhook
}

// New wires the service. Call UseSender before events are delivered.
func New(st *store.Store, clock kit.Clock, master *secrets.MasterKey, log *slog.Logger, a *audit.Log, t *tenancy.Service) *Service {
	s := &Service{store: st, clock: clock, master: master, log: log, audit: a, tenancy: t, kick: make(chan struct{}, 1)}
	s.hooks.Store(&hookSet{version: -1})
	st.OnCacheBump(func(ctx context.Context, names []string) {
		if slices.Contains(names, store.CacheWebhooks) {
			s.Refresh(context.WithoutCancel(ctx))
		}
	})
	return s
}

// UseSender sets what makes the requests.
func (s *Service) UseSender(snd Sender) { s.sender.Store(&senderBox{snd}) }

func (s *Service) now() int64 { return s.clock.Now().UnixMilli() }

// Refresh reloads the webhooks when their cache version moved. Until the
// first successful load no event is wanted, so a node that cannot read the
// webhooks keeps serving; it logs the failure.
func (s *Service) Refresh(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rd := s.store.Read()
	v, err := rd.CacheVersion(ctx, store.CacheWebhooks)
	if err != nil {
		s.log.WarnContext(ctx, "webhook cache refresh failed", "err", err)
		return
	}
	if v == s.hooks.Load().version {
		return
	}
	rows, err := rd.Webhooks(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "webhook cache refresh failed", "err", err)
		return
	}
	set := &hookSet{version: v}
	for _, r := range rows {
		w, err := s.webhookFromRow(r)
		if err != nil {
			s.log.WarnContext(ctx, "unreadable webhook skipped", "webhook", r.ID, "err", err)
			continue
		}
		set.hooks = append(set.hooks, w)
	}
	s.hooks.Store(set)
}

// Run keeps the webhooks current until ctx ends.
func (s *Service) Run(ctx context.Context, pollEvery time.Duration) {
	kit.Every(ctx, pollEvery, func() { s.Refresh(ctx) })
}

// Wants implements audit.Outbox: whether any webhook takes this event.
func (s *Service) Wants(eventType, tenantID string) bool {
	for _, h := range s.hooks.Load().hooks {
		if h.Wants(eventType, tenantID) {
			return true
		}
	}
	return false
}

func (s *Service) hook(id string) *model.Webhook {
	for _, h := range s.hooks.Load().hooks {
		if h.ID == id {
			return h
		}
	}
	return nil
}

// ErrWebhookVeto is the general error code of a change a transactional
// event's webhooks refused (FusionAuth's).
const ErrWebhookVeto = "WebhookTransactionException"

// Enqueue implements audit.Outbox: each event goes to the outbox in tx, one
// row per webhook that wants it. An event the tenant makes transactional is
// sent now, before commit, and the change is refused unless enough webhooks
// accept it.
func (s *Service) Enqueue(ctx context.Context, tx *store.Tx, actor kit.Actor, evs []model.Event) error {
	planned, err := s.plan(ctx, actor, evs)
	if err != nil {
		return err
	}
	return s.write(ctx, tx, planned)
}

// Append implements audit.Outbox: the events of something that writes
// nothing else (a login), in a transaction of their own. Without a
// transactional one among them they are written in one round trip.
func (s *Service) Append(ctx context.Context, actor kit.Actor, evs []model.Event) error {
	planned, err := s.plan(ctx, actor, evs)
	if err != nil || len(planned) == 0 {
		return err
	}
	rows := make([]store.NewWebhookEvent, 0, len(planned))
	for _, p := range planned {
		if p.txType != model.TransactionNone {
			return s.store.InTx(ctx, func(tx *store.Tx) error { return s.write(ctx, tx, planned) })
		}
		rows = append(rows, store.NewWebhookEvent{Row: p.row, WebhookIDs: p.hookIDs(), OrderKey: p.orderKey()})
	}
	if err := s.store.AppendWebhookEvents(ctx, rows); err != nil {
		return err
	}
	s.wake()
	return nil
}

// plannedEvent is an event some webhook takes: its row as sent, those
// webhooks and the tenant's transaction type for it.
type plannedEvent struct {
	row    *store.WebhookEventRow
	body   []byte
	hooks  []*model.Webhook
	txType string
}

func (p plannedEvent) hookIDs() []string {
	ids := make([]string, len(p.hooks))
	for i, h := range p.hooks {
		ids[i] = h.ID
	}
	return ids
}

// orderKey keeps one user's (or object's) events in order per webhook.
func (p plannedEvent) orderKey() string {
	if p.row.LinkedObjectID != "" {
		return p.row.LinkedObjectID
	}
	return p.row.ID
}

// plan keeps the events some webhook takes and the tenant has not turned
// off, built as they will be sent.
func (s *Service) plan(ctx context.Context, actor kit.Actor, evs []model.Event) ([]plannedEvent, error) {
	var planned []plannedEvent
	for _, ev := range evs {
		var hooks []*model.Webhook
		for _, h := range s.hooks.Load().hooks {
			if h.Wants(ev.Type, ev.TenantID) {
				hooks = append(hooks, h)
			}
		}
		if len(hooks) == 0 {
			continue
		}
		txType := model.TransactionNone
		if ev.TenantID != "" {
			cfg, err := s.tenancy.LoginTenantConfig(ctx, ev.TenantID)
			if err != nil && !errors.Is(err, model.ErrNotFound) {
				return nil, err
			}
			if cfg != nil {
				c, ok := cfg.EventConfiguration.Events[ev.Type]
				if ok && c.Enabled != nil && !*c.Enabled {
					continue // the tenant turned this event off
				}
				if ok && c.TransactionType != "" && model.Transactional(ev.Type) {
					txType = c.TransactionType
				}
			}
		}
		row, body, err := s.eventRow(actor, ev)
		if err != nil {
			return nil, err
		}
		planned = append(planned, plannedEvent{row: row, body: body, hooks: hooks, txType: txType})
	}
	return planned, nil
}

// write puts planned events in the outbox in tx, or sends the transactional
// ones now.
func (s *Service) write(ctx context.Context, tx *store.Tx, planned []plannedEvent) error {
	queued := false
	for _, p := range planned {
		if p.txType != model.TransactionNone {
			if err := s.sendTransactional(ctx, tx, p.row, p.body, p.hooks, p.txType); err != nil {
				return err
			}
			continue
		}
		if err := tx.InsertWebhookEvent(ctx, p.row, p.hookIDs(), p.orderKey()); err != nil {
			return err
		}
		if !queued {
			queued = true
			tx.AfterCommit(s.wake) // delivered now, not at the next poll
		}
	}
	return nil
}

// eventRow builds the event as sent: FusionAuth's {"event":{…}} with its id,
// type, createInstant, tenantId and info.
func (s *Service) eventRow(actor kit.Actor, ev model.Event) (*store.WebhookEventRow, []byte, error) {
	now := s.now()
	id := uuid.NewString()
	e := make(map[string]any, len(ev.Body)+5)
	for k, v := range ev.Body {
		e[k] = v
	}
	e["id"], e["type"], e["createInstant"] = id, ev.Type, now
	if ev.TenantID != "" {
		e["tenantId"] = ev.TenantID
	}
	info := map[string]any{}
	if actor.IP != "" {
		info["ipAddress"] = actor.IP
	}
	e["info"] = info
	body, err := json.Marshal(map[string]any{"event": e})
	if err != nil {
		return nil, nil, fmt.Errorf("encode event %s: %w", ev.Type, err)
	}
	linked := ev.UserID
	if ev.ObjectID != "" {
		linked = ev.ObjectID
	}
	return &store.WebhookEventRow{ID: id, EventType: ev.Type, TenantID: ev.TenantID, LinkedObjectID: linked,
		Body: string(body), InsertInstant: now}, body, nil
}

// sendTransactional delivers an event to its webhooks before the change
// commits and refuses the change unless enough of them accept it. The event
// and its attempts are recorded in the change's transaction, so a refused
// change leaves no trace but the log line.
func (s *Service) sendTransactional(ctx context.Context, tx *store.Tx, row *store.WebhookEventRow, body []byte,
	hooks []*model.Webhook, txType string) error {
	box := s.sender.Load()
	if box == nil {
		return fmt.Errorf("transactional event %s: no sender", row.EventType)
	}
	type result struct {
		res        SendResult
		start, end int64
	}
	results := make([]result, len(hooks))
	var wg sync.WaitGroup
	for i, h := range hooks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := s.now()
			results[i] = result{res: box.s.Send(ctx, h, body), start: start, end: s.now()}
		}()
	}
	wg.Wait()
	ok := 0
	for _, r := range results {
		if r.res.OK() {
			ok++
		}
	}
	n := len(hooks)
	var accepted bool
	switch txType {
	case model.TransactionAny:
		accepted = ok >= 1
	case model.TransactionSimpleMajority:
		accepted = ok*2 > n
	case model.TransactionSuperMajority:
		accepted = ok*3 >= n*2
	default: // AbsoluteMajority, and any other value: every webhook
		accepted = ok == n
	}
	if !accepted {
		s.log.WarnContext(ctx, "webhooks refused a transactional event", "event", row.EventType, "accepted", ok, "webhooks", n, "transactionType", txType)
		// FusionAuth answers a refused transaction with 504 (Gateway Timeout).
		return &model.StatusError{Status: 504, Body: new(model.Errors).General(ErrWebhookVeto,
			"One or more webhooks returned an invalid response or were unreachable. "+
				"Based on your transaction configuration, your action cannot be completed.")}
	}
	row.EventResult = "Succeeded"
	if err := tx.InsertWebhookEvent(ctx, row, nil, ""); err != nil {
		return err
	}
	for i, r := range results {
		if err := tx.RecordAttempt(ctx, attemptRow(row.Seq, hooks[i].ID, r.start, r.end, r.res)); err != nil {
			return err
		}
	}
	return nil
}

func attemptRow(eventSeq int64, webhookID string, start, end int64, r SendResult) *store.AttemptRow {
	a := &store.AttemptRow{ID: uuid.NewString(), EventSeq: eventSeq, WebhookID: webhookID, StartInstant: start,
		EndInstant: end, AttemptResult: "Failure", StatusCode: r.StatusCode}
	if r.OK() {
		a.AttemptResult = "Success"
	}
	resp := map[string]any{"url": r.URL}
	if r.StatusCode != 0 {
		resp["statusCode"] = r.StatusCode
	}
	if r.Err != nil {
		resp["exception"] = r.Err.Error()
	}
	b, _ := json.Marshal(resp)
	a.Data = string(b)
	return a
}
