package groups

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/tenancy"
)

// Groups and their members, FusionAuth's /api/group and /api/group/member. A
// group is a model.Group, kept whole: Latch owns id, tenantId, name, roles
// and the instants (columns and rows of their own); data and whatever else a
// client sent are stored in the data column and echoed as sent. A group grants application roles of
// its tenant (set with the request's roleIds); a member inherits them on every
// application the member is registered to (see EffectiveRoles).

const groupField = "group"

// groupFields are the member names of a group object, matched exactly (the
// names alone: a client's roles are ignored, whatever they hold).
var groupFields = model.FieldsOf(nil, append(slices.Clone(model.GroupOwnedFields), "data")...)

// groupRequestFields are the members of FusionAuth's GroupRequest.
var groupRequestFields = model.FieldsOf(nil, groupField, "roleIds")

// memberRequestFields are the members of FusionAuth's MemberRequest and
// MemberDeleteRequest (whose members lists hold user ids instead).
var memberRequestFields = model.FieldsOf(struct {
	Members map[string][]struct {
		ID     string          `json:"id"`
		UserID string          `json:"userId"`
		Data   json.RawMessage `json:"data"`
	} `json:"members"`
	MemberIDs []string `json:"memberIds"`
}{})

// GroupSearch is FusionAuth's GroupSearchCriteria.
type GroupSearch struct {
	Name            string `json:"name"`
	TenantID        string `json:"tenantId"`
	OrderBy         string `json:"orderBy"`
	StartRow        int    `json:"startRow"`
	NumberOfResults int    `json:"numberOfResults"`
}

// MemberSearch is FusionAuth's GroupMemberSearchCriteria.
type MemberSearch struct {
	GroupID         string `json:"groupId"`
	UserID          string `json:"userId"`
	TenantID        string `json:"tenantId"`
	OrderBy         string `json:"orderBy"`
	StartRow        int    `json:"startRow"`
	NumberOfResults int    `json:"numberOfResults"`
}

func groupLabel(name, id string) string { return fmt.Sprintf("[%s] (%s)", name, id) }

// groupOf builds the group a client sees from a stored row: the stored
// document (data and the members Latch does not interpret) with the row's
// columns, and roles a map of application id to the roles the group grants
// on it.
func groupOf(row *store.GroupRow, roles []store.GroupRole) (model.Group, error) {
	o, err := kit.StoredObject(row.Data, groupFields)
	if err != nil {
		return model.Group{}, fmt.Errorf("group %s data: %w", row.ID, err)
	}
	if o["data"] == nil {
		o["data"] = kit.Object{}
	}
	// The columns go into the document before decoding, so that the bag
	// records none of them as absent.
	o["id"], o["tenantId"], o["name"], o["roles"] = row.ID, row.TenantID, row.Name, kit.Object{}
	o["insertInstant"] = json.Number(strconv.FormatInt(row.InsertInstant, 10))
	o["lastUpdateInstant"] = json.Number(strconv.FormatInt(row.LastUpdateInstant, 10))
	var g model.Group
	if err := g.UnmarshalTree(o); err != nil {
		return model.Group{}, fmt.Errorf("group %s data: %w", row.ID, err)
	}
	for _, gr := range roles {
		g.Roles[gr.ApplicationID] = append(g.Roles[gr.ApplicationID], gr.Role)
	}
	return g, nil
}

// storedGroup is the document stored in a group's data column: the group
// without the members its columns and roles hold.
func storedGroup(g *model.Group) (string, error) {
	t, err := g.Tree()
	if err != nil {
		return "", err
	}
	for _, f := range model.GroupOwnedFields {
		delete(t, f)
	}
	if g.Data == nil { // not sent (a group built in Go; a client's bag says so itself)
		delete(t, "data")
	}
	return kit.EncodeObject(t)
}

func groupRoleIDs(roles []store.GroupRole) []any {
	out := make([]any, len(roles))
	for i, gr := range roles {
		out[i] = gr.Role.ID
	}
	return out
}

// groupRoles resolves role ids to roles of applications of the tenant; others
// are "[invalid]roleIds[i]", as FusionAuth reports them.
func groupRoles(ctx context.Context, tx *store.Tx, tenantID string, ids []string) ([]store.GroupRole, error) {
	found, err := tx.RolesInTenant(ctx, tenantID, ids)
	if err != nil {
		return nil, err
	}
	verrs := &model.Errors{}
	out := make([]store.GroupRole, 0, len(ids))
	for i, id := range ids {
		gr, ok := found[id]
		if !ok {
			f := fmt.Sprintf("roleIds[%d]", i)
			verrs.Field(f, "invalid", fmt.Sprintf("No role with id [%s] exists on an application of the group's tenant.", id))
			continue
		}
		out = append(out, gr)
	}
	if err := verrs.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b store.GroupRole) int {
		if c := strings.Compare(a.ApplicationID, b.ApplicationID); c != 0 {
			return c
		}
		if c := strings.Compare(a.Role.Name, b.Role.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Role.ID, b.Role.ID)
	})
	return out, nil
}

