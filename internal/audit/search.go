package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// Search is FusionAuth's AuditLogSearchCriteria. Start and End are epoch
// milliseconds, inclusive.
type Search struct {
	Message         string `json:"message"`
	User            string `json:"user"`
	Start           int64  `json:"start"`
	End             int64  `json:"end"`
	OrderBy         string `json:"orderBy"`
	StartRow        int    `json:"startRow"`
	NumberOfResults int    `json:"numberOfResults"`
	// The admin UI's filters, not FusionAuth's criteria.
	ActorTypes []string `json:"-"`
	TargetID   string   `json:"-"`
}

// Entry returns one entry, or model.ErrNotFound.
func (l *Log) Entry(ctx context.Context, id int64) (*model.AuditLog, error) {
	a, err := l.store.Read().AuditByID(ctx, id)
	if errors.Is(err, store.ErrNoRows) {
		return nil, model.NotFoundf("audit log %d", id)
	}
	return a, err
}

// Search finds entries, newest first unless orderBy says otherwise.
func (l *Log) Search(ctx context.Context, q Search) ([]*model.AuditLog, int, error) {
	var verrs model.Errors
	offset, limit := kit.PageWindow(&verrs, q.StartRow, q.NumberOfResults)
	f := store.AuditFilter{Message: strings.TrimSpace(q.Message), User: strings.TrimSpace(q.User),
		Start: q.Start, End: q.End, Descending: true, ActorTypes: q.ActorTypes, TargetID: strings.TrimSpace(q.TargetID)}
	if q.OrderBy != "" {
		col, desc, ok := kit.ParseOrderBy(q.OrderBy, store.AuditOrderColumns)
		if !ok {
			verrs.Field("search.orderBy", "invalid", "orderBy must be one of id, insertInstant, insertUser or message, optionally followed by ASC or DESC.")
		}
		f.OrderBy, f.Descending = col, desc
	}
	if q.Start < 0 {
		verrs.Field("search.start", "invalid", "start must be an instant in epoch milliseconds.")
	}
	if q.End < 0 || (q.End > 0 && q.End < q.Start) {
		verrs.Field("search.end", "invalid", "end must be an instant in epoch milliseconds, not before start.")
	}
	if err := verrs.Err(); err != nil {
		return nil, 0, err
	}
	logs, total, err := l.store.Read().SearchAudit(ctx, f, offset, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("search audit log: %w", err)
	}
	if logs == nil {
		logs = []*model.AuditLog{}
	}
	return logs, total, nil
}

// MaxExportRows bounds one export; a larger log is exported in time slices.
const MaxExportRows = 100_000

// Export is every entry that matches q (its paging ignored), newest first
// unless q orders otherwise, at most MaxExportRows; more reports whether
// entries were left out.
func (l *Log) Export(ctx context.Context, q Search) (logs []*model.AuditLog, more bool, err error) {
	q.StartRow, q.NumberOfResults = 0, kit.MaxSearchResults
	for {
		page, total, err := l.Search(ctx, q)
		if err != nil {
			return nil, false, err
		}
		logs = append(logs, page...)
		if len(page) == 0 || q.StartRow+len(page) >= total {
			return logs, false, nil
		}
		if len(logs) >= MaxExportRows {
			return logs[:MaxExportRows], true, nil
		}
		q.StartRow += len(page)
	}
}

// AppendRequest is FusionAuth's AuditLogRequest: an entry written by an
// API client about a change it made elsewhere.
type AppendRequest struct {
	AuditLog *struct {
		InsertUser string          `json:"insertUser"`
		Message    string          `json:"message"`
		Reason     string          `json:"reason"`
		Data       json.RawMessage `json:"data"`
		OldValue   json.RawMessage `json:"oldValue"`
		NewValue   json.RawMessage `json:"newValue"`
	} `json:"auditLog"`
}

// maxAppendField bounds the text fields of an appended entry.
const maxAppendField = 4096

// Append writes an entry an API client sends (POST /api/system/audit-log).
// insertUser is the client's word; actorType and actorId still record the
// key that wrote it, so an entry cannot pass itself off as another actor's.
func (l *Log) Append(ctx context.Context, actor kit.Actor, req AppendRequest) (*model.AuditLog, error) {
	verrs := new(model.Errors)
	if req.AuditLog == nil {
		return nil, verrs.Field("auditLog", "missing", "The request must contain an auditLog object.")
	}
	in := req.AuditLog
	in.InsertUser, in.Message = strings.TrimSpace(in.InsertUser), strings.TrimSpace(in.Message)
	if in.InsertUser == "" {
		verrs.Field("auditLog.insertUser", "blank", "The user who took the action is required.")
	}
	if in.Message == "" {
		verrs.Field("auditLog.message", "blank", "A message is required.")
	}
	for field, v := range map[string]string{"insertUser": in.InsertUser, "message": in.Message, "reason": in.Reason} {
		if len(v) > maxAppendField {
			verrs.Field("auditLog."+field, "tooLong", fmt.Sprintf("%s must be at most %d bytes long.", field, maxAppendField))
		}
	}
	if len(in.Data) > 0 && !isJSONObject(in.Data) {
		verrs.Field("auditLog.data", "invalid", "data must be a JSON object.")
	}
	if err := verrs.Err(); err != nil {
		return nil, err
	}
	entry := &model.AuditLog{InsertInstant: l.clock.Now().UnixMilli(), InsertUser: in.InsertUser, Message: in.Message,
		Reason: strings.TrimSpace(in.Reason), ActorType: actor.Type, ActorID: actor.ID, Method: actor.Method, Path: actor.Path,
		IPAddress: actor.IP, Severity: "info", Data: nullToEmpty(in.Data), OldValue: nullToEmpty(in.OldValue), NewValue: nullToEmpty(in.NewValue)}
	err := l.store.InTx(ctx, func(tx *store.Tx) error {
		id, err := tx.InsertAudit(ctx, entry)
		if err != nil {
			return err
		}
		entry.ID = id
		return l.enqueue(ctx, tx, actor, l.withEntryEvent(nil, entry))
	})
	if err != nil {
		return nil, fmt.Errorf("append audit entry: %w", err)
	}
	return entry, nil
}

func isJSONObject(raw json.RawMessage) bool {
	var m map[string]any
	return string(raw) == "null" || json.Unmarshal(raw, &m) == nil
}

func nullToEmpty(raw json.RawMessage) json.RawMessage {
	if string(raw) == "null" {
		return nil
	}
	return raw
}
