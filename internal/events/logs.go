package events

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// The webhook event log (/api/system/webhook-event-log), its attempt logs
// (/api/system/webhook-attempt-log) and the event log
// (/api/system/event-log), with their retention.

// WebhookEventLogSearch is FusionAuth's WebhookEventLogSearchCriteria.
type WebhookEventLogSearch struct {
	Event           string `json:"event"` // not supported: full-text over the body
	EventResult     string `json:"eventResult"`
	EventType       string `json:"eventType"`
	Start           int64  `json:"start"`
	End             int64  `json:"end"`
	OrderBy         string `json:"orderBy"`
	StartRow        int    `json:"startRow"`
	NumberOfResults int    `json:"numberOfResults"`
}

// EventLogSearch is FusionAuth's EventLogSearchCriteria.
type EventLogSearch struct {
	Message         string `json:"message"`
	Type            string `json:"type"`
	Start           int64  `json:"start"`
	End             int64  `json:"end"`
	OrderBy         string `json:"orderBy"`
	StartRow        int    `json:"startRow"`
	NumberOfResults int    `json:"numberOfResults"`
}

func eventTypeOf(body string) string {
	var e struct {
		Event struct {
			Type string `json:"type"`
		} `json:"event"`
	}
	_ = json.Unmarshal([]byte(body), &e)
	return e.Event.Type
}

func webhookEventLog(r *store.WebhookEventRow) *model.WebhookEventLog {
	l := &model.WebhookEventLog{ID: r.ID, EventResult: r.EventResult, EventType: r.EventType, FailedAttempts: r.FailedAttempts,
		InsertInstant: r.InsertInstant, LastAttemptInstant: r.LastAttemptInstant, LastUpdateInstant: r.LastUpdateInstant,
		LinkedObjectID: r.LinkedObjectID, Sequence: r.Seq, SuccessfulAttempts: r.SuccessfulAttempts}
	var body struct {
		Event map[string]any `json:"event"`
	}
	if json.Unmarshal([]byte(r.Body), &body) == nil {
		l.Event = body.Event
	}
	return l
}

func attemptLog(a *store.AttemptRow, eventID string) *model.WebhookAttemptLog {
	l := &model.WebhookAttemptLog{ID: a.ID, StartInstant: a.StartInstant, EndInstant: a.EndInstant, AttemptResult: a.AttemptResult,
		WebhookEventLogID: eventID, WebhookID: a.WebhookID}
	if a.Data != "" {
		_ = json.Unmarshal([]byte(a.Data), &l.WebhookCallResponse)
	}
	return l
}

// WebhookEventLog returns one event with its attempts, or model.ErrNotFound.
func (s *Service) WebhookEventLog(ctx context.Context, id string) (*model.WebhookEventLog, error) {
	rd := s.store.Read()
	r, err := rd.WebhookEventByID(ctx, id)
	if errors.Is(err, store.ErrNoRows) {
		return nil, model.NotFoundf("webhook event %s", id)
	}
	if err != nil {
		return nil, err
	}
	l := webhookEventLog(r)
	attempts, err := rd.AttemptsOfEvent(ctx, r.Seq)
	if err != nil {
		return nil, err
	}
	l.Attempts = []*model.WebhookAttemptLog{}
	for _, a := range attempts {
		l.Attempts = append(l.Attempts, attemptLog(a, r.ID))
	}
	return l, nil
}

// WebhookAttemptLog returns one attempt, or model.ErrNotFound.
func (s *Service) WebhookAttemptLog(ctx context.Context, id string) (*model.WebhookAttemptLog, error) {
	a, eventID, err := s.store.Read().AttemptByID(ctx, id)
	if errors.Is(err, store.ErrNoRows) {
		return nil, model.NotFoundf("webhook attempt %s", id)
	}
	if err != nil {
		return nil, err
	}
	return attemptLog(a, eventID), nil
}

func orderDescending(orderBy string, verrs *model.Errors) bool {
	col, desc, ok := kit.ParseOrderBy(orderBy, map[string]string{"insertinstant": "insert_instant", "id": "id", "sequence": "seq"})
	_ = col
	if !ok {
		verrs.Field("search.orderBy", "invalid", "orderBy must be insertInstant, optionally followed by ASC or DESC.")
	}
	return desc
}

// SearchWebhookEventLogs finds events by type, result and time.
func (s *Service) SearchWebhookEventLogs(ctx context.Context, q WebhookEventLogSearch) ([]*model.WebhookEventLog, int, error) {
	var verrs model.Errors
	offset, limit := kit.PageWindow(&verrs, q.StartRow, q.NumberOfResults)
	desc := orderDescending(q.OrderBy, &verrs)
	if q.EventResult != "" {
		kit.OneOf(&verrs, "search.eventResult", q.EventResult, "Failed", "Running", "Succeeded")
	}
	if err := verrs.Err(); err != nil {
		return nil, 0, err
	}
	rows, total, err := s.store.Read().SearchWebhookEvents(ctx, store.WebhookEventFilter{EventType: q.EventType,
		EventResult: q.EventResult, Start: q.Start, End: q.End, Descending: desc}, offset, limit)
	if err != nil {
		return nil, 0, err
	}
	out := make([]*model.WebhookEventLog, 0, len(rows))
	for _, r := range rows {
		out = append(out, webhookEventLog(r))
	}
	return out, total, nil
}

// EventLog returns one event log entry, or model.ErrNotFound.
func (s *Service) EventLog(ctx context.Context, id string) (*model.EventLog, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return nil, model.NotFoundf("event log %s", id)
	}
	r, err := s.store.Read().EventLogByID(ctx, n)
	if errors.Is(err, store.ErrNoRows) {
		return nil, model.NotFoundf("event log %s", id)
	}
	if err != nil {
		return nil, err
	}
	return &model.EventLog{ID: r.ID, InsertInstant: r.InsertInstant, Message: r.Message, Type: r.Type}, nil
}

// SearchEventLogs finds event log entries by message, type and time.
func (s *Service) SearchEventLogs(ctx context.Context, q EventLogSearch) ([]*model.EventLog, int, error) {
	var verrs model.Errors
	offset, limit := kit.PageWindow(&verrs, q.StartRow, q.NumberOfResults)
	desc := orderDescending(q.OrderBy, &verrs)
	if q.Type != "" {
		kit.OneOf(&verrs, "search.type", q.Type, "Information", "Debug", "Error")
	}
	if err := verrs.Err(); err != nil {
		return nil, 0, err
	}
	rows, total, err := s.store.Read().SearchEventLogs(ctx, store.EventLogFilter{Message: q.Message, Type: q.Type,
		Start: q.Start, End: q.End, Descending: desc}, offset, limit)
	if err != nil {
		return nil, 0, err
	}
	out := make([]*model.EventLog, 0, len(rows))
	for _, r := range rows {
		out = append(out, &model.EventLog{ID: r.ID, InsertInstant: r.InsertInstant, Message: r.Message, Type: r.Type})
	}
	return out, total, nil
}

// Retention is how long settled webhook events and event log entries are kept.
const Retention = 30 * 24 * time.Hour

// Sweep deletes settled events and event log entries older than Retention.
func (s *Service) Sweep(ctx context.Context) (int64, error) {
	var n int64
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		n, err = tx.DeleteEventLogsBefore(ctx, s.clock.Now().Add(-Retention).UnixMilli())
		return err
	})
	return n, err
}
