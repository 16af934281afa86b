package admin

import (
	"cmp"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/latchid/latch/internal/admin/pagekit"
	"github.com/latchid/latch/internal/audit"
	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
	"github.com/latchid/latch/internal/store"
	"github.com/latchid/latch/internal/tokens"
)

// The users pages: search (the user search API's query string syntax),
// a user's page, create, deactivate and reactivate, require a password
// change, end sessions, delete with a typed confirmation. Each action calls
// identity or tokens, as the API does, with the admin as the actor.

const usersPerPage = 25

// userView is a user as the pages show it, read from the API's user object.
type userView struct {
	ID, Email, Username, Name, TenantID string
	Active, Verified, ChangeRequired    bool
	LastLogin, Inserted                 int64
	Registrations                       []registrationView
	Groups                              []string
	TwoFactor                           []twoFactorView
	FirstName, LastName                 string
}

type twoFactorView struct{ ID, Method, Detail string }

type registrationView struct {
	ApplicationID, Application string
	Roles                      []string
	// Options are the application's roles, for the roles form; CanEdit
	// says whether this admin may change them.
	Options []roleOption
	CanEdit bool
}

type roleOption struct {
	Name    string
	Checked bool
}

// isAdministrator reports whether the user is registered to the admin
// application: their profile and admin roles are changed by admins only.
func (u userView) isAdministrator() bool {
	for _, r := range u.Registrations {
		if r.ApplicationID == model.AdminApplicationID {
			return true
		}
	}
	return false
}

func viewUser(o *model.User, appNames map[string]string) userView {
	u := userView{ID: o.ID, Email: o.Email, Username: o.Username, TenantID: o.TenantID, Inserted: o.InsertInstant,
		Active: o.Active, Verified: o.Verified, ChangeRequired: o.PasswordChangeRequired,
		FirstName: o.FirstName, LastName: o.LastName,
		Name: cmp.Or(o.FullName, strings.TrimSpace(o.FirstName+" "+o.LastName))}
	if o.LastLoginInstant != nil {
		u.LastLogin = *o.LastLoginInstant
	}
	for _, r := range o.Registrations {
		u.Registrations = append(u.Registrations, registrationView{ApplicationID: r.ApplicationID,
			Application: cmp.Or(appNames[r.ApplicationID], r.ApplicationID), Roles: r.Roles})
	}
	for _, g := range o.Memberships {
		u.Groups = append(u.Groups, g.GroupID)
	}
	u.TwoFactor = twoFactorMethods(o)
	return u
}

// twoFactorMethods are the user's two-factor methods. They ride in the
// user's raw bag: read from its document tree, typed.
func twoFactorMethods(o *model.User) []twoFactorView {
	t, err := o.Tree()
	if err != nil {
		return nil
	}
	tf, err := model.TwoFactorOf(t)
	if err != nil {
		return nil
	}
	var out []twoFactorView
	for _, m := range tf.Methods {
		out = append(out, twoFactorView{ID: m.ID, Method: m.Method, Detail: cmp.Or(m.Email, m.MobilePhone)})
	}
	return out
}

func (a *Admin) appNames(r *http.Request) map[string]string {
	names := map[string]string{}
	apps, err := a.AllApplications(r)
	if err != nil {
		return names
	}
	for _, app := range apps {
		names[app.ID] = app.Name
	}
	return names
}

type usersData struct {
	Query      string
	Users      []userView
	Total      int
	Error      string
	Prev, Next string
	CanManage  bool
	Notice     string
}

