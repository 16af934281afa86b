package admin

import (
	"cmp"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/latchid/latch/internal/admin/pagekit"
	"github.com/latchid/latch/internal/groups"
	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
)

// The groups pages: list, create, a group's name and application roles,
// its members (added by email, removed), delete; through groups' rules (as
// /api/group and /api/group/member) with the admin as the actor. Members
// inherit a group's roles, the admin application's included, so a group
// holding an admin-application role (before or after the change) is
// changed only with pagekit.ManageAdmins, and changing its admin roles needs a
// recent password, as for a user's.

type groupView struct {
	ID, Name, TenantID, Tenant string
	RoleIDs                    []string
	RoleNames                  []string
	AdminRoles                 bool // holds a role of the admin application
}

func viewGroup(g *model.Group, tenants map[string]string) groupView {
	v := groupView{ID: g.ID, Name: g.Name, TenantID: g.TenantID}
	v.Tenant = tenants[v.TenantID]
	apps := slices.Sorted(maps.Keys(g.Roles))
	for _, app := range apps {
		for _, r := range g.Roles[app] {
			v.RoleIDs = append(v.RoleIDs, r.ID)
			v.RoleNames = append(v.RoleNames, r.Name)
			v.AdminRoles = v.AdminRoles || app == model.AdminApplicationID
		}
	}
	return v
}

func (a *Admin) groups(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	list, err := a.Svc.Groups.Groups(r.Context(), kit.TenantScope{})
	if err != nil {
		a.Fail(w, r, s, "list groups", err)
		return
	}
	_, tenants, ok := a.Tenants(w, r, s)
	if !ok {
		return
	}
	var rows []groupView
	for i := range list {
		rows = append(rows, viewGroup(&list[i], tenants))
	}
	a.Render(w, r, s, http.StatusOK, "groups", "Groups", "groups", struct {
		Groups    []groupView
		CanManage bool
	}{rows, pagekit.Allowed(s.Roles, pagekit.ManageGroups)})
}

type newGroupPage struct {
	Name, TenantID string
	Tenants        []pagekit.Option
	Errors         []string
}

func (a *Admin) newGroupForm(w http.ResponseWriter, r *http.Request, s *pagekit.Session, status int, p newGroupPage) {
	var ok bool
	if p.Tenants, _, ok = a.Tenants(w, r, s); !ok {
		return
	}
	a.Render(w, r, s, status, "group_new", "New group", "groups", p)
}

func (a *Admin) newGroup(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	a.newGroupForm(w, r, s, http.StatusOK, newGroupPage{})
}

func (a *Admin) createGroup(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	p := newGroupPage{Name: strings.TrimSpace(r.PostForm.Get("name")), TenantID: r.PostForm.Get("tenantId")}
	req := &groups.GroupRequest{Group: model.Group{Name: p.Name, TenantID: p.TenantID}}
	o, err := a.Svc.Groups.CreateGroup(r.Context(), a.Actor(r, s), kit.TenantScope{}, "", req)
	if err != nil {
		msgs, ok := a.Refusal(w, r, s, "create group", err)
		if !ok {
			return
		}
		p.Errors = msgs
		a.newGroupForm(w, r, s, http.StatusBadRequest, p)
		return
	}
	http.Redirect(w, r, "/admin/groups/"+viewGroup(o, nil).ID+"?done=created", http.StatusSeeOther)
}

// appRoles is one application's roles, as checkboxes of a group's form.
type appRoles struct {
	ID, Name string
	Roles    []groupRoleOption
	Admin    bool
}

type groupRoleOption struct {
	ID, Name string
	Checked  bool
}

type memberView struct{ UserID, Label string }

type groupPage struct {
	Group                groupView
	Apps                 []appRoles
	Members              []memberView
	CanManage, CanDelete bool
	// CanChange: this admin may change the group's roles and members (a
	// group holding admin roles needs pagekit.ManageAdmins).
	CanChange bool
	Notice    string
	Errors    []string
	// LoginID is the member asked for when adding them failed, kept in
	// the field to correct.
	LoginID string
}