// loadGroup reads a group and its roles within the scope.
func loadGroup(ctx context.Context, tx *store.Tx, scope kit.TenantScope, id string) (*store.GroupRow, []store.GroupRole, error) {
	id, ok := kit.CanonicalID(id)
	if !ok {
		return nil, nil, model.NotFoundf("group %s", id)
	}
	row, err := tx.GroupByID(ctx, id)
	if errors.Is(err, store.ErrNoRows) || (err == nil && !scope.CanSee(row.TenantID)) {
		return nil, nil, model.NotFoundf("group %s", id)
	}
	if err != nil {
		return nil, nil, err
	}
	roles, err := tx.RolesOfGroups(ctx, []string{id})
	if err != nil {
		return nil, nil, err
	}
	return row, roles[id], nil
}

func groupsOf(ctx context.Context, tx *store.Tx, rows []*store.GroupRow) ([]model.Group, error) {
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	roles, err := tx.RolesOfGroups(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]model.Group, 0, len(rows))
	for _, row := range rows {
		g, err := groupOf(row, roles[row.ID])
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}

// groupWriteError explains a unique violation a concurrent writer caused
// after the checks passed.
func groupWriteError(err error) error {
	switch store.GroupUniqueField(err) {
	case "name":
		return model.FieldError(groupField+".name", "duplicate", "A group with this name already exists in the tenant.")
	case "id":
		return model.FieldError("groupId", "duplicate", "A group with this id already exists.")
	}
	return err
}

