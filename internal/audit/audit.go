// Package audit is the one writer of audit entries and of events,
// always in the transaction of the change it records, and the reader of the
// audit log (FusionAuth's /api/system/audit-log). It is a leaf: every rules
// package may use it, it uses none of them.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// Log writes and reads audit entries.
type Log struct {
	store  *store.Store
	clock  kit.Clock
	log    *slog.Logger
	outbox Outbox
}

// Outbox takes the events of audited changes, in the change's transaction
// (internal/events implements it). An error refuses the change: a
// transactional event a webhook vetoed, or a failed write.
type Outbox interface {
	// Wants reports, from memory, whether any webhook takes events of this
	// type and tenant; when none does, nothing is written.
	Wants(eventType, tenantID string) bool
	Enqueue(ctx context.Context, tx *store.Tx, actor kit.Actor, evs []model.Event) error
	// Append writes events of something that writes nothing else, in a
	// transaction of their own.
	Append(ctx context.Context, actor kit.Actor, evs []model.Event) error
}

// UseOutbox makes Write emit events through o. Call it while wiring, before
// the Log is used.
func (l *Log) UseOutbox(o Outbox) { l.outbox = o }

// New wires a Log.
func New(st *store.Store, clock kit.Clock, log *slog.Logger) *Log {
	return &Log{store: st, clock: clock, log: log}
}

// Change describes one audited state change.
type Change struct {
	Message  string
	TargetID string
	Reason   string
	Critical bool
	Old, New any // snapshots; must not contain secrets
	Data     map[string]any
	// Events are FusionAuth events the change emits, written to the outbox
	// with the entry.
	Events []model.Event
}

// Write is the one place audit entries are written and events emitted. It
// must run in the transaction that makes the change.
func (l *Log) Write(ctx context.Context, tx *store.Tx, actor kit.Actor, c Change) error {
	entry := &model.AuditLog{
		InsertInstant: l.clock.Now().UnixMilli(),
		InsertUser:    actor.Label(),
		Message:       c.Message,
		Reason:        c.Reason,
		ActorType:     actor.Type,
		ActorID:       actor.ID,
		Method:        actor.Method,
		Path:          actor.Path,
		TargetID:      c.TargetID,
		IPAddress:     actor.IP,
		Severity:      "info",
	}
	if c.Critical {
		entry.Severity = "critical"
	}
	var err error
	if entry.OldValue, err = marshalOrNil(c.Old); err != nil {
		return err
	}
	if entry.NewValue, err = marshalOrNil(c.New); err != nil {
		return err
	}
	if c.Data != nil {
		if entry.Data, err = json.Marshal(c.Data); err != nil {
			return err
		}
	}
	if entry.ID, err = tx.InsertAudit(ctx, entry); err != nil {
		return fmt.Errorf("write audit entry: %w", err)
	}
	if err := l.enqueue(ctx, tx, actor, l.withEntryEvent(c.Events, entry)); err != nil {
		return err
	}
	if c.Critical {
		l.log.WarnContext(ctx, "critical audit entry", "message", c.Message, "actor", actor.Label(), "target", c.TargetID)
	}
	return nil
}

func (l *Log) enqueue(ctx context.Context, tx *store.Tx, actor kit.Actor, evs []model.Event) error {
	wanted, err := l.wanted(evs)
	if err != nil || len(wanted) == 0 {
		return err
	}
	return l.outbox.Enqueue(ctx, tx, actor, wanted)
}

// wanted is the events of evs some webhook takes, their bodies built.
func (l *Log) wanted(evs []model.Event) ([]model.Event, error) {
	if l.outbox == nil {
		return nil, nil
	}
	var wanted []model.Event
	for _, ev := range evs {
		if !l.outbox.Wants(ev.Type, ev.TenantID) {
			continue
		}
		if ev.Build != nil {
			body, err := ev.Build()
			if err != nil {
				return nil, fmt.Errorf("build event %s: %w", ev.Type, err)
			}
			ev.Body, ev.Build = body, nil
		}
		wanted = append(wanted, ev)
	}
	return wanted, nil
}

// Emit writes events of something that writes no audit entry (a login) in
// a transaction of their own; when no webhook wants them it writes nothing.
func (l *Log) Emit(ctx context.Context, actor kit.Actor, evs ...model.Event) error {
	wanted, err := l.wanted(evs)
	if err != nil || len(wanted) == 0 {
		return err
	}
	return l.outbox.Append(ctx, actor, wanted)
}

// withEntryEvent adds audit-log.create (FusionAuth's AuditLogCreateEvent,
// an instance event: no tenant, never transactional) for the entry when a
// webhook takes it; otherwise evs as they are, at the cost of one lookup in
// memory.
func (l *Log) withEntryEvent(evs []model.Event, entry *model.AuditLog) []model.Event {
	if !l.Wants(model.EventAuditLogCreate, "") {
		return evs
	}
	c := *entry
	return append(evs[:len(evs):len(evs)], model.Event{Type: model.EventAuditLogCreate, Body: map[string]any{"auditLog": &c}})
}

func marshalOrNil(v any) (json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	return json.Marshal(v)
}

// Wants reports whether any webhook takes events of this type and tenant, so
// that a caller builds an event only when it will be written.
func (l *Log) Wants(eventType, tenantID string) bool {
	return l.outbox != nil && l.outbox.Wants(eventType, tenantID)
}
