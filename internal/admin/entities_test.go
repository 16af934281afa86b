package admin_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

var (
	entityTypeLink = regexp.MustCompile(`/admin/entity-types/([0-9a-f-]{36})`)
	secretValue    = regexp.MustCompile(`id="client-secret" type="text" value="([^"]+)"`)
)

func TestEntityPages(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		e.admin("machines@example.com", "entity_manager")
		br := e.browser()
		home := br.signIn("machines@example.com", testPassword)
		csrf := home.csrf(t)

		typ := br.post("/admin/entity-types", url.Values{"csrf_token": {csrf}, "name": {"Printer"}})
		m := entityTypeLink.FindStringSubmatch(typ.url.Path)
		if typ.status != 200 || m == nil {
			t.Fatalf("create type: %d at %s", typ.status, typ.url)
		}
		typeID := m[1]
		if p := br.post("/admin/entity-types/"+typeID+"/permissions", url.Values{"csrf_token": {csrf}, "name": {"print"}, "isDefault": {"on"}}); p.status != 200 || !strings.Contains(p.body, "<strong>print</strong>") {
			t.Fatalf("add permission: %d %s", p.status, p.body)
		} // A name taken already: refused on the type's page, the form as typed.
		if p := br.post("/admin/entity-types/"+typeID+"/permissions", url.Values{"csrf_token": {csrf}, "name": {"print"}, "description": {"Print again"}}); p.status != 400 ||
			!strings.Contains(p.body, `value="print" aria-invalid="true"`) || !strings.Contains(p.body, `value="Print again"`) || !strings.Contains(p.body, "Add permission") {
			t.Fatalf("a duplicate permission: %d %s", p.status, p.body)
		}

		// The secret is shown once, when the entity is made.
		created := br.post("/admin/entities", url.Values{"csrf_token": {csrf}, "name": {"Lobby printer"}, "typeId": {typeID}})
		sm := secretValue.FindStringSubmatch(created.body)
		if created.status != 200 || sm == nil || !strings.Contains(created.body, "The entity was created") {
			t.Fatalf("create entity: %d %s", created.status, created.body)
		}
		secret := sm[1]
		id := regexp.MustCompile(`/admin/entities/([0-9a-f-]{36})/rotate-secret`).FindStringSubmatch(created.body)[1]
		if p := br.get("/admin/entities/" + id); p.status != 200 || strings.Contains(p.body, secret) || !strings.Contains(p.body, "Lobby printer") {
			t.Fatalf("the entity page shows the secret again (or fails): %d", p.status)
		}
		stored := func() string {
			var out struct{ Entity struct{ ClientSecret string } }
			e.api("GET", "/api/entity/"+id, nil, 200).JSON(t, &out)
			return out.Entity.ClientSecret
		}
		if stored() != secret {
			t.Fatal("the shown secret is not the entity's")
		}
		// The client-credentials grant authenticates with it: without a
		// scope the grant is refused, but only after the client
		// authenticated (invalid_client for a wrong secret).
		machine := e.browser()
		authenticates := func(secret string) bool {
			p := machine.post("/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}})
			return p.status != 401 && !strings.Contains(p.body, "invalid_client")
		}
		if !authenticates(secret) || authenticates("wrong") {
			t.Fatal("the shown secret does not authenticate the entity")
		}
		rotated := br.post("/admin/entities/"+id+"/rotate-secret", url.Values{"csrf_token": {csrf}})
		rm := secretValue.FindStringSubmatch(rotated.body)
		if rotated.status != 200 || rm == nil || rm[1] == secret {
			t.Fatalf("rotate: %d", rotated.status)
		}
		if stored() != rm[1] || authenticates(secret) || !authenticates(rm[1]) {
			t.Fatal("the rotated secret shown is not the entity's, or the old one still works")
		}
		if list := br.get("/admin/entities?q=Lobby"); !strings.Contains(list.body, "Lobby printer") || strings.Contains(list.body, rm[1]) {
			t.Fatalf("list: %s", list.body)
		}

		// Deleting the type needs its name typed, and takes its entities.
		if p := br.post("/admin/entity-types/"+typeID+"/delete", url.Values{"csrf_token": {csrf}, "confirm": {"printer"}}); p.status != 400 {
			t.Fatalf("delete without the exact name: %d", p.status)
		}
		if p := br.post("/admin/entity-types/"+typeID+"/delete", url.Values{"csrf_token": {csrf}, "confirm": {"Printer"}}); p.status != 200 || p.url.Path != "/admin/entities" {
			t.Fatalf("delete type: %d at %s", p.status, p.url)
		}
		e.api("GET", "/api/entity/"+id, nil, 404)
		for _, want := range []string{"Created entity type", "Created entity", "Deleted entity type"} {
			if !e.auditedBy("machines@example.com", want) {
				t.Errorf("no audit entry by the admin containing %q", want)
			}
		}
	})
}

