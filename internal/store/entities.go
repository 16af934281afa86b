package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Entity types, their permissions, entities and grants (migration 0040).

// EntityTypeRow is an entity type as stored. Data is its object without the
// columns and without its permissions.
type EntityTypeRow struct {
	ID                string
	Name              string
	Data              string
	InsertInstant     int64
	LastUpdateInstant int64
}

// PermissionRow is a permission of an entity type.
type PermissionRow struct {
	ID                string
	TypeID            string
	Name              string
	Description       string
	IsDefault         bool
	Data              string
	InsertInstant     int64
	LastUpdateInstant int64
}

// EntityRow is an entity as stored; the client secret only sealed and as a MAC.
type EntityRow struct {
	ID                string
	TenantID          string
	TypeID            string
	Name              string
	ClientID          string
	SecretSealed      string
	SecretMAC         string
	ParentID          string
	Data              string
	InsertInstant     int64
	LastUpdateInstant int64
}

// GrantRow is a grant on EntityID to a user or to another entity.
type GrantRow struct {
	ID                string
	EntityID          string
	UserID            string
	RecipientEntityID string
	Data              string
	InsertInstant     int64
	LastUpdateInstant int64
}

const entityTypeColumns = "id, name, data, insert_instant, last_update_instant"

func scanEntityType(row scanner) (*EntityTypeRow, error) {
	var r EntityTypeRow
	return &r, row.Scan(&r.ID, &r.Name, &r.Data, &r.InsertInstant, &r.LastUpdateInstant)
}

// InsertEntityType stores a new entity type (permissions apart).
func (tx *Tx) InsertEntityType(ctx context.Context, r *EntityTypeRow) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO entity_types (id, name, name_lower, data, insert_instant, last_update_instant)
		VALUES ($1, $2, $3, $4, $5, $6)`, r.ID, r.Name, strings.ToLower(r.Name), r.Data, r.InsertInstant, r.LastUpdateInstant)
	return err
}

// UpdateEntityType rewrites a type's name and data.
func (tx *Tx) UpdateEntityType(ctx context.Context, r *EntityTypeRow) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE entity_types SET name = $2, name_lower = $3, data = $4, last_update_instant = $5
		WHERE id = $1`, r.ID, r.Name, strings.ToLower(r.Name), r.Data, r.LastUpdateInstant)
	if err != nil {
		return err
	}
	return expectOne(res)
}

// TouchEntityType sets a type's last update (its permissions changed).
func (tx *Tx) TouchEntityType(ctx context.Context, id string, now int64) error {
	_, err := tx.q.ExecContext(ctx, "UPDATE entity_types SET last_update_instant = $2 WHERE id = $1", id, now)
	return err
}

// EntityTypeByID finds a type; ErrNoRows when absent.
func (tx *Tx) EntityTypeByID(ctx context.Context, id string) (*EntityTypeRow, error) {
	rows, err := scanAll(scanEntityType)(tx.q.QueryContext(ctx, "SELECT "+entityTypeColumns+" FROM entity_types WHERE id = $1", id))
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, ErrNoRows
	}
	return rows[0], nil
}

// EntityTypesByIDs returns the types that exist among ids, by id.
func (tx *Tx) EntityTypesByIDs(ctx context.Context, ids []string) (map[string]*EntityTypeRow, error) {
	out := map[string]*EntityTypeRow{}
	for start := 0; start < len(ids); start += inBatch {
		in, args := idInList(1, ids[start:min(start+inBatch, len(ids))])
		rows, err := scanAll(scanEntityType)(tx.q.QueryContext(ctx, "SELECT "+entityTypeColumns+" FROM entity_types WHERE id IN ("+in+")", args...))
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			out[r.ID] = r
		}
	}
	return out, nil
}

// EntityTypeNameTaken reports whether another type has the name, case-insensitively.
func (tx *Tx) EntityTypeNameTaken(ctx context.Context, name, exceptID string) (bool, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM entity_types WHERE name_lower = $1 AND id <> $2",
		strings.ToLower(name), exceptID).Scan(&n)
	return n > 0, err
}

