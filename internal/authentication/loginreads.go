package authentication

import (
	"context"
	"fmt"
	"slices"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// loginUserData is what a successful login reads about its user besides the
// user row, in the read group of its other reads: its registrations (for the
// answer's user object, and the login application's roles and
// verification), its group memberships, and its roles in the login's
// application (registration and groups, as EffectiveRoles counts them).
// Reading the registrations once serves both the status and the user
// object.
type loginUserData struct {
	regs        []*store.RegistrationRow
	members     []model.GroupMember
	roles       []string
	registered  bool
	regVerified bool
}

// loginUserDataIn reads a user's loginUserData for a login into app (nil:
// no application named) through tx (the login's read group: its reads cost
// no read transaction of their own there). An empty userID reads nothing
// found, at the cost of the same statements (unknown login ids).
func (s *Service) loginUserDataIn(ctx context.Context, tx *store.Tx, userID string, app *model.ApplicationConfig) (*loginUserData, error) {
	d := &loginUserData{regVerified: true}
	regs, err := tx.RegistrationsOfUsers(ctx, []string{userID})
	if err != nil {
		return nil, fmt.Errorf("registrations of user %s: %w", userID, err)
	}
	d.regs = regs[userID]
	members, err := s.groups.Memberships(ctx, tx, []string{userID})
	if err != nil {
		return nil, err
	}
	d.members = members[userID]
	if app == nil {
		return d, nil
	}
	var reg *store.RegistrationRow
	for _, r := range d.regs {
		if r.ApplicationID == app.ID {
			reg = r
		}
	}
	if reg == nil {
		return d, nil
	}
	var fromGroups []string
	if len(d.members) > 0 { // group roles come through memberships only
		if fromGroups, err = tx.GroupRoleNames(ctx, userID, app.ID); err != nil {
			return nil, fmt.Errorf("group roles of user %s: %w", userID, err)
		}
	}
	d.roles = kit.MergeRoles(reg.Roles, fromGroups)
	d.registered = true
	d.regVerified = !app.VerifyRegistration || reg.Verified
	return d, nil
}

// loggedInUserObject is the user object a login answers, from what it read
// before writing: the user and its registration for appID carry the
// login's lastLoginInstant, as the login wrote them.
func (s *Service) loggedInUserObject(row *store.UserRow, d *loginUserData, appID string, now int64) (*model.User, error) {
	row.LastLoginInstant = &now
	regs := d.regs
	if appID != "" {
		regs = slices.Clone(d.regs)
		for i, r := range regs {
			if r.ApplicationID == appID {
				c := *r
				c.LastLoginInstant = &now
				regs[i] = &c
			}
		}
	}
	return s.identity.UserObject(row, regs, d.members)
}
