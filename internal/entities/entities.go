package entities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/secrets"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/tenancy"
)

// Entities, FusionAuth's /api/entity: tenant-scoped as users are. An entity
// is kept whole like a group; Latch owns id, tenantId, type, name, clientId,
// clientSecret, parentId and the instants. clientId defaults to the entity's
// id and is unique everywhere. The client secret is generated (256 random
// bits) when not given, stored sealed under the master key and as a keyed
// MAC (what the token endpoint checks), and returned as FusionAuth returns it.

const entityField = "entity"

var entityOwnedFields = []string{"id", "tenantId", "type", "name", "clientId", "clientSecret", "parentId", "insertInstant", "lastUpdateInstant"}

// The member names of an entity and of the request, matched exactly.
var (
	entityFields        = model.FieldsOf(nil, "id", "tenantId", "type.id", "type.name", "name", "clientId", "clientSecret", "parentId", "data", "insertInstant", "lastUpdateInstant")
	entityRequestFields = model.FieldsOf(nil, entityField)
)

// maxClientSecretLength bounds a client secret a caller chooses.
const maxClientSecretLength = 1024

// SecretMACPurpose names the MAC of entity client secrets.
const SecretMACPurpose = "entity-client-secret"

func entitySecretAD(id string) string { return "entity:" + id }

// EntitySearch is FusionAuth's EntitySearchCriteria (its Elasticsearch
// criteria, read as described in docs/compatibility.md).
type EntitySearch struct {
	IDs             []string    `json:"ids"`
	Query           string      `json:"query"`
	QueryString     string      `json:"queryString"`
	SortFields      []SortField `json:"sortFields"`
	AccurateTotal   bool        `json:"accurateTotal"`
	NextResults     string      `json:"nextResults"`
	OrderBy         string      `json:"orderBy"`
	StartRow        int         `json:"startRow"`
	NumberOfResults int         `json:"numberOfResults"`
}

// SortField is FusionAuth's SortField.
type SortField struct {
	Name    string `json:"name"`
	Order   string `json:"order"`
	Missing string `json:"missing"`
}

// preparedEntity is a validated entity object ready to store.
type preparedEntity struct {
	name, typeID, clientID, parentID string
	secret                           string // "" when the request gave none
	clientIDGiven                    bool
}

// normalizeEntity checks an entity object as sent and prepares it in place.
func normalizeEntity(o kit.Object, verrs *model.Errors) *preparedEntity {
	entityFields.Check(o, entityField, verrs)
	p := &preparedEntity{name: kit.RequiredName(o, entityField+".name", verrs)}
	switch t := o["type"].(type) {
	case nil:
		verrs.Field(entityField+".type.id", "blank", "[entity.type.id] is required.")
	case kit.Object:
		if p.typeID = kit.OptionalIDAt(t, "id", entityField+".type.id", verrs); p.typeID == "" && t["id"] == nil {
			verrs.Field(entityField+".type.id", "blank", "[entity.type.id] is required.")
		}
	default:
		verrs.Field(entityField+".type", "invalid", "[entity.type] must be a JSON object.")
	}
	switch v := o["clientId"].(type) {
	case nil:
	case string:
		p.clientID = strings.TrimSpace(v)
		p.clientIDGiven = p.clientID != ""
		switch {
		case len(p.clientID) > kit.MaxNameLength:
			verrs.Field(entityField+".clientId", "tooLong", fmt.Sprintf("[entity.clientId] must be at most %d characters.", kit.MaxNameLength))
		case strings.IndexFunc(p.clientID, func(r rune) bool { return unicode.IsControl(r) || r == ':' }) >= 0:
			// A colon cannot pass through HTTP Basic client authentication.
			verrs.Field(entityField+".clientId", "invalid", "[entity.clientId] must not contain control characters or a colon.")
		}
	default:
		verrs.Field(entityField+".clientId", "invalid", "[entity.clientId] must be a string.")
	}
	switch v := o["clientSecret"].(type) {
	case nil:
	case string:
		p.secret = strings.TrimSpace(v)
		if len(p.secret) > maxClientSecretLength {
			verrs.Field(entityField+".clientSecret", "tooLong", fmt.Sprintf("[entity.clientSecret] must be at most %d characters.", maxClientSecretLength))
		}
	default:
		verrs.Field(entityField+".clientSecret", "invalid", "[entity.clientSecret] must be a string.")
	}
	p.parentID = kit.OptionalIDAt(o, "parentId", entityField+".parentId", verrs)
	if v, ok := o["data"]; ok && v != nil {
		if _, ok := v.(kit.Object); !ok {
			verrs.Field(entityField+".data", "invalid", "[entity.data] must be a JSON object.")
		}
	}
	for _, f := range entityOwnedFields {
		delete(o, f)
	}
	return p
}

