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
	var x Extra
	var err error
	if data == nil && u.fromTree(sent) {
		var decoded map[string]any
		if decoded, err = u.tree(); err == nil {
			x = SplitExtra(sent, decoded)
		}
	} else {
		*u = User{}
		x, err = decodeTree(sent, data, userFields, (*userShape)(u), u.tree)
	}
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
	str := func(p *string) bool {
		switch s := v.(type) {
		case nil:
			return true
		case string:
			*p = s
			return true
		}
		return false
	}
	boolean := func(p *bool) bool {
		switch b := v.(type) {
		case nil:
			return true
		case bool:
			*p = b
			return true
		}
		return false
	}
	integer := func(p *int64) bool {
		switch n := v.(type) {
		case nil:
			return true
		case json.Number:
			i, err := strconv.ParseInt(string(n), 10, 64)
			*p = i
			return err == nil
		}
		return false
	}
	switch k {
	case "id":
		return str(&u.ID)
	case "tenantId":
		return str(&u.TenantID)
	case "email":
		return str(&u.Email)
	case "username":
		return str(&u.Username)
	case "fullName":
		return str(&u.FullName)
	case "firstName":
		return str(&u.FirstName)
	case "middleName":
		return str(&u.MiddleName)
	case "lastName":
		return str(&u.LastName)
	case "birthDate":
		return str(&u.BirthDate)
	case "timezone":
		return str(&u.Timezone)
	case "imageUrl":
		return str(&u.ImageURL)
	case "mobilePhone":
		return str(&u.MobilePhone)
	case "phoneNumber":
		return str(&u.PhoneNumber)
	case "parentEmail":
		return str(&u.ParentEmail)
	case "encryptionScheme":
		return str(&u.EncryptionScheme)
	case "preferredLanguages":
		if v == nil {
			return true
		}
		list, ok := v.([]any)
		if !ok {
			return false
		}
		u.PreferredLanguages = make([]string, len(list))
		for i, e := range list {
			if s, ok := e.(string); ok {
				u.PreferredLanguages[i] = s
			} else if e != nil {
				return false
			}
		}
		return true
	case "expiry":
		return integer(&u.Expiry)
	case "active":
		return boolean(&u.Active)
	case "verified":
		return boolean(&u.Verified)
	case "passwordChangeRequired":
		return boolean(&u.PasswordChangeRequired)
	case "insertInstant":
		return integer(&u.InsertInstant)
	case "lastUpdateInstant":
		return integer(&u.LastUpdateInstant)
	case "lastLoginInstant":
		if v == nil {
			return true
		}
		var n int64
		u.LastLoginInstant = &n
		return integer(&n)
	case "passwordLastUpdateInstant":
		return integer(&u.PasswordLastUpdateInstant)
	case "factor":
		var n int64
		ok := integer(&n)
		u.Factor = int(n)
		return ok && int64(u.Factor) == n
	case "registrations":
		return objectList(&u.Registrations, v)
	case "memberships":
		return objectList(&u.Memberships, v)
	}
	// A member the type does not have is ignored, as encoding/json ignores
	// it, unless encoding/json could match it to a field regardless of case.
	for i := 0; i < len(k); i++ {
		if k[i] >= 0x80 {
			return false
		}
	}
	return !userFields.hasCaseVariants(map[string]any{k: nil})
}

// objectList sets *p from an array of objects as json.Unmarshal into
// []map[string]any would (numbers float64).
func objectList(p *[]map[string]any, v any) bool {
	if v == nil {
		return true
	}
	list, ok := v.([]any)
	if !ok {
		return false
	}
	out := make([]map[string]any, len(list))
	for i, e := range list {
		if e == nil {
			continue
		}
		o, ok := e.(map[string]any)
		if !ok {
			return false
		}
		g, ok := goValue(o)
		if !ok {
			return false
		}
		out[i] = g.(map[string]any)
	}
	*p = out
	return true
}

// goValue copies a document tree as json.Unmarshal into any makes it.
func goValue(v any) (any, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		return f, err == nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			g, ok := goValue(e)
			if !ok {
				return nil, false
			}
			out[k] = g
		}
		return out, true
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			g, ok := goValue(e)
			if !ok {
				return nil, false
			}
			out[i] = g
		}
		return out, true
	default:
		return x, true
	}
}
