package api_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/groups"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/testutil"
)

// rgRoleIDs lists the role ids of a group's roles map, by application.
func rgGroupRoleNames(g map[string]any, appID string) []string {
	list, _ := jsonAt(g, "roles", appID).([]any)
	out := make([]string, 0, len(list))
	for _, r := range list {
		name, _ := r.(map[string]any)["name"].(string)
		out = append(out, name)
	}
	return out
}

func TestGroupCRUD(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := rgStart(t, b)
		def := e.defaultTenant()
		appID, roles := e.appWithRoles("", "Forum", "user", "moderator", "admin")
		wiki, wikiRoles := e.appWithRoles("", "Wiki", "reader")

		sent := map[string]any{"name": "Company Admins", "data": map[string]any{"description": "admins", "external": map[string]any{"createdAt": taNum(1503000771468)}},
			"custom": true, "roles": map[string]any{"ignored": []any{}}, "tenantId": def}
		g := e.ok("create", e.do("POST", "/api/group", e.root, map[string]any{"group": sent,
			"roleIds": []any{roles["admin"], wikiRoles["reader"], roles["moderator"], roles["admin"]}}), "group")
		id, _ := g["id"].(string)
		if _, ok := canonical(id); !ok || g["name"] != "Company Admins" || g["tenantId"] != def || g["custom"] != true ||
			!model.JSONEqual(g["data"], sent["data"]) {
			t.Fatalf("create: %v", g)
		}
		if got := rgGroupRoleNames(g, appID); !rgEqual(got, "admin", "moderator") {
			t.Errorf("roles on the forum: %v", got)
		}
		if got := rgGroupRoleNames(g, wiki); !rgEqual(got, "reader") {
			t.Errorf("roles on the wiki: %v", got)
		}
		if r, _ := jsonAt(g, "roles", appID, 0).(map[string]any); r["id"] != roles["admin"] || r["isDefault"] != false {
			t.Errorf("role object: %v", r)
		}
		if got := e.ok("retrieve", e.do("GET", "/api/group/"+id, e.root, nil), "group"); !model.JSONEqual(got, g) {
			t.Errorf("retrieve %v\n differs from create %v", got, g)
		}

		// A chosen id; names are unique per tenant, case-insensitively.
		chosen := rgNewID()
		g2 := e.ok("create with id", e.do("POST", "/api/group/"+chosen, e.root, map[string]any{"group": map[string]any{"name": "Readers"}}), "group")
		if g2["id"] != chosen || !model.JSONEqual(g2["roles"], map[string]any{}) || !model.JSONEqual(g2["data"], map[string]any{}) {
			t.Errorf("create with id: %v", g2)
		}
		other := e.createTenant("Other")["id"].(string)
		otherApp, otherRoles := e.appWithRoles(other, "Elsewhere", "member")
		_ = otherApp
		cases := []struct {
			name string
			path string
			body any
			code string
		}{
			{"same id", "/api/group/" + chosen, map[string]any{"group": map[string]any{"name": "X", "tenantId": def}}, "[duplicate]groupId"},
			{"same name", "/api/group", map[string]any{"group": map[string]any{"name": "readers", "tenantId": def}, "roleIds": nil}, "[duplicate]group.name"},
			{"blank name", "/api/group", map[string]any{"group": map[string]any{"name": " "}}, "[blank]group.name"},
			{"no group", "/api/group", map[string]any{}, "[blank]group.name"},
			{"name not a string", "/api/group", map[string]any{"group": map[string]any{"name": 5}}, "[invalid]group.name"},
			{"long name", "/api/group", map[string]any{"group": map[string]any{"name": strings.Repeat("n", 300)}}, "[tooLong]group.name"},
			{"data not an object", "/api/group", map[string]any{"group": map[string]any{"name": "X", "data": []any{}}}, "[invalid]group.data"},
			{"unknown role", "/api/group", map[string]any{"group": map[string]any{"name": "X", "tenantId": def}, "roleIds": []any{roles["user"], rgNewID()}}, "[invalid]roleIds[1]"},
			{"malformed role", "/api/group", map[string]any{"group": map[string]any{"name": "X"}, "roleIds": []any{"admin"}}, "[invalid]roleIds[0]"},
			{"role of another tenant", "/api/group", map[string]any{"group": map[string]any{"name": "X", "tenantId": def}, "roleIds": []any{otherRoles["member"]}}, "[invalid]roleIds[0]"},
			{"roleIds not an array", "/api/group", map[string]any{"group": map[string]any{"name": "X"}, "roleIds": "all"}, "[invalid]roleIds"},
			{"unknown tenant", "/api/group", map[string]any{"group": map[string]any{"name": "X", "tenantId": rgNewID()}}, "[invalid]group.tenantId"},
			{"several tenants, none named", "/api/group", map[string]any{"group": map[string]any{"name": "X"}}, "[TenantIdRequired]"},
			{"malformed path id", "/api/group/g1", map[string]any{"group": map[string]any{"name": "X"}}, "[invalid]groupId"},
			{"invalid JSON", "/api/group", `{"group":`, "[invalidJSON]"},
		}
		for _, c := range cases {
			want400(t, c.name, e.do("POST", c.path, e.root, c.body), c.code)
		}
		// The same name in another tenant is another group; the header names
		// the tenant.
		g3 := e.ok("same name elsewhere", e.do("POST", "/api/group", e.root, map[string]any{"group": map[string]any{"name": "Readers"},
			"roleIds": []any{otherRoles["member"]}}, "X-FusionAuth-TenantId", other), "group")
		if g3["tenantId"] != other {
			t.Errorf("tenant from the header: %v", g3["tenantId"])
		}

		// Update: PUT replaces, roles become exactly roleIds (none when absent).
		e.s.Clock.Advance(time.Minute)
		upd := e.ok("update", e.do("PUT", "/api/group/"+id, e.root, map[string]any{"group": map[string]any{"name": "Admins", "tenantId": other}}), "group")
		if upd["name"] != "Admins" || upd["tenantId"] != def || upd["custom"] != nil || !model.JSONEqual(upd["roles"], map[string]any{}) ||
			!model.JSONEqual(upd["insertInstant"], g["insertInstant"]) || model.JSONEqual(upd["lastUpdateInstant"], g["lastUpdateInstant"]) {
			t.Errorf("update: %v", upd)
		}
		upd = e.ok("update roles", e.do("PUT", "/api/group/"+id, e.root, map[string]any{"group": map[string]any{"name": "Admins"}, "roleIds": []any{roles["user"]}}), "group")
		if !rgEqual(rgGroupRoleNames(upd, appID), "user") {
			t.Errorf("update roles: %v", upd["roles"])
		}
		want400(t, "rename to a taken name", e.do("PUT", "/api/group/"+id, e.root, map[string]any{"group": map[string]any{"name": "READERS"}}), "[duplicate]group.name")
		want400(t, "update to a foreign role", e.do("PUT", "/api/group/"+id, e.root, map[string]any{"group": map[string]any{"name": "Admins"}, "roleIds": []any{otherRoles["member"]}}), "[invalid]roleIds[0]")
		wantEmpty(t, "update unknown", e.do("PUT", "/api/group/"+rgNewID(), e.root, map[string]any{"group": map[string]any{"name": "Z"}}), 404)

		// PATCH: FusionAuth's form appends to roleIds and keeps the roles
		// when absent; RFC 7396 replaces; RFC 6902 works on the request form.
		p := e.ok("patch", e.do("PATCH", "/api/group/"+id, e.root, map[string]any{"roleIds": []any{roles["admin"]}}), "group")
		if !rgEqual(rgGroupRoleNames(p, appID), "admin", "user") || p["name"] != "Admins" {
			t.Errorf("FusionAuth patch: %v", p)
		}
		p = e.ok("patch data", e.do("PATCH", "/api/group/"+id, e.root, map[string]any{"group": map[string]any{"data": map[string]any{"k": "v"}}}), "group")
		if !rgEqual(rgGroupRoleNames(p, appID), "admin", "user") || !model.JSONEqual(p["data"], map[string]any{"k": "v"}) {
			t.Errorf("patch keeps roles: %v", p)
		}
		p = e.ok("merge patch", e.do("PATCH", "/api/group/"+id, e.root, map[string]any{"roleIds": []any{roles["moderator"]}, "group": map[string]any{"name": "Mods"}},
			"Content-Type", "application/merge-patch+json"), "group")
		if !rgEqual(rgGroupRoleNames(p, appID), "moderator") || p["name"] != "Mods" {
			t.Errorf("merge patch: %v", p)
		}
		p = e.ok("json patch", e.do("PATCH", "/api/group/"+id, e.root, []any{
			map[string]any{"op": "add", "path": "/roleIds/-", "value": wikiRoles["reader"]},
			map[string]any{"op": "replace", "path": "/group/name", "value": "Mods and readers"}}, "Content-Type", "application/json-patch+json"), "group")
		if !rgEqual(rgGroupRoleNames(p, wiki), "reader") || p["name"] != "Mods and readers" {
			t.Errorf("json patch: %v", p)
		}
		want400(t, "patch to blank name", e.do("PATCH", "/api/group/"+id, e.root, map[string]any{"group": map[string]any{"name": ""}}), "[blank]group.name")

		// Retrieve all and search.
		var all struct {
			Groups []map[string]any `json:"groups"`
		}
		e.do("GET", "/api/group", e.root, nil).JSON(t, &all)
		if len(all.Groups) != 3 {
			t.Errorf("retrieve all: %d groups", len(all.Groups))
		}
		search := func(method string, q map[string]any) (int, []string) {
			var r *testutil.Response
			if method == "POST" {
				r = e.do("POST", "/api/group/search", e.root, map[string]any{"search": q})
			} else {
				var parts []string
				for k, v := range q {
					parts = append(parts, fmt.Sprintf("%s=%v", k, v))
				}
				r = e.do("GET", "/api/group/search?"+strings.ReplaceAll(strings.Join(parts, "&"), " ", "%20"), e.root, nil)
			}
			var body struct {
				Groups []map[string]any `json:"groups"`
				Total  int              `json:"total"`
			}
			if r.Status != 200 {
				t.Fatalf("search %v: %d %s", q, r.Status, r.Body)
			}
			r.JSON(t, &body)
			var names []string
			for _, g := range body.Groups {
				names = append(names, g["name"].(string))
			}
			return body.Total, names
		}
		for _, m := range []string{"POST", "GET"} {
			if n, names := search(m, map[string]any{"name": "read"}); n != 3 || !rgEqual(names, "Mods and readers", "Readers", "Readers") {
				t.Errorf("%s search by name: %d %v", m, n, names)
			}
			if n, names := search(m, map[string]any{"name": "READ*", "tenantId": other}); n != 1 || len(names) != 1 {
				t.Errorf("%s search by name and tenant: %d %v", m, n, names)
			}
			if n, names := search(m, map[string]any{"orderBy": "name DESC", "numberOfResults": 1, "startRow": 1}); n != 3 || !rgEqual(names, "Readers") {
				t.Errorf("%s paged search: %d %v", m, n, names)
			}
		}
		want400(t, "bad orderBy", e.do("POST", "/api/group/search", e.root, map[string]any{"search": map[string]any{"orderBy": "password"}}), "[invalid]search.orderBy")
		want400(t, "bad tenantId", e.do("GET", "/api/group/search?tenantId=t", e.root, nil), "[invalid]search.tenantId")
		want400(t, "bad startRow", e.do("GET", "/api/group/search?startRow=x", e.root, nil), "[invalid]search.startRow")
		if n, _ := search("POST", map[string]any{"orderBy": "tenant DESC"}); n != 3 {
			t.Errorf("order by tenant: %d", n)
		}

		// Delete.
		wantEmpty(t, "delete", e.do("DELETE", "/api/group/"+id, e.root, nil), 200)
		wantEmpty(t, "retrieve deleted", e.do("GET", "/api/group/"+id, e.root, nil), 404)
		wantEmpty(t, "delete again", e.do("DELETE", "/api/group/"+id, e.root, nil), 404)
		wantEmpty(t, "delete malformed", e.do("DELETE", "/api/group/zz", e.root, nil), 404)
		msgs := e.auditMessages(id)
		for _, want := range []string{"Created group", "Updated group", "Deleted group"} {
			if !rgHasPrefix(msgs, want) {
				t.Errorf("audit of group lacks %q: %v", want, msgs)
			}
		}

		// Deleting a tenant deletes its groups.
		wantEmpty(t, "delete tenant", e.do("DELETE", "/api/tenant/"+other, e.root, nil), 200)
		wantEmpty(t, "group of the deleted tenant", e.do("GET", "/api/group/"+g3["id"].(string), e.root, nil), 404)
	})
}

