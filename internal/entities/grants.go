package entities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// Grants, FusionAuth's /api/entity/{id}/grant: permissions on an entity
// given to a user or to another entity of the same tenant, one grant per
// pair, upserted. The permissions are those of the entity's type, by name;
// a grant request without permissions gets the type's default permissions.

const grantField = "grant"

// The member names of a grant and of the request, matched exactly.
var (
	grantFields        = model.FieldsOf(nil, "id", "userId", "recipientEntityId", "permissions", "data", "entity", "insertInstant", "lastUpdateInstant")
	grantRequestFields = model.FieldsOf(nil, grantField)
)

// GrantSearch is FusionAuth's EntityGrantSearchCriteria.
type GrantSearch struct {
	EntityID        string `json:"entityId"`
	Name            string `json:"name"`
	UserID          string `json:"userId"`
	OrderBy         string `json:"orderBy"`
	StartRow        int    `json:"startRow"`
	NumberOfResults int    `json:"numberOfResults"`
}

// grantObject builds the object a client sees; entity is the granted
// entity's object (without its secret).
func grantObject(g *store.GrantRow, perms []string, entity kit.Object) (kit.Object, error) {
	data, err := kit.ParseObject(g.Data)
	if err != nil {
		return nil, fmt.Errorf("grant %s data: %w", g.ID, err)
	}
	list := make([]any, 0, len(perms))
	for _, p := range perms {
		list = append(list, p)
	}
	o := kit.Object{"id": g.ID, "entity": entity, "permissions": list, "data": data,
		"insertInstant": g.InsertInstant, "lastUpdateInstant": g.LastUpdateInstant}
	if g.UserID != "" {
		o["userId"] = g.UserID
	} else {
		o["recipientEntityId"] = g.RecipientEntityID
	}
	return o, nil
}

// grantObjects builds grant objects with their permissions and entities.
func (s *Service) grantObjects(ctx context.Context, tx *store.Tx, rows []*store.GrantRow) ([]kit.Object, error) {
	ids := make([]string, len(rows))
	var entityIDs []string
	for i, g := range rows {
		ids[i] = g.ID
		if !slices.Contains(entityIDs, g.EntityID) {
			entityIDs = append(entityIDs, g.EntityID)
		}
	}
	perms, err := tx.PermissionNamesOfGrants(ctx, ids)
	if err != nil {
		return nil, err
	}
	found, err := tx.EntitiesByIDs(ctx, entityIDs)
	if err != nil {
		return nil, err
	}
	entityRows := make([]*store.EntityRow, 0, len(found))
	for _, id := range entityIDs {
		if e, ok := found[id]; ok {
			entityRows = append(entityRows, e)
		}
	}
	entities, err := s.entityObjects(ctx, tx, entityRows, false)
	if err != nil {
		return nil, err
	}
	out := make([]kit.Object, 0, len(rows))
	for _, g := range rows {
		o, err := grantObject(g, perms[g.ID], entities[g.EntityID])
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// grantee reads who a grant is for: exactly one of a user id and a recipient
// entity id. prefix names the fields in errors ("grant." or "").
func grantee(userID, recipientID any, prefix string, verrs *model.Errors) (user, recipient string) {
	user, recipient = kit.OptionalIDValue(userID, prefix+"userId", verrs), kit.OptionalIDValue(recipientID, prefix+"recipientEntityId", verrs)
	if !verrs.Empty() {
		return "", ""
	}
	switch {
	case user == "" && recipient == "":
		verrs.Field(prefix+"userId", "blank", "A grant is for a user ("+prefix+"userId) or an entity ("+prefix+"recipientEntityId).")
	case user != "" && recipient != "":
		verrs.Field(prefix+"recipientEntityId", "invalid", "A grant is for a user or an entity, not both.")
	}
	return user, recipient
}

// checkGrantee confirms the user or recipient entity exists in the granted
// entity's tenant.
func checkGrantee(ctx context.Context, tx *store.Tx, tenantID, user, recipient, prefix string) error {
	if user != "" {
		tenants, err := tx.UserTenantIDs(ctx, []string{user})
		if err != nil {
			return err
		}
		if tenants[user] != tenantID {
			return model.FieldError(prefix+"userId", "invalid", fmt.Sprintf("No user with id [%s] exists in the entity's tenant.", user))
		}
		return nil
	}
	r, err := tx.EntityByID(ctx, recipient)
	if errors.Is(err, store.ErrNoRows) || (err == nil && r.TenantID != tenantID) {
		return model.FieldError(prefix+"recipientEntityId", "invalid", fmt.Sprintf("No entity with id [%s] exists in the entity's tenant.", recipient))
	}
	return err
}

// errGrantRace is a concurrent upsert that created the same grant first; the
// upsert runs again and updates it.
var errGrantRace = errors.New("grant created concurrently")

// UpsertGrant creates or replaces the grant on entityID to the user or entity
// the GrantRequest body names.
func (s *Service) UpsertGrant(ctx context.Context, actor kit.Actor, scope kit.TenantScope, entityID string, body kit.Object) error {
	verrs := &model.Errors{}
	o := kit.RequestObject(body, grantRequestFields, grantField, verrs)
	grantFields.Check(o, grantField, verrs)
	user, recipient := grantee(o["userId"], o["recipientEntityId"], grantField+".", verrs)
	var names []string
	defaults := false
	switch v := o["permissions"].(type) {
	case nil:
		defaults = true
	case []any:
		for i, item := range v {
			name, ok := item.(string)
			if !ok || strings.TrimSpace(name) == "" {
				f := fmt.Sprintf("%s.permissions[%d]", grantField, i)
				verrs.Field(f, "invalid", "["+f+"] must be the name of a permission.")
				continue
			}
			if !slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, name) }) {
				names = append(names, strings.TrimSpace(name))
			}
		}
	default:
		verrs.Field(grantField+".permissions", "invalid", "[grant.permissions] must be an array of permission names.")
	}
	data := kit.Object{}
	switch v := o["data"].(type) {
	case nil:
	case kit.Object:
		data = v
	default:
		verrs.Field(grantField+".data", "invalid", "[grant.data] must be a JSON object.")
	}
	if err := verrs.Err(); err != nil {
		return err
	}
	dataText, err := kit.EncodeObject(data)
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		err := s.store.InTx(ctx, func(tx *store.Tx) error {
			return s.upsertGrant(ctx, tx, actor, scope, entityID, user, recipient, names, defaults, dataText)
		})
		if !errors.Is(err, errGrantRace) || attempt == 2 {
			return err
		}
	}
}

