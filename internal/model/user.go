package model

import (
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
)

// User is FusionAuth's User as a client gets it back, typed: the members
// Latch owns (from its columns and tables) and the profile members it checks
// are struct fields; everything else a client sent (data, twoFactor, unknown
// members at any depth) rides in Extra and is written back exactly as sent
// (see Extra). It is built from the stored document with the owned members
// overlaid, so that a member written as its zero value is not lost.
type User struct {
	ID                        string   `json:"id"`
	TenantID                  string   `json:"tenantId"`
	Email                     string   `json:"email,omitempty"`
	Username                  string   `json:"username,omitempty"`
	FullName                  string   `json:"fullName,omitempty"`
	FirstName                 string   `json:"firstName,omitempty"`
	MiddleName                string   `json:"middleName,omitempty"`
	LastName                  string   `json:"lastName,omitempty"`
	BirthDate                 string   `json:"birthDate,omitempty"`
	Timezone                  string   `json:"timezone,omitempty"`
	ImageURL                  string   `json:"imageUrl,omitempty"`
	MobilePhone               string   `json:"mobilePhone,omitempty"`
	PhoneNumber               string   `json:"phoneNumber,omitempty"`
	ParentEmail               string   `json:"parentEmail,omitempty"`
	PreferredLanguages        []string `json:"preferredLanguages,omitempty"`
	Expiry                    int64    `json:"expiry,omitempty"`
	Active                    bool     `json:"active"`
	Verified                  bool     `json:"verified"`
	PasswordChangeRequired    bool     `json:"passwordChangeRequired"`
	InsertInstant             int64    `json:"insertInstant"`
	LastUpdateInstant         int64    `json:"lastUpdateInstant"`
	LastLoginInstant          *int64   `json:"lastLoginInstant,omitempty"`
	PasswordLastUpdateInstant int64    `json:"passwordLastUpdateInstant,omitempty"`
	EncryptionScheme          string   `json:"encryptionScheme,omitempty"`
	Factor                    int      `json:"factor,omitempty"`
	// Registrations and memberships are their own objects, still documents.
	Registrations []map[string]any `json:"registrations,omitempty"`
	Memberships   []map[string]any `json:"memberships,omitempty"`

	Extra Extra `json:"-"`
}

// userShape is User without its JSON methods.
type userShape User

// JSONShape gives model.FieldsOf the members of a user.
func (User) JSONShape() any { return userShape{} }

// tree is the typed form's encoding as a document tree: what TreeOf makes of
// it (TestUserTreeIsTreeOf), built directly because every user read needs it.
func (u *User) tree() (map[string]any, error) {
	o := make(map[string]any, 24)
	str := func(k, v string, omitEmpty bool) error {
		if omitEmpty && v == "" {
			return nil
		}
		t, err := treeString(v)
		o[k] = t
		return err
	}
	num := func(k string, v int64, omitEmpty bool) {
		if !omitEmpty || v != 0 {
			o[k] = json.Number(strconv.FormatInt(v, 10))
		}
	}
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
		if err := str(m.k, m.v, m.omitEmpty); err != nil {
			return nil, err
		}
	}
	if len(u.PreferredLanguages) > 0 {
		v, err := NormalizeTree(u.PreferredLanguages)
		if err != nil {
			return nil, err
		}
		o["preferredLanguages"] = v
	}
	num("expiry", u.Expiry, true)
	o["active"] = u.Active
	o["verified"] = u.Verified
	o["passwordChangeRequired"] = u.PasswordChangeRequired
	num("insertInstant", u.InsertInstant, false)
	num("lastUpdateInstant", u.LastUpdateInstant, false)
	if u.LastLoginInstant != nil {
		num("lastLoginInstant", *u.LastLoginInstant, false)
	}
	num("passwordLastUpdateInstant", u.PasswordLastUpdateInstant, true)
	num("factor", int64(u.Factor), true)
	for k, list := range map[string][]map[string]any{"registrations": u.Registrations, "memberships": u.Memberships} {
		if len(list) > 0 {
			v, err := NormalizeTree(list)
			if err != nil {
				return nil, err
			}
			o[k] = v
		}
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
		if u.LastLoginInstant != nil {
			v := *u.LastLoginInstant
			c.LastLoginInstant = &v
		}
		c.Registrations = copyObjects(u.Registrations)
		c.Memberships = copyObjects(u.Memberships)
	}
	return c
}

func copyObjects(list []map[string]any) []map[string]any {
	if list == nil {
		return nil
	}
	out := make([]map[string]any, len(list))
	for i, o := range list {
		if o != nil {
			out[i] = CopyObject(o)
		}
	}
	return out
}

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
	x, err := decodeTree(sent, data, userFields, (*userShape)(u), u.tree)
	if err == nil {
		x.Remember(u.typed(true), sent)
	}
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