func TestGroupMembers(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := rgStart(t, b)
		def := e.defaultTenant()
		g1 := e.ok("group", e.do("POST", "/api/group", e.root, map[string]any{"group": map[string]any{"name": "One"}}), "group")["id"].(string)
		g2 := e.ok("group", e.do("POST", "/api/group", e.root, map[string]any{"group": map[string]any{"name": "Two"}}), "group")["id"].(string)
		u1, u2, u3 := e.user("m1@example.com", ""), e.user("m2@example.com", ""), e.user("m3@example.com", "")
		other := e.createTenant("Other")["id"].(string)
		stranger := e.user("stranger@example.com", other)

		chosen := rgNewID()
		r := e.do("POST", "/api/group/member", e.root, map[string]any{"members": map[string]any{
			g1: []any{map[string]any{"userId": u1, "data": map[string]any{"externalId": "x1"}}, map[string]any{"userId": u2, "id": chosen}},
			g2: []any{map[string]any{"userId": u1}},
		}})
		if r.Status != 200 {
			t.Fatalf("add members: %d %s", r.Status, r.Body)
		}
		var added struct {
			Members map[string][]map[string]any `json:"members"`
		}
		r.JSON(t, &added)
		if len(added.Members[g1]) != 2 || len(added.Members[g2]) != 1 || added.Members[g1][1]["id"] != chosen ||
			added.Members[g1][0]["userId"] != u1 || !model.JSONEqual(added.Members[g1][0]["data"], map[string]any{"externalId": "x1"}) ||
			added.Members[g1][0]["insertInstant"] == nil {
			t.Fatalf("add response: %s", r.Body)
		}
		firstID := added.Members[g1][0]["id"]
		// Adding a member again keeps the membership as it is.
		r = e.do("POST", "/api/group/member", e.root, map[string]any{"members": map[string]any{g1: []any{map[string]any{"userId": u1, "data": map[string]any{"new": true}}}}})
		r.JSON(t, &added)
		if r.Status != 200 || added.Members[g1][0]["id"] != firstID || !model.JSONEqual(added.Members[g1][0]["data"], map[string]any{"externalId": "x1"}) {
			t.Errorf("add again: %d %s", r.Status, r.Body)
		}

		bad := []struct {
			name string
			body any
			code string
		}{
			{"no members", map[string]any{}, "[missing]members"},
			{"empty members", map[string]any{"members": map[string]any{}}, "[missing]members"},
			{"members not an object", map[string]any{"members": []any{}}, "[invalid]members"},
			{"unknown group", map[string]any{"members": map[string]any{rgNewID(): []any{map[string]any{"userId": u1}}}}, "[invalid]members"},
			{"malformed group", map[string]any{"members": map[string]any{"g": []any{map[string]any{"userId": u1}}}}, "[invalid]members"},
			{"no user id", map[string]any{"members": map[string]any{g1: []any{map[string]any{}}}}, fmt.Sprintf("[missing]members[%s][0].userId", g1)},
			{"unknown user", map[string]any{"members": map[string]any{g1: []any{map[string]any{"userId": rgNewID()}}}}, fmt.Sprintf("[invalid]members[%s][0].userId", g1)},
			{"user of another tenant", map[string]any{"members": map[string]any{g1: []any{map[string]any{"userId": stranger}}}}, fmt.Sprintf("[invalid]members[%s][0].userId", g1)},
			{"user twice", map[string]any{"members": map[string]any{g1: []any{map[string]any{"userId": u3}, map[string]any{"userId": u3}}}}, fmt.Sprintf("[duplicate]members[%s][1].userId", g1)},
			{"member id taken", map[string]any{"members": map[string]any{g2: []any{map[string]any{"userId": u2, "id": chosen}}}}, fmt.Sprintf("[duplicate]members[%s][0].id", g2)},
			{"member not an object", map[string]any{"members": map[string]any{g1: []any{"u"}}}, fmt.Sprintf("[invalid]members[%s][0]", g1)},
			{"list not an array", map[string]any{"members": map[string]any{g1: "u"}}, fmt.Sprintf("[invalid]members[%s]", g1)},
			{"data not an object", map[string]any{"members": map[string]any{g1: []any{map[string]any{"userId": u3, "data": 1}}}}, fmt.Sprintf("[invalid]members[%s][0].data", g1)},
		}
		for _, c := range bad {
			want400(t, c.name, e.do("POST", "/api/group/member", e.root, c.body), c.code)
		}

		// Search.
		msearch := func(q string) (int, []string) {
			var body struct {
				Members []map[string]any `json:"members"`
				Total   int              `json:"total"`
			}
			r := e.do("GET", "/api/group/member/search?"+q, e.root, nil)
			if r.Status != 200 {
				t.Fatalf("member search %s: %d %s", q, r.Status, r.Body)
			}
			r.JSON(t, &body)
			var users []string
			for _, m := range body.Members {
				users = append(users, m["userId"].(string))
			}
			return body.Total, users
		}
		if n, users := msearch("groupId=" + g1 + "&orderBy=userId"); n != 2 || len(users) != 2 {
			t.Errorf("members of g1: %d %v", n, users)
		}
		if n, _ := msearch("userId=" + u1); n != 2 {
			t.Errorf("groups of u1: %d", n)
		}
		if n, users := msearch("groupId=" + g1 + "&numberOfResults=1&startRow=1&orderBy=insertInstant%20DESC"); n != 2 || len(users) != 1 {
			t.Errorf("paged: %d %v", n, users)
		}
		var post struct {
			Members []map[string]any `json:"members"`
			Total   int              `json:"total"`
		}
		e.do("POST", "/api/group/member/search", e.root, map[string]any{"search": map[string]any{"groupId": g2}}).JSON(t, &post)
		if post.Total != 1 || post.Members[0]["userId"] != u1 || post.Members[0]["groupId"] != g2 {
			t.Errorf("POST member search: %v", post)
		}
		want400(t, "search by a malformed group", e.do("GET", "/api/group/member/search?groupId=g", e.root, nil), "[invalid]search.groupId")
		want400(t, "search with a bad order", e.do("GET", "/api/group/member/search?orderBy=name", e.root, nil), "[invalid]search.orderBy")

		// Memberships as the user API shows them.
		ms, err := e.service().Groups.Memberships(context.Background(), nil, []string{u1, u3})
		if err != nil {
			t.Fatal(err)
		}
		if len(ms[u1]) != 2 || len(ms[u3]) != 0 || ms[u1][0].UserID != "" || ms[u1][0].GroupID == "" {
			t.Errorf("memberships: %v", ms)
		}

		// PUT replaces the members of the groups it names.
		r = e.do("PUT", "/api/group/member", e.root, map[string]any{"members": map[string]any{g1: []any{map[string]any{"userId": u3}, map[string]any{"userId": u2}}}})
		if r.Status != 200 {
			t.Fatalf("replace: %d %s", r.Status, r.Body)
		}
		if n, _ := msearch("groupId=" + g1); n != 2 {
			t.Errorf("after replace: %d", n)
		}
		if n, _ := msearch("groupId=" + g1 + "&userId=" + u1); n != 0 {
			t.Errorf("u1 still in g1")
		}
		if n, _ := msearch("groupId=" + g2); n != 1 {
			t.Errorf("g2 touched by the replace: %d", n)
		}
		e.do("PUT", "/api/group/member", e.root, map[string]any{"members": map[string]any{g2: []any{}}}).JSON(t, &added)
		if n, _ := msearch("groupId=" + g2); n != 0 {
			t.Errorf("g2 not emptied: %d", n)
		}

		// Removal in FusionAuth's forms.
		e.do("POST", "/api/group/member", e.root, map[string]any{"members": map[string]any{g2: []any{map[string]any{"userId": u1}, map[string]any{"userId": u2}, map[string]any{"userId": u3}}}})
		wantEmpty(t, "remove by group and user", e.do("DELETE", "/api/group/member?groupId="+g2+"&userId="+u1, e.root, nil), 200)
		wantEmpty(t, "remove by group and user again", e.do("DELETE", "/api/group/member?groupId="+g2+"&userId="+u1, e.root, nil), 404)
		wantEmpty(t, "remove from an unknown group", e.do("DELETE", "/api/group/member?groupId="+rgNewID()+"&userId="+u1, e.root, nil), 404)
		wantEmpty(t, "remove by members map", e.do("DELETE", "/api/group/member", e.root, map[string]any{"members": map[string]any{g2: []any{u2, rgNewID()}}}), 200)
		want400(t, "remove from an unknown group by map", e.do("DELETE", "/api/group/member", e.root, map[string]any{"members": map[string]any{rgNewID(): []any{u2}}}), "[invalid]members")
		var left struct {
			Members []map[string]any `json:"members"`
		}
		e.do("GET", "/api/group/member/search?groupId="+g2, e.root, nil).JSON(t, &left)
		if len(left.Members) != 1 || left.Members[0]["userId"] != u3 {
			t.Fatalf("left in g2: %v", left.Members)
		}
		u3Member := left.Members[0]["id"].(string)
		wantEmpty(t, "remove by unknown member ids", e.do("DELETE", "/api/group/member", e.root, map[string]any{"memberIds": []any{u3Member, rgNewID()}}), 404)
		wantEmpty(t, "remove by member ids", e.do("DELETE", "/api/group/member", e.root, map[string]any{"memberIds": []any{u3Member}}), 200)
		wantEmpty(t, "remove by member id again", e.do("DELETE", "/api/group/member/"+u3Member, e.root, nil), 404)
		want400(t, "remove with malformed ids", e.do("DELETE", "/api/group/member", e.root, map[string]any{"memberIds": []any{"m"}}), "[invalid]memberIds[0]")
		want400(t, "remove with nothing", e.do("DELETE", "/api/group/member", e.root, map[string]any{}), "[missing]memberIds")
		want400(t, "remove without a body", e.do("DELETE", "/api/group/member", e.root, nil), "[invalidJSON]")
		wantEmpty(t, "remove by path id", e.do("DELETE", "/api/group/member/"+chosen, e.root, nil), 404) // replaced by PUT
		e.do("GET", "/api/group/member/search?groupId="+g1, e.root, nil).JSON(t, &left)
		wantEmpty(t, "remove by path id", e.do("DELETE", "/api/group/member/"+left.Members[0]["id"].(string), e.root, nil), 200)
		wantEmpty(t, "remove all of a group", e.do("DELETE", "/api/group/member?groupId="+g1, e.root, nil), 200)
		if n, _ := msearch("groupId=" + g1); n != 0 {
			t.Errorf("g1 not emptied: %d", n)
		}
		if msgs := e.auditMessages(g1); !rgHasPrefix(msgs, "Added 2 members") || !rgHasPrefix(msgs, "Replaced the members") || !rgHasPrefix(msgs, "Removed 1 members") {
			t.Errorf("member audit of g1: %v", msgs)
		}

		// Deleting a user or a group deletes its memberships.
		e.do("POST", "/api/group/member", e.root, map[string]any{"members": map[string]any{g1: []any{map[string]any{"userId": u1}, map[string]any{"userId": u2}}}})
		wantEmpty(t, "delete user", e.do("DELETE", "/api/user/"+u1+"?hardDelete=true", e.root, nil), 200)
		if n, _ := msearch("groupId=" + g1); n != 1 {
			t.Errorf("after deleting a member user: %d", n)
		}
		wantEmpty(t, "delete group", e.do("DELETE", "/api/group/"+g1, e.root, nil), 200)
		if n, _ := msearch("userId=" + u2); n != 0 {
			t.Errorf("after deleting the group: %d", n)
		}
		_ = def
	})
}

