package kit

import (
	"context"
	"errors"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
)

// UserObjectFunc builds a user's object (identity.Service.UserObject);
// events call it without registrations or memberships.
type UserObjectFunc func(row *store.UserRow, regs []*store.RegistrationRow, members []model.GroupMember) (*model.User, error)

// FullUserFunc builds a user's object with its registrations and
// memberships read in tx (identity.Service.FullUserObject): the user of
// FusionAuth's user events.
type FullUserFunc func(ctx context.Context, tx *store.Tx, row *store.UserRow) (*model.User, error)

// UserEvents builds FusionAuth's user events (BaseUserEvent: the user
// without secrets, plus more) for each of types that wants says a webhook
// takes; the user object is built once, and only then.
func UserEvents(wants func(typ, tenantID string) bool, userObject UserObjectFunc,
	row *store.UserRow, more map[string]any, types ...string) ([]model.Event, error) {
	var out []model.Event
	var user *model.User
	for _, typ := range types {
		if typ == "" || !wants(typ, row.TenantID) {
			continue
		}
		if user == nil {
			var err error
			if user, err = userObject(row, nil, nil); err != nil {
				return nil, err
			}
		}
		body := map[string]any{"user": user}
		for k, v := range more {
			body[k] = v
		}
		out = append(out, model.Event{Type: typ, TenantID: row.TenantID, UserID: row.ID, Body: body})
	}
	return out, nil
}

// UserEventsOf builds user events with a user object already at hand (the
// audit log drops those no webhook wants).
func UserEventsOf(user *model.User, row *store.UserRow, more map[string]any, types ...string) []model.Event {
	atHand := func(*store.UserRow, []*store.RegistrationRow, []model.GroupMember) (*model.User, error) {
		return user, nil
	}
	evs, _ := UserEvents(func(string, string) bool { return true }, atHand, row, more, types...)
	return evs
}

// BulkEvent is one event with every user of rows (user.bulk.create), the
// users made by users only when a webhook wants it.
func BulkEvent(rows []*store.UserRow, typ string, users func() ([]*model.User, error)) []model.Event {
	if len(rows) == 0 {
		return nil
	}
	return []model.Event{{Type: typ, TenantID: rows[0].TenantID, Build: func() (map[string]any, error) {
		list, err := users()
		return map[string]any{"users": list}, err
	}}}
}

// When is typ when cond holds, else "" (which UserEventsOf skips).
func When(cond bool, typ string) string {
	if cond {
		return typ
	}
	return ""
}

// WithActive is a copy of row with its active flag set.
func WithActive(row *store.UserRow, active bool) *store.UserRow {
	c := *row
	c.Active = active
	return &c
}

// LazyUserEvent is a user event whose body (the user with its
// registrations and memberships, plus more) is built by the audit log in
// tx, the change's transaction, only when a webhook wants it.
func LazyUserEvent(ctx context.Context, tx *store.Tx, typ string, fullUser FullUserFunc, row *store.UserRow, more map[string]any) model.Event {
	return model.Event{Type: typ, TenantID: row.TenantID, UserID: row.ID, Build: func() (map[string]any, error) {
		user, err := fullUser(ctx, tx, row)
		body := map[string]any{"user": user}
		for k, v := range more {
			body[k] = v
		}
		return body, err
	}}
}

// RegistrationEvent is a registration event (applicationId, registration,
// the user read in tx, and original on update) and its .complete variant,
// built only when wanted.
func RegistrationEvent(ctx context.Context, tx *store.Tx, fullUser FullUserFunc,
	typ, userID, tenantID, appID string, reg, original *model.Registration) []model.Event {
	build := func() (map[string]any, error) {
		row, err := tx.UserRowByID(ctx, userID)
		if err != nil {
			return nil, err
		}
		user, err := fullUser(ctx, tx, row)
		body := map[string]any{"user": user, "applicationId": appID, "registration": reg}
		if original != nil {
			body["original"] = original
		}
		return body, err
	}
	return []model.Event{{Type: typ, TenantID: tenantID, UserID: userID, Build: build},
		{Type: typ + ".complete", TenantID: tenantID, UserID: userID, Build: build}}
}

// UserUpdateEvents are the events of a user update: user.update and its
// .complete twin (with the original), user.password.update when the
// password changed, and user.email.update (with previousEmail) when the
// email did.
func UserUpdateEvents(user, original *model.User, row *store.UserRow, previousEmail string, passwordChanged bool) []model.Event {
	evs := UserEventsOf(user, row, map[string]any{"original": original}, model.EventUserUpdate, model.EventUserUpdateComplete)
	evs = append(evs, UserEventsOf(user, row, nil, When(passwordChanged, model.EventUserPasswordUpdate))...)
	if row.Email != previousEmail {
		more := map[string]any{}
		if previousEmail != "" {
			more["previousEmail"] = previousEmail
		}
		evs = append(evs, UserEventsOf(user, row, more, model.EventUserEmailUpdate)...)
	}
	return evs
}

// ObjectEvents is an event about a group or an entity and its .complete
// twin. They share one body, built once and only when a webhook wants
// either.
func ObjectEvents(typ, tenantID, objectID string, build func() (map[string]any, error)) []model.Event {
	var body map[string]any
	var err error
	built := false
	once := func() (map[string]any, error) {
		if !built {
			body, err = build()
			built = true
		}
		return body, err
	}
	return []model.Event{{Type: typ, TenantID: tenantID, ObjectID: objectID, Build: once},
		{Type: typ + model.CompleteSuffix, TenantID: tenantID, ObjectID: objectID, Build: once}}
}

// DuplicateLoginIDEvent is user.loginId.duplicate.create or .update
// (FusionAuth's UserLoginIdDuplicateOnCreateEvent, never transactional) for
// attempted, the user a create or an update asked for, when refused turned
// it down because its email or username is another user's email or
// username: user (as asked for), existing, duplicateEmail and
// duplicateUsername (the values refused). Nil when refused names no such
// login id: a look-alike in other letters is refused too but is no one's
// login id.
func DuplicateLoginIDEvent(ctx context.Context, tx *store.Tx, userObject UserObjectFunc, typ string,
	attempted *store.UserRow, refused error) (*model.Event, error) {
	body := map[string]any{}
	var existing *store.UserRow
	for _, d := range []struct{ field, member, value string }{
		{"user.email", "duplicateEmail", attempted.Email}, {"user.username", "duplicateUsername", attempted.Username}} {
		if d.value == "" || !model.HasFieldError(refused, d.field, "duplicate") {
			continue
		}
		row, err := tx.UserRowByLoginID(ctx, attempted.TenantID, d.value)
		if errors.Is(err, store.ErrNoRows) || (err == nil && row.ID == attempted.ID) {
			continue
		}
		if err != nil {
			return nil, err
		}
		body[d.member] = d.value
		if existing == nil {
			existing = row
		}
	}
	if existing == nil {
		return nil, nil
	}
	user, err := userObject(attempted, nil, nil)
	if err != nil {
		return nil, err
	}
	if body["existing"], err = userObject(existing, nil, nil); err != nil {
		return nil, err
	}
	body["user"] = user
	return &model.Event{Type: typ, TenantID: attempted.TenantID, UserID: attempted.ID, Body: body}, nil
}