// EntityTypeUniqueField names the unique constraint err violates: "name", "id" or "".
func EntityTypeUniqueField(err error) string {
	return uniqueField(err, "entity_types", [2]string{"name_lower", "name"})
}

// DeleteEntityType removes a type with its permissions, its entities and their grants.
func (tx *Tx) DeleteEntityType(ctx context.Context, id string) error {
	res, err := tx.q.ExecContext(ctx, "DELETE FROM entity_types WHERE id = $1", id)
	if err != nil {
		return err
	}
	return expectOne(res)
}

// EntityTypeQuery narrows and orders SearchEntityTypes.
type EntityTypeQuery struct {
	Name       string // substring, case-insensitive; empty matches all
	OrderBy    string // one of EntityTypeOrderColumns' keys; empty means name
	Descending bool
}

// EntityTypeOrderColumns maps FusionAuth's orderBy fields (lower-cased) to columns.
var EntityTypeOrderColumns = map[string]string{
	"id":                "id",
	"name":              "name_lower",
	"insertinstant":     "insert_instant",
	"lastupdateinstant": "last_update_instant",
}

// SearchEntityTypes returns a page of matching types and their number; limit
// < 0 returns them all.
func (tx *Tx) SearchEntityTypes(ctx context.Context, q EntityTypeQuery, offset, limit int) ([]*EntityTypeRow, int, error) {
	col, err := mapOrderColumn(EntityTypeOrderColumns, q.OrderBy, "name_lower")
	if err != nil {
		return nil, 0, err
	}
	cond, args := "1 = 1", []any{}
	if q.Name != "" {
		args = append(args, containsPattern(q.Name))
		cond = `name_lower LIKE $1 ESCAPE '\'`
	}
	return searchRows(ctx, tx, "entity_types", entityTypeColumns, cond, col, q.Descending, args, offset, limit, scanAll(scanEntityType))
}

// searchRows runs a paged search: the count, then the page in order (id
// breaks ties). limit < 0 returns every row without counting.
func searchRows[T any](ctx context.Context, tx *Tx, table, columns, cond, col string, desc bool, args []any, offset, limit int,
	scan func(*sql.Rows, error) ([]T, error)) ([]T, int, error) {
	dir := sortDirection(desc)
	query := fmt.Sprintf("SELECT %s FROM %s WHERE %s ORDER BY %s %s, id %s", columns, table, cond, col, dir, dir)
	total := 0
	if limit >= 0 {
		if err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table+" WHERE "+cond, args...).Scan(&total); err != nil {
			return nil, 0, err
		}
		args = append(args, limit, offset)
		query += fmt.Sprintf(" LIMIT $%d OFFSET $%d", len(args)-1, len(args))
	}
	out, err := scan(tx.q.QueryContext(ctx, query, args...))
	if limit < 0 {
		total = len(out)
	}
	return out, total, err
}

const permissionColumns = "id, entity_type_id, name, description, is_default, data, insert_instant, last_update_instant"

func scanPermission(row scanner) (*PermissionRow, error) {
	var p PermissionRow
	var desc sql.NullString
	err := row.Scan(&p.ID, &p.TypeID, &p.Name, &desc, &p.IsDefault, &p.Data, &p.InsertInstant, &p.LastUpdateInstant)
	p.Description = desc.String
	return &p, err
}

// PermissionsOfTypes returns each type's permissions ordered by name. Types
// without permissions are absent from the map.
func (tx *Tx) PermissionsOfTypes(ctx context.Context, typeIDs []string) (map[string][]*PermissionRow, error) {
	out := map[string][]*PermissionRow{}
	for start := 0; start < len(typeIDs); start += inBatch {
		in, args := idInList(1, typeIDs[start:min(start+inBatch, len(typeIDs))])
		rows, err := scanAll(scanPermission)(tx.q.QueryContext(ctx, "SELECT "+permissionColumns+
			" FROM entity_type_permissions WHERE entity_type_id IN ("+in+") ORDER BY name_lower, id", args...))
		if err != nil {
			return nil, err
		}
		for _, p := range rows {
			out[p.TypeID] = append(out[p.TypeID], p)
		}
	}
	return out, nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// InsertPermission stores a new permission of a type.
func (tx *Tx) InsertPermission(ctx context.Context, p *PermissionRow) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO entity_type_permissions (id, entity_type_id, name, name_lower, description,
		is_default, data, insert_instant, last_update_instant) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		p.ID, p.TypeID, p.Name, strings.ToLower(p.Name), nullable(p.Description), p.IsDefault, p.Data, p.InsertInstant, p.LastUpdateInstant)
	return err
}