func TestGroupRolesFlowIntoEffectiveRoles(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := rgStart(t, b)
		appID, roles := e.appWithRoles("", "Forum", "user", "moderator", "admin")
		wiki, wikiRoles := e.appWithRoles("", "Wiki", "reader", "writer")
		uid := e.user("eff@example.com", "")
		e.register(uid, map[string]any{"applicationId": appID, "roles": []any{"user"}})

		gid := e.ok("group", e.do("POST", "/api/group", e.root, map[string]any{"group": map[string]any{"name": "Staff"},
			"roleIds": []any{roles["moderator"], wikiRoles["writer"]}}), "group")["id"].(string)
		if got, _ := e.effective(uid, appID); !rgEqual(got, "user") {
			t.Errorf("before membership: %v", got)
		}
		e.ok("members", e.do("POST", "/api/group/member", e.root, map[string]any{"members": map[string]any{gid: []any{map[string]any{"userId": uid}}}}), "members")
		if got, reg := e.effective(uid, appID); !reg || !rgEqual(got, "moderator", "user") {
			t.Errorf("with membership: %v %v", got, reg)
		}
		// Not registered to the wiki: the group's wiki role does not apply.
		if got, reg := e.effective(uid, wiki); reg || got != nil {
			t.Errorf("unregistered application: %v %v", got, reg)
		}
		e.register(uid, map[string]any{"applicationId": wiki, "roles": []any{"reader"}})
		if got, _ := e.effective(uid, wiki); !rgEqual(got, "reader", "writer") {
			t.Errorf("registered to the wiki: %v", got)
		}
		// The registration's own roles do not list the group's.
		if reg := e.ok("registration", e.do("GET", "/api/user/registration/"+uid+"/"+appID, e.root, nil), "registration"); !rgEqual(rgStrings(reg["roles"]), "user") {
			t.Errorf("registration roles: %v", reg["roles"])
		}

		// Deleting a role removes it from the group and from effective roles.
		wantEmpty(t, "delete role", e.do("DELETE", "/api/application/"+appID+"/role/"+roles["moderator"], e.root, nil), 200)
		g := e.ok("group", e.do("GET", "/api/group/"+gid, e.root, nil), "group")
		if _, ok := jsonAt(g, "roles").(map[string]any)[appID]; ok || !rgEqual(rgGroupRoleNames(g, wiki), "writer") {
			t.Errorf("group roles after deleting a role: %v", g["roles"])
		}
		if got, _ := e.effective(uid, appID); !rgEqual(got, "user") {
			t.Errorf("after deleting the role: %v", got)
		}
		// Deleting an application removes its roles from groups.
		wantEmpty(t, "delete wiki", e.do("DELETE", "/api/application/"+wiki+"?hardDelete=true", e.root, nil), 200)
		if g := e.ok("group", e.do("GET", "/api/group/"+gid, e.root, nil), "group"); !model.JSONEqual(g["roles"], map[string]any{}) {
			t.Errorf("group roles after deleting the application: %v", g["roles"])
		}
		// Leaving the group takes its roles away.
		e.ok("roles again", e.do("PUT", "/api/group/"+gid, e.root, map[string]any{"group": map[string]any{"name": "Staff"}, "roleIds": []any{roles["admin"]}}), "group")
		if got, _ := e.effective(uid, appID); !rgEqual(got, "admin", "user") {
			t.Errorf("after PUT roles: %v", got)
		}
		wantEmpty(t, "leave", e.do("DELETE", "/api/group/member?groupId="+gid+"&userId="+uid, e.root, nil), 200)
		if got, _ := e.effective(uid, appID); !rgEqual(got, "user") {
			t.Errorf("after leaving: %v", got)
		}
	})
}

