package admin_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/admin"
	"github.com/latchid/latch/internal/testutil"
)

// request is one page or action of the role matrix.
type request struct {
	name, method, path string
	form               url.Values
	action             admin.Action
}

func matrixRequests(initialKeyID, adminUserID string) []request {
	return []request{
		{"dashboard", "GET", "/admin", nil, admin.ViewDashboard},
		{"dashboard with a slash", "GET", "/admin/", nil, admin.ViewDashboard},
		{"runbook", "GET", "/admin/runbook", nil, admin.ViewDashboard},
		{"list keys", "GET", "/admin/api-keys", nil, admin.ViewAPIKeys},
		{"new key form", "GET", "/admin/api-keys/new", nil, admin.ManageAPIKeys},
		{"create key", "POST", "/admin/api-keys", url.Values{"name": {"x"}, "access": {"some"}}, admin.ManageAPIKeys},
		{"key page", "GET", "/admin/api-keys/" + initialKeyID, nil, admin.ManageAPIKeys},
		{"update key", "POST", "/admin/api-keys/" + initialKeyID, url.Values{"name": {"x"}, "access": {"some"}}, admin.ManageAPIKeys},
		{"delete key", "POST", "/admin/api-keys/00000000-0000-4000-8000-000000000000/delete", url.Values{}, admin.ManageAPIKeys},
		{"audit log", "GET", "/admin/audit-log", nil, admin.ViewAuditLog},
		{"audit export", "GET", "/admin/audit-log/export?format=json", nil, admin.ViewAuditLog},
		{"users", "GET", "/admin/users", nil, admin.ViewUsers},
		{"user page", "GET", "/admin/users/00000000-0000-4000-8000-000000000000", nil, admin.ViewUsers},
		{"new user form", "GET", "/admin/users/new", nil, admin.ManageUsers},
		{"create user", "POST", "/admin/users", url.Values{}, admin.ManageUsers},
		{"reactivate user", "POST", "/admin/users/00000000-0000-4000-8000-000000000000/reactivate", url.Values{}, admin.ManageUsers},
		{"require a password change", "POST", "/admin/users/00000000-0000-4000-8000-000000000000/require-password-change", url.Values{}, admin.ManageUsers},
		{"end sessions", "POST", "/admin/users/00000000-0000-4000-8000-000000000000/end-sessions", url.Values{}, admin.ManageUsers},
		{"deactivate user", "POST", "/admin/users/00000000-0000-4000-8000-000000000000/deactivate", url.Values{}, admin.ManageUsers},
		{"edit user form", "GET", "/admin/users/00000000-0000-4000-8000-000000000000/edit", nil, admin.ManageUsers},
		{"update user", "POST", "/admin/users/00000000-0000-4000-8000-000000000000/edit", url.Values{}, admin.ManageUsers},
		{"user roles", "POST", "/admin/users/00000000-0000-4000-8000-000000000000/registrations/00000000-0000-4000-8000-000000000001/roles", url.Values{}, admin.ManageUsers},
		{"register user", "POST", "/admin/users/00000000-0000-4000-8000-000000000000/registrations", url.Values{"applicationId": {"00000000-0000-4000-8000-000000000001"}}, admin.ManageUsers},
		{"register user to the admin application", "POST", "/admin/users/00000000-0000-4000-8000-000000000000/registrations", url.Values{"applicationId": {adminAppID}}, admin.ManageAdmins},
		{"delete registration", "POST", "/admin/users/00000000-0000-4000-8000-000000000000/registrations/00000000-0000-4000-8000-000000000001/delete", url.Values{}, admin.ManageUsers},
		{"delete an admin registration", "POST", "/admin/users/00000000-0000-4000-8000-000000000000/registrations/" + adminAppID + "/delete", url.Values{}, admin.ManageAdmins},
		{"remove two-factor method", "POST", "/admin/users/00000000-0000-4000-8000-000000000000/two-factor/ABCD/delete", url.Values{}, admin.ManageUsers},
		{"admin roles", "POST", "/admin/users/00000000-0000-4000-8000-000000000000/registrations/" + adminAppID + "/roles", url.Values{"role": {"admin"}}, admin.ManageAdmins},
		{"edit an administrator", "GET", "/admin/users/" + adminUserID + "/edit", nil, admin.ManageAdmins},
		{"remove an administrator's two-factor method", "POST", "/admin/users/" + adminUserID + "/two-factor/ABCD/delete", url.Values{}, admin.ManageAdmins},
		{"deactivate an administrator", "POST", "/admin/users/" + adminUserID + "/deactivate", url.Values{}, admin.ManageAdmins},
		{"delete an administrator", "POST", "/admin/users/" + adminUserID + "/delete", url.Values{"confirm": {"not the email"}}, admin.ManageAdmins},
		{"update an administrator", "POST", "/admin/users/" + adminUserID + "/edit", url.Values{"email": {"taken-over@example.com"}}, admin.ManageAdmins},
		{"delete user", "POST", "/admin/users/00000000-0000-4000-8000-000000000000/delete", url.Values{}, admin.DeleteUsers},
		{"applications", "GET", "/admin/applications", nil, admin.ViewApplications},
		{"application page", "GET", "/admin/applications/" + adminAppID, nil, admin.ViewApplications},
		{"edit oauth", "POST", "/admin/applications/00000000-0000-4000-8000-000000000000/oauth", url.Values{}, admin.ManageApplications},
		{"show secret", "POST", "/admin/applications/00000000-0000-4000-8000-000000000000/secret", url.Values{}, admin.ManageApplications},
		{"show the admin application's secret", "POST", "/admin/applications/" + adminAppID + "/secret", url.Values{}, admin.ManageAdmins},
		{"edit the admin application's oauth", "POST", "/admin/applications/" + adminAppID + "/oauth", url.Values{}, admin.ManageAdmins},
		{"rotate the admin application's secret", "POST", "/admin/applications/" + adminAppID + "/rotate-secret", url.Values{}, admin.ManageAdmins},
		{"rotate secret", "POST", "/admin/applications/00000000-0000-4000-8000-000000000000/rotate-secret", url.Values{}, admin.ManageApplications},
		{"add role", "POST", "/admin/applications/00000000-0000-4000-8000-000000000000/roles", url.Values{}, admin.ManageApplications},
		{"delete role", "POST", "/admin/applications/00000000-0000-4000-8000-000000000000/roles/00000000-0000-4000-8000-000000000001/delete", url.Values{}, admin.ManageApplications},
		{"tenants", "GET", "/admin/tenants", nil, admin.ViewTenants},
		{"tenant page", "GET", "/admin/tenants/00000000-0000-4000-8000-000000000000", nil, admin.ViewTenants},
		{"new tenant form", "GET", "/admin/tenants/new", nil, admin.ManageTenants},
		{"create tenant", "POST", "/admin/tenants", url.Values{}, admin.ManageTenants},
		{"update tenant", "POST", "/admin/tenants/00000000-0000-4000-8000-000000000000", url.Values{}, admin.ManageTenants},
		{"delete tenant", "POST", "/admin/tenants/00000000-0000-4000-8000-000000000000/delete", url.Values{}, admin.DeleteTenants},
		{"groups", "GET", "/admin/groups", nil, admin.ViewGroups},
		{"group page", "GET", "/admin/groups/00000000-0000-4000-8000-000000000000", nil, admin.ViewGroups},
		{"new group form", "GET", "/admin/groups/new", nil, admin.ManageGroups},
		{"create group", "POST", "/admin/groups", url.Values{}, admin.ManageGroups},
		{"update group", "POST", "/admin/groups/00000000-0000-4000-8000-000000000000", url.Values{}, admin.ManageGroups},
		{"add group member", "POST", "/admin/groups/00000000-0000-4000-8000-000000000000/members", url.Values{}, admin.ManageGroups},
		{"remove group member", "POST", "/admin/groups/00000000-0000-4000-8000-000000000000/members/00000000-0000-4000-8000-000000000001/delete", url.Values{}, admin.ManageGroups},
		{"delete group", "POST", "/admin/groups/00000000-0000-4000-8000-000000000000/delete", url.Values{}, admin.DeleteGroups},
		{"entities", "GET", "/admin/entities", nil, admin.ViewEntities},
		{"entity page", "GET", "/admin/entities/00000000-0000-4000-8000-000000000000", nil, admin.ViewEntities},
		{"create entity", "POST", "/admin/entities", url.Values{}, admin.ManageEntities},
		{"rotate entity secret", "POST", "/admin/entities/00000000-0000-4000-8000-000000000000/rotate-secret", url.Values{}, admin.ManageEntities},
		{"delete entity", "POST", "/admin/entities/00000000-0000-4000-8000-000000000000/delete", url.Values{}, admin.ManageEntities},
		{"create entity type", "POST", "/admin/entity-types", url.Values{}, admin.ManageEntities},
		{"entity type page", "GET", "/admin/entity-types/00000000-0000-4000-8000-000000000000", nil, admin.ViewEntities},
		{"add permission", "POST", "/admin/entity-types/00000000-0000-4000-8000-000000000000/permissions", url.Values{}, admin.ManageEntities},
		{"delete permission", "POST", "/admin/entity-types/00000000-0000-4000-8000-000000000000/permissions/00000000-0000-4000-8000-000000000001/delete", url.Values{}, admin.ManageEntities},
		{"delete entity type", "POST", "/admin/entity-types/00000000-0000-4000-8000-000000000000/delete", url.Values{}, admin.ManageEntities},
		{"signing keys", "GET", "/admin/signing-keys", nil, admin.ViewSigningKeys},
		{"signing key page", "GET", "/admin/signing-keys/00000000-0000-4000-8000-000000000000", nil, admin.ViewSigningKeys},
		{"new signing key form", "GET", "/admin/signing-keys/new", nil, admin.ManageSigningKeys},
		{"generate signing key", "POST", "/admin/signing-keys", url.Values{}, admin.ManageSigningKeys},
		{"import signing key", "POST", "/admin/signing-keys/import", url.Values{}, admin.ManageSigningKeys},
		{"rename signing key", "POST", "/admin/signing-keys/00000000-0000-4000-8000-000000000000", url.Values{}, admin.ManageSigningKeys},
		{"rotate signing key", "POST", "/admin/signing-keys/00000000-0000-4000-8000-000000000000/rotate", url.Values{}, admin.ManageSigningKeys},
		{"delete signing key", "POST", "/admin/signing-keys/00000000-0000-4000-8000-000000000000/delete", url.Values{}, admin.ManageSigningKeys},
		{"ip lists", "GET", "/admin/ip-acls", nil, admin.ViewIPACLs},
		{"ip list page", "GET", "/admin/ip-acls/00000000-0000-4000-8000-000000000000", nil, admin.ViewIPACLs},
		{"new ip list form", "GET", "/admin/ip-acls/new", nil, admin.ManageIPACLs},
		{"create ip list", "POST", "/admin/ip-acls", url.Values{"entries": {"Wave *"}}, admin.ManageIPACLs},
		{"update ip list", "POST", "/admin/ip-acls/00000000-0000-4000-8000-000000000000", url.Values{}, admin.ManageIPACLs},
		{"delete ip list", "POST", "/admin/ip-acls/00000000-0000-4000-8000-000000000000/delete", url.Values{}, admin.DeleteIPACLs},
	}
}

