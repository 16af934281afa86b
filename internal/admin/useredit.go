package admin

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/latchid/latch/internal/admin/pagekit"
	"github.com/latchid/latch/internal/kit"
	"github.com/latchid/latch/internal/model"
)

// Changing a user: the profile (email, username, names), the roles of a
// registration, removing a two-factor method. An administrator's profile
// and two-factor methods, and anyone's admin-application roles, need
// pagekit.ManageAdmins; changing admin roles also needs a recent password.

type userEditPage struct {
	User                                 userView
	Email, Username, FirstName, LastName string
	Errors                               []string
}

// refuseSelf refuses (400) an admin deactivating or deleting themselves:
// another admin must, so one always remains.
func (a *Admin) refuseSelf(w http.ResponseWriter, r *http.Request, s *pagekit.Session, what string) bool {
	if r.PathValue("id") != s.UserID {
		return false
	}
	a.showUser(w, r, s, http.StatusBadRequest, "", "You cannot "+what+" yourself here: another admin can, so that one always remains.")
	return true
}

// loadEditable loads the user of the path, refusing (403) when the user is an
// administrator and this admin may not change administrators.
func (a *Admin) loadEditable(w http.ResponseWriter, r *http.Request, s *pagekit.Session) (userView, bool) {
	o, ok := a.loadUser(w, r, s)
	if !ok {
		return userView{}, false
	}
	u := viewUser(o, nil)
	if u.isAdministrator() && !pagekit.Allowed(s.Roles, pagekit.ManageAdmins) {
		a.Message(w, r, s, http.StatusForbidden, "Not allowed",
			"This user is an administrator: only an admin with the admin role may change their profile or two-factor methods, require a password change, end their sessions, deactivate or delete them.")
		return userView{}, false
	}
	return u, true
}

func (a *Admin) editUser(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	u, ok := a.loadEditable(w, r, s)
	if !ok {
		return
	}
	a.Render(w, r, s, http.StatusOK, "user_edit", "Edit "+u.Email, "users",
		userEditPage{User: u, Email: u.Email, Username: u.Username, FirstName: u.FirstName, LastName: u.LastName})
}

// updateUser merges the form into the user (PATCH semantics: other fields
// stay); an emptied field is removed.
func (a *Admin) updateUser(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	u, ok := a.loadEditable(w, r, s)
	if !ok {
		return
	}
	f := r.PostForm
	p := userEditPage{User: u, Email: strings.TrimSpace(f.Get("email")), Username: strings.TrimSpace(f.Get("username")),
		FirstName: strings.TrimSpace(f.Get("firstName")), LastName: strings.TrimSpace(f.Get("lastName"))}
	fields := map[string]any{}
	for k, v := range map[string]string{"email": p.Email, "username": p.Username, "firstName": p.FirstName, "lastName": p.LastName} {
		if v == "" {
			fields[k] = nil // JSON merge patch: remove
		} else {
			fields[k] = v
		}
	}
	patch, err := json.Marshal(map[string]any{"user": fields})
	if err != nil {
		a.Fail(w, r, s, "encode user patch", err)
		return
	}
	if _, err := a.Svc.Identity.PatchUser(r.Context(), a.Actor(r, s), kit.TenantScope{}, u.ID, model.PatchMerge, patch); err != nil {
		msgs, ok := a.Refusal(w, r, s, "update user", err)
		if !ok {
			return
		}
		p.Errors = msgs
		a.Render(w, r, s, http.StatusBadRequest, "user_edit", "Edit "+u.Email, "users", p)
		return
	}
	http.Redirect(w, r, "/admin/users/"+u.ID+"?done=saved", http.StatusSeeOther)
}