func (a *Admin) users(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	pg := pagekit.PageParam(r)
	d := usersData{Query: q, CanManage: pagekit.Allowed(s.Roles, pagekit.ManageUsers)}
	if r.URL.Query().Get("deleted") != "" {
		d.Notice = "The user was deleted."
	}
	qs := q
	if qs == "" {
		qs = "*"
	}
	res, err := a.Svc.Identity.SearchUsers(r.Context(), kit.TenantScope{}, identity.UserSearch{QueryString: qs,
		StartRow: (pg - 1) * usersPerPage, NumberOfResults: usersPerPage, AccurateTotal: true}, nil)
	status := http.StatusOK
	if err != nil {
		msgs, ok := a.Refusal(w, r, s, "search users", err)
		if !ok {
			return
		}
		d.Error, status = strings.Join(msgs, " "), http.StatusBadRequest
	} else {
		names := a.appNames(r)
		for _, o := range res.Users {
			d.Users = append(d.Users, viewUser(o, names))
		}
		d.Total = res.Total
		v := url.Values{}
		if q != "" {
			v.Set("q", q)
		}
		if pg > 1 {
			v.Set("page", strconv.Itoa(pg-1))
			d.Prev = "/admin/users?" + v.Encode()
		}
		if pg*usersPerPage < res.Total {
			v.Set("page", strconv.Itoa(pg+1))
			d.Next = "/admin/users?" + v.Encode()
		}
	}
	a.Render(w, r, s, status, "users", "Users", "users", d)
}

type userPage struct {
	User     userView
	Logins   []*store.LoginRecord
	Sessions []sessionView
	Groups   []pagekit.Option // id and name
	// Register: applications of the user's tenant the user is not registered to.
	Register             []pagekit.Option
	LinkGroups           bool
	Audit                []*model.AuditLog
	CanManage, CanDelete bool
	// CanEdit: the profile may be changed by this admin (an administrator's
	// only by admins).
	CanEdit bool
	Notice  string
	Error   string
}

// sessionView is one of the user's refresh tokens or SSO sessions of the
// hosted pages (which belong to no application).
type sessionView struct {
	Application    string
	Started        int64
	Device, Client string
}

func (a *Admin) loadUser(w http.ResponseWriter, r *http.Request, s *pagekit.Session) (*model.User, bool) {
	o, err := a.Svc.Identity.User(r.Context(), kit.TenantScope{}, r.PathValue("id"))
	if errors.Is(err, model.ErrNotFound) {
		a.Message(w, r, s, http.StatusNotFound, "No such user", "This user does not exist; they may have been deleted.")
		return nil, false
	}
	if err != nil {
		a.Fail(w, r, s, "load user", err)
		return nil, false
	}
	return o, true
}

