package groups

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
)

// The group API's requests, typed. A body is read once from its document
// tree (ReadGroupRequest, ReadMemberRequest, ReadMemberDeleteRequest, and
// ReadMemberships for a user request's user.memberships); the
// rules then check the typed form. A member of the wrong type is not a
// reading failure: the rules report it with the other field errors, in
// FusionAuth's words, as they would a wrong value. A request built in Go
// has nothing of the kind to report.

// GroupRequest is FusionAuth's GroupRequest: {"group":{…},"roleIds":[…]}.
type GroupRequest struct {
	// Group is the group as sent: Name, and ID and TenantID (which only a
	// create reads), are its members when strings; data and the members
	// Latch does not interpret ride in its bag. Its roles and instants are
	// Latch's: a client's are ignored.
	Group model.Group
	// RoleIDs are the ids of the roles the group grants, as sent ("" for an
	// element that is not a string); nil when absent.
	RoleIDs []string

	read       model.Errors // case variants; group or roleIds of the wrong type
	nameType   bool         // group.name was not a string
	tenantType bool         // group.tenantId was not a string
	unreadable bool         // the group did not decode
}

// ReadGroupRequest reads a GroupRequest from a request body's tree, which
// it does not modify.
func ReadGroupRequest(body kit.Object) *GroupRequest {
	r := &GroupRequest{}
	o := kit.RequestObject(body, groupRequestFields, groupField, &r.read) // a copy
	groupFields.Check(o, groupField, &r.read)
	name, nameOK := stringMember(o, "name")
	id, _ := o["id"].(string)
	tenantID, tenantOK := stringMember(o, "tenantId")
	r.nameType, r.tenantType = !nameOK, !tenantOK
	for _, f := range model.GroupOwnedFields {
		delete(o, f)
	}
	if err := r.Group.UnmarshalTree(o); err != nil {
		r.Group, r.unreadable = model.Group{}, true
	}
	r.Group.Name, r.Group.ID, r.Group.TenantID = name, id, tenantID
	r.RoleIDs = stringList(body["roleIds"], func() {
		r.read.Field("roleIds", "invalid", "[roleIds] must be an array of role ids.")
	})
	return r
}

// stringMember reads an optional string member: ok is false when it holds
// something else.
func stringMember(o kit.Object, name string) (string, bool) {
	switch v := o[name].(type) {
	case nil:
		return "", true
	case string:
		return v, true
	}
	return "", false
}

// stringList reads an array of strings ("" for an element of another type);
// nil when absent or null, notList called when it is not an array.
func stringList(v any, notList func()) []string {
	switch l := v.(type) {
	case nil:
		return nil
	case []any:
		out := make([]string, len(l))
		for i, e := range l {
			out[i], _ = e.(string)
		}
		return out
	}
	notList()
	return nil
}

// check validates the request as a group's new state: its name (trimmed)
// and its role ids (canonical, each once).
func (r *GroupRequest) check(verrs *model.Errors) (name string, roleIDs []string) {
	mergeErrors(verrs, &r.read)
	field := groupField + ".name"
	if r.nameType {
		verrs.Field(field, "invalid", "["+field+"] must be a string.")
	} else {
		name = kit.CheckName(r.Group.Name, field, verrs)
	}
	if !isObjectOrNull(r.Group.Data) {
		verrs.Field(groupField+".data", "invalid", "[group.data] must be a JSON object.")
	}
	return name, canonicalRoleIDs(r.RoleIDs, verrs)
}

// decoded is the group to store, named name: an error when the group as
// sent could not be decoded.
func (r *GroupRequest) decoded(name string) (model.Group, error) {
	if r.unreadable {
		return model.Group{}, model.GeneralError(model.CodeInvalidJSON, "The group is not a valid group object.")
	}
	g := r.Group
	g.Name = name
	return g, nil
}

// givenTenant is group.tenantId for tenancy.ResolveTenantOf: a member of
// the wrong type is passed as one (false), which it reports as it reports
// the member sent.
func (r *GroupRequest) givenTenant() any {
	if r.tenantType {
		return false
	}
	return r.Group.TenantID
}

