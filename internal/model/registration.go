package model

import (
	"slices"

	"github.com/latchid/latch/internal/secrets"
)

// Registration is FusionAuth's UserRegistration, typed like User: the
// members Latch owns (its columns) and those it checks are struct fields;
// everything else (data, cleanSpeakId, unknown members at any depth) rides
// in Extra and is written back exactly as sent.
type Registration struct {
	ID                 string   `json:"id"`
	ApplicationID      string   `json:"applicationId"`
	Roles              []string `json:"roles"`
	Username           string   `json:"username,omitempty"`
	UsernameStatus     string   `json:"usernameStatus,omitempty"`
	PreferredLanguages []string `json:"preferredLanguages,omitempty"`
	Timezone           string   `json:"timezone,omitempty"`
	Verified           bool     `json:"verified"`
	VerifiedInstant    *int64   `json:"verifiedInstant,omitempty"`
	InsertInstant      int64    `json:"insertInstant"`
	LastUpdateInstant  int64    `json:"lastUpdateInstant"`
	LastLoginInstant   *int64   `json:"lastLoginInstant,omitempty"`
	// AuthenticationToken is set only in the answer of the call that set it.
	AuthenticationToken secrets.Secret `json:"authenticationToken,omitempty"`

	Extra Extra `json:"-"`
}

// registrationShape is Registration without its JSON methods.
type registrationShape Registration

// JSONShape gives model.FieldsOf the members of a registration.
func (Registration) JSONShape() any { return registrationShape{} }

// registrationFields are the members of a registration, for reading names exactly.
var registrationFields = FieldsOf(registrationShape{})

func (r *Registration) tree() (map[string]any, error) {
	o := make(treeOut, 16)
	for _, m := range []struct {
		k, v      string
		omitEmpty bool
	}{
		{"id", r.ID, false}, {"applicationId", r.ApplicationID, false}, {"username", r.Username, true},
		{"usernameStatus", r.UsernameStatus, true}, {"timezone", r.Timezone, true},
		{"authenticationToken", r.AuthenticationToken.Reveal(), true},
	} {
		if err := o.str(m.k, m.v, m.omitEmpty); err != nil {
			return nil, err
		}
	}
	if err := o.strs("roles", r.Roles, false); err != nil {
		return nil, err
	}
	if err := o.strs("preferredLanguages", r.PreferredLanguages, true); err != nil {
		return nil, err
	}
	o["verified"] = r.Verified
	o.numPtr("verifiedInstant", r.VerifiedInstant)
	o.num("insertInstant", r.InsertInstant, false)
	o.num("lastUpdateInstant", r.LastUpdateInstant, false)
	o.numPtr("lastLoginInstant", r.LastLoginInstant)
	return o, nil
}

func (r *Registration) typed(deep bool) registrationShape {
	c := registrationShape(*r)
	c.Extra = Extra{}
	if deep {
		c.Roles = slices.Clone(r.Roles)
		c.PreferredLanguages = slices.Clone(r.PreferredLanguages)
		c.VerifiedInstant = cloneInt(r.VerifiedInstant)
		c.LastLoginInstant = cloneInt(r.LastLoginInstant)
	}
	return c
}

func (r *Registration) snapshot() any { return r.typed(true) }

// clone is a deep copy of the typed fields; the bag is shared (its trees
// are never modified in place).
func (r *Registration) clone() Registration {
	c := Registration(r.typed(true))
	c.Extra = r.Extra
	return c
}

// MarshalJSON writes the typed fields and the raw bag.
func (r Registration) MarshalJSON() ([]byte, error) {
	if b, ok, err := r.Extra.EncodeUnchanged(r.typed(false)); ok {
		return b, err
	}
	return EncodeWithExtra(r.Extra, r.tree)
}

// UnmarshalJSON reads the typed fields and keeps the rest in the raw bag.
func (r *Registration) UnmarshalJSON(data []byte) error {
	*r = Registration{}
	sent, err := parseObject(data, (*registrationShape)(r))
	if err != nil || sent == nil {
		return err
	}
	return r.decode(sent, data)
}

// UnmarshalTree is UnmarshalJSON for a document tree (see NormalizeTree),
// which the registration keeps: the caller must not modify it afterwards.
func (r *Registration) UnmarshalTree(sent map[string]any) error {
	*r = Registration{}
	return r.decode(sent, nil)
}

func (r *Registration) decode(sent map[string]any, data []byte) error {
	x, err := decodeTyped(r, sent, data, registrationFields, (*registrationShape)(r), func() { *r = Registration{} })
	r.Extra = x
	return err
}

// Tree is the registration as a document tree (for PATCH).
func (r *Registration) Tree() (map[string]any, error) {
	t, err := r.joined()
	if err != nil {
		return nil, err
	}
	return CopyObject(t), nil
}

