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

// Entity types, FusionAuth's /api/entity/type, and their permissions
// (/api/entity/type/{id}/permission). A type is kept whole like a group:
// Latch owns id, name, permissions and the instants, and checks
// jwtConfiguration, the key and lifetime of the client_credentials tokens of
// entities of this type. Permissions are created with the type or through the
// permission API; updating the type leaves them as they are.

const (
	typeField       = "entityType"
	permissionField = "permission"
)

var typeOwnedFields = []string{"id", "name", "permissions", "insertInstant", "lastUpdateInstant"}

// The member names of an entity type, a permission and the request, matched exactly.
var (
	permissionFields = model.FieldsOf(nil, "id", "name", "description", "isDefault", "data", "insertInstant", "lastUpdateInstant")
	typeFields       = model.FieldsOf(nil, "id", "name", "data", "insertInstant", "lastUpdateInstant", "permissions[].id",
		"permissions[].name", "permissions[].description", "permissions[].isDefault", "permissions[].data",
		"jwtConfiguration.enabled", "jwtConfiguration.accessTokenKeyId", "jwtConfiguration.accessTokenVerificationKeyIds",
		"jwtConfiguration.timeToLiveInSeconds")
	typeRequestFields = model.FieldsOf(nil, typeField, permissionField)
)

const typeDefaultsJSON = `{"jwtConfiguration": {"enabled": false, "timeToLiveInSeconds": 3600}}`

// MaxTokenTTL bounds jwtConfiguration.timeToLiveInSeconds: a machine token
// cannot be revoked once issued, so it may live a day at most.
const MaxTokenTTL = 86400

// JWTConfig is the typed view of an entity type's jwtConfiguration.
type JWTConfig struct {
	Enabled                       bool     `json:"enabled"`
	AccessTokenKeyID              string   `json:"accessTokenKeyId"`
	AccessTokenVerificationKeyIDs []string `json:"accessTokenVerificationKeyIds"`
	TimeToLiveInSeconds           int      `json:"timeToLiveInSeconds"`
}

// TypeSearch is FusionAuth's EntityTypeSearchCriteria.
type TypeSearch struct {
	Name            string `json:"name"`
	OrderBy         string `json:"orderBy"`
	StartRow        int    `json:"startRow"`
	NumberOfResults int    `json:"numberOfResults"`
}

// permissionObject is a permission as a client sees it.
func permissionObject(p *store.PermissionRow) (kit.Object, error) {
	data, err := kit.ParseObject(p.Data)
	if err != nil {
		return nil, fmt.Errorf("permission %s data: %w", p.ID, err)
	}
	o := kit.Object{"id": p.ID, "name": p.Name, "isDefault": p.IsDefault, "data": data,
		"insertInstant": p.InsertInstant, "lastUpdateInstant": p.LastUpdateInstant}
	if p.Description != "" {
		o["description"] = p.Description
	}
	return o, nil
}

// typeObject builds the object a client sees from a stored type and its permissions.
func typeObject(row *store.EntityTypeRow, perms []*store.PermissionRow) (kit.Object, error) {
	o, err := kit.StoredObject(row.Data, typeFields)
	if err != nil {
		return nil, fmt.Errorf("entity type %s data: %w", row.ID, err)
	}
	if o["data"] == nil {
		o["data"] = kit.Object{}
	}
	o["id"], o["name"] = row.ID, row.Name
	o["insertInstant"], o["lastUpdateInstant"] = row.InsertInstant, row.LastUpdateInstant
	list := make([]any, 0, len(perms))
	for _, p := range perms {
		po, err := permissionObject(p)
		if err != nil {
			return nil, err
		}
		list = append(list, po)
	}
	o["permissions"] = list
	return o, nil
}