// CreateGroup creates a group from a GroupRequest. id may be "" (one is
// generated, or the group's id is taken) or a chosen UUID.
func (s *Service) CreateGroup(ctx context.Context, actor kit.Actor, scope kit.TenantScope, id string, req *GroupRequest) (*model.Group, error) {
	verrs := &model.Errors{}
	if id != "" {
		var ok bool
		if id, ok = kit.CanonicalID(id); !ok {
			verrs.Field("groupId", "invalid", "The group id must be a UUID.")
		}
	}
	if id == "" { // none in the path, or an invalid one: the group's, or a new one
		id = kit.NewOrGivenID(req.Group.ID, groupField+".id", verrs)
	}
	name, roleIDs := req.check(verrs)
	if err := verrs.Err(); err != nil {
		return nil, err
	}
	g, err := req.decoded(name)
	if err != nil {
		return nil, err
	}
	var out model.Group
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		tenantID, err := tenancy.ResolveTenantOf(ctx, tx, scope, groupField+".tenantId", req.givenTenant(), "")
		if err != nil {
			return err
		}
		if _, err := tx.GroupByID(ctx, id); err == nil {
			return model.FieldError("groupId", "duplicate", "A group with this id already exists.")
		} else if !errors.Is(err, store.ErrNoRows) {
			return err
		}
		if taken, err := tx.GroupNameTaken(ctx, tenantID, name, id); err != nil {
			return err
		} else if taken {
			return model.FieldError(groupField+".name", "duplicate", "A group with this name already exists in the tenant.")
		}
		roles, err := groupRoles(ctx, tx, tenantID, roleIDs)
		if err != nil {
			return err
		}
		data, err := storedGroup(&g)
		if err != nil {
			return err
		}
		now := s.now()
		row := &store.GroupRow{ID: id, TenantID: tenantID, Name: name, Data: data, InsertInstant: now, LastUpdateInstant: now}
		if err := tx.InsertGroupRow(ctx, row); err != nil {
			if store.IsUnique(err) {
				return groupWriteError(err)
			}
			return fmt.Errorf("store group: %w", err)
		}
		if err := tx.SetGroupRoles(ctx, id, roleIDs); err != nil {
			return fmt.Errorf("store group roles: %w", err)
		}
		if out, err = groupOf(row, roles); err != nil {
			return err
		}
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: "Created group " + groupLabel(name, id), TargetID: id, New: out,
			Data: map[string]any{"tenantId": tenantID}, Events: groupEvents(model.EventGroupCreate, tenantID, id, groupAtHand(out), nil)})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Group returns one group, or model.ErrNotFound (also for groups of tenants
// outside the scope).
func (s *Service) Group(ctx context.Context, scope kit.TenantScope, id string) (*model.Group, error) {
	row, roles, err := loadGroup(ctx, s.store.Read(), scope, id)
	if err != nil {
		return nil, err
	}
	g, err := groupOf(row, roles)
	if err != nil {
		return nil, err
	}
	return &g, nil
}

// Groups returns every group in the scope, ordered by name.
func (s *Service) Groups(ctx context.Context, scope kit.TenantScope) ([]model.Group, error) {
	rd := s.store.Read()
	rows, err := rd.ListGroups(ctx, store.GroupQuery{TenantIDs: scope.Tenants})
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	return groupsOf(ctx, rd, rows)
}

// SearchGroups is FusionAuth's group search, limited to the scope. The name
// matches anywhere, case-insensitively; "*" is accepted and means what a
// substring match already does.
func (s *Service) SearchGroups(ctx context.Context, scope kit.TenantScope, q GroupSearch) ([]model.Group, int, error) {
	var verrs model.Errors
	offset, limit := kit.PageWindow(&verrs, q.StartRow, q.NumberOfResults)
	col, desc, ok := kit.ParseOrderBy(q.OrderBy, store.GroupOrderColumns)
	if !ok {
		verrs.Field("search.orderBy", "invalid", "orderBy must be one of id, insertInstant, lastUpdateInstant, name, tenant or tenantId, optionally followed by ASC or DESC.")
	}
	query := store.GroupQuery{Name: strings.ReplaceAll(strings.TrimSpace(q.Name), "*", ""), TenantIDs: scope.Tenants, OrderBy: col, Descending: desc}
	none := kit.NarrowToTenant(scope, q.TenantID, &query.TenantIDs, &verrs)
	if scope.Tenant() != "" { // FusionAuth: the request's tenant overrides the criteria's
		query.TenantIDs, none = scope.Tenants, false
	}
	if err := verrs.Err(); err != nil {
		return nil, 0, err
	}
	if none {
		return []model.Group{}, 0, nil
	}
	rd := s.store.Read()
	rows, total, err := rd.SearchGroups(ctx, query, offset, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("search groups: %w", err)
	}
	out, err := groupsOf(ctx, rd, rows)
	return out, total, err
}

// UpdateGroup replaces a group with a GroupRequest: the group object, and
// the roles of roleIds (none when absent, as in FusionAuth).
func (s *Service) UpdateGroup(ctx context.Context, actor kit.Actor, scope kit.TenantScope, id string, req *GroupRequest) (*model.Group, error) {
	return s.changeGroup(ctx, actor, scope, id, func(kit.Object) (*GroupRequest, error) { return req, nil })
}

// PatchGroup applies a patch in one of FusionAuth's three forms to the group
// in request form ({"group":{…},"roleIds":[current role ids]}) and validates
// the result as an update. FusionAuth's form appends to roleIds.
func (s *Service) PatchGroup(ctx context.Context, actor kit.Actor, scope kit.TenantScope, id string, form model.PatchForm, patch []byte) (*model.Group, error) {
	return s.changeGroup(ctx, actor, scope, id, func(cur kit.Object) (*GroupRequest, error) {
		patched, err := model.ApplyPatch(form, cur, patch)
		if err != nil {
			return nil, err
		}
		body, ok := patched.(kit.Object)
		if !ok {
			return nil, model.GeneralError(model.CodeInvalidJSON, "The patched request is not a JSON object.")
		}
		return ReadGroupRequest(body), nil
	})
}

// changeGroup runs an update: next gets the current request form (the
// group as a document, for PATCH) and returns the request to apply.
func (s *Service) changeGroup(ctx context.Context, actor kit.Actor, scope kit.TenantScope, id string, next func(cur kit.Object) (*GroupRequest, error)) (*model.Group, error) {
	var out model.Group
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		cur, curRoles, err := loadGroup(ctx, tx, scope, id)
		if err != nil {
			return err
		}
		curGroup, err := groupOf(cur, curRoles)
		if err != nil {
			return err
		}
		curTree, err := curGroup.Tree()
		if err != nil {
			return err
		}
		req, err := next(kit.Object{groupField: curTree, "roleIds": groupRoleIDs(curRoles)})
		if err != nil {
			return err
		}
		verrs := &model.Errors{}
		name, roleIDs := req.check(verrs)
		if err := verrs.Err(); err != nil {
			return err
		}
		g, err := req.decoded(name)
		if err != nil {
			return err
		}
		if taken, err := tx.GroupNameTaken(ctx, cur.TenantID, name, cur.ID); err != nil {
			return err
		} else if taken {
			return model.FieldError(groupField+".name", "duplicate", "A group with this name already exists in the tenant.")
		}
		roles, err := groupRoles(ctx, tx, cur.TenantID, roleIDs)
		if err != nil {
			return err
		}
		data, err := storedGroup(&g)
		if err != nil {
			return err
		}
		row := &store.GroupRow{ID: cur.ID, TenantID: cur.TenantID, Name: name, Data: data, InsertInstant: cur.InsertInstant, LastUpdateInstant: s.now()}
		if err := tx.UpdateGroupRow(ctx, row); err != nil {
			if store.IsUnique(err) {
				return groupWriteError(err)
			}
			return fmt.Errorf("update group: %w", err)
		}
		if err := tx.SetGroupRoles(ctx, cur.ID, roleIDs); err != nil {
			return fmt.Errorf("store group roles: %w", err)
		}
		if out, err = groupOf(row, roles); err != nil {
			return err
		}
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: "Updated group " + groupLabel(name, cur.ID), TargetID: cur.ID, Old: curGroup, New: out,
			Events: groupEvents(model.EventGroupUpdate, cur.TenantID, cur.ID, groupAtHand(out), map[string]any{"original": curGroup})})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteGroup removes a group with its memberships; its members lose the
