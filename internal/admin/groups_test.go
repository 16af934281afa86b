package admin_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/latchid/latch/internal/testutil"
)

var groupLink = regexp.MustCompile(`/admin/groups/([0-9a-f-]{36})`)

// adminRoleID is the admin application's admin role.
const adminRoleID = "631ecd9d-8d40-4c13-8277-80cedb8236e2"

func (e *env) groupRoles(id string) []string {
	e.t.Helper()
	var out struct {
		Group struct {
			Roles map[string][]struct{ Name string }
		}
	}
	e.api("GET", "/api/group/"+id, nil, 200).JSON(e.t, &out)
	var names []string
	for _, rs := range out.Group.Roles {
		for _, r := range rs {
			names = append(names, r.Name)
		}
	}
	return names
}

func (e *env) members(groupID string) int {
	e.t.Helper()
	var out struct{ Total int }
	e.api("GET", "/api/group/member/search?groupId="+groupID, nil, 200).JSON(e.t, &out)
	return out.Total
}

func TestGroupPages(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		var app struct {
			Application struct {
				ID    string
				Roles []struct{ ID, Name string }
			}
		}
		e.api("POST", "/api/application", map[string]any{"application": map[string]any{"name": "Shop",
			"roles": []map[string]any{{"name": "buyer"}, {"name": "seller"}}}}, 200).JSON(t, &app)
		e.api("POST", "/api/user", map[string]any{"user": map[string]any{"email": "member@example.com", "password": testPassword}}, 200)
		e.admin("groups@example.com", "group_manager")
		e.admin("gdel@example.com", "group_deleter")

		br := e.browser()
		home := br.signIn("groups@example.com", testPassword)
		csrf := home.csrf(t)
		created := br.submit(br.get("/admin/groups/new"), "/admin/groups", "name", "Support")
		m := groupLink.FindStringSubmatch(created.url.Path)
		if created.status != 200 || m == nil || !strings.Contains(created.body, "The group was created") {
			t.Fatalf("create: %d at %s: %s", created.status, created.url, created.body)
		}
		id := m[1]
		if strings.Contains(created.body, adminRoleID) {
			t.Error("a group_manager is offered the admin application's roles")
		}
		var seller string
		for _, r := range app.Application.Roles {
			if r.Name == "seller" {
				seller = r.ID
			}
		}
		if p := br.post("/admin/groups/"+id, url.Values{"csrf_token": {csrf}, "name": {"Support"}, "roleId": {seller}}); p.status != 200 || !strings.Contains(p.body, "The group was saved") {
			t.Fatalf("roles: %d %s", p.status, p.body)
		}
		if got := e.groupRoles(id); strings.Join(got, ",") != "seller" {
			t.Fatalf("stored roles: %v", got)
		}
		if p := br.post("/admin/groups/"+id+"/members", url.Values{"csrf_token": {csrf}, "loginId": {"nobody@example.com"}}); p.status != 400 ||
			!strings.Contains(p.body, `value="nobody@example.com" aria-invalid="true"`) {
			t.Fatalf("an unknown member: %d", p.status)
		}
		added := br.post("/admin/groups/"+id+"/members", url.Values{"csrf_token": {csrf}, "loginId": {"member@example.com"}})
		if added.status != 200 || !strings.Contains(added.body, "member@example.com") || e.members(id) != 1 {
			t.Fatalf("add member: %d %s", added.status, added.body)
		}
		var member struct{ User struct{ ID string } }
		e.api("GET", "/api/user?email=member%40example.com", nil, 200).JSON(t, &member)
		if p := br.post("/admin/groups/"+id+"/members/"+member.User.ID+"/delete", url.Values{"csrf_token": {csrf}}); p.status != 200 || e.members(id) != 0 {
			t.Fatalf("remove member: %d", p.status)
		}

		// A group_manager neither grants admin roles through a group nor
		// joins (or changes) a group that holds them.
		if p := br.post("/admin/groups/"+id, url.Values{"csrf_token": {csrf}, "name": {"Support"}, "roleId": {seller, adminRoleID}}); p.status != 403 {
			t.Fatalf("a group_manager added an admin role: %d", p.status)
		}
		var admins struct{ Group struct{ ID string } }
		e.api("POST", "/api/group", map[string]any{"group": map[string]any{"name": "Admins"}, "roleIds": []string{adminRoleID}}, 200).JSON(t, &admins)
		if p := br.post("/admin/groups/"+admins.Group.ID+"/members", url.Values{"csrf_token": {csrf}, "loginId": {"groups@example.com"}}); p.status != 403 {
			t.Fatalf("a group_manager joined a group with admin roles: %d", p.status)
		}
		if p := br.post("/admin/groups/"+admins.Group.ID, url.Values{"csrf_token": {csrf}, "name": {"Admins"}}); p.status != 403 {
			t.Fatalf("a group_manager changed a group with admin roles: %d", p.status)
		}
		if e.members(admins.Group.ID) != 0 || len(e.groupRoles(admins.Group.ID)) != 1 || len(e.groupRoles(id)) != 1 {
			t.Fatal("a refused change changed the groups")
		}

		// The admin role may, with a recent password for the roles.
		ab := e.browser()
		ahome := ab.signIn("admin@example.com", testPassword)
		acsrf := ahome.csrf(t)
		if p := ab.get("/admin/groups/" + id); !strings.Contains(p.body, adminRoleID) {
			t.Fatal("the admin is not offered the admin roles")
		}
		e.clock.Advance(6 * time.Minute)
		if p := ab.post("/admin/groups/"+id, url.Values{"csrf_token": {acsrf}, "name": {"Support"}, "roleId": {seller, adminRoleID}}); p.status != 403 || !strings.Contains(p.body, "Confirm it is you") {
			t.Fatalf("admin roles without a recent password: %d", p.status)
		}
		if p := ab.post("/admin/groups/"+admins.Group.ID+"/members", url.Values{"csrf_token": {acsrf}, "loginId": {"member@example.com"}}); p.status != 200 || e.members(admins.Group.ID) != 1 {
			t.Fatalf("the admin adds a member to the admin group: %d", p.status)
		}
		if p := ab.get("/admin/users/" + member.User.ID); !strings.Contains(p.body, `<a href="/admin/groups/`+admins.Group.ID+`">Admins</a>`) {
			t.Errorf("the member's page does not name the group: %s", p.body)
		}

		// Deletion.
		db := e.browser()
		dcsrf := db.signIn("gdel@example.com", testPassword).csrf(t)
		if p := db.post("/admin/groups/"+id+"/delete", url.Values{"csrf_token": {dcsrf}}); p.status != 200 || p.url.Path != "/admin/groups" {
			t.Fatalf("delete: %d at %s", p.status, p.url)
		}
		e.api("GET", "/api/group/"+id, nil, 404)
		for _, c := range []struct{ actor, text string }{{"groups@example.com", "Created group [Support]"}, {"groups@example.com", "Updated group [Support]"},
			{"groups@example.com", "Added 1 members to group [Support]"}, {"groups@example.com", "Removed 1 members from group [Support]"},
			{"gdel@example.com", "Deleted group [Support]"}} {
			if !e.auditedBy(c.actor, c.text) {
				t.Errorf("no audit entry by %s containing %q", c.actor, c.text)
			}
		}
	})
}
