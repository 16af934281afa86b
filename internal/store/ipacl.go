package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/latchid/latch/internal/model"
)

const ipACLColumns = "id, name, entries, insert_instant, last_update_instant"

func scanIPACL(row interface{ Scan(...any) error }) (*model.IPAccessControlList, error) {
	var a model.IPAccessControlList
	var entries string
	if err := row.Scan(&a.ID, &a.Name, &entries, &a.InsertInstant, &a.LastUpdateInstant); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(entries), &a.Entries); err != nil {
		return nil, fmt.Errorf("ip acl %s entries: %w", a.ID, err)
	}
	return &a, nil
}

// InsertIPACL stores a new list.
func (tx *Tx) InsertIPACL(ctx context.Context, a *model.IPAccessControlList) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO ip_acls (id, name, name_lower, entries, insert_instant, last_update_instant)
		VALUES ($1, $2, $3, $4, $5, $6)`, a.ID, a.Name, strings.ToLower(a.Name), toJSON(a.Entries), a.InsertInstant, a.LastUpdateInstant)
	return err
}

// UpdateIPACL rewrites a list's name and entries.
func (tx *Tx) UpdateIPACL(ctx context.Context, a *model.IPAccessControlList) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE ip_acls SET name = $2, name_lower = $3, entries = $4, last_update_instant = $5
		WHERE id = $1`, a.ID, a.Name, strings.ToLower(a.Name), toJSON(a.Entries), a.LastUpdateInstant)
	if err != nil {
		return err
	}
	return expectOne(res)
}

// DeleteIPACL removes a list; a key still using it makes this a foreign-key error.
func (tx *Tx) DeleteIPACL(ctx context.Context, id string) error {
	res, err := tx.q.ExecContext(ctx, "DELETE FROM ip_acls WHERE id = $1", id)
	if err != nil {
		return err
	}
	return expectOne(res)
}

// IPACLByID finds a list; ErrNoRows when absent.
func (tx *Tx) IPACLByID(ctx context.Context, id string) (*model.IPAccessControlList, error) {
	return scanIPACL(tx.q.QueryRowContext(ctx, "SELECT "+ipACLColumns+" FROM ip_acls WHERE id = $1", id))
}

// AllIPACLs returns every list.
func (tx *Tx) AllIPACLs(ctx context.Context) ([]*model.IPAccessControlList, error) {
	lists, _, err := tx.SearchIPACLs(ctx, "", 0, 1<<31-1)
	return lists, err
}

// SearchIPACLs finds lists whose name contains name (case-insensitive), by name.
func (tx *Tx) SearchIPACLs(ctx context.Context, name string, offset, limit int) ([]*model.IPAccessControlList, int, error) {
	pattern := "%" + escapeLike(strings.ToLower(name)) + "%"
	var total int
	if err := tx.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM ip_acls WHERE name_lower LIKE $1 ESCAPE '\'`, pattern).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := tx.q.QueryContext(ctx, "SELECT "+ipACLColumns+` FROM ip_acls WHERE name_lower LIKE $1 ESCAPE '\'
		ORDER BY name_lower, id LIMIT $2 OFFSET $3`, pattern, limit, offset)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []*model.IPAccessControlList
	for rows.Next() {
		a, err := scanIPACL(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, a)
	}
	return out, total, rows.Err()
}
