package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/latchid/latch/internal/model"
)

// ApplicationRow is an application as stored. Data is its whole JSON object
// without the fields that have columns (id, tenantId, name, active, instants),
// without its roles (application_roles) and without its secrets, which are in
// SecretsSealed (empty when it has none).
type ApplicationRow struct {
	ID                string
	TenantID          string
	Name              string
	Active            bool
	Data              string
	SecretsSealed     string
	InsertInstant     int64
	LastUpdateInstant int64
}

const applicationColumns = "id, tenant_id, name, active, data, secrets_sealed, insert_instant, last_update_instant"

func scanApplication(row scanner) (*ApplicationRow, error) {
	var a ApplicationRow
	var sealed sql.NullString
	if err := row.Scan(&a.ID, &a.TenantID, &a.Name, &a.Active, &a.Data, &sealed, &a.InsertInstant, &a.LastUpdateInstant); err != nil {
		return nil, err
	}
	a.SecretsSealed = sealed.String
	return &a, nil
}

// InsertApplicationRow stores a new application (roles are inserted apart).
func (tx *Tx) InsertApplicationRow(ctx context.Context, a *ApplicationRow) error {
	if err := tx.bumpIdentityConfig(ctx); err != nil {
		return err
	}
	_, err := tx.q.ExecContext(ctx, `INSERT INTO applications (id, tenant_id, name, active, data, secrets_sealed,
		insert_instant, last_update_instant) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		a.ID, a.TenantID, a.Name, a.Active, a.Data, nullString(a.SecretsSealed), a.InsertInstant, a.LastUpdateInstant)
	return err
}

// UpdateApplicationRow rewrites an application's name, data and secrets. The
// tenant and the active flag do not change here.
func (tx *Tx) UpdateApplicationRow(ctx context.Context, a *ApplicationRow) error {
	if err := tx.bumpIdentityConfig(ctx); err != nil {
		return err
	}
	res, err := tx.q.ExecContext(ctx, `UPDATE applications SET name = $2, data = $3, secrets_sealed = $4,
		last_update_instant = $5 WHERE id = $1`, a.ID, a.Name, a.Data, nullString(a.SecretsSealed), a.LastUpdateInstant)
	if err != nil {
		return err
	}
	return expectOne(res)
}

// SetApplicationActive deactivates or reactivates an application.
func (tx *Tx) SetApplicationActive(ctx context.Context, id string, active bool, now int64) error {
	if err := tx.bumpIdentityConfig(ctx); err != nil {
		return err
	}
	res, err := tx.q.ExecContext(ctx, "UPDATE applications SET active = $2, last_update_instant = $3 WHERE id = $1", id, active, now)
	if err != nil {
		return err
	}
	return expectOne(res)
}

// ApplicationByID finds an application; ErrNoRows when absent.
func (tx *Tx) ApplicationByID(ctx context.Context, id string) (*ApplicationRow, error) {
	return scanApplication(tx.q.QueryRowContext(ctx, "SELECT "+applicationColumns+" FROM applications WHERE id = $1", id))
}

// DeleteApplicationRow removes an application; its roles and registrations go
// with it (ON DELETE CASCADE).
func (tx *Tx) DeleteApplicationRow(ctx context.Context, id string) error {
	if err := tx.bumpIdentityConfig(ctx); err != nil {
		return err
	}
	res, err := tx.q.ExecContext(ctx, "DELETE FROM applications WHERE id = $1", id)
	if err != nil {
		return err
	}
	return expectOne(res)
}

// ApplicationQuery narrows and orders ListApplications and SearchApplications.
type ApplicationQuery struct {
	Name       string   // substring, case-insensitive; empty matches all
	TenantIDs  []string // nil: every tenant
	Active     *bool    // nil: both
	OrderBy    string   // one of ApplicationOrderColumns' keys; empty means name
	Descending bool
}

// ApplicationOrderColumns maps FusionAuth's orderBy fields (lower-cased) to columns.
var ApplicationOrderColumns = map[string]string{
	"id":                "id",
	"name":              "LOWER(name)",
	"tenantid":          "tenant_id",
	"insertinstant":     "insert_instant",
	"lastupdateinstant": "last_update_instant",
}

func (q ApplicationQuery) where() (string, []any, bool) {
	where := []string{"1 = 1"}
	var args []any
	if q.Name != "" {
		args = append(args, containsPattern(q.Name))
		where = append(where, fmt.Sprintf(`LOWER(name) LIKE $%d ESCAPE '\'`, len(args)))
	}
	if q.TenantIDs != nil {
		if len(q.TenantIDs) == 0 {
			return "", nil, false
		}
		in, idArgs := idInList(len(args)+1, q.TenantIDs)
		where = append(where, "tenant_id IN ("+in+")")
		args = append(args, idArgs...)
	}
	if q.Active != nil {
		args = append(args, *q.Active)
		where = append(where, fmt.Sprintf("active = $%d", len(args)))
	}
	return strings.Join(where, " AND "), args, true
}