func (s *Service) upsertGrant(ctx context.Context, tx *store.Tx, actor kit.Actor, scope kit.TenantScope, entityID, user, recipient string,
	names []string, defaults bool, data string) error {
	e, err := loadEntity(ctx, tx, scope, entityID)
	if err != nil {
		return err
	}
	if err := checkGrantee(ctx, tx, e.TenantID, user, recipient, grantField+"."); err != nil {
		return err
	}
	perms, err := tx.PermissionsOfTypes(ctx, []string{e.TypeID})
	if err != nil {
		return err
	}
	var permIDs, granted []string
	for i, name := range names {
		idx := slices.IndexFunc(perms[e.TypeID], func(p *store.PermissionRow) bool { return strings.EqualFold(p.Name, name) })
		if idx < 0 {
			return model.FieldError(fmt.Sprintf("%s.permissions[%d]", grantField, i), "invalid",
				fmt.Sprintf("The entity's type has no permission [%s].", name))
		}
		permIDs, granted = append(permIDs, perms[e.TypeID][idx].ID), append(granted, perms[e.TypeID][idx].Name)
	}
	if defaults {
		for _, p := range perms[e.TypeID] {
			if p.IsDefault {
				permIDs, granted = append(permIDs, p.ID), append(granted, p.Name)
			}
		}
	}
	slices.Sort(granted)
	now := s.now()
	cur, err := tx.GrantOf(ctx, e.ID, user, recipient)
	var old kit.Object
	row := &store.GrantRow{EntityID: e.ID, UserID: user, RecipientEntityID: recipient, Data: data, LastUpdateInstant: now}
	switch {
	case errors.Is(err, store.ErrNoRows):
		row.ID, row.InsertInstant = kit.NewOrGivenID("", "", &model.Errors{}), now
		if err := tx.InsertGrant(ctx, row); err != nil {
			if store.IsUnique(err) {
				return errGrantRace
			}
			return fmt.Errorf("store grant: %w", err)
		}
	case err != nil:
		return err
	default:
		row.ID, row.InsertInstant = cur.ID, cur.InsertInstant
		// The update comes first: it locks the grant, so concurrent upserts
		// of one grant replace its permissions one after the other.
		if err := tx.UpdateGrant(ctx, row); err != nil {
			return fmt.Errorf("update grant: %w", err)
		}
		prev, err := tx.PermissionNamesOfGrants(ctx, []string{cur.ID})
		if err != nil {
			return err
		}
		if old, err = grantObject(cur, prev[cur.ID], nil); err != nil {
			return err
		}
		delete(old, "entity")
	}
	if err := tx.SetGrantPermissions(ctx, row.ID, permIDs); err != nil {
		return fmt.Errorf("store grant permissions: %w", err)
	}
	out, err := grantObject(row, granted, nil)
	if err != nil {
		return err
	}
	delete(out, "entity")
	verb := "Granted"
	if old != nil {
		verb = "Updated the grant of"
	}
	return s.audit.Write(ctx, tx, actor, audit.Change{Message: fmt.Sprintf("%s [%s] on entity %s to %s", verb, strings.Join(granted, ", "),
		label(e.Name, e.ID), granteeLabel(user, recipient)), TargetID: e.ID, Old: old, New: out})
}