func (a *Admin) loadGroup(w http.ResponseWriter, r *http.Request, s *pagekit.Session) (groupView, bool) {
	o, err := a.Svc.Groups.Group(r.Context(), kit.TenantScope{}, r.PathValue("id"))
	if !a.Loaded(w, r, s, "group", err) {
		return groupView{}, false
	}
	_, tenants, ok := a.Tenants(w, r, s)
	if !ok {
		return groupView{}, false
	}
	return viewGroup(o, tenants), true
}

func (a *Admin) showGroup(w http.ResponseWriter, r *http.Request, s *pagekit.Session, status int, g groupView, notice string, errs []string) {
	p := groupPage{Group: g, CanManage: pagekit.Allowed(s.Roles, pagekit.ManageGroups), CanDelete: pagekit.Allowed(s.Roles, pagekit.DeleteGroups), Notice: notice, Errors: errs}
	if len(errs) > 0 {
		p.LoginID = strings.TrimSpace(r.PostForm.Get("loginId"))
	}
	p.CanChange = p.CanManage && (!g.AdminRoles || pagekit.Allowed(s.Roles, pagekit.ManageAdmins))
	apps, err := a.AllApplications(r)
	if err != nil {
		a.Fail(w, r, s, "list applications", err)
		return
	}
	for _, o := range apps {
		v := pagekit.ViewApp(o, nil)
		if v.TenantID != g.TenantID || len(v.Roles) == 0 {
			continue
		}
		ar := appRoles{ID: v.ID, Name: v.Name, Admin: v.Builtin}
		for _, rv := range v.Roles {
			ar.Roles = append(ar.Roles, groupRoleOption{ID: rv.ID, Name: rv.Name, Checked: slices.Contains(g.RoleIDs, rv.ID)})
		}
		// Only admins are offered the admin application's roles.
		if !ar.Admin || pagekit.Allowed(s.Roles, pagekit.ManageAdmins) {
			p.Apps = append(p.Apps, ar)
		}
	}
	members, _, err := a.Svc.Groups.SearchGroupMembers(r.Context(), kit.TenantScope{}, groups.MemberSearch{GroupID: g.ID, NumberOfResults: 500})
	if err != nil {
		a.Fail(w, r, s, "group members", err)
		return
	}
	for _, m := range members {
		uid := m.UserID
		label := uid
		if u, err := a.Svc.Identity.User(r.Context(), kit.TenantScope{}, uid); err == nil {
			label = cmp.Or(u.Email, u.Username, uid)
		}
		p.Members = append(p.Members, memberView{UserID: uid, Label: label})
	}
	a.Render(w, r, s, status, "group", "Group "+g.Name, "groups", p)
}

func (a *Admin) group(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	if g, ok := a.loadGroup(w, r, s); ok {
		notice := map[string]string{"created": "The group was created.", "saved": "The group was saved.",
			"added": "The member was added.", "removed": "The member was removed."}[r.URL.Query().Get("done")]
		a.showGroup(w, r, s, http.StatusOK, g, notice, nil)
	}
}

// mayChangeGroup refuses (403) changes to a group that holds, or would
// hold, an admin-application role unless the admin may manage admins.
func (a *Admin) mayChangeGroup(w http.ResponseWriter, r *http.Request, s *pagekit.Session, adminRoles bool) bool {
	if adminRoles && !pagekit.Allowed(s.Roles, pagekit.ManageAdmins) {
		a.Message(w, r, s, http.StatusForbidden, "Not allowed",
			"This group holds roles of the admin application: only an admin with the admin role may change its roles or members.")
		return false
	}
	return true
}