// entityObject builds the object a client sees: the type in full, and the
// client secret when withSecret.
func (s *Service) entityObject(row *store.EntityRow, typ kit.Object, withSecret bool) (kit.Object, error) {
	o, err := kit.StoredObject(row.Data, entityFields)
	if err != nil {
		return nil, fmt.Errorf("entity %s data: %w", row.ID, err)
	}
	if o["data"] == nil {
		o["data"] = kit.Object{}
	}
	o["id"], o["tenantId"], o["name"], o["clientId"] = row.ID, row.TenantID, row.Name, row.ClientID
	o["insertInstant"], o["lastUpdateInstant"] = row.InsertInstant, row.LastUpdateInstant
	o["type"] = model.DeepCopyJSON(typ)
	if row.ParentID != "" {
		o["parentId"] = row.ParentID
	}
	if withSecret {
		secret, err := s.master.Open(row.SecretSealed, entitySecretAD(row.ID))
		if err != nil {
			return nil, fmt.Errorf("open the client secret of entity %s: %w", row.ID, err)
		}
		o["clientSecret"] = secret
	}
	return o, nil
}

// entityObjects builds the objects of entities with their types.
func (s *Service) entityObjects(ctx context.Context, tx *store.Tx, rows []*store.EntityRow, withSecret bool) (map[string]kit.Object, error) {
	var typeIDs []string
	seen := map[string]bool{}
	for _, r := range rows {
		if !seen[r.TypeID] {
			seen[r.TypeID] = true
			typeIDs = append(typeIDs, r.TypeID)
		}
	}
	types, err := tx.EntityTypesByIDs(ctx, typeIDs)
	if err != nil {
		return nil, err
	}
	typeRows := make([]*store.EntityTypeRow, 0, len(types))
	for _, id := range typeIDs {
		if t, ok := types[id]; ok {
			typeRows = append(typeRows, t)
		}
	}
	typeObjs, err := typeObjects(ctx, tx, typeRows)
	if err != nil {
		return nil, err
	}
	byType := map[string]kit.Object{}
	for _, t := range typeObjs {
		byType[t["id"].(string)] = t
	}
	out := make(map[string]kit.Object, len(rows))
	for _, r := range rows {
		o, err := s.entityObject(r, byType[r.TypeID], withSecret)
		if err != nil {
			return nil, err
		}
		out[r.ID] = o
	}
	return out, nil
}

// entityEvents is FusionAuth's entity event (BaseEntityEvent: the entity,
// without its client secret, which no event log keeps; entity.update adds
// the original) and its .complete twin, ordered per entity.
func entityEvents(typ string, entity, original kit.Object) []model.Event {
	tenantID, _ := entity["tenantId"].(string)
	id, _ := entity["id"].(string)
	return kit.ObjectEvents(typ, tenantID, id, func() (map[string]any, error) {
		body := map[string]any{"entity": entity}
		if original != nil {
			body["original"] = original
		}
		return body, nil
	})
}

// withoutSecret is an entity object fit for the audit log.
func withoutSecret(o kit.Object) kit.Object {
	c := model.DeepCopyJSON(o).(kit.Object)
	delete(c, "clientSecret")
	return c
}

// loadEntity reads an entity within the scope; model.ErrNotFound when absent
// or in a tenant the scope cannot see.
func loadEntity(ctx context.Context, tx *store.Tx, scope kit.TenantScope, id string) (*store.EntityRow, error) {
	cid, ok := kit.CanonicalID(id)
	if !ok {
		return nil, model.NotFoundf("entity %s", id)
	}
	row, err := tx.EntityByID(ctx, cid)
	if errors.Is(err, store.ErrNoRows) || (err == nil && !scope.CanSee(row.TenantID)) {
		return nil, model.NotFoundf("entity %s", cid)
	}
	return row, err
}

func (s *Service) oneEntityObject(ctx context.Context, tx *store.Tx, row *store.EntityRow, withSecret bool) (kit.Object, error) {
	objs, err := s.entityObjects(ctx, tx, []*store.EntityRow{row}, withSecret)
	if err != nil {
		return nil, err
	}
	return objs[row.ID], nil
}

func entityWriteError(err error) error {
	switch store.EntityUniqueField(err) {
	case "clientId":
		return model.FieldError(entityField+".clientId", "duplicate", "An entity with this client id already exists.")
	case "id":
		return model.FieldError("entityId", "duplicate", "An entity with this id already exists.")
	}
	return err
}

