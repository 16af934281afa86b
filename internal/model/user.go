package model

import (
	"encoding/json"
	"reflect"
	"slices"
)

// User is FusionAuth's User as a client gets it back, typed: the members
// Latch owns (from its columns and tables) and the profile members it checks
// are struct fields; everything else a client sent (data, twoFactor, unknown
// members at any depth) rides in Extra and is written back exactly as sent
// (see Extra). It is built from the stored document with the owned members
// overlaid, so that a member written as its zero value is not lost.
type User struct {
	ID                        string         `json:"id"`
	TenantID                  string         `json:"tenantId"`
	Email                     string         `json:"email,omitempty"`
	Username                  string         `json:"username,omitempty"`
	FullName                  string         `json:"fullName,omitempty"`
	FirstName                 string         `json:"firstName,omitempty"`
	MiddleName                string         `json:"middleName,omitempty"`
	LastName                  string         `json:"lastName,omitempty"`
	BirthDate                 string         `json:"birthDate,omitempty"`
	Timezone                  string         `json:"timezone,omitempty"`
	ImageURL                  string         `json:"imageUrl,omitempty"`
	MobilePhone               string         `json:"mobilePhone,omitempty"`
	PhoneNumber               string         `json:"phoneNumber,omitempty"`
	ParentEmail               string         `json:"parentEmail,omitempty"`
	PreferredLanguages        []string       `json:"preferredLanguages,omitempty"`
	Expiry                    int64          `json:"expiry,omitempty"`
	Active                    bool           `json:"active"`
	Verified                  bool           `json:"verified"`
	PasswordChangeRequired    bool           `json:"passwordChangeRequired"`
	InsertInstant             int64          `json:"insertInstant"`
	LastUpdateInstant         int64          `json:"lastUpdateInstant"`
	LastLoginInstant          *int64         `json:"lastLoginInstant,omitempty"`
	PasswordLastUpdateInstant int64          `json:"passwordLastUpdateInstant,omitempty"`
	EncryptionScheme          string         `json:"encryptionScheme,omitempty"`
	Factor                    int            `json:"factor,omitempty"`
	Registrations             []Registration `json:"registrations,omitempty"`
	Memberships               []GroupMember  `json:"memberships,omitempty"`

	Extra Extra `json:"-"`
}

// userShape is User without its JSON methods.
type userShape User

// JSONShape gives model.FieldsOf the members of a user.
func (User) JSONShape() any { return userShape{} }

// tree is the typed form's encoding as a document tree: what TreeOf makes of
// it (TestUserTreeIsTreeOf), built directly because every user read needs it.
func (u *User) tree() (map[string]any, error) {
	o := make(treeOut, 24)
	for _, m := range []struct {
		k, v      string
		omitEmpty bool
	}{
		{"id", u.ID, false}, {"tenantId", u.TenantID, false}, {"email", u.Email, true},
		{"username", u.Username, true}, {"fullName", u.FullName, true},
		{"firstName", u.FirstName, true}, {"middleName", u.MiddleName, true},
		{"lastName", u.LastName, true}, {"birthDate", u.BirthDate, true},
		{"timezone", u.Timezone, true}, {"imageUrl", u.ImageURL, true},
		{"mobilePhone", u.MobilePhone, true}, {"phoneNumber", u.PhoneNumber, true},
		{"parentEmail", u.ParentEmail, true}, {"encryptionScheme", u.EncryptionScheme, true},
	} {
		if err := o.str(m.k, m.v, m.omitEmpty); err != nil {
			return nil, err
		}
	}
	if err := o.strs("preferredLanguages", u.PreferredLanguages, true); err != nil {
		return nil, err
	}
	o.num("expiry", u.Expiry, true)
	o["active"] = u.Active
	o["verified"] = u.Verified
	o["passwordChangeRequired"] = u.PasswordChangeRequired
	o.num("insertInstant", u.InsertInstant, false)
	o.num("lastUpdateInstant", u.LastUpdateInstant, false)
	o.numPtr("lastLoginInstant", u.LastLoginInstant)
	o.num("passwordLastUpdateInstant", u.PasswordLastUpdateInstant, true)
	o.num("factor", int64(u.Factor), true)
	if err := treeList(o, "registrations", u.Registrations, (*Registration).joined); err != nil {
		return nil, err
	}
	if err := treeList(o, "memberships", u.Memberships, (*GroupMember).joined); err != nil {
		return nil, err
	}
	return o, nil
}

// typed is the user's typed fields alone, deep-copied: what Extra remembers
// and compares (see Extra.EncodeUnchanged).
func (u *User) typed(deep bool) userShape {
	c := userShape(*u)
	c.Extra = Extra{}
	if deep {
		c.PreferredLanguages = slices.Clone(u.PreferredLanguages)
		c.LastLoginInstant = cloneInt(u.LastLoginInstant)
		c.Registrations = cloneEach(u.Registrations, (*Registration).clone)
		c.Memberships = slices.Clone(u.Memberships) // scalars and a shared bag
	}
	return c
}