func TestGroupTenantIsolation(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := rgStart(t, b)
		def := e.defaultTenant()
		other := e.createTenant("Other")["id"].(string)
		_, otherRoles := e.appWithRoles(other, "Away", "member")
		_, defRoles := e.appWithRoles(def, "Home", "user")
		theirs := e.ok("their group", e.do("POST", "/api/group", e.root, map[string]any{"group": map[string]any{"name": "Theirs", "tenantId": other},
			"roleIds": []any{otherRoles["member"]}}), "group")["id"].(string)
		theirUser := e.user("their@example.com", other)
		e.ok("their member", e.do("POST", "/api/group/member", e.root, map[string]any{"members": map[string]any{theirs: []any{map[string]any{"userId": theirUser}}}}), "members")
		var found struct {
			Members []map[string]any `json:"members"`
		}
		e.do("GET", "/api/group/member/search?groupId="+theirs, e.root, nil).JSON(t, &found)
		theirMember := found.Members[0]["id"].(string)

		key, _ := e.scopedKey(def)
		// The key's tenant is the group's tenant: no tenant id needed.
		mine := e.ok("own group", e.do("POST", "/api/group", key, map[string]any{"group": map[string]any{"name": "Mine"}, "roleIds": []any{defRoles["user"]}}), "group")
		if mine["tenantId"] != def {
			t.Errorf("scoped key's group tenant: %v", mine["tenantId"])
		}
		want400(t, "create in another tenant", e.do("POST", "/api/group", key, map[string]any{"group": map[string]any{"name": "X", "tenantId": other}}), "[invalid]group.tenantId")
		want400(t, "foreign role", e.do("POST", "/api/group", key, map[string]any{"group": map[string]any{"name": "X"}, "roleIds": []any{otherRoles["member"]}}), "[invalid]roleIds[0]")
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/api/group/" + theirs, nil},
			{"PUT", "/api/group/" + theirs, map[string]any{"group": map[string]any{"name": "Mine now"}}},
			{"PATCH", "/api/group/" + theirs, map[string]any{"group": map[string]any{"name": "Mine now"}}},
			{"DELETE", "/api/group/" + theirs, nil},
			{"DELETE", "/api/group/member?groupId=" + theirs + "&userId=" + theirUser, nil},
			{"DELETE", "/api/group/member?groupId=" + theirs, nil},
			{"DELETE", "/api/group/member/" + theirMember, nil},
			{"DELETE", "/api/group/member", map[string]any{"memberIds": []any{theirMember}}},
		} {
			wantEmpty(t, c.method+" "+c.path, e.do(c.method, c.path, key, c.body), 404)
		}
		want400(t, "add to their group", e.do("POST", "/api/group/member", key, map[string]any{"members": map[string]any{theirs: []any{map[string]any{"userId": theirUser}}}}), "[invalid]members")
		want400(t, "remove from their group", e.do("DELETE", "/api/group/member", key, map[string]any{"members": map[string]any{theirs: []any{theirUser}}}), "[invalid]members")
		var groups struct {
			Groups []map[string]any `json:"groups"`
			Total  int              `json:"total"`
		}
		e.do("GET", "/api/group", key, nil).JSON(t, &groups)
		if len(groups.Groups) != 1 || groups.Groups[0]["name"] != "Mine" {
			t.Errorf("retrieve all with a scoped key: %v", groups.Groups)
		}
		e.do("POST", "/api/group/search", key, map[string]any{"search": map[string]any{"tenantId": other}}).JSON(t, &groups)
		if groups.Total != 1 || groups.Groups[0]["name"] != "Mine" {
			t.Errorf("search naming another tenant with a scoped key: %d %v", groups.Total, groups.Groups)
		}
		e.do("GET", "/api/group/member/search?groupId="+theirs, key, nil).JSON(t, &found)
		if len(found.Members) != 0 {
			t.Errorf("member search sees another tenant: %v", found.Members)
		}
		// The header narrows the root key the same way.
		wantEmpty(t, "header", e.do("GET", "/api/group/"+theirs, e.root, nil, "X-FusionAuth-TenantId", def), 404)
		// Nothing of theirs changed.
		if g := e.ok("theirs", e.do("GET", "/api/group/"+theirs, e.root, nil), "group"); g["name"] != "Theirs" {
			t.Errorf("their group changed: %v", g)
		}
		e.do("GET", "/api/group/member/search?groupId="+theirs, e.root, nil).JSON(t, &found)
		if len(found.Members) != 1 {
			t.Errorf("their members changed: %v", found.Members)
		}
	})
}

