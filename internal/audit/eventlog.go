package audit

import (
	"context"
	"fmt"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// WriteEventLog is the one writer of FusionAuth's event log (a webhook
// delivery or an email given up). It writes the entry in tx and, in the
// same transaction, event-log.create (FusionAuth's EventLogCreateEvent, an
// instance event: no tenant, never transactional) when a webhook takes it.
//
// about is the type of the event whose delivery the entry records, "" when
// it records none. An entry about an event-log.create given up emits no
// event-log.create of its own: a webhook that fails every delivery would
// otherwise be sent an endless chain of events about its own failures.
func (l *Log) WriteEventLog(ctx context.Context, tx *store.Tx, e *store.EventLogRow, about string) error {
	if err := tx.InsertEventLog(ctx, e); err != nil {
		return fmt.Errorf("write event log entry: %w", err)
	}
	if about == model.EventEventLogCreate {
		return nil
	}
	entry := &model.EventLog{ID: e.ID, InsertInstant: e.InsertInstant, Message: e.Message, Type: e.Type}
	return l.enqueue(ctx, tx, kit.Actor{Type: kit.ActorSystem}, []model.Event{{Type: model.EventEventLogCreate, Body: map[string]any{"eventLog": entry}}})
}