func (u *User) snapshot() any { return u.typed(true) }

// MarshalJSON writes the typed fields and the raw bag.
func (u User) MarshalJSON() ([]byte, error) {
	if b, ok, err := u.Extra.EncodeUnchanged(u.typed(false)); ok {
		return b, err
	}
	return EncodeWithExtra(u.Extra, u.tree)
}

// UnmarshalJSON reads the typed fields and keeps the rest in the raw bag.
func (u *User) UnmarshalJSON(data []byte) error {
	*u = User{}
	v, err := DecodeJSONValue(data)
	if err != nil {
		return err
	}
	sent, ok := v.(map[string]any)
	if !ok {
		return &json.UnmarshalTypeError{Value: jsonKindOf(v), Type: reflect.TypeOf((*userShape)(u))}
	}
	return u.decode(sent, data)
}

// UnmarshalTree is UnmarshalJSON for a document tree (see NormalizeTree),
// which the user keeps: the caller must not modify it afterwards.
func (u *User) UnmarshalTree(sent map[string]any) error {
	*u = User{}
	return u.decode(sent, nil)
}

func (u *User) decode(sent map[string]any, data []byte) error {
	x, err := decodeTyped(u, sent, data, userFields, (*userShape)(u), func() { *u = User{} })
	u.Extra = x
	return err
}

// Tree is the user as a document tree (for PATCH).
func (u *User) Tree() (map[string]any, error) {
	if t, ok := u.Extra.TreeUnchanged(u.typed(false)); ok {
		return t, nil
	}
	t, err := u.tree()
	if err != nil {
		return nil, err
	}
	return CopyObject(u.Extra.Join(t)), nil
}

// userFields are the members of a user, for reading names exactly.
var userFields = FieldsOf(userShape{})

// fromTree sets the typed fields from a document tree as json.Unmarshal of
// its text would, without the text. It covers what a stored user holds (the
// members of their types or null, exact names) and reports false, leaving u
// partly set, for anything else: encoding/json then decodes it, errors and all.
func (u *User) fromTree(sent map[string]any) bool {
	for k, v := range sent {
		if !u.setMember(k, v) {
			return false
		}
	}
	return true
}

func (u *User) setMember(k string, v any) bool {
	switch k {
	case "id":
		return setString(&u.ID, v)
	case "tenantId":
		return setString(&u.TenantID, v)
	case "email":
		return setString(&u.Email, v)
	case "username":
		return setString(&u.Username, v)
	case "fullName":
		return setString(&u.FullName, v)
	case "firstName":
		return setString(&u.FirstName, v)
	case "middleName":
		return setString(&u.MiddleName, v)
	case "lastName":
		return setString(&u.LastName, v)
	case "birthDate":
		return setString(&u.BirthDate, v)
	case "timezone":
		return setString(&u.Timezone, v)
	case "imageUrl":
		return setString(&u.ImageURL, v)
	case "mobilePhone":
		return setString(&u.MobilePhone, v)
	case "phoneNumber":
		return setString(&u.PhoneNumber, v)
	case "parentEmail":
		return setString(&u.ParentEmail, v)
	case "encryptionScheme":
		return setString(&u.EncryptionScheme, v)
	case "preferredLanguages":
		return setStrings(&u.PreferredLanguages, v)
	case "expiry":
		return setInt(&u.Expiry, v)
	case "active":
		return setBool(&u.Active, v)
	case "verified":
		return setBool(&u.Verified, v)
	case "passwordChangeRequired":
		return setBool(&u.PasswordChangeRequired, v)
	case "insertInstant":
		return setInt(&u.InsertInstant, v)
	case "lastUpdateInstant":
		return setInt(&u.LastUpdateInstant, v)
	case "lastLoginInstant":
		return setIntPtr(&u.LastLoginInstant, v)
	case "passwordLastUpdateInstant":
		return setInt(&u.PasswordLastUpdateInstant, v)
	case "factor":
		var n int64
		ok := setInt(&n, v)
		u.Factor = int(n)
		return ok && int64(u.Factor) == n
	case "registrations":
		return setList(&u.Registrations, v, func(r *Registration, t map[string]any) bool { return r.UnmarshalTree(t) == nil })
	case "memberships":
		return setList(&u.Memberships, v, func(m *GroupMember, t map[string]any) bool { return m.UnmarshalTree(t) == nil })
	}
	// A member the type does not have is ignored, as encoding/json ignores
	// it, unless encoding/json could match it to a field regardless of case.
	return unknownMember(userFields, k)
}