// roles it granted.
func (s *Service) DeleteGroup(ctx context.Context, actor kit.Actor, scope kit.TenantScope, id string) error {
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		cur, roles, err := loadGroup(ctx, tx, scope, id)
		if err != nil {
			return err
		}
		members, err := tx.MembersOfGroup(ctx, cur.ID)
		if err != nil {
			return err
		}
		if err := tx.DeleteGroupRow(ctx, cur.ID); err != nil {
			if errors.Is(err, store.ErrNotOne) {
				return model.NotFoundf("group %s", cur.ID)
			}
			return err
		}
		snapshot, err := groupOf(cur, roles)
		if err != nil {
			return err
		}
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: fmt.Sprintf("Deleted group %s with its %d members", groupLabel(cur.Name, cur.ID), len(members)),
			TargetID: cur.ID, Old: snapshot, Data: map[string]any{"userIds": memberUserIDs(members)},
			Events: groupEvents(model.EventGroupDelete, cur.TenantID, cur.ID, groupAtHand(snapshot), nil)})
	})
}

func memberUserIDs(members []*store.GroupMemberRow) []string {
	out := make([]string, len(members))
	for i, m := range members {
		out[i] = m.UserID
	}
	return out
}

// memberOf is FusionAuth's GroupMember of a stored row, with its userId when
// withUserID (a user's memberships have none). The row's data goes in the
// member's bag, as stored.
// MemberObject is a stored membership in the user's shape (no userId), as
// the user API and the user events answer it.
func MemberObject(m *store.GroupMemberRow) (model.GroupMember, error) { return memberOf(m, false) }

func memberOf(m *store.GroupMemberRow, withUserID bool) (model.GroupMember, error) {
	data, err := kit.ParseObject(m.Data)
	if err != nil {
		return model.GroupMember{}, fmt.Errorf("group member %s data: %w", m.ID, err)
	}
	o := map[string]any{"id": m.ID, "groupId": m.GroupID, "data": data, "insertInstant": json.Number(strconv.FormatInt(m.InsertInstant, 10))}
	if withUserID {
		o["userId"] = m.UserID
	}
	var gm model.GroupMember
	if err := gm.UnmarshalTree(o); err != nil {
		return model.GroupMember{}, fmt.Errorf("group member %s: %w", m.ID, err)
	}
	return gm, nil
}

// memberRequest is one validated member of a MemberRequest.
type memberRequest struct {
	id     string // "" when not given
	userID string
	data   string // JSON
}

// memberField names an entry of a MemberRequest in errors, as FusionAuth does.
func memberField(groupKey string, i int, member string) string {
	f := fmt.Sprintf("members[%s][%d]", groupKey, i)
	if member != "" {
		f += "." + member
	}
	return f
}

// invalidMembersGroup is FusionAuth's error for a members key that is not a
// group of the request's scope: field "members[<key>]", code "[invalid]members".
func invalidMembersGroup(verrs *model.Errors, key string) {
	if verrs.FieldErrors == nil {
		verrs.FieldErrors = map[string][]model.ErrorItem{}
	}
	f := "members[" + key + "]"
	verrs.FieldErrors[f] = append(verrs.FieldErrors[f], model.ErrorItem{Code: "[invalid]members",
		Message: fmt.Sprintf("No group with id [%s] exists.", key)})
}

