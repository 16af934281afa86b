package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/latchid/latch/internal/model"
)

const ipACLColumns = "id, name, entries, insert_instant, last_update_instant"

func scanIPACL(row scanner) (*model.IPAccessControlList, error) {
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
	return tx.SearchIPACLsOrdered(ctx, IPACLQuery{Name: name}, offset, limit)
}

// IPACLQuery narrows and orders SearchIPACLsOrdered.
type IPACLQuery struct {
	Name       string // substring, case-insensitive; empty matches all
	OrderBy    string // one of IPACLOrderColumns' keys; empty means name
	Descending bool
}

// IPACLOrderColumns maps FusionAuth's orderBy fields (lower-cased) to columns.
// Only these reach the SQL text.
var IPACLOrderColumns = map[string]string{
	"id":                "id",
	"name":              "name_lower",
	"insertinstant":     "insert_instant",
	"lastupdateinstant": "last_update_instant",
}

// SearchIPACLsOrdered is SearchIPACLs with a chosen order.
func (tx *Tx) SearchIPACLsOrdered(ctx context.Context, q IPACLQuery, offset, limit int) ([]*model.IPAccessControlList, int, error) {
	col := "name_lower"
	if q.OrderBy != "" {
		c, ok := IPACLOrderColumns[strings.ToLower(q.OrderBy)]
		if !ok {
			return nil, 0, fmt.Errorf("ip acl search: unknown order %q", q.OrderBy)
		}
		col = c
	}
	dir := "ASC"
	if q.Descending {
		dir = "DESC"
	}
	pattern := containsPattern(q.Name)
	var total int
	if err := tx.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM ip_acls WHERE name_lower LIKE $1 ESCAPE '\'`, pattern).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := tx.q.QueryContext(ctx, "SELECT "+ipACLColumns+` FROM ip_acls WHERE name_lower LIKE $1 ESCAPE '\'
		ORDER BY `+col+" "+dir+", id "+dir+" LIMIT $2 OFFSET $3", pattern, limit, offset)
	if err != nil {
		return nil, 0, err
	}
	out, err := scanAll(scanIPACL)(rows, nil)
	return out, total, err
}

// IPACLNameTaken reports whether another list (not exceptID) has this name,
// compared case-insensitively as the unique index does.
func (tx *Tx) IPACLNameTaken(ctx context.Context, name, exceptID string) (bool, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM ip_acls WHERE name_lower = $1 AND id <> $2",
		strings.ToLower(name), exceptID).Scan(&n)
	return n > 0, err
}

// APIKeysUsingIPACL returns the ids of the keys that reference a list, at most limit.
func (tx *Tx) APIKeysUsingIPACL(ctx context.Context, id string, limit int) ([]string, error) {
	rows, err := tx.q.QueryContext(ctx, "SELECT id FROM api_keys WHERE ip_acl_id = $1 ORDER BY insert_instant, id LIMIT $2", id, limit)
	return scanAll(scanString)(rows, err)
}
