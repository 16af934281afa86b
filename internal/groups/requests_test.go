package groups

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
)

func body(t *testing.T, doc string) kit.Object {
	t.Helper()
	v, err := model.DecodeJSONValue([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return v.(kit.Object)
}

func errorsJSON(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	b, jerr := json.Marshal(err)
	if jerr != nil {
		t.Fatal(jerr)
	}
	return string(b)
}

// A GroupRequest is checked with FusionAuth's field errors, a member of the
// wrong type among them.
func TestGroupRequestCheck(t *testing.T) {
	for _, c := range []struct {
		body, name string
		roleIDs    []string
		errs       string
	}{
		{`{"group":{"name":" Admins "}}`, "Admins", nil, ``},
		{`{"group":{"name":"a"},"roleIds":["7B2D5E5C-2B9A-4F6D-9E1A-0C3B5D7E9F11","7b2d5e5c-2b9a-4f6d-9e1a-0c3b5d7e9f11"]}`, "a",
			[]string{"7b2d5e5c-2b9a-4f6d-9e1a-0c3b5d7e9f11"}, ``},
		{`{"group":{"name":"a"},"roleIds":[]}`, "a", []string{}, ``},
		{`{}`, "", nil, `{"fieldErrors":{"group.name":[{"code":"[blank]group.name","message":"[group.name] is required."}]}}`},
		{`{"group":5}`, "", nil, `{"fieldErrors":{"group":[{"code":"[invalid]group","message":"[group] must be a JSON object."}],` +
			`"group.name":[{"code":"[blank]group.name","message":"[group.name] is required."}]}}`},
		{`{"group":{"name":5,"data":[]},"roleIds":{}}`, "", nil, `{"fieldErrors":{"group.data":[{"code":"[invalid]group.data","message":"[group.data] must be a JSON object."}],` +
			`"group.name":[{"code":"[invalid]group.name","message":"[group.name] must be a string."}],` +
			`"roleIds":[{"code":"[invalid]roleIds","message":"[roleIds] must be an array of role ids."}]}}`},
		{`{"group":{"name":"a\u0007","data":"x"},"roleIds":[5,"x"]}`, "a\a", []string{}, `{"fieldErrors":{` +
			`"group.data":[{"code":"[invalid]group.data","message":"[group.data] must be a JSON object."}],` +
			`"group.name":[{"code":"[invalid]group.name","message":"[group.name] must not contain control characters."}],` +
			`"roleIds[0]":[{"code":"[invalid]roleIds[0]","message":"[roleIds[0]] must be the id of a role."}],` +
			`"roleIds[1]":[{"code":"[invalid]roleIds[1]","message":"[roleIds[1]] must be the id of a role."}]}}`},
		{`{"Group":{},"group":{"Name":"x","name":"y","data":null}}`, "y", nil, `{"fieldErrors":{` +
			`"Group":[{"code":"[invalid]Group","message":"[Group] differs from the field [group] only in letter case; field names are case-sensitive."}],` +
			`"group.Name":[{"code":"[invalid]group.Name","message":"[group.Name] differs from the field [group.name] only in letter case; field names are case-sensitive."}]}}`},
	} {
		t.Run(c.body, func(t *testing.T) {
			req := ReadGroupRequest(body(t, c.body))
			verrs := &model.Errors{}
			name, roleIDs := req.check(verrs)
			if got := errorsJSON(t, verrs.Err()); got != c.errs {
				t.Errorf("errors:\n got %s\nwant %s", got, c.errs)
			}
			if name != c.name {
				t.Errorf("name %q, want %q", name, c.name)
			}
			if (roleIDs == nil) != (c.roleIDs == nil) || len(roleIDs) != len(c.roleIDs) || (len(roleIDs) > 0 && roleIDs[0] != c.roleIDs[0]) {
				t.Errorf("role ids %q, want %q", roleIDs, c.roleIDs)
			}
		})
	}
}

// Reading a GroupRequest leaves the body as it was (PATCH reads the document
// it patched), and a tenantId of the wrong type reaches the tenant check.
func TestReadGroupRequest(t *testing.T) {
	doc := `{"group":{"id":"x","name":"n","tenantId":7,"roles":{"a":[]},"data":{"k":1.50},"u":[1e21]},"roleIds":["r"]}`
	b := body(t, doc)
	req := ReadGroupRequest(b)
	if again, _ := json.Marshal(b); string(again) != string(canonicalDoc(t, doc)) {
		t.Errorf("body modified: %s", again)
	}
	if req.Group.ID != "x" || req.Group.Name != "n" || req.givenTenant() != false || string(req.Group.Data) != `{"k":1.50}` {
		t.Errorf("read: %+v", req)
	}
	stored, err := storedGroup(&req.Group)
	if err != nil || stored != `{"data":{"k":1.50},"u":[1e21]}` {
		t.Errorf("stored %s (%v)", stored, err)
	}
	if ReadGroupRequest(body(t, `{"group":{"tenantId":"t"}}`)).givenTenant() != "t" {
		t.Error("a string tenantId is passed on")
	}
}

func canonicalDoc(t *testing.T, doc string) []byte {
	b, err := json.Marshal(body(t, doc))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Member requests: what is wrong before any group is looked up is answered
// at once; entries keep what each member sent for the checks that follow.
func TestReadMemberRequests(t *testing.T) {
	var s *Service // the answers below come before the store
	ctx := context.Background()
	for _, c := range []struct{ body, add, remove string }{
		{`{}`, `{"fieldErrors":{"members":[{"code":"[missing]members","message":"You must specify the [members] property."}]}}`,
			`{"fieldErrors":{"memberIds":[{"code":"[missing]memberIds","message":"You must specify the [memberIds] or [members] property."}]}}`},
		{`{"members":{}}`, `{"fieldErrors":{"members":[{"code":"[missing]members","message":"You must specify the [members] property."}]}}`,
			`{"fieldErrors":{"memberIds":[{"code":"[missing]memberIds","message":"You must specify the [memberIds] or [members] property."}]}}`},
		{`{"members":[]}`, `{"fieldErrors":{"members":[{"code":"[invalid]members","message":"[members] must map group ids to arrays of members."}]}}`,
			`{"fieldErrors":{"members":[{"code":"[invalid]members","message":"[members] must map group ids to arrays of user ids."}]}}`},
		{`{"Members":{}}`, `{"fieldErrors":{"Members":[{"code":"[invalid]Members","message":"[Members] differs from the field [members] only in letter case; field names are case-sensitive."}]}}`,
			`{"fieldErrors":{"Members":[{"code":"[invalid]Members","message":"[Members] differs from the field [members] only in letter case; field names are case-sensitive."}]}}`},
		{`{"members":{"g":[{"UserId":"u"}]}}`, `{"fieldErrors":{"members[g][0].UserId":[{"code":"[invalid]members[g][0].UserId","message":"[members[g][0].UserId] differs from the field [members[g][0].userId] only in letter case; field names are case-sensitive."}]}}`, ``},
		{`{"memberIds":"x"}`, ``, `{"fieldErrors":{"memberIds":[{"code":"[invalid]memberIds","message":"[memberIds] must be an array of member ids."}]}}`},
		{`{"memberIds":[5]}`, ``, `{"fieldErrors":{"memberIds[0]":[{"code":"[invalid]memberIds[0]","message":"[memberIds[0]] must be a UUID."}]}}`},
		{`{"memberIds":[]}`, ``, `{"fieldErrors":{"memberIds":[{"code":"[missing]memberIds","message":"You must specify the [memberIds] or [members] property."}]}}`},
	} {
		t.Run(c.body, func(t *testing.T) {
			if c.add != "" {
				req, err := ReadMemberRequest(body(t, c.body))
				if err != nil {
					t.Fatal(err)
				}
				_, _, err = parseMemberRequest(ctx, nil, kit.TenantScope{}, req)
				if got := errorsJSON(t, err); got != c.add {
					t.Errorf("add:\n got %s\nwant %s", got, c.add)
				}
			}
			if c.remove != "" {
				err := s.RemoveGroupMembers(ctx, kit.Actor{}, kit.TenantScope{}, ReadMemberDeleteRequest(body(t, c.body)))
				if got := errorsJSON(t, err); got != c.remove {
					t.Errorf("remove:\n got %s\nwant %s", got, c.remove)
				}
			}
		})
	}

	req, err := ReadMemberRequest(body(t, `{"members":{"g":[{"userId":"u","id":5,"data":{"b":1.50,"a":"<"}},7,{"data":null,"id":" "}],"h":null}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []MemberEntry{{UserID: "u", idType: true, Data: json.RawMessage(`{"a":"\u003c","b":1.50}`)}, {notObject: true}, {ID: " ", noUserID: true}}
	got := req.Members["g"]
	if len(got) != len(want) {
		t.Fatalf("entries %+v", got)
	}
	for i := range want {
		if got[i].ID != want[i].ID || got[i].UserID != want[i].UserID || string(got[i].Data) != string(want[i].Data) ||
			got[i].idType != want[i].idType || got[i].notObject != want[i].notObject || got[i].noUserID != want[i].noUserID {
			t.Errorf("entry %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if !req.notLists["h"] || req.notLists["g"] {
		t.Errorf("not lists: %v", req.notLists)
	}
}
