package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/latchid/latch/internal/model"
)

// InsertAudit writes an audit entry and returns its id. Call it in the same
// transaction as the change it records.
func (tx *Tx) InsertAudit(ctx context.Context, a *model.AuditLog) (int64, error) {
	var id int64
	err := tx.q.QueryRowContext(ctx, `INSERT INTO audit_log (insert_instant, insert_user, message, reason, data,
		old_value, new_value, actor_type, actor_id, method, path, target_id, ip_address, severity)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
		a.InsertInstant, a.InsertUser, a.Message, nullString(a.Reason), rawOrNil(a.Data), rawOrNil(a.OldValue),
		rawOrNil(a.NewValue), a.ActorType, a.ActorID, a.Method, a.Path, a.TargetID, a.IPAddress, a.Severity).Scan(&id)
	a.ID = id
	return id, err
}

func rawOrNil(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

const auditColumns = `id, insert_instant, insert_user, message, reason, data, old_value, new_value,
	actor_type, actor_id, method, path, target_id, ip_address, severity`

func scanAudit(row scanner) (*model.AuditLog, error) {
	var a model.AuditLog
	var reason, data, oldV, newV sql.NullString
	if err := row.Scan(&a.ID, &a.InsertInstant, &a.InsertUser, &a.Message, &reason, &data, &oldV, &newV,
		&a.ActorType, &a.ActorID, &a.Method, &a.Path, &a.TargetID, &a.IPAddress, &a.Severity); err != nil {
		return nil, err
	}
	a.Reason = reason.String
	if data.Valid {
		a.Data = []byte(data.String)
	}
	if oldV.Valid {
		a.OldValue = []byte(oldV.String)
	}
	if newV.Valid {
		a.NewValue = []byte(newV.String)
	}
	return &a, nil
}

// AuditByID reads one entry; ErrNoRows when absent.
func (tx *Tx) AuditByID(ctx context.Context, id int64) (*model.AuditLog, error) {
	return scanAudit(tx.q.QueryRowContext(ctx, "SELECT "+auditColumns+" FROM audit_log WHERE id = $1", id))
}

// AuditFilter narrows SearchAudit; zero values do not filter.
type AuditFilter struct {
	Message    string // substring, case-insensitive
	User       string // substring of insert_user, case-insensitive
	Start, End int64  // insert_instant bounds, inclusive
	ActorID    string
	Severity   string
	ActorTypes []string // any of these actor types
	TargetID   string
	// OrderBy is a key of AuditOrderColumns; empty orders by id, which follows
	// insertion order.
	OrderBy    string
	Descending bool
}

// AuditOrderColumns maps FusionAuth's audit-log orderBy fields (lower-cased)
// to columns. Only these reach the SQL text.
var AuditOrderColumns = map[string]string{
	"id":            "id",
	"insertinstant": "insert_instant",
	"insertuser":    "insert_user",
	"message":       "message",
}

// SearchAudit returns a page of entries and the total that match.
func (tx *Tx) SearchAudit(ctx context.Context, f AuditFilter, offset, limit int) ([]*model.AuditLog, int, error) {
	where := []string{"1 = 1"}
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", fmt.Sprintf("$%d", len(args))))
	}
	if f.Message != "" {
		add(`LOWER(message) LIKE ? ESCAPE '\'`, containsPattern(f.Message))
	}
	if f.User != "" {
		add(`LOWER(insert_user) LIKE ? ESCAPE '\'`, containsPattern(f.User))
	}
	if f.Start > 0 {
		add("insert_instant >= ?", f.Start)
	}
	if f.End > 0 {
		add("insert_instant <= ?", f.End)
	}
	if f.ActorID != "" {
		add("actor_id = ?", f.ActorID)
	}
	if f.Severity != "" {
		add("severity = ?", f.Severity)
	}
	if f.TargetID != "" {
		add("target_id = ?", f.TargetID)
	}
	if len(f.ActorTypes) > 0 {
		var in []string
		for _, t := range f.ActorTypes {
			args = append(args, t)
			in = append(in, fmt.Sprintf("$%d", len(args)))
		}
		where = append(where, "actor_type IN ("+strings.Join(in, ", ")+")")
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM audit_log WHERE "+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	col := "id"
	if f.OrderBy != "" {
		c, ok := AuditOrderColumns[strings.ToLower(f.OrderBy)]
		if !ok {
			return nil, 0, fmt.Errorf("audit search: unknown order %q", f.OrderBy)
		}
		col = c
	}
	order := "ASC"
	if f.Descending {
		order = "DESC"
	}
	args = append(args, limit, offset)
	rows, err := tx.q.QueryContext(ctx, fmt.Sprintf("SELECT %s FROM audit_log WHERE %s ORDER BY %s %s, id %s LIMIT $%d OFFSET $%d",
		auditColumns, cond, col, order, order, len(args)-1, len(args)), args...)
	if err != nil {
		return nil, 0, err
	}
	out, err := scanAll(scanAudit)(rows, nil)
	return out, total, err
}
