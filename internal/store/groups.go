package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/latchid/latch/internal/model"
)

// GroupRow is a group as stored. Data is its whole JSON object without the
// fields that have columns (id, tenantId, name, instants) and without its
// roles (group_roles).
type GroupRow struct {
	ID                string
	TenantID          string
	Name              string
	Data              string
	InsertInstant     int64
	LastUpdateInstant int64
}

const groupColumns = "id, tenant_id, name, data, insert_instant, last_update_instant"

func scanGroup(row scanner) (*GroupRow, error) {
	var g GroupRow
	if err := row.Scan(&g.ID, &g.TenantID, &g.Name, &g.Data, &g.InsertInstant, &g.LastUpdateInstant); err != nil {
		return nil, err
	}
	return &g, nil
}

// InsertGroupRow stores a new group (roles are set apart).
func (tx *Tx) InsertGroupRow(ctx context.Context, g *GroupRow) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO groups (id, tenant_id, name, name_lower, data, insert_instant,
		last_update_instant) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		g.ID, g.TenantID, g.Name, strings.ToLower(g.Name), g.Data, g.InsertInstant, g.LastUpdateInstant)
	return err
}

// UpdateGroupRow rewrites a group's name and data; its tenant does not change.
func (tx *Tx) UpdateGroupRow(ctx context.Context, g *GroupRow) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE groups SET name = $2, name_lower = $3, data = $4, last_update_instant = $5
		WHERE id = $1`, g.ID, g.Name, strings.ToLower(g.Name), g.Data, g.LastUpdateInstant)
	if err != nil {
		return err
	}
	return expectOne(res)
}

// GroupByID finds a group; ErrNoRows when absent.
func (tx *Tx) GroupByID(ctx context.Context, id string) (*GroupRow, error) {
	return scanGroup(tx.q.QueryRowContext(ctx, "SELECT "+groupColumns+" FROM groups WHERE id = $1", id))
}

// GroupsByIDs returns the groups that exist among ids, by id.
func (tx *Tx) GroupsByIDs(ctx context.Context, ids []string) (map[string]*GroupRow, error) {
	out := map[string]*GroupRow{}
	for start := 0; start < len(ids); start += inBatch {
		part := ids[start:min(start+inBatch, len(ids))]
		in, args := idInList(1, part)
		rows, err := scanAll(scanGroup)(tx.q.QueryContext(ctx, "SELECT "+groupColumns+" FROM groups WHERE id IN ("+in+")", args...))
		if err != nil {
			return nil, err
		}
		for _, g := range rows {
			out[g.ID] = g
		}
	}
	return out, nil
}

// GroupNameTaken reports whether another group of the tenant (not exceptID)
// has the name, case-insensitively.
func (tx *Tx) GroupNameTaken(ctx context.Context, tenantID, name, exceptID string) (bool, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM groups WHERE tenant_id = $1 AND name_lower = $2 AND id <> $3",
		tenantID, strings.ToLower(name), exceptID).Scan(&n)
	return n > 0, err
}

// GroupUniqueField names the unique constraint err violates: "name", "id" or "".
func GroupUniqueField(err error) string {
	return uniqueField(err, "groups", [2]string{"name_lower", "name"})
}

// DeleteGroupRow removes a group; its roles and members go with it.
func (tx *Tx) DeleteGroupRow(ctx context.Context, id string) error {
	res, err := tx.q.ExecContext(ctx, "DELETE FROM groups WHERE id = $1", id)
	if err != nil {
		return err
	}
	return expectOne(res)
}

// GroupQuery narrows and orders ListGroups and SearchGroups.
type GroupQuery struct {
	Name       string   // substring, case-insensitive; empty matches all
	TenantIDs  []string // nil: every tenant
	OrderBy    string   // one of GroupOrderColumns' keys; empty means name
	Descending bool
}

// GroupOrderColumns maps FusionAuth's orderBy fields (lower-cased) to columns.
var GroupOrderColumns = map[string]string{
	"id":                "id",
	"name":              "name_lower",
	"insertinstant":     "insert_instant",
	"lastupdateinstant": "last_update_instant",
	"tenantid":          "tenant_id",
	"tenant":            "(SELECT LOWER(t.name) FROM tenants t WHERE t.id = groups.tenant_id)",
}

func (q GroupQuery) where() (string, []any, bool) {
	where := []string{"1 = 1"}
	var args []any
	if q.Name != "" {
		args = append(args, containsPattern(q.Name))
		where = append(where, fmt.Sprintf(`name_lower LIKE $%d ESCAPE '\'`, len(args)))
	}
	if q.TenantIDs != nil {
		if len(q.TenantIDs) == 0 {
			return "", nil, false
		}
		in, idArgs := idInList(len(args)+1, q.TenantIDs)
		where = append(where, "tenant_id IN ("+in+")")
		args = append(args, idArgs...)
	}
	return strings.Join(where, " AND "), args, true
}