// parseMemberRequest reads a MemberRequest's members map, checks groups and
// users within the scope, and returns the groups (in key order) and their
// members. Member ids must be free.
func parseMemberRequest(ctx context.Context, tx *store.Tx, scope kit.TenantScope, req *MemberRequest) ([]*store.GroupRow, map[string][]memberRequest, error) {
	if !req.read.Empty() {
		return nil, nil, &req.read
	}
	if len(req.Members) == 0 {
		if req.membersType {
			return nil, nil, model.FieldError("members", "invalid", "[members] must map group ids to arrays of members.")
		}
		return nil, nil, model.FieldError("members", "missing", "You must specify the [members] property.")
	}
	verrs := &model.Errors{}
	keys := slices.Sorted(maps.Keys(req.Members))
	groupIDs := make([]string, 0, len(keys))
	keyOf := map[string]string{}
	for _, k := range keys {
		id, ok := kit.CanonicalID(k)
		if !ok {
			invalidMembersGroup(verrs, k)
			continue
		}
		if _, dup := keyOf[id]; dup {
			verrs.Field("members["+k+"]", "duplicate", "The group is named twice.")
			continue
		}
		keyOf[id] = k
		groupIDs = append(groupIDs, id)
	}
	found, err := tx.GroupsByIDs(ctx, groupIDs)
	if err != nil {
		return nil, nil, err
	}
	var groups []*store.GroupRow
	for _, id := range groupIDs {
		g, ok := found[id]
		if !ok || !scope.CanSee(g.TenantID) {
			invalidMembersGroup(verrs, keyOf[id])
			continue
		}
		groups = append(groups, g)
	}
	// Read every entry first, then look the users and member ids up at once.
	members := map[string][]memberRequest{}
	var userIDs []string
	type at struct {
		key string
		i   int
	}
	userAt := map[string][]at{}
	idAt := map[string]at{}
	for _, g := range groups {
		key := keyOf[g.ID]
		if req.notLists[key] {
			verrs.Field("members["+key+"]", "invalid", "[members["+key+"]] must be an array of members.")
			continue
		}
		seen := map[string]bool{}
		for i, e := range req.Members[key] {
			if e.notObject {
				verrs.Field(memberField(key, i, ""), "invalid", "["+memberField(key, i, "")+"] must be a JSON object.")
				continue
			}
			var m memberRequest
			userField := memberField(key, i, "userId")
			if id, ok := kit.CanonicalID(e.UserID); e.noUserID {
				verrs.Field(userField, "missing", "You must specify the ["+userField+"] property.")
			} else if !ok {
				verrs.Field(userField, "invalid", "["+userField+"] must be a UUID.")
			} else if seen[id] {
				verrs.Field(userField, "duplicate", "The user is listed twice for this group.")
			} else {
				seen[id] = true
				m.userID = id
				userIDs = append(userIDs, id)
				userAt[id] = append(userAt[id], at{key, i})
			}
			if id := optionalID(e.ID, e.idType, memberField(key, i, "id"), verrs); id != "" {
				if _, dup := idAt[id]; dup {
					verrs.Field(memberField(key, i, "id"), "duplicate", "The member id is used twice.")
				} else {
					m.id = id
					idAt[id] = at{key, i}
				}
			}
			var ok bool
			if m.data, ok = dataOf(e.Data); !ok {
				verrs.Field(memberField(key, i, "data"), "invalid", "["+memberField(key, i, "data")+"] must be a JSON object.")
			}
			if m.userID != "" {
				members[g.ID] = append(members[g.ID], m)
			}
		}
	}
	tenants, err := tx.UserTenantIDs(ctx, userIDs)
	if err != nil {
		return nil, nil, err
	}
	for _, g := range groups {
		for _, m := range members[g.ID] {
			// A member is a user of the group's tenant.
			if t, ok := tenants[m.userID]; !ok || t != g.TenantID {
				for _, a := range userAt[m.userID] {
					if a.key == keyOf[g.ID] {
						verrs.Field(memberField(a.key, a.i, "userId"), "invalid", fmt.Sprintf("No user with id [%s] exists in the group's tenant.", m.userID))
					}
				}
			}
		}
	}
	if err := verrs.Err(); err != nil {
		return nil, nil, err
	}
	return groups, members, nil
}

// takenMemberIDs reports given member ids that another membership has
// (ignoring the memberships in free, about to be deleted).
func takenMemberIDs(ctx context.Context, tx *store.Tx, groups []*store.GroupRow, members map[string][]memberRequest, free map[string]bool) error {
	var ids []string
	for _, g := range groups {
		for _, m := range members[g.ID] {
			if m.id != "" {
				ids = append(ids, m.id)
			}
		}
	}
	existing, err := tx.MembersByIDs(ctx, ids)
	if err != nil {
		return err
	}
	verrs := &model.Errors{}
	for _, g := range groups {
		for i, m := range members[g.ID] {
			if _, taken := existing[m.id]; taken && !free[m.id] {
				verrs.Field(fmt.Sprintf("members[%s][%d].id", g.ID, i), "duplicate", "A group member with this id already exists.")
			}
		}
	}
	return verrs.Err()
}

// AddGroupMembers is POST /api/group/member: it adds the users of a
// MemberRequest to its groups. A user already in a group stays as is. It
// returns the members of the request by group id.
func (s *Service) AddGroupMembers(ctx context.Context, actor kit.Actor, scope kit.TenantScope, req *MemberRequest) (map[string][]model.GroupMember, error) {
	return s.writeGroupMembers(ctx, actor, scope, req, false)
}

// ReplaceGroupMembers is PUT /api/group/member: each group of the request gets
// exactly the members listed (an empty list empties it).
func (s *Service) ReplaceGroupMembers(ctx context.Context, actor kit.Actor, scope kit.TenantScope, req *MemberRequest) (map[string][]model.GroupMember, error) {
	return s.writeGroupMembers(ctx, actor, scope, req, true)
}