// canonicalRoleIDs checks role ids: each a UUID ("[invalid]roleIds[i]"),
// kept once, in order.
func canonicalRoleIDs(ids []string, verrs *model.Errors) []string {
	if ids == nil {
		return nil
	}
	out := []string{}
	for i, s := range ids {
		id, ok := kit.CanonicalID(s)
		if !ok {
			f := fmt.Sprintf("roleIds[%d]", i)
			verrs.Field(f, "invalid", "["+f+"] must be the id of a role.")
			continue
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// isObjectOrNull reports whether raw JSON is absent, null or an object.
func isObjectOrNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || bytes.Equal(t, []byte("null")) || t[0] == '{'
}

// mergeErrors adds what from holds to verrs.
func mergeErrors(verrs, from *model.Errors) {
	for f, items := range from.FieldErrors {
		for _, it := range items {
			if verrs.FieldErrors == nil {
				verrs.FieldErrors = map[string][]model.ErrorItem{}
			}
			verrs.FieldErrors[f] = append(verrs.FieldErrors[f], it)
		}
	}
	verrs.GeneralErrors = append(verrs.GeneralErrors, from.GeneralErrors...)
}

// MemberRequest is FusionAuth's MemberRequest: by group id (as sent), the
// members to add to the group (POST) or to leave in it (PUT).
type MemberRequest struct {
	Members map[string][]MemberEntry

	read        model.Errors    // case variants
	membersType bool            // members was not an object
	notLists    map[string]bool // the group ids whose members were not an array
}

// MemberEntry is one member of a MemberRequest.
type MemberEntry struct {
	ID     string          // the membership's id; "" for a new one
	UserID string          // "" when not a string
	Data   json.RawMessage // the member's data, a JSON object (nil: none)

	notObject bool // the entry was not a JSON object
	noUserID  bool // userId was absent or null
	idType    bool // id was not a string
}

// ReadMemberRequest reads a MemberRequest from a request body's tree.
func ReadMemberRequest(body kit.Object) (*MemberRequest, error) {
	r := &MemberRequest{}
	if !memberRequestFields.Check(body, "", &r.read) {
		return r, nil
	}
	raw, ok := body["members"].(kit.Object)
	r.membersType = body["members"] != nil && !ok
	for k, v := range raw {
		list, ok := v.([]any)
		if !ok {
			r.notList(k)
			continue
		}
		entries := make([]MemberEntry, len(list))
		for i, item := range list {
			var err error
			if entries[i], err = readMemberEntry(item); err != nil {
				return nil, err
			}
		}
		r.addGroup(k, entries)
	}
	return r, nil
}

func (r *MemberRequest) notList(k string) {
	if r.notLists == nil {
		r.notLists = map[string]bool{}
	}
	r.notLists[k] = true
	r.addGroup(k, nil)
}

func (r *MemberRequest) addGroup(k string, entries []MemberEntry) {
	if r.Members == nil {
		r.Members = map[string][]MemberEntry{}
	}
	r.Members[k] = entries
}

func readMemberEntry(item any) (MemberEntry, error) {
	o, ok := item.(kit.Object)
	if !ok {
		return MemberEntry{notObject: true}, nil
	}
	var e MemberEntry
	e.noUserID = o["userId"] == nil
	e.UserID, _ = o["userId"].(string)
	id, idOK := stringMember(o, "id")
	e.ID, e.idType = id, !idOK
	if d := o["data"]; d != nil {
		b, err := json.Marshal(d) // as the data column stores it
		if err != nil {
			return MemberEntry{}, err
		}
		e.Data = b
	}
	return e, nil
}

// MemberDeleteRequest is FusionAuth's MemberDeleteRequest: memberIds, or
// by group id (as sent) the user ids to remove from the group.
type MemberDeleteRequest struct {
	MemberIDs []string            // "" for an element not a string; nil when absent
	Members   map[string][]string // "" for an element not a string

	read          model.Errors    // case variants
	memberIDsType bool            // memberIds was not an array
	membersType   bool            // members was not an object
	notLists      map[string]bool // the group ids whose user ids were not an array
}

// ReadMemberDeleteRequest reads a MemberDeleteRequest from a request
// body's tree.
func ReadMemberDeleteRequest(body kit.Object) *MemberDeleteRequest {
	r := &MemberDeleteRequest{}
	if !memberRequestFields.Check(body, "", &r.read) {
		return r
	}
	r.MemberIDs = stringList(body["memberIds"], func() { r.memberIDsType = true })
	raw, ok := body["members"].(kit.Object)
	r.membersType = body["members"] != nil && !ok
	for k, v := range raw {
		if r.Members == nil {
			r.Members = map[string][]string{}
		}
		if _, ok := v.([]any); !ok {
			if r.notLists == nil {
				r.notLists = map[string]bool{}
			}
			r.notLists[k] = true
		}
		r.Members[k] = stringList(v, func() {})
	}
	return r
}

// optionalID is an optional UUID member read as a string (idType: it was
// of another type), in its canonical form: "" when blank or invalid, the
// latter a field error (kit.OptionalIDAt's checks once read).
func optionalID(s string, idType bool, field string, verrs *model.Errors) string {
	if idType {
		verrs.Field(field, "invalid", "["+field+"] must be a UUID.")
		return ""
	}
	return kit.OptionalIDValue(s, field, verrs)
}

// Memberships are a user request's user.memberships ([{groupId, id?,
// data?}]), as read: the memberships the user API adds.
type Memberships struct {
	Entries []MembershipEntry

	notList bool  // user.memberships was not an array
	err     error // a member's data could not be encoded
}

// MembershipEntry is one of a user's memberships as sent.
type MembershipEntry struct {
	GroupID string          // "" when not a string
	ID      string          // the membership's id when given ("" when not a string)
	Data    json.RawMessage // the member's data, a JSON object (nil: none)

	idGiven   bool // id was present and not null
	notObject bool // the entry was not a JSON object
}

// ReadMemberships reads user.memberships from a user request's tree (nil
// when absent or null).
func ReadMemberships(v any) *Memberships {
	switch list := v.(type) {
	case nil:
		return nil
	case []any:
		ms := &Memberships{Entries: make([]MembershipEntry, len(list))}
		for i, item := range list {
			o, ok := item.(kit.Object)
			if !ok {
				ms.Entries[i].notObject = true
				continue
			}
			e := &ms.Entries[i]
			e.GroupID, _ = o["groupId"].(string)
			e.ID, _ = o["id"].(string)
			e.idGiven = o["id"] != nil
			if d := o["data"]; d != nil {
				e.Data, ms.err = json.Marshal(d) // as the data column stores it
				if ms.err != nil {
					return ms
				}
			}
		}
		return ms
	}
	return &Memberships{notList: true}
}

// dataOf is the stored form of a member's data: "{}" for none; ok is false
// when it is not a JSON object.
func dataOf(raw json.RawMessage) (string, bool) {
	if !isObjectOrNull(raw) {
		return "", false
	}
	if t := bytes.TrimSpace(raw); len(t) > 0 && !bytes.Equal(t, []byte("null")) {
		return string(raw), true
	}
	return "{}", true
}