// allowedByRole is, independently of the server's table, what each role may
// do; everything else must be refused with 403.
var allowedByRole = map[string][]admin.Action{
	"admin": {admin.ViewDashboard, admin.ViewAPIKeys, admin.ManageAPIKeys, admin.ViewAuditLog, admin.ViewUsers, admin.ManageUsers, admin.DeleteUsers,
		admin.ViewApplications, admin.ManageApplications, admin.ViewIPACLs, admin.ManageIPACLs, admin.DeleteIPACLs, admin.ManageAdmins,
		admin.ViewSigningKeys, admin.ManageSigningKeys, admin.ViewTenants, admin.ManageTenants, admin.DeleteTenants,
		admin.ViewGroups, admin.ManageGroups, admin.DeleteGroups, admin.ViewEntities, admin.ManageEntities},
	"api_key_manager":      {admin.ViewDashboard, admin.ViewAPIKeys, admin.ManageAPIKeys},
	"audit_log_viewer":     {admin.ViewDashboard, admin.ViewAuditLog},
	"user_manager":         {admin.ViewDashboard, admin.ViewUsers, admin.ManageUsers},
	"user_deleter":         {admin.ViewDashboard, admin.ViewUsers, admin.DeleteUsers},
	"user_support_manager": {admin.ViewDashboard, admin.ViewUsers, admin.ManageUsers},
	"user_support_viewer":  {admin.ViewDashboard, admin.ViewUsers},
	"application_manager":  {admin.ViewDashboard, admin.ViewApplications, admin.ManageApplications},
	"application_deleter":  {admin.ViewDashboard, admin.ViewApplications},
	"tenant_manager":       {admin.ViewDashboard, admin.ViewTenants, admin.ManageTenants},
	"tenant_deleter":       {admin.ViewDashboard, admin.ViewTenants, admin.DeleteTenants},
	"acl_manager":          {admin.ViewDashboard, admin.ViewIPACLs, admin.ManageIPACLs},
	"acl_deleter":          {admin.ViewDashboard, admin.ViewIPACLs, admin.DeleteIPACLs},
	"group_manager":        {admin.ViewDashboard, admin.ViewGroups, admin.ManageGroups},
	"group_deleter":        {admin.ViewDashboard, admin.ViewGroups, admin.DeleteGroups},
	"entity_manager":       {admin.ViewDashboard, admin.ViewEntities, admin.ManageEntities},
	"key_manager":          {admin.ViewDashboard, admin.ViewSigningKeys, admin.ManageSigningKeys},
	"system_manager":       {admin.ViewDashboard},
}