// saveRoles replaces a registration's roles with the checked ones, which
// must be roles of the application.
func (a *Admin) saveRoles(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	appID, userID := r.PathValue("appId"), r.PathValue("id")
	if appID == model.AdminApplicationID {
		if !pagekit.Allowed(s.Roles, pagekit.ManageAdmins) {
			a.Message(w, r, s, http.StatusForbidden, "Not allowed",
				"Only an admin with the admin role may change roles in the admin application.")
			return
		}
		// An admin does not demote themselves: another admin must, so one
		// always remains who can sign in and repair things.
		if userID == s.UserID && !slices.Contains(r.PostForm["role"], pagekit.SuperRole) {
			a.showUser(w, r, s, http.StatusBadRequest, "",
				"The roles were not saved: you cannot remove your own admin role. Another admin can, so that one always remains.")
			return
		}
		if !a.requireReauth(w, r, s, "/admin/users/"+userID, "Changing an administrator's roles") {
			return
		}
	}
	app, err := a.Svc.Tenancy.Application(r.Context(), kit.TenantScope{}, appID)
	if !a.Loaded(w, r, s, "application", err) {
		return
	}
	known := map[string]bool{}
	for _, rv := range pagekit.ViewApp(app, nil).Roles {
		known[rv.Name] = true
	}
	roles := []string{}
	for _, name := range r.PostForm["role"] {
		if !known[name] {
			a.showUser(w, r, s, http.StatusBadRequest, "", "The roles were not saved: "+name+" is not a role of this application.")
			return
		}
		if !slices.Contains(roles, name) {
			roles = append(roles, name)
		}
	}
	patch, err := json.Marshal(map[string]any{"registration": map[string]any{"roles": roles}})
	if err != nil {
		a.Fail(w, r, s, "encode roles", err)
		return
	}
	a.userAction(w, r, s, "roles", func(id string) error {
		_, err := a.Svc.Identity.PatchRegistration(r.Context(), a.Actor(r, s), kit.TenantScope{}, id, appID, model.PatchMerge, patch)
		return err
	})
}

// removeTwoFactor removes one two-factor method without a code (the user
// lost the device); the user can enroll again after signing in.
func (a *Admin) removeTwoFactor(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	// An administrator's second factor guards the admin UI: only admins remove it.
	if _, ok := a.loadEditable(w, r, s); !ok {
		return
	}
	a.userAction(w, r, s, "two-factor", func(id string) error {
		return a.Svc.Authentication.RemoveTwoFactorMethod(r.Context(), a.Actor(r, s), kit.TenantScope{}, id, r.PathValue("methodId"))
	})
}

// guardAdminApp refuses (403) registering someone to, or removing someone
// from, the admin application without pagekit.ManageAdmins, and asks for a recent
// password when allowed; an admin does not remove their own registration.
func (a *Admin) guardAdminApp(w http.ResponseWriter, r *http.Request, s *pagekit.Session, appID, what string) bool {
	if appID != model.AdminApplicationID {
		return true
	}
	if !pagekit.Allowed(s.Roles, pagekit.ManageAdmins) {
		a.Message(w, r, s, http.StatusForbidden, "Not allowed",
			"Only an admin with the admin role may register users to the admin application or remove them from it.")
		return false
	}
	if r.PathValue("id") == s.UserID {
		a.showUser(w, r, s, http.StatusBadRequest, "", "You cannot "+what+" yourself here: another admin can, so that one always remains.")
		return false
	}
	return a.requireReauth(w, r, s, "/admin/users/"+r.PathValue("id"), "Changing who is an administrator")
}

// addRegistration registers the user to an application (no roles yet:
// they are set on the user's page).
func (a *Admin) addRegistration(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	appID := strings.TrimSpace(r.PostForm.Get("applicationId"))
	if !a.guardAdminApp(w, r, s, appID, "register") {
		return
	}
	a.userAction(w, r, s, "registered", func(id string) error {
		_, err := a.Svc.Identity.Register(r.Context(), a.Actor(r, s), kit.TenantScope{}, id, appID,
			kit.Object{"registration": kit.Object{"applicationId": appID}})
		return err
	})
}

func (a *Admin) deleteRegistration(w http.ResponseWriter, r *http.Request, s *pagekit.Session) {
	appID := r.PathValue("appId")
	if !a.guardAdminApp(w, r, s, appID, "unregister") {
		return
	}
	a.userAction(w, r, s, "unregistered", func(id string) error {
		return a.Svc.Identity.DeleteRegistration(r.Context(), a.Actor(r, s), kit.TenantScope{}, id, appID)
	})
}