// ListGroups returns every group that matches, in order.
func (tx *Tx) ListGroups(ctx context.Context, q GroupQuery) ([]*GroupRow, error) {
	out, _, err := tx.searchGroups(ctx, q, 0, -1)
	return out, err
}

// SearchGroups returns a page of matching groups and their number.
func (tx *Tx) SearchGroups(ctx context.Context, q GroupQuery, offset, limit int) ([]*GroupRow, int, error) {
	return tx.searchGroups(ctx, q, offset, limit)
}

// searchGroups pages when limit >= 0 (and counts); limit < 0 lists all.
func (tx *Tx) searchGroups(ctx context.Context, q GroupQuery, offset, limit int) ([]*GroupRow, int, error) {
	col, err := mapOrderColumn(GroupOrderColumns, q.OrderBy, "name_lower")
	if err != nil {
		return nil, 0, err
	}
	cond, args, ok := q.where()
	if !ok {
		return nil, 0, nil
	}
	dir := sortDirection(q.Descending)
	query := fmt.Sprintf("SELECT %s FROM groups WHERE %s ORDER BY %s %s, id %s", groupColumns, cond, col, dir, dir)
	total := 0
	if limit >= 0 {
		if err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM groups WHERE "+cond, args...).Scan(&total); err != nil {
			return nil, 0, err
		}
		args = append(args, limit, offset)
		query += fmt.Sprintf(" LIMIT $%d OFFSET $%d", len(args)-1, len(args))
	}
	out, err := scanAll(scanGroup)(tx.q.QueryContext(ctx, query, args...))
	if limit < 0 {
		total = len(out)
	}
	return out, total, err
}

// GroupRole is a role a group grants, with its application.
type GroupRole struct {
	ApplicationID string
	Role          model.ApplicationRole
}

