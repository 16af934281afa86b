package tenancy

import (
	"context"
	"fmt"
	"slices"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// A tenant or an application that starts signing its tokens with other keys
// (a key rotation: another key named in jwtConfiguration) emits FusionAuth's
// jwt.public-key.update with the applications whose tokens it concerns;
// changes to the keys themselves emit it from internal/signing.

// tenantKeyEvents is the event of a tenant update that changed the tenant's
// token keys: every application of the tenant may be affected.
func tenantKeyEvents(ctx context.Context, tx *store.Tx, tenantID string, before, after *model.JWTConfiguration) []model.Event {
	if before.AccessTokenKeyID == after.AccessTokenKeyID && before.IDTokenKeyID == after.IDTokenKeyID {
		return nil
	}
	return []model.Event{{Type: model.EventJWTPublicKeyUpdate, TenantID: tenantID, Build: func() (map[string]any, error) {
		apps, err := tx.ListApplications(ctx, store.ApplicationQuery{TenantIDs: []string{tenantID}, OrderBy: "id"})
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(apps))
		for i, a := range apps {
			ids[i] = a.ID
		}
		return map[string]any{"applicationIds": ids}, nil
	}}}
}

// applicationKeyEvents is the event of an application update that changed
// the keys its tokens are signed with: its own keys count only while its
// jwtConfiguration is enabled (else its tenant's sign them).
func applicationKeyEvents(tenantID, appID string, before, after *model.JWTConfiguration) []model.Event {
	own := func(c *model.JWTConfiguration) [2]string {
		if !c.Enabled {
			return [2]string{}
		}
		return [2]string{c.AccessTokenKeyID, c.IDTokenKeyID}
	}
	if own(before) == own(after) {
		return nil
	}
	return []model.Event{{Type: model.EventJWTPublicKeyUpdate, TenantID: tenantID, Body: map[string]any{"applicationIds": []string{appID}}}}
}

// checkEventConfiguration checks a tenant's per-event settings: each key one
// of FusionAuth's event types, each transactionType one of its five.
func checkEventConfiguration(c *model.EventConfiguration, field string, verrs *model.Errors) {
	types := make([]string, 0, len(c.Events))
	for t := range c.Events {
		types = append(types, t)
	}
	slices.Sort(types)
	for _, t := range types {
		if !slices.Contains(model.EventTypes, t) {
			verrs.Field(field, "invalid", fmt.Sprintf("The event type [%s] is not one of the event types.", t))
			continue
		}
		kit.OneOf(verrs, field+"["+t+"].transactionType", c.Events[t].TransactionType, model.TransactionNone, model.TransactionAny,
			model.TransactionSimpleMajority, model.TransactionSuperMajority, model.TransactionAbsoluteMajority)
	}
}