// ListApplications returns every application that matches, in order.
func (tx *Tx) ListApplications(ctx context.Context, q ApplicationQuery) ([]*ApplicationRow, error) {
	col, err := mapOrderColumn(ApplicationOrderColumns, q.OrderBy, "LOWER(name)")
	if err != nil {
		return nil, err
	}
	cond, args, ok := q.where()
	if !ok {
		return nil, nil
	}
	dir := sortDirection(q.Descending)
	return scanAll(scanApplication)(tx.q.QueryContext(ctx, fmt.Sprintf("SELECT %s FROM applications WHERE %s ORDER BY %s %s, id %s",
		applicationColumns, cond, col, dir, dir), args...))
}

// SearchApplications returns a page of matching applications and their number.
func (tx *Tx) SearchApplications(ctx context.Context, q ApplicationQuery, offset, limit int) ([]*ApplicationRow, int, error) {
	col, err := mapOrderColumn(ApplicationOrderColumns, q.OrderBy, "LOWER(name)")
	if err != nil {
		return nil, 0, err
	}
	cond, args, ok := q.where()
	if !ok {
		return nil, 0, nil
	}
	var total int
	if err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM applications WHERE "+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	dir := sortDirection(q.Descending)
	args = append(args, limit, offset)
	out, err := scanAll(scanApplication)(tx.q.QueryContext(ctx, fmt.Sprintf("SELECT %s FROM applications WHERE %s ORDER BY %s %s, id %s LIMIT $%d OFFSET $%d",
		applicationColumns, cond, col, dir, dir, len(args)-1, len(args)), args...))
	return out, total, err
}

const roleColumns = "id, application_id, name, description, is_default, is_super_role, insert_instant, last_update_instant"

func scanRole(row scanner) (string, *model.ApplicationRole, error) {
	var r model.ApplicationRole
	var appID string
	if err := row.Scan(&r.ID, &appID, &r.Name, &r.Description, &r.IsDefault, &r.IsSuperRole, &r.InsertInstant, &r.LastUpdateInstant); err != nil {
		return "", nil, err
	}
	return appID, &r, nil
}

// RolesOfApplications returns the roles of each application, ordered by name
// as FusionAuth orders them. Applications without roles are absent from the map.
func (tx *Tx) RolesOfApplications(ctx context.Context, appIDs []string) (map[string][]model.ApplicationRole, error) {
	out := map[string][]model.ApplicationRole{}
	// Batches keep the statement under every driver's parameter limit.
	const batch = 500
	for start := 0; start < len(appIDs); start += batch {
		ids := appIDs[start:min(start+batch, len(appIDs))]
		in, args := idInList(1, ids)
		rows, err := tx.q.QueryContext(ctx, "SELECT "+roleColumns+" FROM application_roles WHERE application_id IN ("+in+") ORDER BY name, id", args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			appID, r, err := scanRole(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out[appID] = append(out[appID], *r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// RoleByID finds a role of an application; ErrNoRows when absent.
func (tx *Tx) RoleByID(ctx context.Context, appID, roleID string) (*model.ApplicationRole, error) {
	_, r, err := scanRole(tx.q.QueryRowContext(ctx, "SELECT "+roleColumns+" FROM application_roles WHERE application_id = $1 AND id = $2", appID, roleID))
	return r, err
}

// RoleByName finds a role of an application by its exact name; ErrNoRows when absent.
func (tx *Tx) RoleByName(ctx context.Context, appID, name string) (*model.ApplicationRole, error) {
	_, r, err := scanRole(tx.q.QueryRowContext(ctx, "SELECT "+roleColumns+" FROM application_roles WHERE application_id = $1 AND name = $2", appID, name))
	return r, err
}

// RoleIDExists reports whether any application has a role with this id.
func (tx *Tx) RoleIDExists(ctx context.Context, roleID string) (bool, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM application_roles WHERE id = $1", roleID).Scan(&n)
	return n > 0, err
}

// InsertApplicationRole stores a role of an application.
func (tx *Tx) InsertApplicationRole(ctx context.Context, appID string, r *model.ApplicationRole) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO application_roles (id, application_id, name, description, is_default,
		is_super_role, insert_instant, last_update_instant) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		r.ID, appID, r.Name, r.Description, r.IsDefault, r.IsSuperRole, r.InsertInstant, r.LastUpdateInstant)
	return err
}

// UpdateApplicationRole rewrites a role's fields.
func (tx *Tx) UpdateApplicationRole(ctx context.Context, appID string, r *model.ApplicationRole) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE application_roles SET name = $3, description = $4, is_default = $5,
		is_super_role = $6, last_update_instant = $7 WHERE application_id = $1 AND id = $2`,
		appID, r.ID, r.Name, r.Description, r.IsDefault, r.IsSuperRole, r.LastUpdateInstant)
	if err != nil {
		return err
	}
	return expectOne(res)
}

// DeleteApplicationRole removes a role. Registrations keep role names as
// text; the registrations work decides what happens to them.
func (tx *Tx) DeleteApplicationRole(ctx context.Context, appID, roleID string) error {
	res, err := tx.q.ExecContext(ctx, "DELETE FROM application_roles WHERE application_id = $1 AND id = $2", appID, roleID)
	if err != nil {
		return err
	}
	return expectOne(res)
}
