package signing

import (
	"context"
	"errors"
	"slices"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// publicKeyEvents are the jwt.public-key.update events of a change to key
// id (FusionAuth's JWTPublicKeyUpdateEvent, a tenant-scoped, transactional
// event): one per tenant whose tokens the key may sign, with the ids of that
// tenant's applications that may be affected (those naming the key, and
// every application of a tenant that names it). A key no tenant or
// application names (one just made or imported, or deleted: deletion of a
// key in use is refused) still changes the published JWKS: its event has no
// tenant and no application ids, and reaches every webhook that takes the
// event. Nothing is read when no webhook takes it.
func (s *Service) publicKeyEvents(ctx context.Context, tx *store.Tx, id string) ([]model.Event, error) {
	if !s.audit.Wants(model.EventJWTPublicKeyUpdate, "") {
		return nil, nil
	}
	uses, err := keyUses(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	appsOf := map[string][]string{}
	var tenants []string
	add := func(tenantID string, appIDs ...string) {
		if _, ok := appsOf[tenantID]; !ok {
			tenants = append(tenants, tenantID)
			appsOf[tenantID] = []string{}
		}
		for _, a := range appIDs {
			if !slices.Contains(appsOf[tenantID], a) {
				appsOf[tenantID] = append(appsOf[tenantID], a)
			}
		}
	}
	for _, u := range uses {
		switch u.Kind {
		case "tenant":
			apps, err := tx.ListApplications(ctx, store.ApplicationQuery{TenantIDs: []string{u.ID}})
			if err != nil {
				return nil, err
			}
			ids := make([]string, len(apps))
			for i, a := range apps {
				ids[i] = a.ID
			}
			add(u.ID, ids...)
		case "application":
			tenantID, err := tx.ApplicationTenantID(ctx, u.ID)
			if errors.Is(err, store.ErrNoRows) {
				continue
			}
			if err != nil {
				return nil, err
			}
			add(tenantID, u.ID)
		}
	}
	if len(tenants) == 0 {
		return []model.Event{{Type: model.EventJWTPublicKeyUpdate, ObjectID: id, Body: map[string]any{"applicationIds": []string{}}}}, nil
	}
	evs := make([]model.Event, 0, len(tenants))
	for _, t := range tenants {
		ids := appsOf[t]
		slices.Sort(ids)
		evs = append(evs, model.Event{Type: model.EventJWTPublicKeyUpdate, TenantID: t, ObjectID: id, Body: map[string]any{"applicationIds": ids}})
	}
	return evs, nil
}