// typeObjects builds the objects of types, with their permissions.
func typeObjects(ctx context.Context, tx *store.Tx, rows []*store.EntityTypeRow) ([]kit.Object, error) {
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	perms, err := tx.PermissionsOfTypes(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]kit.Object, 0, len(rows))
	for _, r := range rows {
		o, err := typeObject(r, perms[r.ID])
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// normalizeType checks a type object as sent and prepares it in place:
// owned fields cut out, defaults filled. The signing key is checked against
// the store by checkTypeKey.
func normalizeType(o kit.Object, verrs *model.Errors) (string, *JWTConfig) {
	typeFields.Check(o, typeField, verrs)
	name := kit.RequiredName(o, typeField+".name", verrs)
	for _, f := range typeOwnedFields {
		delete(o, f)
	}
	if v, ok := o["data"]; ok && v != nil {
		if _, ok := v.(kit.Object); !ok {
			verrs.Field(typeField+".data", "invalid", "[entityType.data] must be a JSON object.")
		}
	}
	kit.FillDefaults(o, kit.MustObject(typeDefaultsJSON))
	jwt, ok := o["jwtConfiguration"].(kit.Object)
	if !ok {
		verrs.Field(typeField+".jwtConfiguration", "invalid", "[entityType.jwtConfiguration] must be a JSON object.")
		return name, nil
	}
	var cfg JWTConfig
	if !kit.DecodeTyped(jwt, typeField+".jwtConfiguration", &cfg, verrs) {
		return name, nil
	}
	const f = typeField + ".jwtConfiguration."
	if cfg.TimeToLiveInSeconds < 1 || cfg.TimeToLiveInSeconds > MaxTokenTTL {
		verrs.Field(f+"timeToLiveInSeconds", "invalid", fmt.Sprintf("[%stimeToLiveInSeconds] must be between 1 and %d.", f, MaxTokenTTL))
	}
	if k := strings.TrimSpace(cfg.AccessTokenKeyID); k != "" {
		id, ok := kit.CanonicalID(k)
		if !ok {
			verrs.Field(f+"accessTokenKeyId", "invalid", "["+f+"accessTokenKeyId] must be the id of a signing key.")
		}
		cfg.AccessTokenKeyID = id
		jwt["accessTokenKeyId"] = id
	} else {
		delete(jwt, "accessTokenKeyId")
		if cfg.Enabled {
			verrs.Field(f+"accessTokenKeyId", "blank", "["+f+"accessTokenKeyId] is required when the JWT configuration is enabled.")
		}
	}
	return name, &cfg
}

// checkTypeKey confirms the signing key a type names exists and can sign.
func checkTypeKey(ctx context.Context, tx *store.Tx, cfg *JWTConfig) error {
	if cfg == nil || cfg.AccessTokenKeyID == "" {
		return nil
	}
	const f = typeField + ".jwtConfiguration.accessTokenKeyId"
	// Locked for the transaction: a deletion of the key either commits
	// first or sees this type among its uses (KeyInUse).
	if _, err := tx.LockSigningKey(ctx, cfg.AccessTokenKeyID); err != nil {
		return err
	}
	k, err := tx.SigningKeyByID(ctx, cfg.AccessTokenKeyID)
	if errors.Is(err, store.ErrNoRows) {
		return model.FieldError(f, "invalid", fmt.Sprintf("No signing key with id [%s] exists.", cfg.AccessTokenKeyID))
	}
	if err != nil {
		return err
	}
	if k.PrivateSealed == "" {
		return model.FieldError(f, "invalid", fmt.Sprintf("The key [%s] holds no private or secret key: it cannot sign.", cfg.AccessTokenKeyID))
	}
	return nil
}

// preparedPermission is a validated permission ready to store.
type preparedPermission struct {
	id, name, description string
	isDefault             bool
	data                  string
}

// normalizePermission checks a permission object; field prefixes its errors.
func normalizePermission(o kit.Object, field string, verrs *model.Errors) *preparedPermission {
	permissionFields.Check(o, field, verrs)
	p := &preparedPermission{name: kit.RequiredName(o, field+".name", verrs)}
	switch v := o["description"].(type) {
	case nil:
	case string:
		p.description = strings.TrimSpace(v)
		if len(p.description) > 1024 {
			verrs.Field(field+".description", "tooLong", "["+field+".description] must be at most 1024 characters.")
		}
	default:
		verrs.Field(field+".description", "invalid", "["+field+".description] must be a string.")
	}
	switch v := o["isDefault"].(type) {
	case nil:
	case bool:
		p.isDefault = v
	default:
		verrs.Field(field+".isDefault", "invalid", "["+field+".isDefault] must be a boolean.")
	}
	data := kit.Object{}
	switch v := o["data"].(type) {
	case nil:
	case kit.Object:
		data = v
	default:
		verrs.Field(field+".data", "invalid", "["+field+".data] must be a JSON object.")
	}
	p.data, _ = kit.EncodeObject(data)
	p.id = kit.OptionalIDAt(o, "id", field+".id", verrs)
	return p
}

// loadType reads a type; model.ErrNotFound when absent.
func loadType(ctx context.Context, tx *store.Tx, id string) (*store.EntityTypeRow, []*store.PermissionRow, error) {
	cid, ok := kit.CanonicalID(id)
	if !ok {
		return nil, nil, model.NotFoundf("entity type %s", id)
	}
	row, err := tx.EntityTypeByID(ctx, cid)
	if errors.Is(err, store.ErrNoRows) {
		return nil, nil, model.NotFoundf("entity type %s", cid)
	}
	if err != nil {
		return nil, nil, err
	}
	perms, err := tx.PermissionsOfTypes(ctx, []string{cid})
	if err != nil {
		return nil, nil, err
	}
	return row, perms[cid], nil
}

func typeWriteError(err error) error {
	switch store.EntityTypeUniqueField(err) {
	case "name":
		return model.FieldError(typeField+".name", "duplicate", "An entity type with this name already exists.")
	case "id":
		return model.FieldError("entityTypeId", "duplicate", "An entity type with this id already exists.")
	}
	return err
}

func permissionWriteError(err error, field string) error {
	switch store.PermissionUniqueField(err) {
	case "name":
		return model.FieldError(field+".name", "duplicate", "The entity type already has a permission with this name.")
	case "id":
		return model.FieldError(field+".id", "duplicate", "A permission with this id already exists.")
	}
	return err
}

// CreateType creates an entity type from an EntityTypeRequest body, with the
// permissions its entityType.permissions lists. id may be "" or a chosen UUID.
func (s *Service) CreateType(ctx context.Context, actor kit.Actor, id string, body kit.Object) (kit.Object, error) {
	verrs := &model.Errors{}
	if id != "" {
		var ok bool
		if id, ok = kit.CanonicalID(id); !ok {
			verrs.Field("entityTypeId", "invalid", "The entity type id must be a UUID.")
		}
	}
	o := kit.RequestObject(body, typeRequestFields, typeField, verrs)
	if id == "" {
		given, _ := o["id"].(string)
		id = kit.NewOrGivenID(given, typeField+".id", verrs)
	}
	var perms []*preparedPermission
	switch v := o["permissions"].(type) {
	case nil:
	case []any:
		seen := map[string]bool{}
		for i, item := range v {
			f := fmt.Sprintf("%s.permissions[%d]", typeField, i)
			po, ok := item.(kit.Object)
			if !ok {
				verrs.Field(f, "invalid", "["+f+"] must be a JSON object.")
				continue
			}
			p := normalizePermission(po, f, verrs)
			if seen[strings.ToLower(p.name)] {
				verrs.Field(f+".name", "duplicate", "The entity type already has a permission with this name.")
			}
			seen[strings.ToLower(p.name)] = true
			perms = append(perms, p)
		}
	default:
		verrs.Field(typeField+".permissions", "invalid", "[entityType.permissions] must be an array.")
	}
	name, cfg := normalizeType(o, verrs)
	if err := verrs.Err(); err != nil {
		return nil, err
	}
	var out kit.Object
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := checkTypeKey(ctx, tx, cfg); err != nil {
			return err
		}
		if _, err := tx.EntityTypeByID(ctx, id); err == nil {
			return model.FieldError("entityTypeId", "duplicate", "An entity type with this id already exists.")
		} else if !errors.Is(err, store.ErrNoRows) {
			return err
		}
		if taken, err := tx.EntityTypeNameTaken(ctx, name, id); err != nil {
			return err
		} else if taken {
			return model.FieldError(typeField+".name", "duplicate", "An entity type with this name already exists.")
		}
		data, err := kit.EncodeObject(o)
		if err != nil {
			return err
		}
		now := s.now()
		row := &store.EntityTypeRow{ID: id, Name: name, Data: data, InsertInstant: now, LastUpdateInstant: now}
		if err := tx.InsertEntityType(ctx, row); err != nil {
			if store.IsUnique(err) {
				return typeWriteError(err)
			}
			return fmt.Errorf("store entity type: %w", err)
		}
		rows := make([]*store.PermissionRow, 0, len(perms))
		for i, p := range perms {
			pr := &store.PermissionRow{ID: p.id, TypeID: id, Name: p.name, Description: p.description, IsDefault: p.isDefault,
				Data: p.data, InsertInstant: now, LastUpdateInstant: now}
			if pr.ID == "" {
				pr.ID = kit.NewOrGivenID("", "", verrs)
			}
			if err := tx.InsertPermission(ctx, pr); err != nil {
				if store.IsUnique(err) {
					return permissionWriteError(err, fmt.Sprintf("%s.permissions[%d]", typeField, i))
				}
				return fmt.Errorf("store permission: %w", err)
			}
			rows = append(rows, pr)
		}
		sortPermissions(rows)
		if out, err = typeObject(row, rows); err != nil {
			return err
		}
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: "Created entity type " + label(name, id), TargetID: id, New: out})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Type returns one entity type, or model.ErrNotFound.
func (s *Service) Type(ctx context.Context, id string) (kit.Object, error) {
	row, perms, err := loadType(ctx, s.store.Read(), id)
	if err != nil {
		return nil, err
	}
	return typeObject(row, perms)
}

