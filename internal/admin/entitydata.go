package admin

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/latchid/latch/internal/admin/pagekit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
)

// An entity's data (entity.data, a free JSON object), edited as JSON text.
// The page checks that the text is one JSON object; the entities rules save
// it as a JSON Patch of PATCH /api/entity/{id}, replacing the whole object,
// with the same audit entry.

// entityDataText is the entity's data as indented JSON ("{}" for none).
func entityDataText(o kit.Object) string {
	data, _ := plain(o, "entity")["data"].(kit.Object)
	if data == nil {
		data = kit.Object{}
	}
	text, err := json.MarshalIndent(data, "", "  ")
	if err != nil {
		return "{}"
	}
	return string(text)
}

// parseEntityData reads the textarea: one JSON object, or the reason it is
// not, in words for the page.
func parseEntityData(text string) (kit.Object, string) {
	if strings.TrimSpace(text) == "" {
		return nil, "Data: enter a JSON object ({} for no data)."
	}
	v, err := model.DecodeJSONValue([]byte(text))
	if err != nil {
		return nil, "Data is not valid JSON: " + err.Error() + "."
	}
	o, ok := v.(kit.Object)
	if !ok {
		return nil, "Data must be a JSON object, between { and }."
	}
	return o, ""
}

// saveEntityData replaces the entity's data with the object entered; text
// that is not one JSON object is refused on the page, as entered, and
// nothing is written.
func (a *Admin) saveEntityData(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	id, text := r.PathValue("id"), r.PostForm.Get("data")
	data, problem := parseEntityData(text)
	if problem != "" {
		a.showEntity(w, r, s, id, entityPage{Data: text, DataInvalid: true, Errors: []string{problem}})
		return
	}
	patch, err := json.Marshal([]kit.Object{{"op": "add", "path": "/entity/data", "value": data}})
	if err == nil {
		_, err = a.Svc.Entities.PatchEntity(r.Context(), a.Actor(r, s), kit.TenantScope{}, id, model.PatchJSON, patch)
	}
	if msgs, _, ok := pagekit.ErrorMessages(err); ok {
		a.showEntity(w, r, s, id, entityPage{Data: text, DataInvalid: true, Errors: msgs})
		return
	}
	if err != nil {
		a.entityFailed(w, r, s, "save entity data", err)
		return
	}
	http.Redirect(w, r, "/admin/entities/"+id+"?done=data", http.StatusSeeOther)
}
