package kit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// Readers of user rows that several rules packages share (identity, tokens,
// authentication): plain reads over a transaction, no service.

// UserLabel names a user in audit messages.
func UserLabel(row *store.UserRow) string {
	name := row.Email
	if name == "" {
		name = row.Username
	}
	return fmt.Sprintf("[%s] (%s)", name, row.ID)
}

// LoadUser reads a user within the scope; ErrNotFound also for users of other
// tenants.
func LoadUser(ctx context.Context, tx *store.Tx, scope TenantScope, id string) (*store.UserRow, error) {
	cid, ok := CanonicalID(id)
	if !ok {
		return nil, model.NotFoundf("user %q", id)
	}
	row, err := tx.UserRowByID(ctx, cid)
	if errors.Is(err, store.ErrNoRows) || (err == nil && !scope.CanSee(row.TenantID)) {
		return nil, model.NotFoundf("user %s", cid)
	}
	if err != nil {
		return nil, err
	}
	return row, nil
}

// UserExpiry reads a user's expiry (epoch ms; 0 when none). Only the member
// named exactly "expiry" counts: a case variant is no field (see StoredObject,
// which drops them; reading the exact name here is the same).
func UserExpiry(row *store.UserRow) int64 {
	o, err := ParseObject(row.Data)
	if err != nil {
		return 0
	}
	v, _ := o["expiry"].(json.Number)
	n, err := v.Int64()
	if err != nil {
		return 0
	}
	return n
}

// MergeRoles is a registration's roles and its groups' roles, each once,
// sorted (never nil), as EffectiveRoles answers them.
func MergeRoles(own, fromGroups []string) []string {
	out := slices.Clone(own)
	for _, r := range fromGroups {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	if out == nil {
		out = []string{}
	}
	return out
}

// EffectiveRoles is a user's roles for an application: the registration's
// roles and the roles the user's groups grant on that application. Group
// roles apply only to registered users, as in FusionAuth; registered is false
// (and roles nil) when the user has no registration for the application. This is what a token's roles claim holds.
func EffectiveRoles(ctx context.Context, tx *store.Tx, userID, applicationID string) (roles []string, registered bool, err error) {
	reg, err := tx.RegistrationOf(ctx, userID, applicationID)
	if errors.Is(err, store.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("registration of user %s: %w", userID, err)
	}
	fromGroups, err := tx.GroupRoleNames(ctx, userID, applicationID)
	if err != nil {
		return nil, false, fmt.Errorf("group roles of user %s: %w", userID, err)
	}
	return MergeRoles(reg.Roles, fromGroups), true, nil
}
