package core

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// Reading the audit log, FusionAuth's /api/system/audit-log. Entries are only
// ever written by audit (audit.go), inside the transaction of their change.

// Search paging, as FusionAuth's BaseSearchCriteria: 25 results unless asked,
// and a cap so one request cannot pull a whole table.
const (
	DefaultSearchResults = 25
	MaxSearchResults     = 500
)

// AuditSearch is FusionAuth's AuditLogSearchCriteria. Start and End are epoch
// milliseconds, inclusive.
type AuditSearch struct {
	Message         string `json:"message"`
	User            string `json:"user"`
	Start           int64  `json:"start"`
	End             int64  `json:"end"`
	OrderBy         string `json:"orderBy"`
	StartRow        int    `json:"startRow"`
	NumberOfResults int    `json:"numberOfResults"`
}

// AuditLog returns one entry, or model.ErrNotFound.
func (s *Service) AuditLog(ctx context.Context, id int64) (*model.AuditLog, error) {
	a, err := s.store.Read().AuditByID(ctx, id)
	if errors.Is(err, store.ErrNoRows) {
		return nil, model.NotFoundf("audit log %d", id)
	}
	return a, err
}

// SearchAuditLogs finds entries, newest first unless orderBy says otherwise.
func (s *Service) SearchAuditLogs(ctx context.Context, q AuditSearch) ([]*model.AuditLog, int, error) {
	var verrs model.Errors
	offset, limit := pageWindow(&verrs, q.StartRow, q.NumberOfResults)
	f := store.AuditFilter{Message: strings.TrimSpace(q.Message), User: strings.TrimSpace(q.User),
		Start: q.Start, End: q.End, Descending: true}
	if q.OrderBy != "" {
		col, desc, ok := parseOrderBy(q.OrderBy, store.AuditOrderColumns)
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
	logs, total, err := s.store.Read().SearchAudit(ctx, f, offset, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("search audit log: %w", err)
	}
	if logs == nil {
		logs = []*model.AuditLog{}
	}
	return logs, total, nil
}

// pageWindow turns startRow and numberOfResults into an offset and limit:
// zero results means the default, more than the cap means the cap, negatives
// are field errors.
func pageWindow(verrs *model.Errors, startRow, numberOfResults int) (offset, limit int) {
	if startRow < 0 {
		verrs.Field("search.startRow", "invalid", "startRow must not be negative.")
	}
	switch {
	case numberOfResults < 0:
		verrs.Field("search.numberOfResults", "invalid", "numberOfResults must not be negative.")
	case numberOfResults == 0:
		numberOfResults = DefaultSearchResults
	case numberOfResults > MaxSearchResults:
		numberOfResults = MaxSearchResults
	}
	return startRow, numberOfResults
}

// parseOrderBy reads FusionAuth's "field [ASC|DESC]" against the allowed
// fields. An empty value is the store's default order, ascending.
func parseOrderBy(orderBy string, allowed map[string]string) (field string, desc, ok bool) {
	parts := strings.Fields(orderBy)
	switch len(parts) {
	case 0:
		return "", false, true
	case 1, 2:
	default:
		return "", false, false
	}
	if _, known := allowed[strings.ToLower(parts[0])]; !known {
		return "", false, false
	}
	if len(parts) == 2 {
		switch strings.ToUpper(parts[1]) {
		case "ASC":
		case "DESC":
			desc = true
		default:
			return "", false, false
		}
	}
	return parts[0], desc, true
}