// UpdatePermission rewrites a permission; its type does not change.
func (tx *Tx) UpdatePermission(ctx context.Context, p *PermissionRow) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE entity_type_permissions SET name = $2, name_lower = $3, description = $4,
		is_default = $5, data = $6, last_update_instant = $7 WHERE id = $1`,
		p.ID, p.Name, strings.ToLower(p.Name), nullable(p.Description), p.IsDefault, p.Data, p.LastUpdateInstant)
	if err != nil {
		return err
	}
	return expectOne(res)
}

// DeletePermission removes a permission, and with it every grant's hold of it.
func (tx *Tx) DeletePermission(ctx context.Context, id string) error {
	res, err := tx.q.ExecContext(ctx, "DELETE FROM entity_type_permissions WHERE id = $1", id)
	if err != nil {
		return err
	}
	return expectOne(res)
}

// PermissionUniqueField names the unique constraint err violates: "name", "id" or "".
func PermissionUniqueField(err error) string {
	return uniqueField(err, "entity_type_permissions", [2]string{"name_lower", "name"})
}

const entityColumns = `id, tenant_id, type_id, name, client_id, client_secret_sealed, client_secret_mac, parent_id, data,
	insert_instant, last_update_instant`

func scanEntity(row scanner) (*EntityRow, error) {
	var e EntityRow
	var parent sql.NullString
	err := row.Scan(&e.ID, &e.TenantID, &e.TypeID, &e.Name, &e.ClientID, &e.SecretSealed, &e.SecretMAC, &parent, &e.Data,
		&e.InsertInstant, &e.LastUpdateInstant)
	e.ParentID = parent.String
	return &e, err
}

func oneEntity(rows []*EntityRow, err error) (*EntityRow, error) {
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, ErrNoRows
	}
	return rows[0], nil
}

// InsertEntity stores a new entity. A taken id or client id is a unique
// violation; EntityUniqueField tells which.
func (tx *Tx) InsertEntity(ctx context.Context, e *EntityRow) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO entities (id, tenant_id, type_id, name, name_lower, client_id,
		client_secret_sealed, client_secret_mac, parent_id, data, insert_instant, last_update_instant)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		e.ID, e.TenantID, e.TypeID, e.Name, strings.ToLower(e.Name), e.ClientID, e.SecretSealed, e.SecretMAC,
		nullable(e.ParentID), e.Data, e.InsertInstant, e.LastUpdateInstant)
	return err
}

// UpdateEntity rewrites an entity; its tenant and type do not change.
func (tx *Tx) UpdateEntity(ctx context.Context, e *EntityRow) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE entities SET name = $2, name_lower = $3, client_id = $4,
		client_secret_sealed = $5, client_secret_mac = $6, parent_id = $7, data = $8, last_update_instant = $9 WHERE id = $1`,
		e.ID, e.Name, strings.ToLower(e.Name), e.ClientID, e.SecretSealed, e.SecretMAC, nullable(e.ParentID), e.Data, e.LastUpdateInstant)
	if err != nil {
		return err
	}
	return expectOne(res)
}

// EntityByID finds an entity; ErrNoRows when absent.
func (tx *Tx) EntityByID(ctx context.Context, id string) (*EntityRow, error) {
	return oneEntity(scanAll(scanEntity)(tx.q.QueryContext(ctx, "SELECT "+entityColumns+" FROM entities WHERE id = $1", id)))
}

// EntityTenant is the tenant of an entity (one indexed column, the
// introspection's check that a token's entity still exists); ErrNoRows
// when there is none.
func (tx *Tx) EntityTenant(ctx context.Context, id string) (string, error) {
	var tenantID string
	err := tx.q.QueryRowContext(ctx, "SELECT tenant_id FROM entities WHERE id = $1", id).Scan(&tenantID)
	return tenantID, err
}