// seal seals a client secret for an entity and computes its MAC.
func (s *Service) seal(row *store.EntityRow, secret string) {
	row.SecretSealed = s.master.Seal(secret, entitySecretAD(row.ID))
	row.SecretMAC = s.master.MAC(SecretMACPurpose, secret)
}

// CreateEntity creates an entity from an EntityRequest body. id may be "" or
// a chosen UUID.
func (s *Service) CreateEntity(ctx context.Context, actor kit.Actor, scope kit.TenantScope, id string, body kit.Object) (kit.Object, error) {
	verrs := &model.Errors{}
	if id != "" {
		var ok bool
		if id, ok = kit.CanonicalID(id); !ok {
			verrs.Field("entityId", "invalid", "The entity id must be a UUID.")
		}
	}
	o := kit.RequestObject(body, entityRequestFields, entityField, verrs)
	if id == "" {
		given, _ := o["id"].(string)
		id = kit.NewOrGivenID(given, entityField+".id", verrs)
	}
	givenTenant := o["tenantId"]
	p := normalizeEntity(o, verrs)
	if err := verrs.Err(); err != nil {
		return nil, err
	}
	if !p.clientIDGiven {
		p.clientID = id
	}
	if p.secret == "" {
		p.secret = secrets.Token(32)
	}
	var out kit.Object
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		tenantID, err := tenancy.ResolveTenantOf(ctx, tx, scope, entityField+".tenantId", givenTenant, "")
		if err != nil {
			return err
		}
		if _, err := tx.EntityTypeByID(ctx, p.typeID); errors.Is(err, store.ErrNoRows) {
			return model.FieldError(entityField+".type.id", "invalid", fmt.Sprintf("No entity type with id [%s] exists.", p.typeID))
		} else if err != nil {
			return err
		}
		if _, err := tx.EntityByID(ctx, id); err == nil {
			return model.FieldError("entityId", "duplicate", "An entity with this id already exists.")
		} else if !errors.Is(err, store.ErrNoRows) {
			return err
		}
		if taken, err := tx.ClientIDTaken(ctx, p.clientID, id); err != nil {
			return err
		} else if taken {
			return model.FieldError(entityField+".clientId", "duplicate", "An entity with this client id already exists.")
		}
		data, err := kit.EncodeObject(o)
		if err != nil {
			return err
		}
		now := s.now()
		row := &store.EntityRow{ID: id, TenantID: tenantID, TypeID: p.typeID, Name: p.name, ClientID: p.clientID, ParentID: p.parentID,
			Data: data, InsertInstant: now, LastUpdateInstant: now}
		s.seal(row, p.secret)
		if err := tx.InsertEntity(ctx, row); err != nil {
			if store.IsUnique(err) {
				return entityWriteError(err)
			}
			return fmt.Errorf("store entity: %w", err)
		}
		if out, err = s.oneEntityObject(ctx, tx, row, true); err != nil {
			return err
		}
		snapshot := withoutSecret(out)
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: "Created entity " + label(p.name, id), TargetID: id,
			New: snapshot, Data: map[string]any{"tenantId": tenantID}, Events: entityEvents(model.EventEntityCreate, snapshot, nil)})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Entity returns one entity with its client secret, or model.ErrNotFound
// (also for entities of tenants outside the scope).
func (s *Service) Entity(ctx context.Context, scope kit.TenantScope, id string) (kit.Object, error) {
	rd := s.store.Read()
	row, err := loadEntity(ctx, rd, scope, id)
	if err != nil {
		return nil, err
	}
	return s.oneEntityObject(ctx, rd, row, true)
}

// UpdateEntity replaces an entity with the request's. clientId and
// clientSecret stay as they are when the request leaves them out; the type
// and tenant cannot change.
func (s *Service) UpdateEntity(ctx context.Context, actor kit.Actor, scope kit.TenantScope, id string, body kit.Object) (kit.Object, error) {
	return s.changeEntity(ctx, actor, scope, id, func(kit.Object) (kit.Object, error) { return body, nil })
}

// PatchEntity patches {"entity": current} and validates the result as an update.
func (s *Service) PatchEntity(ctx context.Context, actor kit.Actor, scope kit.TenantScope, id string, form model.PatchForm, patch []byte) (kit.Object, error) {
	return s.changeEntity(ctx, actor, scope, id, patcher(form, patch))
}