// No input to the registration and group calls is a 500: every body shape
// against every route, with real, unknown and malformed ids.
func TestRegistrationsAndGroupsNever500(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := rgStart(t, b)
		appID, _ := e.appWithRoles("", "Forum", "user")
		uid := e.user("fuzz@example.com", "")
		e.register(uid, map[string]any{"applicationId": appID})
		gid := e.ok("group", e.do("POST", "/api/group", e.root, map[string]any{"group": map[string]any{"name": "G"}}), "group")["id"].(string)
		e.ok("member", e.do("POST", "/api/group/member", e.root, map[string]any{"members": map[string]any{gid: []any{map[string]any{"userId": uid}}}}), "members")

		common := []any{nil, `null`, `1`, `"s"`, `[]`, `{}`, `{"a":`, `[{"op":"replace","path":"","value":[]}]`,
			map[string]any{"search": 1}, map[string]any{"search": map[string]any{"numberOfResults": -1, "startRow": "x"}},
			map[string]any{"search": map[string]any{"orderBy": "id; DROP TABLE users", "groupId": 1}}}
		registrationBodies := append(slices.Clone(common), `[{"op":"remove","path":"/registration"}]`,
			map[string]any{"registration": nil}, map[string]any{"registration": 1}, map[string]any{"registration": []any{1}},
			map[string]any{"registration": map[string]any{"applicationId": appID, "roles": map[string]any{}, "data": []any{}, "id": 3, "preferredLanguages": "en", "username": []any{}}},
			map[string]any{"registration": map[string]any{"applicationId": appID}, "user": 1},
			map[string]any{"registration": map[string]any{"applicationId": appID}, "user": map[string]any{"email": 5}},
			map[string]any{"registration": map[string]any{"applicationId": appID}, "skipRegistrationVerification": "x"})
		groupBodies := append(slices.Clone(common), `[{"op":"remove","path":"/group"}]`,
			map[string]any{"group": "x"}, map[string]any{"group": map[string]any{"name": []any{}}, "roleIds": []any{nil, 1, map[string]any{}}},
			map[string]any{"group": map[string]any{"name": "G2", "tenantId": 5}},
			map[string]any{"members": 1}, map[string]any{"members": map[string]any{gid: []any{1, nil, map[string]any{"userId": 1, "id": []any{}}}}},
			map[string]any{"members": map[string]any{gid: []any{uid, 1}}}, map[string]any{"memberIds": "x"}, map[string]any{"memberIds": []any{nil}})
		type call struct {
			method, path string
			bodies       []any
		}
		var calls []call
		for _, id := range []string{uid + "/" + appID, uid, rgNewID() + "/" + appID, "x/y", "%00/%ff"} {
			for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
				calls = append(calls, call{m, "/api/user/registration/" + id, registrationBodies})
			}
		}
		for _, id := range []string{gid, rgNewID(), "g", ""} {
			for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
				calls = append(calls, call{m, strings.TrimSuffix("/api/group/"+id, "/"), groupBodies})
			}
		}
		for _, p := range []string{"/api/group/member", "/api/group/member/" + rgNewID(), "/api/group/member?groupId=x&userId=y",
			"/api/group/member?groupId=" + gid + "&userId=x", "/api/group/search", "/api/group/member/search"} {
			for _, m := range []string{"POST", "PUT", "DELETE"} {
				calls = append(calls, call{m, p, groupBodies})
			}
		}
		// Bodies are not read on GET; its inputs are the path and query.
		for _, p := range []string{"/api/user/registration/" + uid + "/" + appID, "/api/user/registration/x/y", "/api/user/registration/" + strings.Repeat("a", 5000),
			"/api/group/" + gid, "/api/group/g", "/api/group", "/api/group/search?numberOfResults=x&orderBy=%27", "/api/group/search?name=%25_%5C",
			"/api/group/member/search?startRow=-1", "/api/group/member/search?groupId=x&userId=" + uid + "&tenantId=t"} {
			calls = append(calls, call{"GET", p, []any{nil}})
		}
		for _, p := range calls {
			for _, body := range p.bodies {
				for _, ct := range []string{"application/json", "application/merge-patch+json", "application/json-patch+json"} {
					if ct != "application/json" && p.method != "PATCH" {
						continue
					}
					r := e.do(p.method, p.path, e.root, body, "Content-Type", ct)
					if r.Status >= 500 {
						t.Errorf("%s %s (%s) %v: %d %s", p.method, p.path, ct, body, r.Status, r.Body)
					}
				}
			}
		}
	})
}

