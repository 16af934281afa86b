package admin

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/latchid/latch/internal/access"
	"github.com/latchid/latch/internal/admin/pagekit"
	"github.com/latchid/latch/internal/model"
)

// The API keys page: every rule (no escalation, tenant and retrievability
// fixed at creation, the last-key guard) is access's, called with the admin
// as the caller; this file only turns forms into key requests and errors
// into words.

const keysPerPage = 50

type keyRow struct {
	*model.APIKey
	Description string
	Scope       string // tenant names, or "All tenants"
	Access      string // "All endpoints" or "N endpoints"
}

type keysData struct {
	Keys       []keyRow
	Total      int
	Prev, Next string
	Notice     string
}

func description(k *model.APIKey) string {
	if k.MetaData != nil {
		return k.MetaData.Attributes["description"]
	}
	return ""
}

func (a *Admin) aclOptions(r *http.Request) ([]pagekit.Option, error) {
	acls, _, err := a.Svc.Access.SearchIPACLs(r.Context(), access.IPACLSearch{NumberOfResults: 1000})
	if err != nil {
		return nil, err
	}
	var opts []pagekit.Option
	for _, l := range acls {
		opts = append(opts, pagekit.Option{Value: l.ID, Label: l.Name})
	}
	return opts, nil
}

func scopeOf(k *model.APIKey, names map[string]string) string {
	ts := k.Tenants()
	if ts == nil {
		return "All tenants"
	}
	var out []string
	for _, t := range ts {
		if n := names[t]; n != "" {
			out = append(out, n)
		} else {
			out = append(out, t)
		}
	}
	return strings.Join(out, ", ")
}

func accessOf(k *model.APIKey) string {
	if k.AllEndpoints() {
		return "All endpoints"
	}
	n := len(k.Permissions.Endpoints)
	if n == 1 {
		return "1 endpoint"
	}
	return strconv.Itoa(n) + " endpoints"
}

func (a *Admin) apiKeys(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	pg := pagekit.PageParam(r)
	keys, total, err := a.Svc.Access.SearchAPIKeys(r.Context(), access.AdminCaller(a.Actor(r, s)),
		access.APIKeySearch{StartRow: (pg - 1) * keysPerPage, NumberOfResults: keysPerPage}, "")
	if err != nil {
		a.Fail(w, r, s, "list api keys", err)
		return
	}
	_, names, ok := a.Tenants(w, r, s)
	if !ok {
		return
	}
	d := keysData{Total: total}
	switch q := r.URL.Query(); {
	case q.Get("deleted") != "":
		d.Notice = "The API key was deleted."
	case q.Get("updated") != "":
		d.Notice = "The API key was saved."
	}
	for _, k := range keys {
		d.Keys = append(d.Keys, keyRow{APIKey: k, Description: description(k), Scope: scopeOf(k, names), Access: accessOf(k)})
	}
	if pg > 1 {
		d.Prev = "/admin/api-keys?page=" + strconv.Itoa(pg-1)
	}
	if pg*keysPerPage < total {
		d.Next = "/admin/api-keys?page=" + strconv.Itoa(pg+1)
	}
	a.Render(w, r, s, http.StatusOK, "apikeys", "API keys", "api-keys", d)
}

// keyForm is the create and edit form, as entered.
type keyForm struct {
	ID          string // "" on create
	Name        string
	Description string
	TenantID    string
	ACLID       string
	Expires     string // YYYY-MM-DD, the key expires at its start (UTC)
	AllAccess   bool
	Perms       map[string]bool // "endpoint METHOD"
	Retrievable bool
	KeyManager  bool
	Force       bool
}

// keyFormPage is what the create and edit pages render.
type keyFormPage struct {
	Form     keyForm
	Key      *model.APIKey // the key being edited
	Scope    string
	Tenants  []pagekit.Option
	ACLs     []pagekit.Option
	Methods  []string
	Grid     []gridRow
	Errors   []string
	Guard    string // the last-key guard's refusal, in plain words
	Editable bool
}

type gridRow struct {
	Endpoint string
	Cells    []gridCell
}

type gridCell struct {
	Method, Value string
	Offered       bool
	Checked       bool
}

func grid(perms map[string]bool) []gridRow {
	methods := access.PermissionMethods()
	var rows []gridRow
	for _, ep := range access.PermissionEndpoints() {
		row := gridRow{Endpoint: ep.Endpoint}
		for _, m := range methods {
			v := ep.Endpoint + " " + m
			row.Cells = append(row.Cells, gridCell{Method: m, Value: v, Offered: slices.Contains(ep.Methods, m), Checked: perms[v]})
		}
		rows = append(rows, row)
	}
	return rows
}