// EntitiesByIDs returns the entities that exist among ids, by id.
func (tx *Tx) EntitiesByIDs(ctx context.Context, ids []string) (map[string]*EntityRow, error) {
	out := map[string]*EntityRow{}
	for start := 0; start < len(ids); start += inBatch {
		in, args := idInList(1, ids[start:min(start+inBatch, len(ids))])
		rows, err := scanAll(scanEntity)(tx.q.QueryContext(ctx, "SELECT "+entityColumns+" FROM entities WHERE id IN ("+in+")", args...))
		if err != nil {
			return nil, err
		}
		for _, e := range rows {
			out[e.ID] = e
		}
	}
	return out, nil
}

// ClientIDTaken reports whether another entity has the client id.
func (tx *Tx) ClientIDTaken(ctx context.Context, clientID, exceptID string) (bool, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM entities WHERE client_id = $1 AND id <> $2", clientID, exceptID).Scan(&n)
	return n > 0, err
}

// EntityUniqueField names the unique constraint err violates: "clientId", "id" or "".
func EntityUniqueField(err error) string {
	return uniqueField(err, "entities", [2]string{"client_id", "clientId"})
}

// DeleteEntity removes an entity with the grants on it and to it.
func (tx *Tx) DeleteEntity(ctx context.Context, id string) error {
	res, err := tx.q.ExecContext(ctx, "DELETE FROM entities WHERE id = $1", id)
	if err != nil {
		return err
	}
	return expectOne(res)
}

// EntityQuery narrows and orders SearchEntities. Every condition is ANDed.
type EntityQuery struct {
	IDs       []string // nil: any
	TenantIDs []string // nil: every tenant; empty: none
	TypeIDs   []string
	// NameWildcards are patterns the name must each match, case-insensitively:
	// * matches any run of characters, ? one character.
	NameWildcards []string
	ClientIDs     []string
	OrderBy       string // one of EntityOrderColumns' keys; empty means name
	Descending    bool
}

// EntityOrderColumns maps sort fields (lower-cased) to columns.
var EntityOrderColumns = map[string]string{
	"id":                "id",
	"name":              "name_lower",
	"clientid":          "client_id",
	"insertinstant":     "insert_instant",
	"lastupdateinstant": "last_update_instant",
	"tenantid":          "tenant_id",
	"typeid":            "type_id",
	"type.id":           "type_id",
}

// SearchEntities returns a page of matching entities and their number.
func (tx *Tx) SearchEntities(ctx context.Context, q EntityQuery, offset, limit int) ([]*EntityRow, int, error) {
	col, err := mapOrderColumn(EntityOrderColumns, q.OrderBy, "name_lower")
	if err != nil {
		return nil, 0, err
	}
	where := []string{"1 = 1"}
	var args []any
	for _, in := range []struct {
		col  string
		vals []string
	}{{"id", q.IDs}, {"tenant_id", q.TenantIDs}, {"type_id", q.TypeIDs}, {"client_id", q.ClientIDs}} {
		if in.vals == nil {
			continue
		}
		if len(in.vals) == 0 {
			return nil, 0, nil
		}
		list, more := idInList(len(args)+1, in.vals)
		where = append(where, in.col+" IN ("+list+")")
		args = append(args, more...)
	}
	for _, w := range q.NameWildcards {
		pattern := strings.NewReplacer("*", "%", "?", "_").Replace(escapeLike(strings.ToLower(w)))
		args = append(args, pattern)
		where = append(where, fmt.Sprintf(`name_lower LIKE $%d ESCAPE '\'`, len(args)))
	}
	return searchRows(ctx, tx, "entities", entityColumns, strings.Join(where, " AND "), col, q.Descending, args, offset, limit, scanAll(scanEntity))
}

const grantColumns = "id, entity_id, user_id, recipient_entity_id, data, insert_instant, last_update_instant"

