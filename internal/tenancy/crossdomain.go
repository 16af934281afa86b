// What tenancy does for the other domains: deciding the tenant of a new
// object (applications, groups, users), and following a role renamed or
// deleted on its application into the registrations that hold it. Both are
// plain store work, here so that identity and groups import tenancy and
// never the other way round.

package tenancy

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// renameRegistrationRole follows a role renamed on its application into the
// registrations that hold it (FusionAuth links registrations to roles, so a
// rename shows in every registration). It runs in the role change's tx.
func renameRegistrationRole(ctx context.Context, tx *store.Tx, appID, from, to string) error {
	if from == to {
		return nil
	}
	return rewriteRegistrationRole(ctx, tx, appID, from, func(roles []string) []string {
		roles = slices.DeleteFunc(roles, func(r string) bool { return r == from })
		if !slices.Contains(roles, to) {
			roles = append(roles, to)
		}
		slices.Sort(roles)
		return roles
	})
}

// dropRegistrationRole removes a role deleted from its application from the
// registrations that hold it. It runs in the role deletion's tx.
func dropRegistrationRole(ctx context.Context, tx *store.Tx, appID, name string) error {
	return rewriteRegistrationRole(ctx, tx, appID, name, func(roles []string) []string {
		return slices.DeleteFunc(roles, func(r string) bool { return r == name })
	})
}

func rewriteRegistrationRole(ctx context.Context, tx *store.Tx, appID, name string, edit func([]string) []string) error {
	regs, err := tx.RegistrationsWithRole(ctx, appID, name)
	if err != nil {
		return fmt.Errorf("registrations with role %q: %w", name, err)
	}
	for _, r := range regs {
		if err := tx.SetRegistrationRoleNames(ctx, r.ID, edit(slices.Clone(r.Roles))); err != nil {
			return fmt.Errorf("roles of registration %s: %w", r.ID, err)
		}
	}
	return nil
}

// ResolveTenantOf decides the tenant of a new object: the tenantId it names,
// else the one tenant the request names (key or header), else fallback (when
// not empty and visible), else the only tenant there is; with several tenants
// and none named, FusionAuth's [TenantIdRequired].
func ResolveTenantOf(ctx context.Context, tx *store.Tx, scope kit.TenantScope, field string, given any, fallback string) (string, error) {
	invalid := func(msg string) error { return model.FieldError(field, "invalid", msg) }
	var id string
	switch v := given.(type) {
	case nil:
	case string:
		if strings.TrimSpace(v) != "" {
			var ok bool
			if id, ok = kit.CanonicalID(v); !ok {
				return "", invalid("[" + field + "] must be a UUID.")
			}
			if !scope.CanSee(id) {
				return "", invalid("The tenant does not exist.")
			}
		}
	default:
		return "", invalid("[" + field + "] must be a UUID.")
	}
	if id == "" {
		id = scope.Tenant()
	}
	if id == "" && fallback != "" && scope.CanSee(fallback) {
		id = fallback
	}
	if id == "" {
		if scope.Tenants != nil {
			return "", TenantIDRequired()
		}
		ids, err := tx.TenantIDs(ctx)
		if err != nil {
			return "", err
		}
		if len(ids) != 1 {
			return "", TenantIDRequired()
		}
		return ids[0], nil
	}
	exists, err := tx.TenantExists(ctx, id)
	if err != nil {
		return "", err
	}
	if !exists {
		return "", invalid("The tenant does not exist.")
	}
	return id, nil
}