func (a *Admin) showUser(w http.ResponseWriter, r *http.Request, s *pagekit.Session, status int, notice, errMsg string) {
	o, ok := a.loadUser(w, r, s)
	if !ok {
		return
	}
	apps, err := a.AllApplications(r)
	if err != nil {
		a.Fail(w, r, s, "list applications", err)
		return
	}
	names, roles := map[string]string{}, map[string][]pagekit.RoleView{}
	for _, o := range apps {
		v := pagekit.ViewApp(o, nil)
		names[v.ID], roles[v.ID] = v.Name, v.Roles
	}
	p := userPage{User: viewUser(o, names), CanManage: pagekit.Allowed(s.Roles, pagekit.ManageUsers), CanDelete: pagekit.Allowed(s.Roles, pagekit.DeleteUsers),
		Notice: notice, Error: errMsg}
	mayTouch := !p.User.isAdministrator() || pagekit.Allowed(s.Roles, pagekit.ManageAdmins)
	p.CanEdit, p.CanDelete = p.CanManage && mayTouch, p.CanDelete && mayTouch
	for _, o := range apps {
		v := pagekit.ViewApp(o, nil)
		registered := slices.ContainsFunc(p.User.Registrations, func(rv registrationView) bool { return rv.ApplicationID == v.ID })
		if v.TenantID == p.User.TenantID && !registered && (!v.Builtin || pagekit.Allowed(s.Roles, pagekit.ManageAdmins)) {
			p.Register = append(p.Register, pagekit.Option{Value: v.ID, Label: v.Name})
		}
	}
	for i := range p.User.Registrations {
		reg := &p.User.Registrations[i]
		reg.CanEdit = p.CanManage && (reg.ApplicationID != model.AdminApplicationID || pagekit.Allowed(s.Roles, pagekit.ManageAdmins))
		for _, rv := range roles[reg.ApplicationID] {
			reg.Options = append(reg.Options, roleOption{Name: rv.Name, Checked: slices.Contains(reg.Roles, rv.Name)})
		}
	}
	if len(p.User.Groups) > 0 {
		all, err := a.Svc.Groups.Groups(r.Context(), kit.TenantScope{})
		if err != nil {
			a.Fail(w, r, s, "list groups", err)
			return
		}
		groupNames := map[string]string{}
		for _, g := range all {
			groupNames[g.ID] = g.Name
		}
		for _, id := range p.User.Groups {
			p.Groups = append(p.Groups, pagekit.Option{Value: id, Label: cmp.Or(groupNames[id], id)})
		}
	}
	p.LinkGroups = pagekit.Allowed(s.Roles, pagekit.ViewGroups)
	tokens, err := a.Svc.Tokens.RefreshTokensOfUser(r.Context(), kit.TenantScope{}, p.User.ID)
	if err != nil {
		a.Fail(w, r, s, "user sessions", err)
		return
	}
	for _, t := range tokens {
		sv := sessionView{Application: cmp.Or(names[t.ApplicationID], t.ApplicationID, "Hosted sign-in pages (SSO)"), Started: t.StartInstant}
		if dev, ok := t.MetaData["device"].(kit.Object); ok {
			sv.Device, _ = dev["description"].(string)
			if sv.Device == "" {
				sv.Device, _ = dev["name"].(string)
			}
			sv.Client, _ = dev["lastAccessedAddress"].(string)
		}
		p.Sessions = append(p.Sessions, sv)
	}
	if p.Logins, err = a.Svc.Store().Read().LoginRecords(r.Context(), p.User.ID, 10); err != nil {
		a.Fail(w, r, s, "user logins", err)
		return
	}
	if p.Audit, _, err = a.Svc.Audit.Search(r.Context(), audit.Search{TargetID: p.User.ID, NumberOfResults: 20}); err != nil {
		a.Fail(w, r, s, "user audit trail", err)
		return
	}
	a.Render(w, r, s, status, "user", "User "+p.User.Email, "users", p)
}

func (a *Admin) user(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	notice := map[string]string{"created": "The user was created.", "deactivated": "The user was deactivated.",
		"reactivated": "The user was reactivated.", "password": "The user must change their password at the next sign-in.",
		"sessions": "The user's sessions were ended.", "saved": "The user was saved.", "roles": "The roles were saved.",
		"two-factor": "The two-factor method was removed.", "registered": "The user was registered to the application.",
		"unregistered": "The registration was deleted."}[r.URL.Query().Get("done")]
	a.showUser(w, r, s, http.StatusOK, notice, "")
}

type newUserPage struct {
	Email, Username, FirstName, LastName, TenantID string
	Tenants                                        []pagekit.Option
	Errors                                         []string
}

func (a *Admin) newUser(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	tenants, _, ok := a.Tenants(w, r, s)
	if !ok {
		return
	}
	a.Render(w, r, s, http.StatusOK, "user_new", "New user", "users", newUserPage{Tenants: tenants})
}

func (a *Admin) createUser(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	f := r.PostForm
	p := newUserPage{Email: strings.TrimSpace(f.Get("email")), Username: strings.TrimSpace(f.Get("username")),
		FirstName: strings.TrimSpace(f.Get("firstName")), LastName: strings.TrimSpace(f.Get("lastName")), TenantID: f.Get("tenantId")}
	u := kit.Object{}
	for k, v := range map[string]string{"email": p.Email, "username": p.Username, "firstName": p.FirstName, "lastName": p.LastName,
		"tenantId": p.TenantID, "password": f.Get("password")} {
		if v != "" {
			u[k] = v
		}
	}
	if f.Get("passwordChangeRequired") == "on" {
		u["passwordChangeRequired"] = true
	}
	o, err := a.Svc.Identity.CreateUser(r.Context(), a.Actor(r, s), kit.TenantScope{}, "", kit.Object{"user": u})
	if err != nil {
		msgs, ok := a.Refusal(w, r, s, "create user", err)
		if !ok {
			return
		}
		tenants, _, ok := a.Tenants(w, r, s)
		if !ok {
			return
		}
		p.Tenants, p.Errors = tenants, msgs
		a.Render(w, r, s, http.StatusBadRequest, "user_new", "New user", "users", p)
		return
	}
	http.Redirect(w, r, "/admin/users/"+o.ID+"?done=created", http.StatusSeeOther)
}