func (s *Service) writeGroupMembers(ctx context.Context, actor kit.Actor, scope kit.TenantScope, req *MemberRequest, replace bool) (map[string][]model.GroupMember, error) {
	out := map[string][]model.GroupMember{}
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		clear(out)
		groups, members, err := parseMemberRequest(ctx, tx, scope, req)
		if err != nil {
			return err
		}
		current := map[string][]*store.GroupMemberRow{}
		free := map[string]bool{}
		for _, g := range groups {
			if current[g.ID], err = tx.MembersOfGroup(ctx, g.ID); err != nil {
				return err
			}
			if replace {
				for _, m := range current[g.ID] {
					free[m.ID] = true
				}
			}
		}
		if err := takenMemberIDs(ctx, tx, groups, members, free); err != nil {
			return err
		}
		now := s.now()
		for _, g := range groups {
			var removed []string
			if replace {
				ids := make([]string, len(current[g.ID]))
				for i, m := range current[g.ID] {
					ids[i], removed = m.ID, append(removed, m.UserID)
				}
				if err := tx.DeleteGroupMembers(ctx, ids); err != nil {
					return err
				}
				current[g.ID] = nil
			}
			list := []model.GroupMember{}
			var added []string
			var addedRows, rows []*store.GroupMemberRow
			for _, m := range members[g.ID] {
				idx := slices.IndexFunc(current[g.ID], func(c *store.GroupMemberRow) bool { return c.UserID == m.userID })
				if idx >= 0 {
					o, err := memberOf(current[g.ID][idx], true)
					if err != nil {
						return err
					}
					list, rows = append(list, o), append(rows, current[g.ID][idx])
					continue
				}
				row := &store.GroupMemberRow{ID: m.id, GroupID: g.ID, UserID: m.userID, Data: m.data, InsertInstant: now}
				if row.ID == "" {
					row.ID = kit.NewOrGivenID("", "", &model.Errors{})
				}
				if err := tx.InsertGroupMember(ctx, row); err != nil {
					if store.IsUnique(err) {
						return model.FieldError("members["+g.ID+"]", "duplicate", "A member was added by another request at the same time; try again.")
					}
					return fmt.Errorf("store group member: %w", err)
				}
				o, err := memberOf(row, true)
				if err != nil {
					return err
				}
				list, rows = append(list, o), append(rows, row)
				added, addedRows = append(added, m.userID), append(addedRows, row)
			}
			out[g.ID] = list
			if replace {
				kept := make([]string, 0, len(members[g.ID]))
				for _, m := range members[g.ID] {
					kept = append(kept, m.userID)
				}
				if err := s.audit.Write(ctx, tx, actor, audit.Change{Message: fmt.Sprintf("Replaced the members of group %s: %d before, %d now",
					groupLabel(g.Name, g.ID), len(removed), len(kept)), TargetID: g.ID,
					Data:   map[string]any{"previousUserIds": removed, "userIds": kept},
					Events: memberEvents(ctx, tx, model.EventGroupMemberUpdate, g, rows)}); err != nil {
					return err
				}
			} else if len(added) > 0 {
				if err := s.audit.Write(ctx, tx, actor, audit.Change{Message: fmt.Sprintf("Added %d members to group %s", len(added), groupLabel(g.Name, g.ID)),
					TargetID: g.ID, Data: map[string]any{"userIds": added}, Events: memberEvents(ctx, tx, model.EventGroupMemberAdd, g, addedRows)}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// removeMembers deletes memberships and audits them per group.
func (s *Service) removeMembers(ctx context.Context, tx *store.Tx, actor kit.Actor, groups map[string]*store.GroupRow, members []*store.GroupMemberRow) error {
	ids := make([]string, len(members))
	byGroup := map[string][]string{}
	rowsByGroup := map[string][]*store.GroupMemberRow{}
	var order []string
	for i, m := range members {
		ids[i] = m.ID
		if _, ok := byGroup[m.GroupID]; !ok {
			order = append(order, m.GroupID)
		}
		byGroup[m.GroupID] = append(byGroup[m.GroupID], m.UserID)
		rowsByGroup[m.GroupID] = append(rowsByGroup[m.GroupID], m)
	}
	if err := tx.DeleteGroupMembers(ctx, ids); err != nil {
		return err
	}
	for _, gid := range order {
		g := groups[gid]
		if err := s.audit.Write(ctx, tx, actor, audit.Change{Message: fmt.Sprintf("Removed %d members from group %s", len(byGroup[gid]), groupLabel(g.Name, g.ID)),
			TargetID: g.ID, Data: map[string]any{"userIds": byGroup[gid]}, Events: memberEvents(ctx, tx, model.EventGroupMemberRemove, g, rowsByGroup[gid])}); err != nil {
			return err
		}
	}
	return nil
}

// RemoveGroupMemberByID is DELETE /api/group/member/{memberId}.
func (s *Service) RemoveGroupMemberByID(ctx context.Context, actor kit.Actor, scope kit.TenantScope, memberID string) error {
	return s.RemoveGroupMembersByID(ctx, actor, scope, []string{memberID})
}

// RemoveGroupMembersByID removes memberships by member id. All of them must
// exist within the scope, or nothing is removed (404).
func (s *Service) RemoveGroupMembersByID(ctx context.Context, actor kit.Actor, scope kit.TenantScope, memberIDs []string) error {
	ids := make([]string, 0, len(memberIDs))
	for _, raw := range memberIDs {
		id, ok := kit.CanonicalID(raw)
		if !ok {
			return model.NotFoundf("group member %s", raw)
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return model.FieldError("memberIds", "missing", "You must specify the [memberIds] or [members] property.")
	}
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		found, err := tx.MembersByIDs(ctx, ids)
		if err != nil {
			return err
		}
		var groupIDs []string
		for _, id := range ids {
			m, ok := found[id]
			if !ok {
				return model.NotFoundf("group member %s", id)
			}
			groupIDs = append(groupIDs, m.GroupID)
		}
		groups, err := tx.GroupsByIDs(ctx, groupIDs)
		if err != nil {
			return err
		}
		members := make([]*store.GroupMemberRow, 0, len(ids))
		for _, id := range ids {
			m := found[id]
			if g, ok := groups[m.GroupID]; !ok || !scope.CanSee(g.TenantID) {
				return model.NotFoundf("group member %s", id)
			}
			members = append(members, m)
		}
		return s.removeMembers(ctx, tx, actor, groups, members)
	})
}

// RemoveGroupMember is DELETE /api/group/member?groupId=&userId=; with userID
// "" it removes every member of the group (FusionAuth's deprecated form).
func (s *Service) RemoveGroupMember(ctx context.Context, actor kit.Actor, scope kit.TenantScope, groupID, userID string) error {
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		g, _, err := loadGroup(ctx, tx, scope, groupID)
		if err != nil {
			return err
		}
		all, err := tx.MembersOfGroup(ctx, g.ID)
		if err != nil {
			return err
		}
		members := all
		if userID != "" {
			uid, ok := kit.CanonicalID(userID)
			idx := slices.IndexFunc(all, func(m *store.GroupMemberRow) bool { return m.UserID == uid })
			if !ok || idx < 0 {
				return model.NotFoundf("user %s in group %s", userID, g.ID)
			}
			members = all[idx : idx+1]
		}
		if len(members) == 0 {
			return nil
		}
		return s.removeMembers(ctx, tx, actor, map[string]*store.GroupRow{g.ID: g}, members)
	})
}

// RemoveGroupMembers is DELETE /api/group/member with a MemberDeleteRequest
// body: {"memberIds":[…]} or {"members":{groupId:[userId…]}}. Users that are
// not members of a named group are skipped, as in FusionAuth.
func (s *Service) RemoveGroupMembers(ctx context.Context, actor kit.Actor, scope kit.TenantScope, req *MemberDeleteRequest) error {
	if !req.read.Empty() {
		return &req.read
	}
	if req.memberIDsType {
		return model.FieldError("memberIds", "invalid", "[memberIds] must be an array of member ids.")
	}
	if req.MemberIDs != nil {
		for i, id := range req.MemberIDs {
			if _, ok := kit.CanonicalID(id); !ok {
				f := fmt.Sprintf("memberIds[%d]", i)
				return model.FieldError(f, "invalid", "["+f+"] must be a UUID.")
			}
		}
		return s.RemoveGroupMembersByID(ctx, actor, scope, req.MemberIDs)
	}
	if len(req.Members) == 0 {
		if req.membersType {
			return model.FieldError("members", "invalid", "[members] must map group ids to arrays of user ids.")
		}
		return model.FieldError("memberIds", "missing", "You must specify the [memberIds] or [members] property.")
	}
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		verrs := &model.Errors{}
		keys := slices.Sorted(maps.Keys(req.Members))
		groups := map[string]*store.GroupRow{}
		var members []*store.GroupMemberRow
		for _, k := range keys {
			gid, ok := kit.CanonicalID(k)
			var g *store.GroupRow
			if ok {
				found, err := tx.GroupsByIDs(ctx, []string{gid})
				if err != nil {
					return err
				}
				g = found[gid]
			}
			if g == nil || !scope.CanSee(g.TenantID) {
				invalidMembersGroup(verrs, k)
				continue
			}
			if req.notLists[k] {
				verrs.Field("members["+k+"]", "invalid", "[members["+k+"]] must be an array of user ids.")
				continue
			}
			current, err := tx.MembersOfGroup(ctx, g.ID)
			if err != nil {
				return err
			}
			groups[g.ID] = g
			for i, s := range req.Members[k] {
				uid, ok := kit.CanonicalID(s)
				if !ok {
					f := fmt.Sprintf("members[%s][%d]", k, i)
					verrs.Field(f, "invalid", "["+f+"] must be a user id.")
					continue
				}
				idx := slices.IndexFunc(current, func(m *store.GroupMemberRow) bool { return m.UserID == uid })
				if idx >= 0 && !slices.Contains(members, current[idx]) {
					members = append(members, current[idx])
				}
			}
		}
		if err := verrs.Err(); err != nil {
			return err
		}
		if len(members) == 0 {
			return nil
		}
		return s.removeMembers(ctx, tx, actor, groups, members)
	})
}