// Types returns every entity type, ordered by name.
func (s *Service) Types(ctx context.Context) ([]kit.Object, error) {
	rd := s.store.Read()
	rows, _, err := rd.SearchEntityTypes(ctx, store.EntityTypeQuery{}, 0, -1)
	if err != nil {
		return nil, fmt.Errorf("list entity types: %w", err)
	}
	return typeObjects(ctx, rd, rows)
}

// SearchTypes is FusionAuth's entity type search. The name matches anywhere,
// case-insensitively; "*" is accepted and means what a substring match
// already does.
func (s *Service) SearchTypes(ctx context.Context, q TypeSearch) ([]kit.Object, int, error) {
	var verrs model.Errors
	offset, limit := kit.PageWindow(&verrs, q.StartRow, q.NumberOfResults)
	col, desc, ok := kit.ParseOrderBy(q.OrderBy, store.EntityTypeOrderColumns)
	if !ok {
		verrs.Field("search.orderBy", "invalid", "orderBy must be one of id, insertInstant, lastUpdateInstant or name, optionally followed by ASC or DESC.")
	}
	if err := verrs.Err(); err != nil {
		return nil, 0, err
	}
	rd := s.store.Read()
	rows, total, err := rd.SearchEntityTypes(ctx, store.EntityTypeQuery{Name: strings.ReplaceAll(strings.TrimSpace(q.Name), "*", ""),
		OrderBy: col, Descending: desc}, offset, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("search entity types: %w", err)
	}
	out, err := typeObjects(ctx, rd, rows)
	return out, total, err
}

