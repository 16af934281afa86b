package groups

import (
	"context"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// FusionAuth's group events (BaseGroupEvent: the group; member events add
// the members concerned; group.update adds the original) and their
// .complete twins, ordered per group.

// groupEvents builds typ and its .complete twin. group makes the group
// object, only when a webhook wants the event; more joins the body.
func groupEvents(typ, tenantID, groupID string, group func() (model.Group, error), more map[string]any) []model.Event {
	return kit.ObjectEvents(typ, tenantID, groupID, func() (map[string]any, error) {
		o, err := group()
		if err != nil {
			return nil, err
		}
		body := map[string]any{"group": o}
		for k, v := range more {
			body[k] = v
		}
		return body, nil
	})
}

// groupAtHand is a group already built.
func groupAtHand(g model.Group) func() (model.Group, error) {
	return func() (model.Group, error) { return g, nil }
}

// groupRead reads the group's roles in tx to build its object (the member
// calls do not read them otherwise).
func groupRead(ctx context.Context, tx *store.Tx, g *store.GroupRow) func() (model.Group, error) {
	return func() (model.Group, error) {
		roles, err := tx.RolesOfGroups(ctx, []string{g.ID})
		if err != nil {
			return model.Group{}, err
		}
		return groupOf(g, roles[g.ID])
	}
}

// memberEvents is a group.member.* event for the members concerned
// (GroupMembers with their userId), rows read into members only when
// a webhook wants the event.
func memberEvents(ctx context.Context, tx *store.Tx, typ string, g *store.GroupRow, members []*store.GroupMemberRow) []model.Event {
	return kit.ObjectEvents(typ, g.TenantID, g.ID, func() (map[string]any, error) {
		group, err := groupRead(ctx, tx, g)()
		if err != nil {
			return nil, err
		}
		list, err := membersOf(members)
		if err != nil {
			return nil, err
		}
		return map[string]any{"group": group, "members": list}, nil
	})
}

// membersOf are the GroupMembers of rows, with their userId.
func membersOf(rows []*store.GroupMemberRow) ([]model.GroupMember, error) {
	out := make([]model.GroupMember, 0, len(rows))
	for _, m := range rows {
		o, err := memberOf(m, true)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}