// TestEntityGrants: an entity_manager grants permissions on an entity to a
// user (by email) and to another entity, sees them listed, replaces one,
// and revokes; bad input names the problem and writes nothing.
func TestEntityGrants(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		e.admin("machines@example.com", "entity_manager")
		var typ struct{ EntityType struct{ ID string } }
		e.api("POST", "/api/entity/type", map[string]any{"entityType": map[string]any{"name": "Printer",
			"permissions": []any{map[string]any{"name": "print", "isDefault": true}, map[string]any{"name": "configure"}}}}, 200).JSON(t, &typ)
		mk := func(name string) string {
			var out struct{ Entity struct{ ID string } }
			e.api("POST", "/api/entity", map[string]any{"entity": map[string]any{"name": name, "type": map[string]any{"id": typ.EntityType.ID}}}, 200).JSON(t, &out)
			return out.Entity.ID
		}
		printer, scheduler := mk("Lobby printer"), mk("Scheduler")
		var user struct{ User struct{ ID string } }
		e.api("POST", "/api/user", map[string]any{"user": map[string]any{"email": "jane@example.com", "password": testPassword}}, 200).JSON(t, &user)
		grants := func() map[string][]string {
			var out struct {
				Grants []struct {
					UserID            string   `json:"userId"`
					RecipientEntityID string   `json:"recipientEntityId"`
					Permissions       []string `json:"permissions"`
				}
			}
			e.api("GET", "/api/entity/grant/search?entityId="+printer, nil, 200).JSON(t, &out)
			m := map[string][]string{}
			for _, g := range out.Grants {
				m[g.UserID+g.RecipientEntityID] = g.Permissions
			}
			return m
		}

		br := e.browser()
		br.signIn("machines@example.com", testPassword)
		page := br.get("/admin/entities/" + printer)
		if page.status != 200 || !strings.Contains(page.body, "No grants.") || !strings.Contains(page.body, `value="configure"`) {
			t.Fatalf("entity page: %d", page.status)
		}
		grant := "/admin/entities/" + printer + "/grants"
		for _, c := range []struct {
			name   string
			fields []string
			says   string
		}{
			{"nobody", nil, "Give a user"},
			{"unknown user", []string{"loginId", "nobody@example.com"}, "No user of the entity"},
			{"both", []string{"loginId", "jane@example.com", "recipientEntityId", scheduler}, "not both"},
			{"unknown permission", []string{"loginId", "jane@example.com", "permission", "fly"}, "no permission [fly]"},
		} {
			p := br.submit(page, grant, c.fields...)
			if p.status != 400 || !strings.Contains(p.body, c.says) {
				t.Errorf("%s: %d, want 400 saying %q", c.name, p.status, c.says)
			}
		}
		if g := grants(); len(g) != 0 {
			t.Fatalf("a refused grant was written: %v", g)
		}
		if p := br.submit(page, grant, "loginId", "jane@example.com", "permission", "configure"); p.status != 200 || !strings.Contains(p.body, "The grant was saved") ||
			!strings.Contains(p.body, "user jane@example.com") {
			t.Fatalf("grant to a user: %d %s", p.status, p.body)
		}
		if p := br.submit(page, grant, "recipientEntityId", scheduler); p.status != 200 || !strings.Contains(p.body, "entity Scheduler") {
			t.Fatalf("grant to an entity: %d", p.status)
		}
		g := grants()
		if strings.Join(g[user.User.ID], ",") != "configure" || strings.Join(g[scheduler], ",") != "print" {
			t.Fatalf("grants: %v", g)
		}
		// A second grant to the same user replaces the first.
		if p := br.post(grant, url.Values{"csrf_token": {page.csrf(t)}, "loginId": {"jane@example.com"}, "permission": {"configure", "print"}}); p.status != 200 {
			t.Fatalf("replace grant: %d", p.status)
		}
		if got := grants()[user.User.ID]; strings.Join(got, ",") != "configure,print" {
			t.Fatalf("replaced grant: %v", got)
		}
		// Each grant has its own revoke form; this one is the user's.
		revoke := url.Values{"csrf_token": {page.csrf(t)}, "userId": {user.User.ID}, "recipientEntityId": {""}}
		if p := br.post("/admin/entities/"+printer+"/grants/delete", revoke); p.status != 200 || !strings.Contains(p.body, "The grant was removed") {
			t.Fatalf("revoke: %d", p.status)
		}
		if g := grants(); len(g) != 1 || g[scheduler] == nil {
			t.Fatalf("after revoking: %v", g)
		}
		if p := br.post("/admin/entities/"+printer+"/grants/delete", revoke); p.status != 404 {
			t.Errorf("revoking a grant that is gone: %d", p.status)
		}
		for _, want := range []string{"Granted [configure] on entity [Lobby printer]", "Updated the grant of", "Removed the grant on entity [Lobby printer]"} {
			if !e.auditedBy("machines@example.com", want) {
				t.Errorf("no audit entry by the admin containing %q", want)
			}
		}
	})
}