// SearchGroupMembers is FusionAuth's group member search, limited to the
// scope.
func (s *Service) SearchGroupMembers(ctx context.Context, scope kit.TenantScope, q MemberSearch) ([]model.GroupMember, int, error) {
	var verrs model.Errors
	offset, limit := kit.PageWindow(&verrs, q.StartRow, q.NumberOfResults)
	col, desc, ok := kit.ParseOrderBy(q.OrderBy, store.MemberOrderColumns)
	if !ok {
		verrs.Field("search.orderBy", "invalid", "orderBy must be one of groupId, id, insertInstant or userId, optionally followed by ASC or DESC.")
	}
	query := store.MemberQuery{TenantIDs: scope.Tenants, OrderBy: col, Descending: desc}
	none := false
	for _, c := range []struct {
		field, value string
		into         *string
	}{{"search.groupId", q.GroupID, &query.GroupID}, {"search.userId", q.UserID, &query.UserID}} {
		if v := strings.TrimSpace(c.value); v != "" {
			id, ok := kit.CanonicalID(v)
			if !ok {
				verrs.Field(c.field, "invalid", c.field+" must be a UUID.")
			}
			*c.into = id
		}
	}
	if kit.NarrowToTenant(scope, q.TenantID, &query.TenantIDs, &verrs) {
		none = true
	}
	if err := verrs.Err(); err != nil {
		return nil, 0, err
	}
	if none {
		return []model.GroupMember{}, 0, nil
	}
	rows, total, err := s.store.Read().SearchGroupMembers(ctx, query, offset, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("search group members: %w", err)
	}
	out := make([]model.GroupMember, 0, len(rows))
	for _, m := range rows {
		o, err := memberOf(m, true)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, o)
	}
	return out, total, nil
}