func scanGrant(row scanner) (*GrantRow, error) {
	var g GrantRow
	var user, recipient sql.NullString
	err := row.Scan(&g.ID, &g.EntityID, &user, &recipient, &g.Data, &g.InsertInstant, &g.LastUpdateInstant)
	g.UserID, g.RecipientEntityID = user.String, recipient.String
	return &g, err
}

// GrantOf finds the grant on entityID to the user or the recipient entity
// (one of them ""); ErrNoRows when there is none.
func (tx *Tx) GrantOf(ctx context.Context, entityID, userID, recipientEntityID string) (*GrantRow, error) {
	col, who := "user_id", userID
	if userID == "" {
		col, who = "recipient_entity_id", recipientEntityID
	}
	rows, err := scanAll(scanGrant)(tx.q.QueryContext(ctx, "SELECT "+grantColumns+" FROM entity_grants WHERE entity_id = $1 AND "+col+" = $2",
		entityID, who))
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, ErrNoRows
	}
	return rows[0], nil
}

// InsertGrant stores a new grant (permissions apart). A second grant for the
// same pair is a unique violation.
func (tx *Tx) InsertGrant(ctx context.Context, g *GrantRow) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO entity_grants (id, entity_id, user_id, recipient_entity_id, data,
		insert_instant, last_update_instant) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		g.ID, g.EntityID, nullable(g.UserID), nullable(g.RecipientEntityID), g.Data, g.InsertInstant, g.LastUpdateInstant)
	return err
}

// UpdateGrant rewrites a grant's data.
func (tx *Tx) UpdateGrant(ctx context.Context, g *GrantRow) error {
	res, err := tx.q.ExecContext(ctx, "UPDATE entity_grants SET data = $2, last_update_instant = $3 WHERE id = $1",
		g.ID, g.Data, g.LastUpdateInstant)
	if err != nil {
		return err
	}
	return expectOne(res)
}

// SetGrantPermissions replaces the permissions a grant holds.
func (tx *Tx) SetGrantPermissions(ctx context.Context, grantID string, permissionIDs []string) error {
	if _, err := tx.q.ExecContext(ctx, "DELETE FROM entity_grant_permissions WHERE grant_id = $1", grantID); err != nil {
		return err
	}
	for _, p := range permissionIDs {
		if _, err := tx.q.ExecContext(ctx, "INSERT INTO entity_grant_permissions (grant_id, permission_id) VALUES ($1, $2)",
			grantID, p); err != nil {
			return err
		}
	}
	return nil
}

// DeleteGrant removes a grant.
func (tx *Tx) DeleteGrant(ctx context.Context, id string) error {
	res, err := tx.q.ExecContext(ctx, "DELETE FROM entity_grants WHERE id = $1", id)
	if err != nil {
		return err
	}
	return expectOne(res)
}

