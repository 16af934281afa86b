package api_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/testutil"
)

// A key's IP access control list is part of its authority (issue 15, defect
// 9): a manager bound to a list makes, copies, reads and changes only keys
// bound to the same list, cannot loosen its own binding, and cannot edit the
// list itself.
func TestAPIKeyIPACLIsAuthority(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := akStart(t, b)
		loopback := createACL(t, e.s, e.root, "Only loopback", aclEntry("Block", "*", ""), aclEntry("Allow", "127.0.0.1", "")).ID
		other := createACL(t, e.s, e.root, "Other", aclAllowAll).ID
		bound, boundID := e.insertKey(model.APIKey{Name: "bound manager", KeyManager: true, IPAccessControlListID: loopback})
		unbound := e.create(e.root, map[string]any{"name": "anywhere", "permissions": keyPerms("/api/user", "GET")})
		elsewhere := e.create(e.root, map[string]any{"name": "elsewhere", "permissions": keyPerms("/api/user", "GET"), "ipAccessControlListId": other})
		made := e.create(e.root, map[string]any{"name": "made", "permissions": keyPerms("/api/user", "GET"), "ipAccessControlListId": loopback})
		merge := []string{"Content-Type", "application/merge-patch+json"}

		refused := []struct {
			name, method, path string
			body               any
			headers            []string
		}{
			{"create a key without a list", "POST", "/api/api-key", map[string]any{"apiKey": map[string]any{
				"name": "unrestricted", "permissions": keyPerms("/api/user", "GET")}}, nil},
			{"create a key with another list", "POST", "/api/api-key", map[string]any{"apiKey": map[string]any{
				"name": "other list", "permissions": keyPerms("/api/user", "GET"), "ipAccessControlListId": other}}, nil},
			{"copy a key without a list", "POST", "/api/api-key", map[string]any{"sourceKeyId": unbound.ID,
				"apiKey": map[string]any{"name": "copied"}}, nil},
			{"copy a key of another list", "POST", "/api/api-key", map[string]any{"sourceKeyId": elsewhere.ID,
				"apiKey": map[string]any{"name": "copied 2"}}, nil},
			{"copy a key of its list without the list", "POST", "/api/api-key", map[string]any{"sourceKeyId": made.ID,
				"apiKey": map[string]any{"name": "copied 3", "ipAccessControlListId": ""}}, nil},
			{"take the list off a key of its list", "PATCH", "/api/api-key/" + made.ID,
				`{"apiKey":{"ipAccessControlListId":null}}`, merge},
			{"read a key usable from anywhere", "GET", "/api/api-key/" + unbound.ID, nil, nil},
			{"remove its own list by merge patch", "PATCH", "/api/api-key/" + boundID,
				`{"apiKey":{"ipAccessControlListId":null}}`, merge},
			{"remove its own list by PUT", "PUT", "/api/api-key/" + boundID,
				`{"apiKey":{"name":"bound manager","keyManager":true}}`, nil},
			{"change its own list", "PATCH", "/api/api-key/" + boundID,
				fmt.Sprintf(`{"apiKey":{"ipAccessControlListId":%q}}`, other), nil},
			{"loosen its list", "PUT", "/api/ip-acl/" + loopback, aclWith("Only loopback", aclAllowAll), nil},
			{"patch its list", "PATCH", "/api/ip-acl/" + loopback, map[string]any{"ipAccessControlList": map[string]any{
				"entries": []model.IPAccessControlEntry{aclAllowAll}}}, merge},
			{"delete its list", "DELETE", "/api/ip-acl/" + loopback, nil, nil},
		}
		for _, c := range refused {
			wantEmpty(t, c.name, e.do(c.method, c.path, bound, c.body, c.headers...), 401)
		}
		// Each refusal is a denial where operators look: what a leaked key
		// bound to a list tries first.
		var denied []string
		for _, a := range e.audits(boundID) {
			if strings.HasPrefix(a.Message, "Denied ") {
				denied = append(denied, a.Message)
			}
		}
		for _, c := range refused {
			if !slices.ContainsFunc(denied, func(m string) bool { return strings.Contains(m, c.method+" "+c.path+" ") }) {
				t.Errorf("%s: no denial in the audit log (%d denials: %q)", c.name, len(denied), denied)
			}
		}
		if got := e.get(boundID); got.IPAccessControlListID != loopback {
			t.Errorf("the bound manager's list is now %q", got.IPAccessControlListID)
		}
		var list akKeysBody
		e.do("GET", "/api/api-key?numberOfResults=100", e.root, nil).JSON(t, &list)
		for _, k := range list.APIKeys {
			if k.IPAccessControlListID == "" && k.ID != e.rootID && k.ID != unbound.ID {
				t.Errorf("a key without a list was made: %+v", k)
			}
		}
		r := e.do("GET", "/api/ip-acl/"+loopback, e.root, nil)
		var acl aclBody
		r.JSON(t, &acl)
		if len(acl.IPAccessControlList.Entries) != 2 {
			t.Errorf("the bound manager's list changed: %s", r.Body)
		}

		// Within its list the manager works as before.
		if k := e.create(bound, map[string]any{"name": "bound made", "permissions": keyPerms("/api/user", "GET"), "ipAccessControlListId": loopback}); k.IPAccessControlListID != loopback {
			t.Errorf("the new key's list is %q", k.IPAccessControlListID)
		}
		r = e.do("POST", "/api/api-key", bound, map[string]any{"sourceKeyId": made.ID, "apiKey": map[string]any{"name": "copy of made"}})
		var cp akKeyBody
		if r.Status != 200 {
			t.Errorf("copy a key of its list: %d %s", r.Status, r.Body)
		} else if r.JSON(t, &cp); cp.APIKey.IPAccessControlListID != loopback {
			t.Errorf("the copy's list is %q", cp.APIKey.IPAccessControlListID)
		}
		if r := e.do("PATCH", "/api/api-key/"+made.ID, bound, `{"apiKey":{"name":"renamed"}}`); r.Status != 200 {
			t.Errorf("rename a key of its list: %d %s", r.Status, r.Body)
		}
		if r := e.do("PATCH", "/api/api-key/"+boundID, bound, `{"apiKey":{"name":"bound manager 2","keyManager":true}}`); r.Status != 200 {
			t.Errorf("rename itself, keeping its list: %d %s", r.Status, r.Body)
		}
		if r := e.do("GET", "/api/api-key/"+made.ID, bound, nil); r.Status != 200 {
			t.Errorf("read a key of its list: %d", r.Status)
		}
		if r := e.do("PUT", "/api/ip-acl/"+other, bound, aclWith("Other", aclEntry("Block", "*", ""))); r.Status != 200 {
			t.Errorf("edit a list it is not bound to: %d %s", r.Status, r.Body)
		}
		// Listing shows only what it covers.
		var seen akKeysBody
		e.do("GET", "/api/api-key?numberOfResults=100", bound, nil).JSON(t, &seen)
		for _, k := range seen.APIKeys {
			if k.IPAccessControlListID != loopback {
				t.Errorf("the bound manager lists a key of another reach: %+v", k)
			}
		}
	})
}