// userAction runs one state change on the user of the path and shows the
// user's page again.
func (a *Admin) userAction(w http.ResponseWriter, r *http.Request, s *pagekit.Session, done string, fn func(id string) error) {
	id := r.PathValue("id")
	if err := fn(id); err != nil {
		if errors.Is(err, model.ErrNotFound) {
			a.Message(w, r, s, http.StatusNotFound, "No such user", "This user does not exist; they may have been deleted.")
			return
		}
		msgs, ok := a.Refusal(w, r, s, "user action", err)
		if !ok {
			return
		}
		a.showUser(w, r, s, http.StatusBadRequest, "", strings.Join(msgs, " "))
		return
	}
	http.Redirect(w, r, "/admin/users/"+id+"?done="+done, http.StatusSeeOther)
}

func (a *Admin) deactivateUser(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	// Locking an administrator out is for admins only.
	if _, ok := a.loadEditable(w, r, s); !ok || a.refuseSelf(w, r, s, "deactivate") {
		return
	}
	a.userAction(w, r, s, "deactivated", func(id string) error {
		return a.Svc.Identity.DeactivateUser(r.Context(), a.Actor(r, s), kit.TenantScope{}, id)
	})
}

func (a *Admin) reactivateUser(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	a.userAction(w, r, s, "reactivated", func(id string) error {
		_, err := a.Svc.Identity.ReactivateUser(r.Context(), a.Actor(r, s), kit.TenantScope{}, id)
		return err
	})
}

func (a *Admin) requirePasswordChange(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	// Forcing an administrator to a new password, or signing them out, is
	// for admins only: another role could lock the admins out.
	if _, ok := a.loadEditable(w, r, s); !ok {
		return
	}
	a.userAction(w, r, s, "password", func(id string) error {
		_, err := a.Svc.Identity.PatchUser(r.Context(), a.Actor(r, s), kit.TenantScope{}, id, model.PatchMerge,
			[]byte(`{"user":{"passwordChangeRequired":true}}`))
		return err
	})
}

func (a *Admin) endUserSessions(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	if _, ok := a.loadEditable(w, r, s); !ok {
		return
	}
	a.userAction(w, r, s, "sessions", func(id string) error {
		if _, ok := kit.CanonicalID(id); !ok {
			return model.NotFoundf("user %q", id)
		}
		return a.Svc.Tokens.RevokeRefreshTokens(r.Context(), a.Actor(r, s), kit.TenantScope{}, tokens.RevokeRefreshTokensRequest{UserID: id})
	})
}

// deleteUser deletes only when the admin typed the user's email (or id) to confirm.
func (a *Admin) deleteUser(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	u, ok := a.loadEditable(w, r, s)
	if !ok || a.refuseSelf(w, r, s, "delete") {
		return
	}
	want := u.Email
	if want == "" {
		want = u.ID
	}
	if typed := strings.TrimSpace(r.PostForm.Get("confirm")); typed != want {
		a.showUser(w, r, s, http.StatusBadRequest, "", "The user was not deleted: type "+want+" exactly to confirm.")
		return
	}
	if err := a.Svc.Identity.DeleteUser(r.Context(), a.Actor(r, s), kit.TenantScope{}, u.ID); err != nil {
		a.Fail(w, r, s, "delete user", err)
		return
	}
	http.Redirect(w, r, "/admin/users?deleted=1", http.StatusSeeOther)
}