// Concurrent writers of the same registration, group name or membership:
// one wins, the others get FusionAuth's duplicate error, never a 500.
func TestRegistrationsAndGroupsConcurrentCreates(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := rgStart(t, b)
		appID, _ := e.appWithRoles("", "Forum", "user")
		uid := e.user("race@example.com", "")
		gid := e.ok("group", e.do("POST", "/api/group", e.root, map[string]any{"group": map[string]any{"name": "G"}}), "group")["id"].(string)
		const n = 8
		race := func(what string, req func(i int) *testutil.Response, dupCode string) {
			t.Helper()
			statuses := make(chan *testutil.Response, n)
			for i := range n {
				go func() { statuses <- req(i) }()
			}
			wins := 0
			for range n {
				r := <-statuses
				switch {
				case r.Status == 200:
					wins++
				case r.Status == 400 && strings.Contains(string(r.Body), dupCode):
				default:
					t.Errorf("%s: %d %s", what, r.Status, r.Body)
				}
			}
			if wins != 1 {
				t.Errorf("%s: %d winners, want 1", what, wins)
			}
		}
		race("register", func(int) *testutil.Response {
			return e.do("POST", "/api/user/registration/"+uid, e.root, map[string]any{"registration": map[string]any{"applicationId": appID}})
		}, "[duplicate]registration")
		race("group name", func(i int) *testutil.Response {
			return e.do("POST", "/api/group", e.root, map[string]any{"group": map[string]any{"name": fmt.Sprintf("Same %s", strings.Repeat("", i))}})
		}, "[duplicate]group.name")
		// Adding the same member concurrently: every call succeeds or reports
		// the race; exactly one membership results.
		statuses := make(chan *testutil.Response, n)
		for range n {
			go func() {
				statuses <- e.do("POST", "/api/group/member", e.root, map[string]any{"members": map[string]any{gid: []any{map[string]any{"userId": uid}}}})
			}()
		}
		for range n {
			if r := <-statuses; r.Status != 200 && r.Status != 400 {
				t.Errorf("concurrent add member: %d %s", r.Status, r.Body)
			}
		}
		var found struct {
			Total int `json:"total"`
		}
		e.do("GET", "/api/group/member/search?groupId="+gid, e.root, nil).JSON(t, &found)
		if found.Total != 1 {
			t.Errorf("memberships after concurrent adds: %d", found.Total)
		}
	})
}