// joined is the tree with the bag, shared with the bag while unchanged.
func (r *Registration) joined() (map[string]any, error) {
	return joinedTree(r, r.Extra, r.typed(false))
}

func (r *Registration) fromTree(sent map[string]any) bool {
	for k, v := range sent {
		if !r.setMember(k, v) {
			return false
		}
	}
	return true
}

func (r *Registration) setMember(k string, v any) bool {
	switch k {
	case "id":
		return setString(&r.ID, v)
	case "applicationId":
		return setString(&r.ApplicationID, v)
	case "roles":
		return setStrings(&r.Roles, v)
	case "username":
		return setString(&r.Username, v)
	case "usernameStatus":
		return setString(&r.UsernameStatus, v)
	case "preferredLanguages":
		return setStrings(&r.PreferredLanguages, v)
	case "timezone":
		return setString(&r.Timezone, v)
	case "verified":
		return setBool(&r.Verified, v)
	case "verifiedInstant":
		return setIntPtr(&r.VerifiedInstant, v)
	case "insertInstant":
		return setInt(&r.InsertInstant, v)
	case "lastUpdateInstant":
		return setInt(&r.LastUpdateInstant, v)
	case "lastLoginInstant":
		return setIntPtr(&r.LastLoginInstant, v)
	case "authenticationToken":
		var s string
		ok := setString(&s, v)
		r.AuthenticationToken = secrets.Secret(s)
		return ok
	}
	return unknownMember(registrationFields, k)
}

// GroupMember is FusionAuth's GroupMember, typed like User: its data and
// anything unknown ride in Extra. On a user (user.memberships) it has no
// userId.
type GroupMember struct {
	ID            string `json:"id"`
	GroupID       string `json:"groupId"`
	UserID        string `json:"userId,omitempty"`
	InsertInstant int64  `json:"insertInstant"`

	Extra Extra `json:"-"`
}

// groupMemberShape is GroupMember without its JSON methods.
type groupMemberShape GroupMember

// JSONShape gives model.FieldsOf the members of a group member.
func (GroupMember) JSONShape() any { return groupMemberShape{} }

var groupMemberFields = FieldsOf(groupMemberShape{})

func (m *GroupMember) tree() (map[string]any, error) {
	o := make(treeOut, 5)
	if err := o.str("id", m.ID, false); err != nil {
		return nil, err
	}
	if err := o.str("groupId", m.GroupID, false); err != nil {
		return nil, err
	}
	if err := o.str("userId", m.UserID, true); err != nil {
		return nil, err
	}
	o.num("insertInstant", m.InsertInstant, false)
	return o, nil
}

func (m *GroupMember) typed() groupMemberShape {
	c := groupMemberShape(*m)
	c.Extra = Extra{}
	return c
}

func (m *GroupMember) snapshot() any { return m.typed() }

// MarshalJSON writes the typed fields and the raw bag.
func (m GroupMember) MarshalJSON() ([]byte, error) {
	if b, ok, err := m.Extra.EncodeUnchanged(m.typed()); ok {
		return b, err
	}
	return EncodeWithExtra(m.Extra, m.tree)
}

// UnmarshalJSON reads the typed fields and keeps the rest in the raw bag.
func (m *GroupMember) UnmarshalJSON(data []byte) error {
	*m = GroupMember{}
	sent, err := parseObject(data, (*groupMemberShape)(m))
	if err != nil || sent == nil {
		return err
	}
	return m.decode(sent, data)
}

// UnmarshalTree is UnmarshalJSON for a document tree, which the member
// keeps: the caller must not modify it afterwards.
func (m *GroupMember) UnmarshalTree(sent map[string]any) error {
	*m = GroupMember{}
	return m.decode(sent, nil)
}

func (m *GroupMember) decode(sent map[string]any, data []byte) error {
	x, err := decodeTyped(m, sent, data, groupMemberFields, (*groupMemberShape)(m), func() { *m = GroupMember{} })
	m.Extra = x
	return err
}

// Tree is the member as a document tree.
func (m *GroupMember) Tree() (map[string]any, error) {
	t, err := m.joined()
	if err != nil {
		return nil, err
	}
	return CopyObject(t), nil
}

func (m *GroupMember) joined() (map[string]any, error) {
	return joinedTree(m, m.Extra, m.typed())
}

func (m *GroupMember) fromTree(sent map[string]any) bool {
	for k, v := range sent {
		var ok bool
		switch k {
		case "id":
			ok = setString(&m.ID, v)
		case "groupId":
			ok = setString(&m.GroupID, v)
		case "userId":
			ok = setString(&m.UserID, v)
		case "insertInstant":
			ok = setInt(&m.InsertInstant, v)
		default:
			ok = unknownMember(groupMemberFields, k)
		}
		if !ok {
			return false
		}
	}
	return true
}
