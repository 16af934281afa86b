package audit

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

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

// MailNotBuilt records a flow's email that could not be built for a user
// (model.MailNotBuilt) when the caller is not told: a warning in the log and
// an Error entry in the event log, in a transaction of its own (the flow's
// was not written). The entry names the flow, the user and the template,
// and says why, never the values the template was given.
func (l *Log) MailNotBuilt(ctx context.Context, flow, userID string, e *model.MailNotBuilt) {
	var why []string
	if e.Body != nil {
		for _, g := range e.Body.GeneralErrors {
			why = append(why, g.Message)
		}
		for _, f := range slices.Sorted(maps.Keys(e.Body.FieldErrors)) {
			for _, it := range e.Body.FieldErrors[f] {
				why = append(why, f+": "+it.Message)
			}
		}
	}
	who := "user [" + userID + "]"
	if userID == "" {
		who = "a new user"
	}
	msg := fmt.Sprintf("The %s email of %s was not sent: email template [%s] could not be built: %s", flow, who, e.TemplateID, strings.Join(why, "; "))
	l.log.WarnContext(ctx, "email not built", "flow", flow, "user", userID, "template", e.TemplateID, "why", strings.Join(why, "; "))
	ctx = context.WithoutCancel(ctx) // written even when the client is gone
	err := l.store.InTx(ctx, func(tx *store.Tx) error {
		return l.WriteEventLog(ctx, tx, &store.EventLogRow{InsertInstant: l.clock.Now().UnixMilli(), Type: "Error", Message: msg}, "")
	})
	if err != nil {
		l.log.WarnContext(ctx, "event log entry not written", "err", err)
	}
}