// saveGroup replaces the group's name and roles (the checked role ids).
func (a *Admin) saveGroup(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	g, ok := a.loadGroup(w, r, s)
	if !ok {
		return
	}
	roleIDs := r.PostForm["roleId"]
	adminRole := map[string]bool{}
	if app, err := a.Svc.Tenancy.Application(r.Context(), kit.TenantScope{}, model.AdminApplicationID); err == nil {
		for _, rv := range pagekit.ViewApp(app, nil).Roles {
			adminRole[rv.ID] = true
		}
	}
	changesAdmin := false
	for _, id := range roleIDs {
		changesAdmin = changesAdmin || (adminRole[id] && !slices.Contains(g.RoleIDs, id))
	}
	for _, id := range g.RoleIDs {
		changesAdmin = changesAdmin || (adminRole[id] && !slices.Contains(roleIDs, id))
	}
	if !a.mayChangeGroup(w, r, s, g.AdminRoles || changesAdmin) {
		return
	}
	if changesAdmin && !a.requireReauth(w, r, s, "/admin/groups/"+g.ID, "Changing a group's admin roles") {
		return
	}
	req := &groups.GroupRequest{Group: model.Group{Name: strings.TrimSpace(r.PostForm.Get("name")), TenantID: g.TenantID},
		RoleIDs: append([]string{}, roleIDs...)}
	if _, err := a.Svc.Groups.UpdateGroup(r.Context(), a.Actor(r, s), kit.TenantScope{}, g.ID, req); err != nil {
		a.groupFailed(w, r, s, g, "update group", err)
		return
	}
	http.Redirect(w, r, "/admin/groups/"+g.ID+"?done=saved", http.StatusSeeOther)
}

func (a *Admin) groupFailed(w http.ResponseWriter, r *http.Request, s *pagekit.Session, g groupView, what string, err error) {
	msgs, _, ok := pagekit.ErrorMessages(err)
	if errors.Is(err, model.ErrNotFound) {
		msgs, ok = []string{"No such user in the group's tenant."}, true
	}
	if !ok {
		a.Fail(w, r, s, what, err)
		return
	}
	a.showGroup(w, r, s, http.StatusBadRequest, g, "", msgs)
}

// addMember adds the user with the given email (or username) to the group.
func (a *Admin) addMember(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	g, ok := a.loadGroup(w, r, s)
	if !ok || !a.mayChangeGroup(w, r, s, g.AdminRoles) {
		return
	}
	u, err := a.Svc.Identity.UserBy(r.Context(), kit.TenantScope{Tenants: []string{g.TenantID}}, identity.LookupLoginID,
		strings.TrimSpace(r.PostForm.Get("loginId")))
	if err != nil {
		a.groupFailed(w, r, s, g, "find member", err)
		return
	}
	req := &groups.MemberRequest{Members: map[string][]groups.MemberEntry{g.ID: {{UserID: u.ID}}}}
	if _, err := a.Svc.Groups.AddGroupMembers(r.Context(), a.Actor(r, s), kit.TenantScope{}, req); err != nil {
		a.groupFailed(w, r, s, g, "add member", err)
		return
	}
	http.Redirect(w, r, "/admin/groups/"+g.ID+"?done=added", http.StatusSeeOther)
}

func (a *Admin) removeMember(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	g, ok := a.loadGroup(w, r, s)
	if !ok || !a.mayChangeGroup(w, r, s, g.AdminRoles) {
		return
	}
	if err := a.Svc.Groups.RemoveGroupMember(r.Context(), a.Actor(r, s), kit.TenantScope{}, g.ID, r.PathValue("userId")); err != nil {
		a.groupFailed(w, r, s, g, "remove member", err)
		return
	}
	http.Redirect(w, r, "/admin/groups/"+g.ID+"?done=removed", http.StatusSeeOther)
}

func (a *Admin) deleteGroup(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	g, ok := a.loadGroup(w, r, s)
	if !ok {
		return
	}
	if err := a.Svc.Groups.DeleteGroup(r.Context(), a.Actor(r, s), kit.TenantScope{}, g.ID); err != nil {
		a.groupFailed(w, r, s, g, "delete group", err)
		return
	}
	http.Redirect(w, r, "/admin/groups", http.StatusSeeOther)
}
