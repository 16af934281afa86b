package admin_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/testutil"
)

// TestEntityData: an entity_manager sees and edits an entity's data as JSON
// text; text that is not one JSON object is refused on the page, as
// entered, and nothing is written; a save replaces the object through the
// entities rules with the same audit entry as PATCH /api/entity/{id}. A
// role without entities is refused.
func TestEntityData(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		e := start(t, b)
		e.admin("machines@example.com", "entity_manager")
		e.admin("users@example.com", "user_manager")
		var typ struct{ EntityType struct{ ID string } }
		e.api("POST", "/api/entity/type", map[string]any{"entityType": map[string]any{"name": "Printer"}}, 200).JSON(t, &typ)
		var ent struct {
			Entity struct{ ID, ClientSecret string }
		}
		e.api("POST", "/api/entity", map[string]any{"entity": map[string]any{"name": "Lobby printer", "type": map[string]any{"id": typ.EntityType.ID},
			"data": map[string]any{"site": "lobby", "floors": []int{1, 2}}}}, 200).JSON(t, &ent)
		id := ent.Entity.ID
		raw := func() string { return string(e.api("GET", "/api/entity/"+id, nil, 200).Body) }
		data := func() (out struct {
			Entity struct {
				ClientSecret string
				Data         map[string]json.RawMessage
			}
		}) {
			if err := json.Unmarshal([]byte(raw()), &out); err != nil {
				t.Fatal(err)
			}
			return out
		}

		br := e.browser()
		csrf := br.signIn("machines@example.com", testPassword).csrf(t)
		path := "/admin/entities/" + id
		page := br.get(path)
		if page.status != 200 || !strings.Contains(page.body, `<textarea id="entity-data" name="data"`) || !strings.Contains(page.body, "&#34;site&#34;: &#34;lobby&#34;") {
			t.Fatalf("the entity page does not show the data: %d", page.status)
		}
		for _, c := range []struct{ name, text, says string }{
			{"not JSON", `{"site": `, "Data is not valid JSON"},
			{"two values", `{} {}`, "Data is not valid JSON"},
			{"an array", `[1, 2]`, "Data must be a JSON object"},
			{"a string", `"lobby"`, "Data must be a JSON object"},
			{"null", `null`, "Data must be a JSON object"},
			{"blank", `  `, "enter a JSON object"},
		} {
			before := raw()
			p := br.post(path+"/data", url.Values{"csrf_token": {csrf}, "data": {c.text}})
			if p.status != 400 || !strings.Contains(p.body, "Nothing was changed") || !strings.Contains(p.body, c.says) || !strings.Contains(p.body, `aria-invalid="true"`) {
				t.Errorf("%s: %d, want 400 saying %q with the field marked", c.name, p.status, c.says)
			}
			if c.name == "not JSON" && !strings.Contains(p.body, "{&#34;site&#34;: </textarea>") {
				t.Errorf("%s: the text entered is not kept", c.name)
			}
			if raw() != before {
				t.Errorf("%s: a refused change was written", c.name)
			}
		}

		// A save replaces the whole object (a member left out is removed),
		// numbers exactly as written; the secret stays.
		p := br.post(path+"/data", url.Values{"csrf_token": {csrf}, "data": {`{"site": "hall", "serial": 12345678901234567890, "tags": {"colour": true}}`}})
		if p.status != 200 || p.url.Path != path || !strings.Contains(p.body, "The data was saved") || !strings.Contains(p.body, "&#34;hall&#34;") {
			t.Fatalf("save: %d at %s", p.status, p.url)
		}
		got := data().Entity
		if len(got.Data) != 3 || string(got.Data["site"]) != `"hall"` || string(got.Data["serial"]) != "12345678901234567890" || got.Data["floors"] != nil {
			t.Fatalf("stored data: %v", got.Data)
		}
		if got.ClientSecret != ent.Entity.ClientSecret {
			t.Error("saving the data changed the client secret")
		}
		if !e.auditedBy("machines@example.com", "Updated entity [Lobby printer] ("+id+")") {
			t.Error("the save is not audited as an entity update with the admin as actor")
		}
		if p := br.post(path+"/data", url.Values{"csrf_token": {csrf}, "data": {"{}"}}); p.status != 200 || len(data().Entity.Data) != 0 {
			t.Fatalf("emptying the data: %d %v", p.status, data().Entity.Data)
		}
		if p := br.post("/admin/entities/00000000-0000-4000-8000-0000000000ff/data", url.Values{"csrf_token": {csrf}, "data": {"{}"}}); p.status != 404 {
			t.Errorf("data of a missing entity: %d", p.status)
		}

		// A role without entities is refused, and nothing changes.
		ub := e.browser()
		ucsrf := ub.signIn("users@example.com", testPassword).csrf(t)
		before := raw()
		if p := ub.post(path+"/data", url.Values{"csrf_token": {ucsrf}, "data": {`{"taken": true}`}}); p.status != 403 {
			t.Errorf("a user_manager saving entity data: %d", p.status)
		}
		if raw() != before {
			t.Error("a refused save was written")
		}
	})
}