// RolesOfGroups returns the roles each group grants, ordered by application
// and role name. Groups without roles are absent from the map.
func (tx *Tx) RolesOfGroups(ctx context.Context, groupIDs []string) (map[string][]GroupRole, error) {
	out := map[string][]GroupRole{}
	for start := 0; start < len(groupIDs); start += inBatch {
		ids := groupIDs[start:min(start+inBatch, len(groupIDs))]
		in, args := idInList(1, ids)
		rows, err := tx.q.QueryContext(ctx, `SELECT gr.group_id, r.id, r.application_id, r.name, r.description, r.is_default,
			r.is_super_role, r.insert_instant, r.last_update_instant
			FROM group_roles gr JOIN application_roles r ON r.id = gr.role_id
			WHERE gr.group_id IN (`+in+`) ORDER BY r.application_id, r.name, r.id`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var groupID string
			var gr GroupRole
			r := &gr.Role
			if err := rows.Scan(&groupID, &r.ID, &gr.ApplicationID, &r.Name, &r.Description, &r.IsDefault, &r.IsSuperRole,
				&r.InsertInstant, &r.LastUpdateInstant); err != nil {
				rows.Close()
				return nil, err
			}
			out[groupID] = append(out[groupID], gr)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// RolesInTenant returns, among roleIDs, the roles of applications of the
// tenant, by role id.
func (tx *Tx) RolesInTenant(ctx context.Context, tenantID string, roleIDs []string) (map[string]GroupRole, error) {
	out := map[string]GroupRole{}
	for start := 0; start < len(roleIDs); start += inBatch {
		ids := roleIDs[start:min(start+inBatch, len(roleIDs))]
		in, args := idInList(2, ids)
		rows, err := tx.q.QueryContext(ctx, `SELECT r.id, r.application_id, r.name, r.description, r.is_default,
			r.is_super_role, r.insert_instant, r.last_update_instant
			FROM application_roles r JOIN applications a ON a.id = r.application_id
			WHERE a.tenant_id = $1 AND r.id IN (`+in+`)`, append([]any{tenantID}, args...)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var gr GroupRole
			r := &gr.Role
			if err := rows.Scan(&r.ID, &gr.ApplicationID, &r.Name, &r.Description, &r.IsDefault, &r.IsSuperRole,
				&r.InsertInstant, &r.LastUpdateInstant); err != nil {
				rows.Close()
				return nil, err
			}
			out[r.ID] = gr
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// SetGroupRoles replaces the roles a group grants.
func (tx *Tx) SetGroupRoles(ctx context.Context, groupID string, roleIDs []string) error {
	if _, err := tx.q.ExecContext(ctx, "DELETE FROM group_roles WHERE group_id = $1", groupID); err != nil {
		return err
	}
	for _, id := range roleIDs {
		if _, err := tx.q.ExecContext(ctx, "INSERT INTO group_roles (group_id, role_id) VALUES ($1, $2)", groupID, id); err != nil {
			return err
		}
	}
	return nil
}

// GroupMemberRow is a user's membership in a group. Data is the member's
// data object as JSON.
type GroupMemberRow struct {
	ID            string
	GroupID       string
	UserID        string
	Data          string
	InsertInstant int64
}

const memberColumns = "id, group_id, user_id, data, insert_instant"

func scanMember(row scanner) (*GroupMemberRow, error) {
	var m GroupMemberRow
	if err := row.Scan(&m.ID, &m.GroupID, &m.UserID, &m.Data, &m.InsertInstant); err != nil {
		return nil, err
	}
	return &m, nil
}

// InsertGroupMember stores a membership.
func (tx *Tx) InsertGroupMember(ctx context.Context, m *GroupMemberRow) error {
	_, err := tx.q.ExecContext(ctx, "INSERT INTO group_members ("+memberColumns+") VALUES ($1, $2, $3, $4, $5)",
		m.ID, m.GroupID, m.UserID, m.Data, m.InsertInstant)
	return err
}

// MemberIDsTaken returns which of ids are ids of memberships.
func (tx *Tx) MemberIDsTaken(ctx context.Context, ids []string) (map[string]bool, error) {
	members, err := tx.MembersByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(members))
	for id := range members {
		out[id] = true
	}
	return out, nil
}

// MembersByIDs returns the memberships that exist among ids, by id.
func (tx *Tx) MembersByIDs(ctx context.Context, ids []string) (map[string]*GroupMemberRow, error) {
	out := map[string]*GroupMemberRow{}
	for start := 0; start < len(ids); start += inBatch {
		part := ids[start:min(start+inBatch, len(ids))]
		in, args := idInList(1, part)
		rows, err := scanAll(scanMember)(tx.q.QueryContext(ctx, "SELECT "+memberColumns+" FROM group_members WHERE id IN ("+in+")", args...))
		if err != nil {
			return nil, err
		}
		for _, m := range rows {
			out[m.ID] = m
		}
	}
	return out, nil
}

// MembersOfGroup returns the memberships of a group, oldest first.
func (tx *Tx) MembersOfGroup(ctx context.Context, groupID string) ([]*GroupMemberRow, error) {
	return scanAll(scanMember)(tx.q.QueryContext(ctx, "SELECT "+memberColumns+
		" FROM group_members WHERE group_id = $1 ORDER BY insert_instant, id", groupID))
}

// MembershipsOfUsers returns the memberships of each user, oldest first.
// Users without memberships are absent from the map.
func (tx *Tx) MembershipsOfUsers(ctx context.Context, userIDs []string) (map[string][]*GroupMemberRow, error) {
	out := map[string][]*GroupMemberRow{}
	for start := 0; start < len(userIDs); start += inBatch {
		ids := userIDs[start:min(start+inBatch, len(userIDs))]
		in, args := idInList(1, ids)
		rows, err := scanAll(scanMember)(tx.q.QueryContext(ctx, "SELECT "+memberColumns+
			" FROM group_members WHERE user_id IN ("+in+") ORDER BY insert_instant, id", args...))
		if err != nil {
			return nil, err
		}
		for _, m := range rows {
			out[m.UserID] = append(out[m.UserID], m)
		}
	}
	return out, nil
}

// DeleteGroupMembers removes memberships by id.
func (tx *Tx) DeleteGroupMembers(ctx context.Context, ids []string) error {
	for start := 0; start < len(ids); start += inBatch {
		part := ids[start:min(start+inBatch, len(ids))]
		in, args := idInList(1, part)
		if _, err := tx.q.ExecContext(ctx, "DELETE FROM group_members WHERE id IN ("+in+")", args...); err != nil {
			return err
		}
	}
	return nil
}

// MemberQuery narrows SearchGroupMembers.
type MemberQuery struct {
	GroupID    string
	UserID     string
	TenantIDs  []string // nil: every tenant (the group's tenant)
	OrderBy    string   // one of MemberOrderColumns' keys; empty means insertInstant
	Descending bool
}

// MemberOrderColumns maps FusionAuth's orderBy fields (lower-cased) to columns.
var MemberOrderColumns = map[string]string{
	"id":            "m.id",
	"groupid":       "m.group_id",
	"userid":        "m.user_id",
	"insertinstant": "m.insert_instant",
}

// SearchGroupMembers returns a page of matching memberships and their number.
func (tx *Tx) SearchGroupMembers(ctx context.Context, q MemberQuery, offset, limit int) ([]*GroupMemberRow, int, error) {
	col, err := mapOrderColumn(MemberOrderColumns, q.OrderBy, "m.insert_instant")
	if err != nil {
		return nil, 0, err
	}
	where := []string{"1 = 1"}
	var args []any
	if q.GroupID != "" {
		args = append(args, q.GroupID)
		where = append(where, fmt.Sprintf("m.group_id = $%d", len(args)))
	}
	if q.UserID != "" {
		args = append(args, q.UserID)
		where = append(where, fmt.Sprintf("m.user_id = $%d", len(args)))
	}
	if q.TenantIDs != nil {
		if len(q.TenantIDs) == 0 {
			return nil, 0, nil
		}
		in, idArgs := idInList(len(args)+1, q.TenantIDs)
		where = append(where, "g.tenant_id IN ("+in+")")
		args = append(args, idArgs...)
	}
	cond := strings.Join(where, " AND ")
	from := "group_members m JOIN groups g ON g.id = m.group_id"
	var total int
	if err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+from+" WHERE "+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	dir := sortDirection(q.Descending)
	args = append(args, limit, offset)
	out, err := scanAll(scanMember)(tx.q.QueryContext(ctx, fmt.Sprintf(
		"SELECT m.id, m.group_id, m.user_id, m.data, m.insert_instant FROM %s WHERE %s ORDER BY %s %s, m.id %s LIMIT $%d OFFSET $%d",
		from, cond, col, dir, dir, len(args)-1, len(args)), args...))
	return out, total, err
}
