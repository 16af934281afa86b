package model

import "encoding/json"

// Group is FusionAuth's Group, typed like an application: the members Latch
// owns (its columns and the roles it grants) and data are struct fields;
// anything else a client sent rides in Extra and is written back exactly as
// sent (see Extra).
type Group struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	TenantID string `json:"tenantId"`
	// Roles are the roles the group grants, by application id.
	Roles map[string][]ApplicationRole `json:"roles"`
	// Data is the client's own data, kept as sent (a JSON object or null).
	Data              json.RawMessage `json:"data"`
	InsertInstant     int64           `json:"insertInstant"`
	LastUpdateInstant int64           `json:"lastUpdateInstant"`

	Extra Extra `json:"-"`
}

// groupShape is Group without its JSON methods.
type groupShape Group

// JSONShape gives model.FieldsOf the members of a group.
func (Group) JSONShape() any { return groupShape{} }

// groupFields are the members of a group, for reading names exactly.
var groupFields = FieldsOf(groupShape{})

// GroupOwnedFields are the members of a group Latch sets itself: a client's
// are ignored, and the stored document leaves them out (they are columns).
var GroupOwnedFields = []string{"id", "tenantId", "name", "roles", "insertInstant", "lastUpdateInstant"}

func (g *Group) tree() (map[string]any, error) { return TreeOf((*groupShape)(g)) }

// MarshalJSON writes the typed fields and the raw bag.
func (g Group) MarshalJSON() ([]byte, error) { return EncodeWithExtra(g.Extra, g.tree) }

// UnmarshalJSON reads the typed fields and keeps the rest in the raw bag.
func (g *Group) UnmarshalJSON(data []byte) error {
	*g = Group{}
	x, err := DecodeWithExtra(data, groupFields, (*groupShape)(g), g.tree)
	g.Extra = x
	return err
}

// UnmarshalTree is UnmarshalJSON for a document tree (see NormalizeTree),
// which the group's bag keeps: the caller must not modify it afterwards.
func (g *Group) UnmarshalTree(sent map[string]any) error {
	*g = Group{}
	x, err := DecodeTreeWithExtra(sent, groupFields, (*groupShape)(g), g.tree)
	g.Extra = x
	return err
}

// Tree is the group as a document tree (for PATCH and storage).
func (g *Group) Tree() (map[string]any, error) {
	t, err := g.tree()
	if err != nil {
		return nil, err
	}
	return CopyObject(g.Extra.Join(t)), nil
}