// PermissionNamesOfGrants returns the names of the permissions each grant
// holds, ordered. Grants without permissions are absent from the map.
func (tx *Tx) PermissionNamesOfGrants(ctx context.Context, grantIDs []string) (map[string][]string, error) {
	out := map[string][]string{}
	for start := 0; start < len(grantIDs); start += inBatch {
		in, args := idInList(1, grantIDs[start:min(start+inBatch, len(grantIDs))])
		rows, err := tx.q.QueryContext(ctx, `SELECT gp.grant_id, p.name FROM entity_grant_permissions gp
			JOIN entity_type_permissions p ON p.id = gp.permission_id WHERE gp.grant_id IN (`+in+`) ORDER BY p.name_lower, p.id`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id, name string
			if err := rows.Scan(&id, &name); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = append(out[id], name)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// GrantQuery narrows SearchGrants. Every condition is ANDed.
type GrantQuery struct {
	EntityID  string
	UserID    string
	Name      string   // substring of the granted entity's name, case-insensitive
	TenantIDs []string // of the granted entity; nil: every tenant
	OrderBy   string   // one of GrantOrderColumns' keys; empty means insertInstant
	Desc      bool
}

// GrantOrderColumns maps FusionAuth's orderBy fields (lower-cased) to columns.
var GrantOrderColumns = map[string]string{
	"id":                "id",
	"insertinstant":     "insert_instant",
	"lastupdateinstant": "last_update_instant",
	"entityid":          "entity_id",
	"userid":            "user_id",
	"name":              "(SELECT e.name_lower FROM entities e WHERE e.id = entity_grants.entity_id)",
}

// SearchGrants returns a page of matching grants and their number.
func (tx *Tx) SearchGrants(ctx context.Context, q GrantQuery, offset, limit int) ([]*GrantRow, int, error) {
	col, err := mapOrderColumn(GrantOrderColumns, q.OrderBy, "insert_instant")
	if err != nil {
		return nil, 0, err
	}
	where := []string{"1 = 1"}
	var args []any
	if q.EntityID != "" {
		args = append(args, q.EntityID)
		where = append(where, fmt.Sprintf("entity_id = $%d", len(args)))
	}
	if q.UserID != "" {
		args = append(args, q.UserID)
		where = append(where, fmt.Sprintf("user_id = $%d", len(args)))
	}
	var sub []string
	if q.Name != "" {
		args = append(args, containsPattern(q.Name))
		sub = append(sub, fmt.Sprintf(`e.name_lower LIKE $%d ESCAPE '\'`, len(args)))
	}
	if q.TenantIDs != nil {
		if len(q.TenantIDs) == 0 {
			return nil, 0, nil
		}
		list, more := idInList(len(args)+1, q.TenantIDs)
		sub = append(sub, "e.tenant_id IN ("+list+")")
		args = append(args, more...)
	}
	if len(sub) > 0 {
		where = append(where, "entity_id IN (SELECT e.id FROM entities e WHERE "+strings.Join(sub, " AND ")+")")
	}
	return searchRows(ctx, tx, "entity_grants", grantColumns, strings.Join(where, " AND "), col, q.Desc, args, offset, limit, scanAll(scanGrant))
}

// EntityClient finds an entity by its client id with its type's data, in
// one read (the token endpoint's); ErrNoRows when absent.
func (tx *Tx) EntityClient(ctx context.Context, clientID string) (*EntityRow, string, error) {
	var e EntityRow
	var parent sql.NullString
	var typeData string
	err := tx.q.QueryRowContext(ctx, `SELECT e.id, e.tenant_id, e.type_id, e.name, e.client_id, e.client_secret_sealed,
		e.client_secret_mac, e.parent_id, e.data, e.insert_instant, e.last_update_instant, t.data
		FROM entities e JOIN entity_types t ON t.id = e.type_id WHERE e.client_id = $1`, clientID).Scan(
		&e.ID, &e.TenantID, &e.TypeID, &e.Name, &e.ClientID, &e.SecretSealed, &e.SecretMAC, &parent, &e.Data,
		&e.InsertInstant, &e.LastUpdateInstant, &typeData)
	if err != nil {
		return nil, "", err
	}
	e.ParentID = parent.String
	return &e, typeData, nil
}

// GrantedPermissions returns the names of the permissions the recipient
// entity holds on each of targetIDs of the tenant, by target. Targets it
// holds no grant on (or of another tenant, or unknown) are absent; a grant
// without permissions maps to an empty list.
func (tx *Tx) GrantedPermissions(ctx context.Context, recipientEntityID, tenantID string, targetIDs []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(targetIDs) == 0 {
		return out, nil
	}
	in, args := idInList(3, targetIDs)
	rows, err := tx.q.QueryContext(ctx, `SELECT g.entity_id, p.name FROM entity_grants g
		JOIN entities t ON t.id = g.entity_id AND t.tenant_id = $2
		LEFT JOIN entity_grant_permissions gp ON gp.grant_id = g.id
		LEFT JOIN entity_type_permissions p ON p.id = gp.permission_id
		WHERE g.recipient_entity_id = $1 AND g.entity_id IN (`+in+`) ORDER BY g.entity_id, p.name_lower`,
		append([]any{recipientEntityID, tenantID}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var target string
		var name sql.NullString
		if err := rows.Scan(&target, &name); err != nil {
			return nil, err
		}
		list := out[target]
		if list == nil {
			list = []string{}
		}
		if name.Valid {
			list = append(list, name.String)
		}
		out[target] = list
	}
	return out, rows.Err()
}