// Memberships returns each user's group memberships as FusionAuth puts
// them on a user (memberships[x]: data, groupId, id, insertInstant), oldest
// first. Users without memberships are absent from the map. tx may be nil (a
// read).
func (s *Service) Memberships(ctx context.Context, tx *store.Tx, userIDs []string) (map[string][]model.GroupMember, error) {
	if tx == nil {
		tx = s.store.Read()
	}
	rows, err := tx.MembershipsOfUsers(ctx, userIDs)
	if err != nil {
		return nil, fmt.Errorf("memberships of users: %w", err)
	}
	out := make(map[string][]model.GroupMember, len(rows))
	for uid, ms := range rows {
		for _, m := range ms {
			o, err := memberOf(m, false)
			if err != nil {
				return nil, err
			}
			out[uid] = append(out[uid], o)
		}
	}
	return out, nil
}

// AddUserMemberships stores the memberships of a user being created or
// updated through the user API (user.memberships: [{groupId, id?, data?}]),
// in the user's transaction. Groups must be of the user's tenant; a group the
// user is already in is skipped. field prefixes errors ("user.memberships").
// It returns the memberships added, in the user's shape.
func (s *Service) AddUserMemberships(ctx context.Context, tx *store.Tx, actor kit.Actor, userID, tenantID string, ms *Memberships, field string) ([]model.GroupMember, error) {
	if ms == nil {
		return nil, nil
	}
	if ms.notList {
		return nil, model.FieldError(field, "invalid", "["+field+"] must be an array of memberships.")
	}
	if ms.err != nil {
		return nil, ms.err
	}
	verrs := &model.Errors{}
	type entry struct {
		groupID, id, data string
	}
	var entries []entry
	for i, m := range ms.Entries {
		f := fmt.Sprintf("%s[%d]", field, i)
		if m.notObject {
			verrs.Field(f, "invalid", "["+f+"] must be a JSON object.")
			continue
		}
		var e entry
		var ok bool
		if e.groupID, ok = kit.CanonicalID(m.GroupID); !ok {
			verrs.Field(f+".groupId", "invalid", "["+f+".groupId] must be the id of a group.")
		}
		if m.idGiven {
			if e.id, ok = kit.CanonicalID(m.ID); !ok {
				verrs.Field(f+".id", "invalid", "["+f+".id] must be a UUID.")
			}
		}
		if e.data, ok = dataOf(m.Data); !ok {
			verrs.Field(f+".data", "invalid", "["+f+".data] must be a JSON object.")
		}
		entries = append(entries, e)
	}
	if err := verrs.Err(); err != nil {
		return nil, err
	}
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.groupID
	}
	groups, err := tx.GroupsByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	current, err := tx.MembershipsOfUsers(ctx, []string{userID})
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out []model.GroupMember
	for i, e := range entries {
		f := fmt.Sprintf("%s[%d]", field, i)
		g, ok := groups[e.groupID]
		if !ok || g.TenantID != tenantID {
			return nil, model.FieldError(f+".groupId", "invalid", fmt.Sprintf("No group with id [%s] exists in the user's tenant.", e.groupID))
		}
		if slices.ContainsFunc(current[userID], func(m *store.GroupMemberRow) bool { return m.GroupID == g.ID }) {
			continue
		}
		row := &store.GroupMemberRow{ID: e.id, GroupID: g.ID, UserID: userID, Data: e.data, InsertInstant: now}
		if row.ID == "" {
			row.ID = kit.NewOrGivenID("", "", &model.Errors{})
		}
		if err := tx.InsertGroupMember(ctx, row); err != nil {
			if store.IsUnique(err) {
				return nil, model.FieldError(f+".id", "duplicate", "A group member with this id already exists.")
			}
			return nil, fmt.Errorf("store group member: %w", err)
		}
		current[userID] = append(current[userID], row)
		if err := s.audit.Write(ctx, tx, actor, audit.Change{Message: fmt.Sprintf("Added user %s to group %s", userID, groupLabel(g.Name, g.ID)),
			TargetID: g.ID, Data: map[string]any{"userIds": []string{userID}},
			Events: memberEvents(ctx, tx, model.EventGroupMemberAdd, g, []*store.GroupMemberRow{row})}); err != nil {
			return nil, err
		}
		o, err := memberOf(row, false)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}