// navigationPages are the navigation's entries beyond the dashboard, with
// the action that opens each.
var navigationPages = map[string]admin.Action{
	"/admin/users": admin.ViewUsers, "/admin/applications": admin.ViewApplications, "/admin/tenants": admin.ViewTenants,
	"/admin/groups": admin.ViewGroups, "/admin/entities": admin.ViewEntities, "/admin/api-keys": admin.ViewAPIKeys,
	"/admin/signing-keys": admin.ViewSigningKeys, "/admin/ip-acls": admin.ViewIPACLs, "/admin/audit-log": admin.ViewAuditLog,
}

// TestRoleMatrixCoversEveryRoute: every route with an action is tried by
// the matrix, with the action the route table gives it, so a new page
// cannot escape the role test.
func TestRoleMatrixCoversEveryRoute(t *testing.T) {
	mux := http.NewServeMux()
	routes := admin.RouteActions()
	for pattern := range routes {
		mux.HandleFunc(pattern, func(http.ResponseWriter, *http.Request) {})
	}
	covered := map[string]bool{}
	for _, rq := range matrixRequests("00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b") {
		req := httptest.NewRequest(rq.method, rq.path, nil)
		_, pattern := mux.Handler(req)
		action, ok := routes[pattern]
		if !ok {
			t.Errorf("%s %s (%s) matches no route", rq.method, rq.path, rq.name)
			continue
		}
		// The matrix may ask for a stricter action than the route's (checks
		// in the handler, such as ManageAdmins), never a different page's.
		if action != rq.action && rq.action != admin.ManageAdmins {
			t.Errorf("%s: the matrix expects %s, the route %s has %s", rq.name, rq.action, pattern, action)
		}
		covered[pattern] = true
	}
	for pattern, action := range routes {
		// Sign-out (any admin) would end the matrix's session; the sign-in
		// test covers it.
		if action != "" && !covered[pattern] && pattern != "POST /admin/logout" {
			t.Errorf("route %s (%s) is not in the role matrix", pattern, action)
		}
	}
}

