package model

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

func (u *User) tree() (map[string]any, error) { return TreeOf((*userShape)(u)) }

// MarshalJSON writes the typed fields and the raw bag.
func (u User) MarshalJSON() ([]byte, error) { return EncodeWithExtra(u.Extra, u.tree) }

// UnmarshalJSON reads the typed fields and keeps the rest in the raw bag.
func (u *User) UnmarshalJSON(data []byte) error {
	*u = User{}
	x, err := DecodeWithExtra(data, userFields, (*userShape)(u), u.tree)
	u.Extra = x
	return err
}

// Tree is the user as a document tree (for PATCH).
func (u *User) Tree() (map[string]any, error) {
	t, err := u.tree()
	if err != nil {
		return nil, err
	}
	return CopyObject(u.Extra.Join(t)), nil
}

// userFields are the members of a user, for reading names exactly.
var userFields = FieldsOf(userShape{})