// AddUserMemberships is what the user API calls for user.memberships.
func TestAddUserMemberships(t *testing.T) {
	t.Parallel()
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := rgStart(t, b)
		def := e.defaultTenant()
		g1 := e.ok("group", e.do("POST", "/api/group", e.root, map[string]any{"group": map[string]any{"name": "One"}}), "group")["id"].(string)
		other := e.createTenant("Other")["id"].(string)
		foreign := e.ok("group", e.do("POST", "/api/group", e.root, map[string]any{"group": map[string]any{"name": "Far", "tenantId": other}}), "group")["id"].(string)
		uid := e.user("um@example.com", def)
		svc := e.service()
		add := func(raw any) ([]model.GroupMember, error) {
			var out []model.GroupMember
			err := e.st.InTx(context.Background(), func(tx *store.Tx) error {
				var err error
				out, err = svc.Groups.AddUserMemberships(context.Background(), tx, kit.Actor{Type: kit.ActorSystem}, uid, def, groups.ReadMemberships(raw), "user.memberships")
				return err
			})
			return out, err
		}
		for _, c := range []struct {
			raw  any
			code string
		}{
			{"x", "[invalid]user.memberships"},
			{[]any{1}, "[invalid]user.memberships[0]"},
			{[]any{map[string]any{}}, "[invalid]user.memberships[0].groupId"},
			{[]any{map[string]any{"groupId": foreign}}, "[invalid]user.memberships[0].groupId"},
			{[]any{map[string]any{"groupId": g1, "data": 1}}, "[invalid]user.memberships[0].data"},
		} {
			_, err := add(c.raw)
			var verrs *model.Errors
			if !errors.As(err, &verrs) || !strings.Contains(verrs.Error(), c.code) {
				t.Errorf("%v: %v, want %s", c.raw, err, c.code)
			}
		}
		out, err := add([]any{map[string]any{"groupId": g1, "data": map[string]any{"externalId": "e"}}})
		if err != nil || len(out) != 1 || out[0].GroupID != g1 || out[0].UserID != "" {
			t.Fatalf("add: %v %v", out, err)
		}
		if out, err = add([]any{map[string]any{"groupId": g1}}); err != nil || len(out) != 0 {
			t.Errorf("add again: %v %v", out, err)
		}
		var found struct {
			Total int `json:"total"`
		}
		e.do("GET", "/api/group/member/search?userId="+uid, e.root, nil).JSON(t, &found)
		if found.Total != 1 {
			t.Errorf("memberships: %d", found.Total)
		}
		if !rgHasPrefix(e.auditMessages(g1), "Added user "+uid) {
			t.Errorf("not audited: %v", e.auditMessages(g1))
		}
	})
}