func granteeLabel(user, recipient string) string {
	if user != "" {
		return "user " + user
	}
	return "entity " + recipient
}

// Grant returns the grant on entityID to the user or the recipient entity.
func (s *Service) Grant(ctx context.Context, scope kit.TenantScope, entityID, userID, recipientID string) (kit.Object, error) {
	verrs := &model.Errors{}
	user, recipient := grantee(userID, recipientID, "", verrs)
	if err := verrs.Err(); err != nil {
		return nil, err
	}
	rd := s.store.Read()
	e, err := loadEntity(ctx, rd, scope, entityID)
	if err != nil {
		return nil, err
	}
	g, err := rd.GrantOf(ctx, e.ID, user, recipient)
	if errors.Is(err, store.ErrNoRows) {
		return nil, model.NotFoundf("grant on entity %s to %s", e.ID, granteeLabel(user, recipient))
	}
	if err != nil {
		return nil, err
	}
	out, err := s.grantObjects(ctx, rd, []*store.GrantRow{g})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// DeleteGrant removes the grant on entityID to the user or the recipient
// entity. Tokens the recipient asks for from then on no longer carry it.
func (s *Service) DeleteGrant(ctx context.Context, actor kit.Actor, scope kit.TenantScope, entityID, userID, recipientID string) error {
	verrs := &model.Errors{}
	user, recipient := grantee(userID, recipientID, "", verrs)
	if err := verrs.Err(); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		e, err := loadEntity(ctx, tx, scope, entityID)
		if err != nil {
			return err
		}
		g, err := tx.GrantOf(ctx, e.ID, user, recipient)
		if errors.Is(err, store.ErrNoRows) {
			return model.NotFoundf("grant on entity %s to %s", e.ID, granteeLabel(user, recipient))
		}
		if err != nil {
			return err
		}
		prev, err := tx.PermissionNamesOfGrants(ctx, []string{g.ID})
		if err != nil {
			return err
		}
		old, err := grantObject(g, prev[g.ID], nil)
		if err != nil {
			return err
		}
		delete(old, "entity")
		if err := tx.DeleteGrant(ctx, g.ID); err != nil {
			if errors.Is(err, store.ErrNotOne) {
				return model.NotFoundf("grant %s", g.ID)
			}
			return err
		}
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: fmt.Sprintf("Removed the grant on entity %s to %s", label(e.Name, e.ID),
			granteeLabel(user, recipient)), TargetID: e.ID, Old: old})
	})
}

// SearchGrants is FusionAuth's grant search, limited to grants on entities
// of the scope's tenants. name matches a substring of the granted entity's
// name (* is a wildcard).
func (s *Service) SearchGrants(ctx context.Context, scope kit.TenantScope, q GrantSearch) ([]kit.Object, int, error) {
	var verrs model.Errors
	offset, limit := kit.PageWindow(&verrs, q.StartRow, q.NumberOfResults)
	col, desc, ok := kit.ParseOrderBy(q.OrderBy, store.GrantOrderColumns)
	if !ok {
		verrs.Field("search.orderBy", "invalid", "orderBy must be one of id, entityId, userId, name, insertInstant or lastUpdateInstant, optionally followed by ASC or DESC.")
	}
	query := store.GrantQuery{Name: strings.TrimSpace(q.Name), TenantIDs: scope.Tenants, OrderBy: col, Desc: desc}
	for _, c := range []struct {
		field, value string
		into         *string
	}{{"search.entityId", q.EntityID, &query.EntityID}, {"search.userId", q.UserID, &query.UserID}} {
		if v := strings.TrimSpace(c.value); v != "" {
			id, ok := kit.CanonicalID(v)
			if !ok {
				verrs.Field(c.field, "invalid", c.field+" must be a UUID.")
			}
			*c.into = id
		}
	}
	if err := verrs.Err(); err != nil {
		return nil, 0, err
	}
	rd := s.store.Read()
	rows, total, err := rd.SearchGrants(ctx, query, offset, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("search grants: %w", err)
	}
	out, err := s.grantObjects(ctx, rd, rows)
	return out, total, err
}