// UpdateType replaces a type's object with the request's; its permissions stay.
func (s *Service) UpdateType(ctx context.Context, actor kit.Actor, id string, body kit.Object) (kit.Object, error) {
	return s.changeType(ctx, actor, id, func(kit.Object) (kit.Object, error) { return body, nil })
}

// PatchType applies a patch in one of FusionAuth's three forms to
// {"entityType": current} and validates the result as an update.
func (s *Service) PatchType(ctx context.Context, actor kit.Actor, id string, form model.PatchForm, patch []byte) (kit.Object, error) {
	return s.changeType(ctx, actor, id, patcher(form, patch))
}

// patcher returns the next function of a change that applies a patch.
func patcher(form model.PatchForm, patch []byte) func(kit.Object) (kit.Object, error) {
	return func(cur kit.Object) (kit.Object, error) {
		patched, err := model.ApplyPatch(form, cur, patch)
		if err != nil {
			return nil, err
		}
		body, ok := patched.(kit.Object)
		if !ok {
			return nil, model.GeneralError(model.CodeInvalidJSON, "The patched request is not a JSON object.")
		}
		return body, nil
	}
}

func (s *Service) changeType(ctx context.Context, actor kit.Actor, id string, next func(kit.Object) (kit.Object, error)) (kit.Object, error) {
	var out kit.Object
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		cur, perms, err := loadType(ctx, tx, id)
		if err != nil {
			return err
		}
		curObj, err := typeObject(cur, perms)
		if err != nil {
			return err
		}
		body, err := next(kit.Object{typeField: model.DeepCopyJSON(curObj)})
		if err != nil {
			return err
		}
		verrs := &model.Errors{}
		o := kit.RequestObject(body, typeRequestFields, typeField, verrs)
		name, cfg := normalizeType(o, verrs)
		if err := verrs.Err(); err != nil {
			return err
		}
		if err := checkTypeKey(ctx, tx, cfg); err != nil {
			return err
		}
		if taken, err := tx.EntityTypeNameTaken(ctx, name, cur.ID); err != nil {
			return err
		} else if taken {
			return model.FieldError(typeField+".name", "duplicate", "An entity type with this name already exists.")
		}
		data, err := kit.EncodeObject(o)
		if err != nil {
			return err
		}
		row := &store.EntityTypeRow{ID: cur.ID, Name: name, Data: data, InsertInstant: cur.InsertInstant, LastUpdateInstant: s.now()}
		if err := tx.UpdateEntityType(ctx, row); err != nil {
			if store.IsUnique(err) {
				return typeWriteError(err)
			}
			return fmt.Errorf("update entity type: %w", err)
		}
		if out, err = typeObject(row, perms); err != nil {
			return err
		}
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: "Updated entity type " + label(name, cur.ID), TargetID: cur.ID, Old: curObj, New: out})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteType removes a type with its permissions, every entity of the type
// and their grants.
func (s *Service) DeleteType(ctx context.Context, actor kit.Actor, id string) error {
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		cur, perms, err := loadType(ctx, tx, id)
		if err != nil {
			return err
		}
		snapshot, err := typeObject(cur, perms)
		if err != nil {
			return err
		}
		if err := tx.DeleteEntityType(ctx, cur.ID); err != nil {
			if errors.Is(err, store.ErrNotOne) {
				return model.NotFoundf("entity type %s", cur.ID)
			}
			return err
		}
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: "Deleted entity type " + label(cur.Name, cur.ID), TargetID: cur.ID, Old: snapshot})
	})
}