func (s *Service) changeEntity(ctx context.Context, actor kit.Actor, scope kit.TenantScope, id string, next func(kit.Object) (kit.Object, error)) (kit.Object, error) {
	var out kit.Object
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		cur, err := loadEntity(ctx, tx, scope, id)
		if err != nil {
			return err
		}
		curObj, err := s.oneEntityObject(ctx, tx, cur, true)
		if err != nil {
			return err
		}
		body, err := next(kit.Object{entityField: model.DeepCopyJSON(curObj)})
		if err != nil {
			return err
		}
		verrs := &model.Errors{}
		o := kit.RequestObject(body, entityRequestFields, entityField, verrs)
		if t, ok := o["type"].(kit.Object); ok && t["id"] == nil {
			t["id"] = cur.TypeID // a request may name the type by its id only, or not repeat it
		} else if o["type"] == nil {
			o["type"] = kit.Object{"id": cur.TypeID}
		}
		p := normalizeEntity(o, verrs)
		if err := verrs.Err(); err != nil {
			return err
		}
		if p.typeID != cur.TypeID {
			return model.FieldError(entityField+".type.id", "invalid", "The type of an entity cannot change.")
		}
		if !p.clientIDGiven {
			p.clientID = cur.ClientID
		}
		if taken, err := tx.ClientIDTaken(ctx, p.clientID, cur.ID); err != nil {
			return err
		} else if taken {
			return model.FieldError(entityField+".clientId", "duplicate", "An entity with this client id already exists.")
		}
		data, err := kit.EncodeObject(o)
		if err != nil {
			return err
		}
		row := &store.EntityRow{ID: cur.ID, TenantID: cur.TenantID, TypeID: cur.TypeID, Name: p.name, ClientID: p.clientID,
			ParentID: p.parentID, Data: data, InsertInstant: cur.InsertInstant, LastUpdateInstant: s.now(),
			SecretSealed: cur.SecretSealed, SecretMAC: cur.SecretMAC}
		rotated := p.secret != "" && !secrets.Equal(s.master.MAC(SecretMACPurpose, p.secret), cur.SecretMAC)
		if rotated {
			s.seal(row, p.secret)
		}
		if err := tx.UpdateEntity(ctx, row); err != nil {
			if store.IsUnique(err) {
				return entityWriteError(err)
			}
			return fmt.Errorf("update entity: %w", err)
		}
		if out, err = s.oneEntityObject(ctx, tx, row, true); err != nil {
			return err
		}
		msg := "Updated entity " + label(p.name, cur.ID)
		if rotated {
			msg += "; its client secret changed"
		}
		before, after := withoutSecret(curObj), withoutSecret(out)
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: msg, TargetID: cur.ID, Old: before, New: after,
			Events: entityEvents(model.EventEntityUpdate, after, before)})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteEntity removes an entity with the grants on it and to it. Its client
// credentials stop working at once: the token endpoint reads the database.
func (s *Service) DeleteEntity(ctx context.Context, actor kit.Actor, scope kit.TenantScope, id string) error {
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		cur, err := loadEntity(ctx, tx, scope, id)
		if err != nil {
			return err
		}
		snapshot, err := s.oneEntityObject(ctx, tx, cur, false)
		if err != nil {
			return err
		}
		if err := tx.DeleteEntity(ctx, cur.ID); err != nil {
			if errors.Is(err, store.ErrNotOne) {
				return model.NotFoundf("entity %s", cur.ID)
			}
			return err
		}
		return s.audit.Write(ctx, tx, actor, audit.Change{Message: "Deleted entity " + label(cur.Name, cur.ID), TargetID: cur.ID, Old: snapshot,
			Data: map[string]any{"tenantId": cur.TenantID}, Events: entityEvents(model.EventEntityDelete, snapshot, nil)})
	})
}

// SearchEntities is FusionAuth's entity search, limited to the scope. See
// parseEntityQuery for what queryString and query read.
func (s *Service) SearchEntities(ctx context.Context, scope kit.TenantScope, q EntitySearch) ([]kit.Object, int, error) {
	var verrs model.Errors
	offset, limit := kit.PageWindow(&verrs, q.StartRow, q.NumberOfResults)
	query, none := parseEntitySearch(q, &verrs)
	if err := verrs.Err(); err != nil {
		return nil, 0, err
	}
	if query.TenantIDs, none = intersect(query.TenantIDs, scope.Tenants, none); none {
		return []kit.Object{}, 0, nil
	}
	rd := s.store.Read()
	rows, total, err := rd.SearchEntities(ctx, query, offset, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("search entities: %w", err)
	}
	objs, err := s.entityObjects(ctx, rd, rows, true)
	if err != nil {
		return nil, 0, err
	}
	out := make([]kit.Object, 0, len(rows))
	for _, r := range rows {
		out = append(out, objs[r.ID])
	}
	return out, total, nil
}