func (a *Admin) keyFormPage(r *http.Request, f keyForm) (*keyFormPage, error) {
	tenants, _, err := a.TenantOptions(r)
	if err != nil {
		return nil, err
	}
	acls, err := a.aclOptions(r)
	if err != nil {
		return nil, err
	}
	return &keyFormPage{Form: f, Tenants: tenants, ACLs: acls, Methods: access.PermissionMethods(), Grid: grid(f.Perms), Editable: true}, nil
}

func (a *Admin) newAPIKey(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	p, err := a.keyFormPage(r, keyForm{Perms: map[string]bool{}})
	if err != nil {
		a.Fail(w, r, s, "api key form", err)
		return
	}
	a.Render(w, r, s, http.StatusOK, "apikey_form", "New API key", "api-keys", p, "admin.js")
}

// readKeyForm reads the posted form.
func readKeyForm(r *http.Request) keyForm {
	f := keyForm{
		Name:        strings.TrimSpace(r.PostForm.Get("name")),
		Description: strings.TrimSpace(r.PostForm.Get("description")),
		TenantID:    r.PostForm.Get("tenantId"),
		ACLID:       r.PostForm.Get("ipAccessControlListId"),
		Expires:     strings.TrimSpace(r.PostForm.Get("expires")),
		AllAccess:   r.PostForm.Get("access") == "all",
		Retrievable: r.PostForm.Get("retrievable") == "on",
		KeyManager:  r.PostForm.Get("keyManager") == "on",
		Force:       r.PostForm.Get("force") == "on",
		Perms:       map[string]bool{},
	}
	for _, v := range r.PostForm["perm"] {
		f.Perms[v] = true
	}
	return f
}

// request turns the form into the key API's request; problems the form
// itself shows (a bad date, no endpoint chosen) come back as messages.
func (f keyForm) request(now time.Time, create bool) (access.APIKeyRequest, []string) {
	var msgs []string
	k := map[string]any{"name": f.Name, "keyManager": f.KeyManager}
	if f.Description != "" {
		k["metaData"] = map[string]any{"attributes": map[string]string{"description": f.Description}}
	}
	if f.ACLID != "" {
		k["ipAccessControlListId"] = f.ACLID
	}
	if f.Expires != "" {
		t, err := time.Parse("2006-01-02", f.Expires)
		switch {
		case err != nil:
			msgs = append(msgs, "The expiry date must be a date such as 2030-01-31.")
		case !t.After(now):
			msgs = append(msgs, "The expiry date must be in the future.")
		default:
			k["expirationInstant"] = t.UnixMilli()
		}
	}
	endpoints := map[string][]string{}
	if !f.AllAccess {
		for v := range f.Perms {
			ep, m, ok := strings.Cut(v, " ")
			if ok {
				endpoints[ep] = append(endpoints[ep], m)
			}
		}
		if len(endpoints) == 0 {
			msgs = append(msgs, "Choose at least one endpoint and method in the grid, or give the key access to every endpoint.")
		}
	}
	k["permissions"] = map[string]any{"endpoints": endpoints}
	if create {
		if f.TenantID != "" {
			k["tenantId"] = f.TenantID
		}
		k["retrievable"] = f.Retrievable
	}
	raw, _ := json.Marshal(k)
	return access.APIKeyRequest{APIKey: raw, AllowAllEndpoints: f.AllAccess}, msgs
}

// createdKey is the page that shows a new key's value, once.
type createdKey struct {
	Key   *model.APIKey
	Value string
}

func (a *Admin) createAPIKey(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	f := readKeyForm(r)
	req, msgs := f.request(a.Now(), true)
	if f.KeyManager && !a.requireReauth(w, r, s, "/admin/api-keys/new", "Creating a key-manager key") {
		return
	}
	var key *model.APIKey
	if len(msgs) == 0 {
		var err error
		key, err = a.Svc.Access.CreateAPIKey(r.Context(), access.AdminCaller(a.Actor(r, s)), "", req)
		if err != nil {
			var ok bool
			if msgs, ok = a.Refusal(w, r, s, "create api key", err); !ok {
				return
			}
		}
	}
	if len(msgs) > 0 {
		p, err := a.keyFormPage(r, f)
		if err != nil {
			a.Fail(w, r, s, "api key form", err)
			return
		}
		p.Errors = msgs
		a.Render(w, r, s, http.StatusBadRequest, "apikey_form", "New API key", "api-keys", p, "admin.js")
		return
	}
	value := key.Key
	key.Key = ""
	a.Render(w, r, s, http.StatusOK, "apikey_created", "API key created", "api-keys", createdKey{Key: key, Value: value}, "copy.js")
}

