package admin

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/latchid/latch/internal/access"
	"github.com/latchid/latch/internal/admin/pagekit"
	"github.com/latchid/latch/internal/model"
)

// The IP access-control lists pages: list, create, edit, delete, through
// access's rules (the same validation and audit entries as /api/ip-acl).
// Entries are edited as lines: "Allow *", "Block 192.0.2.1 192.0.2.255".

type aclPage struct {
	List      *model.IPAccessControlList // nil on create
	Name      string
	Entries   string
	Errors    []string
	CanManage bool
	CanDelete bool
	Notice    string
}

func entriesText(l *model.IPAccessControlList) string {
	var b strings.Builder
	for _, e := range l.Entries {
		b.WriteString(e.Action + " " + e.StartIPAddress)
		if e.EndIPAddress != "" {
			b.WriteString(" " + e.EndIPAddress)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// parseEntries reads the entry lines; the rules check addresses and ranges.
func parseEntries(text string) ([]model.IPAccessControlEntry, []string) {
	var out []model.IPAccessControlEntry
	var msgs []string
	for i, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
			continue
		case len(f) > 3:
			msgs = append(msgs, fmt.Sprintf("Line %d: write an action and one address or a range, such as \"Block 192.0.2.1 192.0.2.255\".", i+1))
			continue
		}
		e := model.IPAccessControlEntry{Action: f[0]}
		if len(f) > 1 {
			e.StartIPAddress = f[1]
		}
		if len(f) > 2 {
			e.EndIPAddress = f[2]
		}
		out = append(out, e)
	}
	return out, msgs
}

func (a *Admin) ipACLs(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	lists, _, err := a.Svc.Access.SearchIPACLs(r.Context(), access.IPACLSearch{NumberOfResults: 1000})
	if err != nil {
		a.Fail(w, r, s, "list ip acls", err)
		return
	}
	a.Render(w, r, s, http.StatusOK, "ipacls", "IP access control lists", "ip-acls", struct {
		Lists     []*model.IPAccessControlList
		CanManage bool
	}{lists, pagekit.Allowed(s.Roles, pagekit.ManageIPACLs)})
}

func (a *Admin) aclForm(w http.ResponseWriter, r *http.Request, s *pagekit.Session, status int, p aclPage) {
	p.CanManage, p.CanDelete = pagekit.Allowed(s.Roles, pagekit.ManageIPACLs), pagekit.Allowed(s.Roles, pagekit.DeleteIPACLs)
	title := "New IP access control list"
	if p.List != nil {
		title = "IP access control list " + p.List.Name
	}
	a.Render(w, r, s, status, "ipacl", title, "ip-acls", p)
}

func (a *Admin) newIPACL(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	a.aclForm(w, r, s, http.StatusOK, aclPage{Entries: "Allow *\n"})
}

func (a *Admin) loadIPACL(w http.ResponseWriter, r *http.Request, s *pagekit.Session) *model.IPAccessControlList {
	l, err := a.Svc.Access.IPACL(r.Context(), r.PathValue("id"))
	if !a.Loaded(w, r, s, "IP access control list", err) {
		return nil
	}
	return l
}

func (a *Admin) ipACL(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	if l := a.loadIPACL(w, r, s); l != nil {
		notice := map[string]string{"saved": "The list was saved."}[r.URL.Query().Get("done")]
		a.aclForm(w, r, s, http.StatusOK, aclPage{List: l, Name: l.Name, Entries: entriesText(l), Notice: notice})
	}
}

// saveIPACL creates (no id in the path) or replaces a list.
func (a *Admin) saveIPACL(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	var cur *model.IPAccessControlList
	if r.PathValue("id") != "" {
		if cur = a.loadIPACL(w, r, s); cur == nil {
			return
		}
	}
	p := aclPage{List: cur, Name: strings.TrimSpace(r.PostForm.Get("name")), Entries: r.PostForm.Get("entries")}
	entries, msgs := parseEntries(p.Entries)
	var saved *model.IPAccessControlList
	if len(msgs) == 0 {
		in := &model.IPAccessControlList{Name: p.Name, Entries: entries}
		var err error
		if cur == nil {
			saved, err = a.Svc.Access.CreateIPACL(r.Context(), a.Actor(r, s), "", in)
		} else {
			saved, err = a.Svc.Access.UpdateIPACL(r.Context(), a.Actor(r, s), cur.ID, in)
		}
		if err != nil {
			var ok bool
			if msgs, ok = a.Refusal(w, r, s, "save ip acl", err); !ok {
				return
			}
		}
	}
	if len(msgs) > 0 {
		p.Errors = msgs
		a.aclForm(w, r, s, http.StatusBadRequest, p)
		return
	}
	http.Redirect(w, r, "/admin/ip-acls/"+saved.ID+"?done=saved", http.StatusSeeOther)
}

func (a *Admin) deleteIPACL(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	l := a.loadIPACL(w, r, s)
	if l == nil {
		return
	}
	if err := a.Svc.Access.DeleteIPACL(r.Context(), a.Actor(r, s), l.ID); err != nil {
		msgs, ok := a.Refusal(w, r, s, "delete ip acl", err)
		if !ok {
			return
		}
		a.aclForm(w, r, s, http.StatusBadRequest, aclPage{List: l, Name: l.Name, Entries: entriesText(l), Errors: msgs})
		return
	}
	http.Redirect(w, r, "/admin/ip-acls", http.StatusSeeOther)
}