// CreatePermission adds a permission to a type from an EntityTypeRequest
// body ({"permission":{…}}). permID may be "" or a chosen UUID.
func (s *Service) CreatePermission(ctx context.Context, actor kit.Actor, typeID, permID string, body kit.Object) (kit.Object, error) {
	verrs := &model.Errors{}
	o := kit.RequestObject(body, typeRequestFields, permissionField, verrs)
	p := normalizePermission(o, permissionField, verrs)
	if permID != "" {
		var ok bool
		if p.id, ok = kit.CanonicalID(permID); !ok {
			verrs.Field("permissionId", "invalid", "The permission id must be a UUID.")
		}
	}
	if err := verrs.Err(); err != nil {
		return nil, err
	}
	if p.id == "" {
		p.id = kit.NewOrGivenID("", "", verrs)
	}
	var out kit.Object
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		t, perms, err := loadType(ctx, tx, typeID)
		if err != nil {
			return err
		}
		for _, cur := range perms {
			if strings.EqualFold(cur.Name, p.name) {
				return model.FieldError(permissionField+".name", "duplicate", "The entity type already has a permission with this name.")
			}
		}
		now := s.now()
		row := &store.PermissionRow{ID: p.id, TypeID: t.ID, Name: p.name, Description: p.description, IsDefault: p.isDefault,
			Data: p.data, InsertInstant: now, LastUpdateInstant: now}
		if err := tx.InsertPermission(ctx, row); err != nil {
			if store.IsUnique(err) {
				return permissionWriteError(err, permissionField)
			}
			return fmt.Errorf("store permission: %w", err)
		}
		if err := tx.TouchEntityType(ctx, t.ID, now); err != nil {
			return err
		}
		if out, err = permissionObject(row); err != nil {
			return err
		}
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: fmt.Sprintf("Added permission %s to entity type %s", label(p.name, p.id), label(t.Name, t.ID)),
			TargetID: t.ID, New: out})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdatePermission replaces a permission with the request's.
