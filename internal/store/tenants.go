package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// TenantRow is a tenant as stored. Data is the tenant's whole JSON object
// without the fields that have columns (id, name, instants) and without its
// secrets, which are in SecretsSealed (empty when it has none).
type TenantRow struct {
	ID                string
	Name              string
	Data              string
	SecretsSealed     string
	InsertInstant     int64
	LastUpdateInstant int64
}

const tenantColumns = "id, name, data, secrets_sealed, insert_instant, last_update_instant"

func scanTenant(row scanner) (*TenantRow, error) {
	var t TenantRow
	var sealed sql.NullString
	if err := row.Scan(&t.ID, &t.Name, &t.Data, &sealed, &t.InsertInstant, &t.LastUpdateInstant); err != nil {
		return nil, err
	}
	t.SecretsSealed = sealed.String
	return &t, nil
}

// InsertTenantRow stores a new tenant.
func (tx *Tx) InsertTenantRow(ctx context.Context, t *TenantRow) error {
	if err := tx.bumpIdentityConfig(ctx); err != nil {
		return err
	}
	_, err := tx.q.ExecContext(ctx, `INSERT INTO tenants (id, name, name_lower, data, secrets_sealed, insert_instant,
		last_update_instant) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		t.ID, t.Name, strings.ToLower(t.Name), t.Data, nullString(t.SecretsSealed), t.InsertInstant, t.LastUpdateInstant)
	return err
}

// UpdateTenantRow rewrites a tenant's name, data and secrets.
func (tx *Tx) UpdateTenantRow(ctx context.Context, t *TenantRow) error {
	if err := tx.bumpIdentityConfig(ctx); err != nil {
		return err
	}
	res, err := tx.q.ExecContext(ctx, `UPDATE tenants SET name = $2, name_lower = $3, data = $4, secrets_sealed = $5,
		last_update_instant = $6 WHERE id = $1`,
		t.ID, t.Name, strings.ToLower(t.Name), t.Data, nullString(t.SecretsSealed), t.LastUpdateInstant)
	if err != nil {
		return err
	}
	return expectOne(res)
}

// TenantByID finds a tenant; ErrNoRows when absent.
func (tx *Tx) TenantByID(ctx context.Context, id string) (*TenantRow, error) {
	return scanTenant(tx.q.QueryRowContext(ctx, "SELECT "+tenantColumns+" FROM tenants WHERE id = $1", id))
}

// ListTenants returns the tenants with the given ids (all tenants when ids is
// nil), ordered by name.
func (tx *Tx) ListTenants(ctx context.Context, ids []string) ([]*TenantRow, error) {
	if ids == nil {
		return scanAll(scanTenant)(tx.q.QueryContext(ctx, "SELECT "+tenantColumns+" FROM tenants ORDER BY name_lower, id"))
	}
	if len(ids) == 0 {
		return nil, nil
	}
	in, args := idInList(1, ids)
	return scanAll(scanTenant)(tx.q.QueryContext(ctx, "SELECT "+tenantColumns+" FROM tenants WHERE id IN ("+in+") ORDER BY name_lower, id", args...))
}

// CountTenants counts tenants.
func (tx *Tx) CountTenants(ctx context.Context) (int, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM tenants").Scan(&n)
	return n, err
}

// TenantNameTaken reports whether another tenant (not exceptID) has this name,
// case-insensitively as the unique index compares.
func (tx *Tx) TenantNameTaken(ctx context.Context, name, exceptID string) (bool, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM tenants WHERE name_lower = $1 AND id <> $2",
		strings.ToLower(name), exceptID).Scan(&n)
	return n > 0, err
}

// TenantUniqueField tells which unique column of tenants a unique violation
// hit: "id", "name", or "" when it is neither.
func TenantUniqueField(err error) string {
	return uniqueField(err, "tenants", [2]string{"name_lower", "name"})
}

// TenantQuery narrows and orders SearchTenants.
type TenantQuery struct {
	Name       string   // substring, case-insensitive; empty matches all
	IDs        []string // nil: every tenant
	OrderBy    string   // one of TenantOrderColumns' keys; empty means name
	Descending bool
}

// TenantOrderColumns maps FusionAuth's orderBy fields (lower-cased) to columns.
// Only these reach the SQL text.
var TenantOrderColumns = map[string]string{
	"id":                "id",
	"name":              "name_lower",
	"insertinstant":     "insert_instant",
	"lastupdateinstant": "last_update_instant",
}

// SearchTenants returns a page of tenants and the number that match.
func (tx *Tx) SearchTenants(ctx context.Context, q TenantQuery, offset, limit int) ([]*TenantRow, int, error) {
	col, err := mapOrderColumn(TenantOrderColumns, q.OrderBy, "name_lower")
	if err != nil {
		return nil, 0, err
	}
	where := []string{`name_lower LIKE $1 ESCAPE '\'`}
	args := []any{containsPattern(q.Name)}
	if q.IDs != nil {
		if len(q.IDs) == 0 {
			return nil, 0, nil
		}
		in, idArgs := idInList(len(args)+1, q.IDs)
		where = append(where, "id IN ("+in+")")
		args = append(args, idArgs...)
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM tenants WHERE "+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	dir := sortDirection(q.Descending)
	args = append(args, limit, offset)
	rows, err := tx.q.QueryContext(ctx, fmt.Sprintf("SELECT %s FROM tenants WHERE %s ORDER BY %s %s, id %s LIMIT $%d OFFSET $%d",
		tenantColumns, cond, col, dir, dir, len(args)-1, len(args)), args...)
	out, err := scanAll(scanTenant)(rows, err)
	return out, total, err
}

// DeleteTenantCascade removes a tenant and everything that belongs to it. The
// schema cascades registrations and roles from users and applications; users
// and applications themselves reference the tenant without a cascade, so that
// nothing deletes a tenant's users by accident. Tables that later hold tenant
// data (groups, …) must be added here.
func (tx *Tx) DeleteTenantCascade(ctx context.Context, id string) error {
	if err := tx.bumpIdentityConfig(ctx); err != nil {
		return err
	}
	for _, stmt := range []string{
		"DELETE FROM users WHERE tenant_id = $1",
		"DELETE FROM applications WHERE tenant_id = $1",
	} {
		if _, err := tx.q.ExecContext(ctx, stmt, id); err != nil {
			return fmt.Errorf("%s: %w", stmt, err)
		}
	}
	res, err := tx.q.ExecContext(ctx, "DELETE FROM tenants WHERE id = $1", id)
	if err != nil {
		return err
	}
	return expectOne(res)
}

// APIKeysOfTenant returns the keys limited to the tenant (alone or among
// others).
func (tx *Tx) APIKeysOfTenant(ctx context.Context, tenantID string) ([]*APIKeyRow, error) {
	rows, err := tx.q.QueryContext(ctx, "SELECT "+apiKeyColumns+` FROM api_keys WHERE tenant_ids LIKE $1 ESCAPE '\'
		ORDER BY insert_instant, id`, `%"`+escapeLike(tenantID)+`"%`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*APIKeyRow
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, err
		}
		if slices.Contains(k.Tenants(), tenantID) { // LIKE is a pre-filter only
			out = append(out, k)
		}
	}
	return out, rows.Err()
}

// idInList makes "$first, $first+1, …" for an IN clause over values.
func idInList(first int, values []string) (string, []any) {
	marks := make([]string, len(values))
	args := make([]any, len(values))
	for i, v := range values {
		marks[i] = fmt.Sprintf("$%d", first+i)
		args[i] = v
	}
	return strings.Join(marks, ", "), args
}

// mapOrderColumn maps an orderBy field to its column; empty means def.
func mapOrderColumn(columns map[string]string, orderBy, def string) (string, error) {
	if orderBy == "" {
		return def, nil
	}
	c, ok := columns[strings.ToLower(orderBy)]
	if !ok {
		return "", fmt.Errorf("unknown order %q", orderBy)
	}
	return c, nil
}

func sortDirection(desc bool) string {
	if desc {
		return "DESC"
	}
	return "ASC"
}
