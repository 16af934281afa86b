package audit

import (
	"context"
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
		Start: q.Start, End: q.End, Descending: true}
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