func (s *Service) UpdatePermission(ctx context.Context, actor kit.Actor, typeID, permID string, body kit.Object) (kit.Object, error) {
	return s.changePermission(ctx, actor, typeID, permID, func(kit.Object) (kit.Object, error) { return body, nil })
}

// PatchPermission patches {"permission": current} and validates the result as an update.
func (s *Service) PatchPermission(ctx context.Context, actor kit.Actor, typeID, permID string, form model.PatchForm, patch []byte) (kit.Object, error) {
	return s.changePermission(ctx, actor, typeID, permID, patcher(form, patch))
}

// findPermission picks permID out of a type's permissions.
func findPermission(perms []*store.PermissionRow, permID string) (*store.PermissionRow, error) {
	id, ok := kit.CanonicalID(permID)
	if ok {
		for _, p := range perms {
			if p.ID == id {
				return p, nil
			}
		}
	}
	return nil, model.NotFoundf("permission %s", permID)
}

func (s *Service) changePermission(ctx context.Context, actor kit.Actor, typeID, permID string, next func(kit.Object) (kit.Object, error)) (kit.Object, error) {
	var out kit.Object
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		t, perms, err := loadType(ctx, tx, typeID)
		if err != nil {
			return err
		}
		cur, err := findPermission(perms, permID)
		if err != nil {
			return err
		}
		curObj, err := permissionObject(cur)
		if err != nil {
			return err
		}
		body, err := next(kit.Object{permissionField: model.DeepCopyJSON(curObj)})
		if err != nil {
			return err
		}
		verrs := &model.Errors{}
		o := kit.RequestObject(body, typeRequestFields, permissionField, verrs)
		delete(o, "id")
		p := normalizePermission(o, permissionField, verrs)
		if err := verrs.Err(); err != nil {
			return err
		}
		for _, other := range perms {
			if other.ID != cur.ID && strings.EqualFold(other.Name, p.name) {
				return model.FieldError(permissionField+".name", "duplicate", "The entity type already has a permission with this name.")
			}
		}
		now := s.now()
		row := &store.PermissionRow{ID: cur.ID, TypeID: t.ID, Name: p.name, Description: p.description, IsDefault: p.isDefault,
			Data: p.data, InsertInstant: cur.InsertInstant, LastUpdateInstant: now}
		if err := tx.UpdatePermission(ctx, row); err != nil {
			if store.IsUnique(err) {
				return permissionWriteError(err, permissionField)
			}
			return fmt.Errorf("update permission: %w", err)
		}
		if err := tx.TouchEntityType(ctx, t.ID, now); err != nil {
			return err
		}
		if out, err = permissionObject(row); err != nil {
			return err
		}
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: fmt.Sprintf("Updated permission %s of entity type %s", label(p.name, cur.ID), label(t.Name, t.ID)),
			TargetID: t.ID, Old: curObj, New: out})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeletePermission removes a permission from its type and from every grant
// that holds it.
func (s *Service) DeletePermission(ctx context.Context, actor kit.Actor, typeID, permID string) error {
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		t, perms, err := loadType(ctx, tx, typeID)
		if err != nil {
			return err
		}
		cur, err := findPermission(perms, permID)
		if err != nil {
			return err
		}
		snapshot, err := permissionObject(cur)
		if err != nil {
			return err
		}
		if err := tx.DeletePermission(ctx, cur.ID); err != nil {
			if errors.Is(err, store.ErrNotOne) {
				return model.NotFoundf("permission %s", cur.ID)
			}
			return err
		}
		if err := tx.TouchEntityType(ctx, t.ID, s.now()); err != nil {
			return err
		}
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: fmt.Sprintf("Deleted permission %s of entity type %s", label(cur.Name, cur.ID), label(t.Name, t.ID)),
			TargetID: t.ID, Old: snapshot})
	})
}

func sortPermissions(rows []*store.PermissionRow) {
	slices.SortFunc(rows, func(a, b *store.PermissionRow) int {
		if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}