// loadKey reads a key for the edit page; nil (after a 404 page) when gone.
func (a *Admin) loadKey(w http.ResponseWriter, r *http.Request, s *pagekit.Session) *model.APIKey {
	k, err := a.Svc.Access.RetrieveAPIKey(r.Context(), access.AdminCaller(a.Actor(r, s)), r.PathValue("id"))
	if !a.Loaded(w, r, s, "API key", err) {
		return nil
	}
	k.Key = "" // never shown here: a retrievable key's value is available over the API only
	return k
}

func formOf(k *model.APIKey) keyForm {
	f := keyForm{ID: k.ID, Name: k.Name, Description: description(k), TenantID: k.TenantID, ACLID: k.IPAccessControlListID,
		AllAccess: k.AllEndpoints(), Retrievable: k.Retrievable, KeyManager: k.KeyManager, Perms: map[string]bool{}}
	if k.ExpirationInstant != nil {
		f.Expires = time.UnixMilli(*k.ExpirationInstant).UTC().Format("2006-01-02")
	}
	for ep, ms := range k.Permissions.Endpoints {
		for _, m := range ms {
			f.Perms[ep+" "+m] = true
		}
	}
	return f
}

func (a *Admin) editPage(w http.ResponseWriter, r *http.Request, s *pagekit.Session, status int, k *model.APIKey, f keyForm, msgs []string, guard string) {
	p, err := a.keyFormPage(r, f)
	if err != nil {
		a.Fail(w, r, s, "api key form", err)
		return
	}
	_, names, ok := a.Tenants(w, r, s)
	if !ok {
		return
	}
	p.Key, p.Scope, p.Errors, p.Guard = k, scopeOf(k, names), msgs, guard
	a.Render(w, r, s, status, "apikey_form", "API key "+k.Name, "api-keys", p, "admin.js")
}

func (a *Admin) editAPIKey(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	if k := a.loadKey(w, r, s); k != nil {
		a.editPage(w, r, s, http.StatusOK, k, formOf(k), nil, "")
	}
}

func (a *Admin) updateAPIKey(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	k := a.loadKey(w, r, s)
	if k == nil {
		return
	}
	f := readKeyForm(r)
	f.ID = k.ID
	if f.KeyManager && !k.KeyManager && !a.requireReauth(w, r, s, "/admin/api-keys/"+k.ID, "Making a key a key-manager key") {
		return
	}
	if f.Force && !a.requireReauth(w, r, s, "/admin/api-keys/"+k.ID, "Going past the last-key guard") {
		return
	}
	req, msgs := f.request(a.Now(), false)
	guard := ""
	if len(msgs) == 0 {
		_, err := a.Svc.Access.UpdateAPIKey(r.Context(), access.AdminCaller(a.Actor(r, s)), k.ID, req, access.KeyChangeOptions{Force: f.Force})
		if err != nil {
			var ok bool
			if msgs, guard, ok = pagekit.ErrorMessages(err); !ok {
				a.Fail(w, r, s, "update api key", err)
				return
			}
		}
	}
	if len(msgs) > 0 || guard != "" {
		f.Force = false
		a.editPage(w, r, s, http.StatusBadRequest, k, f, msgs, guard)
		return
	}
	http.Redirect(w, r, "/admin/api-keys?updated="+k.ID, http.StatusSeeOther)
}

// deleteData is the confirmation page of a delete the last-key guard refused.
type deleteData struct {
	Key   *model.APIKey
	Guard string
}

func (a *Admin) deleteAPIKey(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	k := a.loadKey(w, r, s)
	if k == nil {
		return
	}
	force := r.PostForm.Get("force") == "on"
	if force && !a.requireReauth(w, r, s, "/admin/api-keys/"+k.ID, "Going past the last-key guard") {
		return
	}
	err := a.Svc.Access.DeleteAPIKey(r.Context(), access.AdminCaller(a.Actor(r, s)), k.ID, access.KeyChangeOptions{Force: force})
	if err != nil {
		msgs, guard, ok := pagekit.ErrorMessages(err)
		if !ok {
			a.Fail(w, r, s, "delete api key", err)
			return
		}
		if guard == "" && len(msgs) > 0 {
			guard = strings.Join(msgs, " ")
		}
		a.Render(w, r, s, http.StatusConflict, "apikey_delete", "Delete API key", "api-keys", deleteData{Key: k, Guard: guard})
		return
	}
	http.Redirect(w, r, "/admin/api-keys?deleted="+k.ID, http.StatusSeeOther)
}