// TestRoleMatrix signs in one admin per role and tries every page and
// action: the server refuses (403) each one the role does not allow,
// whatever the navigation showed, and lets the others through.
func TestRoleMatrix(t *testing.T) {
	e := start(t, testutil.Backend{})
	initial := e.keys()["Initial API key"].ID
	// An administrator other than the first: the admin role's "update an
	// administrator" request renames this one, not admin@example.com.
	target := e.admin("target-admin@example.com", "audit_log_viewer")
	for role, allowed := range allowedByRole {
		t.Run(role, func(t *testing.T) {
			email := "role-" + role + "@example.com"
			e.admin(email, role)
			br := e.browser()
			home := br.signIn(email, testPassword)
			if home.status != 200 || home.url.Path != "/admin" {
				t.Fatalf("sign-in: %d at %s", home.status, home.url)
			}
			csrf := home.csrf(t)
			// The navigation shows exactly the pages the role may open.
			for path, action := range navigationPages {
				shown := strings.Contains(home.body, `href="`+path+`"`)
				if want := slices.Contains(allowed, action); shown != want {
					t.Errorf("navigation entry %s shown=%v, want %v", path, shown, want)
				}
			}
			for _, rq := range matrixRequests(initial, target) {
				want := slices.Contains(allowed, rq.action)
				if got := admin.Allowed([]string{role}, rq.action); got != want {
					t.Errorf("%s: the role table says %v, the test %v", rq.name, got, want)
				}
				var p *page
				if rq.method == "GET" {
					p = br.get(rq.path)
				} else {
					f := url.Values{"csrf_token": {csrf}}
					for k, v := range rq.form {
						f[k] = v
					}
					p = br.post(rq.path, f)
				}
				if want && p.status == 403 {
					t.Errorf("%s %s: refused (403) though allowed", rq.method, rq.path)
				}
				if !want && p.status != 403 {
					t.Errorf("%s %s: want 403, got %d", rq.method, rq.path, p.status)
				}
			}
			// Nothing was deleted or changed by the refused actions.
			if _, ok := e.keys()["Initial API key"]; !ok {
				t.Fatal("the initial key is gone")
			}
		})
	}
}

// TestEveryFormNeedsCSRF posts every action of the matrix without the CSRF
// token, as the admin role: each is refused (403) before it runs.
func TestEveryFormNeedsCSRF(t *testing.T) {
	e := start(t, testutil.Backend{})
	initial := e.keys()["Initial API key"].ID
	target := e.admin("target-admin@example.com", "audit_log_viewer")
	br := e.browser()
	br.signIn("admin@example.com", testPassword)
	for _, rq := range append(matrixRequests(initial, target), request{"sign out", "POST", "/admin/logout", url.Values{}, admin.ViewDashboard}) {
		if rq.method != "POST" {
			continue
		}
		p := br.post(rq.path, rq.form)
		if p.status != 403 || !strings.Contains(p.body, "This form has expired") {
			t.Errorf("%s %s without the CSRF token: %d", rq.method, rq.path, p.status)
		}
	}
	if _, ok := e.keys()["Initial API key"]; !ok {
		t.Fatal("a POST without the CSRF token deleted the initial key")
	}
	if got := br.get("/admin"); got.url.Path != "/admin" {
		t.Fatal("a sign-out without the CSRF token ended the session")
	}
}
