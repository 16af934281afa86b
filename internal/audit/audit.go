// Package audit is the one writer of audit entries (and, later, of events),
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
	store *store.Store
	clock kit.Clock
	log   *slog.Logger
}

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
}

// Write is the one place audit entries are written (and, later, where events
// are emitted). It must run in the transaction that makes the change.
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
	if _, err := tx.InsertAudit(ctx, entry); err != nil {
		return fmt.Errorf("write audit entry: %w", err)
	}
	if c.Critical {
		l.log.WarnContext(ctx, "critical audit entry", "message", c.Message, "actor", actor.Label(), "target", c.TargetID)
	}
	return nil
}

func marshalOrNil(v any) (json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	return json.Marshal(v)
}
