package admin_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/latchid/latch/internal/admin"
	"github.com/latchid/latch/internal/admin/pagekit"
	"github.com/latchid/latch/internal/testutil"
)

// request is one page or action of the role matrix.
type request struct {
	name, method, path string
	form               url.Values
	action             pagekit.Action
}

func matrixRequests(initialKeyID, adminUserID string) []request {
	return []request{
		{"dashboard", "GET", "/admin", nil, pagekit.ViewDashboard},
		{"dashboard with a slash", "GET", "/admin/", nil, pagekit.ViewDashboard},
		{"runbook", "GET", "/admin/runbook", nil, pagekit.ViewDashboard},
		{"list keys", "GET", "/admin/api-keys", nil, pagekit.ViewAPIKeys},
		{"new key form", "GET", "/admin/api-keys/new", nil, pagekit.ManageAPIKeys},
		{"create key", "POST", "/admin/api-keys", url.Values{"name": {"x"}, "access": {"some"}}, pagekit.ManageAPIKeys},
		{"key page", "GET", "/admin/api-keys/" + initialKeyID, nil, pagekit.ManageAPIKeys},
		{"update key", "POST", "/admin/api-keys/" + initialKeyID, url.Values{"name": {"x"}, "access": {"some"}}, pagekit.ManageAPIKeys},
		{"delete key", "POST", "/admin/api-keys/00000000-0000-4000-8000-000000000000/delete", url.Values{}, pagekit.ManageAPIKeys},
		{"audit log", "GET", "/admin/audit-log", nil, pagekit.ViewAuditLog},
		{"audit export", "GET", "/admin/audit-log/export?format=json", nil, pagekit.ViewAuditLog},
		{"users", "GET", "/admin/users", nil, pagekit.ViewUsers},
		{"user page", "GET", "/admin/users/00000000-0000-4000-8000-000000000000", nil, pagekit.ViewUsers},
		{"new user form", "GET", "/admin/users/new", nil, pagekit.ManageUsers},
		{"create user", "POST", "/admin/users", url.Values{}, pagekit.ManageUsers},
		{"reactivate user", "POST", "/admin/users/00000000-0000-4000-8000-000000000000/reactivate", url.Values{}, pagekit.ManageUsers},
		{"require a password change", "POST", "/admin/users/00000000-0000-4000-8000-000000000000/require-password-change", url.Values{}, pagekit.ManageUsers},
		{"end sessions", "POST", "/admin/users/00000000-0000-4000-8000-000000000000/end-sessions", url.Values{}, pagekit.ManageUsers},
		{"deactivate user", "POST", "/admin/users/00000000-0000-4000-8000-000000000000/deactivate", url.Values{}, pagekit.ManageUsers},
		{"edit user form", "GET", "/admin/users/00000000-0000-4000-8000-000000000000/edit", nil, pagekit.ManageUsers},
		{"update user", "POST", "/admin/users/00000000-0000-4000-8000-000000000000/edit", url.Values{}, pagekit.ManageUsers},
		{"user roles", "POST", "/admin/users/00000000-0000-4000-8000-000000000000/registrations/00000000-0000-4000-8000-000000000001/roles", url.Values{}, pagekit.ManageUsers},
		{"register user", "POST", "/admin/users/00000000-0000-4000-8000-000000000000/registrations", url.Values{"applicationId": {"00000000-0000-4000-8000-000000000001"}}, pagekit.ManageUsers},
		{"register user to the admin application", "POST", "/admin/users/00000000-0000-4000-8000-000000000000/registrations", url.Values{"applicationId": {adminAppID}}, pagekit.ManageAdmins},
		{"delete registration", "POST", "/admin/users/00000000-0000-4000-8000-000000000000/registrations/00000000-0000-4000-8000-000000000001/delete", url.Values{}, pagekit.ManageUsers},
		{"delete an admin registration", "POST", "/admin/users/00000000-0000-4000-8000-000000000000/registrations/" + adminAppID + "/delete", url.Values{}, pagekit.ManageAdmins},
		{"remove two-factor method", "POST", "/admin/users/00000000-0000-4000-8000-000000000000/two-factor/ABCD/delete", url.Values{}, pagekit.ManageUsers},
		{"admin roles", "POST", "/admin/users/00000000-0000-4000-8000-000000000000/registrations/" + adminAppID + "/roles", url.Values{"role": {"admin"}}, pagekit.ManageAdmins},
		{"edit an administrator", "GET", "/admin/users/" + adminUserID + "/edit", nil, pagekit.ManageAdmins},
		{"remove an administrator's two-factor method", "POST", "/admin/users/" + adminUserID + "/two-factor/ABCD/delete", url.Values{}, pagekit.ManageAdmins},
		{"deactivate an administrator", "POST", "/admin/users/" + adminUserID + "/deactivate", url.Values{}, pagekit.ManageAdmins},
		{"delete an administrator", "POST", "/admin/users/" + adminUserID + "/delete", url.Values{"confirm": {"not the email"}}, pagekit.ManageAdmins},
		{"update an administrator", "POST", "/admin/users/" + adminUserID + "/edit", url.Values{"email": {"taken-over@example.com"}}, pagekit.ManageAdmins},
		{"delete user", "POST", "/admin/users/00000000-0000-4000-8000-000000000000/delete", url.Values{}, pagekit.DeleteUsers},
		{"applications", "GET", "/admin/applications", nil, pagekit.ViewApplications},
		{"application page", "GET", "/admin/applications/" + adminAppID, nil, pagekit.ViewApplications},
		{"new application form", "GET", "/admin/applications/new", nil, pagekit.ManageApplications},
		{"create application", "POST", "/admin/applications", url.Values{"name": {""}}, pagekit.ManageApplications},
		{"rename application", "POST", "/admin/applications/00000000-0000-4000-8000-000000000000", url.Values{"name": {"x"}}, pagekit.ManageApplications},
		{"rename the admin application", "POST", "/admin/applications/" + adminAppID, url.Values{"name": {""}}, pagekit.ManageAdmins},
		{"delete application", "POST", "/admin/applications/00000000-0000-4000-8000-000000000000/delete", url.Values{}, pagekit.DeleteApplications},
		{"edit oauth", "POST", "/admin/applications/00000000-0000-4000-8000-000000000000/oauth", url.Values{}, pagekit.ManageApplications},
		{"show secret", "POST", "/admin/applications/00000000-0000-4000-8000-000000000000/secret", url.Values{}, pagekit.ManageApplications},
		{"show the admin application's secret", "POST", "/admin/applications/" + adminAppID + "/secret", url.Values{}, pagekit.ManageAdmins},
		{"edit the admin application's oauth", "POST", "/admin/applications/" + adminAppID + "/oauth", url.Values{}, pagekit.ManageAdmins},
		{"rotate the admin application's secret", "POST", "/admin/applications/" + adminAppID + "/rotate-secret", url.Values{}, pagekit.ManageAdmins},
		{"save token settings", "POST", "/admin/applications/00000000-0000-4000-8000-000000000000/tokens", url.Values{"timeToLiveInSeconds": {"60"}, "refreshTokenTimeToLiveInMinutes": {"60"}}, pagekit.ManageApplications},
		{"save refresh token settings", "POST", "/admin/applications/00000000-0000-4000-8000-000000000000/tokens", url.Values{"timeToLiveInSeconds": {"60"}, "refreshTokenTimeToLiveInMinutes": {"60"},
			"refreshTokenExpirationPolicy": {"SlidingWindowWithMaximumLifetime"}, "maximumTimeToLiveInMinutes": {"120"}, "gracePeriodInSeconds": {"5"}}, pagekit.ManageApplications},
		{"save the admin application's refresh token settings", "POST", "/admin/applications/" + adminAppID + "/tokens", url.Values{"gracePeriodInSeconds": {"x"}}, pagekit.ManageAdmins},
		{"save the admin application's token settings", "POST", "/admin/applications/" + adminAppID + "/tokens", url.Values{"timeToLiveInSeconds": {"x"}}, pagekit.ManageAdmins},
		{"save sign-in settings", "POST", "/admin/applications/00000000-0000-4000-8000-000000000000/login", url.Values{}, pagekit.ManageApplications},
		{"save the admin application's sign-in settings", "POST", "/admin/applications/" + adminAppID + "/login", url.Values{"requireAuthentication": {"on"}}, pagekit.ManageAdmins},
		{"deactivate application", "POST", "/admin/applications/00000000-0000-4000-8000-000000000000/deactivate", url.Values{}, pagekit.ManageApplications},
		{"reactivate application", "POST", "/admin/applications/00000000-0000-4000-8000-000000000000/reactivate", url.Values{}, pagekit.ManageApplications},
		{"rotate secret", "POST", "/admin/applications/00000000-0000-4000-8000-000000000000/rotate-secret", url.Values{}, pagekit.ManageApplications},
		{"add role", "POST", "/admin/applications/00000000-0000-4000-8000-000000000000/roles", url.Values{}, pagekit.ManageApplications},
		{"delete role", "POST", "/admin/applications/00000000-0000-4000-8000-000000000000/roles/00000000-0000-4000-8000-000000000001/delete", url.Values{}, pagekit.ManageApplications},
		{"tenants", "GET", "/admin/tenants", nil, pagekit.ViewTenants},
		{"tenant page", "GET", "/admin/tenants/00000000-0000-4000-8000-000000000000", nil, pagekit.ViewTenants},
		{"new tenant form", "GET", "/admin/tenants/new", nil, pagekit.ManageTenants},
		{"create tenant", "POST", "/admin/tenants", url.Values{}, pagekit.ManageTenants},
		{"update tenant", "POST", "/admin/tenants/00000000-0000-4000-8000-000000000000", url.Values{}, pagekit.ManageTenants},
		{"update tenant settings", "POST", "/admin/tenants/00000000-0000-4000-8000-000000000000", url.Values{"name": {"x"}, "minLength": {"12"}, "smtpPassword": {"s3cret"}}, pagekit.ManageTenants},
		{"tenant theme", "GET", "/admin/tenants/00000000-0000-4000-8000-000000000000/theme", nil, pagekit.ViewTenants},
		{"save tenant theme", "POST", "/admin/tenants/00000000-0000-4000-8000-000000000000/theme", url.Values{"productName": {"x"}}, pagekit.ManageTenants},
		{"tenant password hashing", "GET", "/admin/tenants/00000000-0000-4000-8000-000000000000/password-hashing", nil, pagekit.ViewTenants},
		{"save tenant password hashing", "POST", "/admin/tenants/00000000-0000-4000-8000-000000000000/password-hashing", url.Values{"encryptionScheme": {"bcrypt"}, "encryptionSchemeFactor": {"12"}}, pagekit.ManageTenants},
		{"tenant webhook events", "GET", "/admin/tenants/00000000-0000-4000-8000-000000000000/events", nil, pagekit.ViewTenants},
		{"save tenant webhook events", "POST", "/admin/tenants/00000000-0000-4000-8000-000000000000/events", url.Values{"enabled.user.create": {"on"}}, pagekit.ManageTenants},
		{"tenant identifiers", "GET", "/admin/tenants/00000000-0000-4000-8000-000000000000/identifiers", nil, pagekit.ViewTenants},
		{"save tenant identifiers", "POST", "/admin/tenants/00000000-0000-4000-8000-000000000000/identifiers", url.Values{"trustTokenTimeToLiveInSeconds": {"60"}}, pagekit.ManageTenants},
		{"tenant tokens", "GET", "/admin/tenants/00000000-0000-4000-8000-000000000000/tokens", nil, pagekit.ViewTenants},
		{"save tenant tokens", "POST", "/admin/tenants/00000000-0000-4000-8000-000000000000/tokens", url.Values{"timeToLiveInSeconds": {"60"}, "refreshTokenTimeToLiveInMinutes": {"60"}}, pagekit.ManageTenants},
		{"delete tenant", "POST", "/admin/tenants/00000000-0000-4000-8000-000000000000/delete", url.Values{}, pagekit.DeleteTenants},
		{"groups", "GET", "/admin/groups", nil, pagekit.ViewGroups},
		{"group page", "GET", "/admin/groups/00000000-0000-4000-8000-000000000000", nil, pagekit.ViewGroups},
		{"new group form", "GET", "/admin/groups/new", nil, pagekit.ManageGroups},
		{"create group", "POST", "/admin/groups", url.Values{}, pagekit.ManageGroups},
		{"update group", "POST", "/admin/groups/00000000-0000-4000-8000-000000000000", url.Values{}, pagekit.ManageGroups},
		{"add group member", "POST", "/admin/groups/00000000-0000-4000-8000-000000000000/members", url.Values{}, pagekit.ManageGroups},
		{"remove group member", "POST", "/admin/groups/00000000-0000-4000-8000-000000000000/members/00000000-0000-4000-8000-000000000001/delete", url.Values{}, pagekit.ManageGroups},
		{"delete group", "POST", "/admin/groups/00000000-0000-4000-8000-000000000000/delete", url.Values{}, pagekit.DeleteGroups},
		{"entities", "GET", "/admin/entities", nil, pagekit.ViewEntities},
		{"entity page", "GET", "/admin/entities/00000000-0000-4000-8000-000000000000", nil, pagekit.ViewEntities},
		{"create entity", "POST", "/admin/entities", url.Values{}, pagekit.ManageEntities},
		{"save entity data", "POST", "/admin/entities/00000000-0000-4000-8000-000000000000/data", url.Values{"data": {"{}"}}, pagekit.ManageEntities},
		{"rotate entity secret", "POST", "/admin/entities/00000000-0000-4000-8000-000000000000/rotate-secret", url.Values{}, pagekit.ManageEntities},
		{"grant on entity", "POST", "/admin/entities/00000000-0000-4000-8000-000000000000/grants", url.Values{"loginId": {"x@example.com"}}, pagekit.ManageEntities},
		{"revoke grant", "POST", "/admin/entities/00000000-0000-4000-8000-000000000000/grants/delete", url.Values{"userId": {"00000000-0000-4000-8000-000000000001"}}, pagekit.ManageEntities},
		{"delete entity", "POST", "/admin/entities/00000000-0000-4000-8000-000000000000/delete", url.Values{}, pagekit.ManageEntities},
		{"create entity type", "POST", "/admin/entity-types", url.Values{}, pagekit.ManageEntities},
		{"entity type page", "GET", "/admin/entity-types/00000000-0000-4000-8000-000000000000", nil, pagekit.ViewEntities},
		{"add permission", "POST", "/admin/entity-types/00000000-0000-4000-8000-000000000000/permissions", url.Values{}, pagekit.ManageEntities},
		{"delete permission", "POST", "/admin/entity-types/00000000-0000-4000-8000-000000000000/permissions/00000000-0000-4000-8000-000000000001/delete", url.Values{}, pagekit.ManageEntities},
		{"delete entity type", "POST", "/admin/entity-types/00000000-0000-4000-8000-000000000000/delete", url.Values{}, pagekit.ManageEntities},
		{"signing keys", "GET", "/admin/signing-keys", nil, pagekit.ViewSigningKeys},
		{"signing key page", "GET", "/admin/signing-keys/00000000-0000-4000-8000-000000000000", nil, pagekit.ViewSigningKeys},
		{"new signing key form", "GET", "/admin/signing-keys/new", nil, pagekit.ManageSigningKeys},
		{"generate signing key", "POST", "/admin/signing-keys", url.Values{}, pagekit.ManageSigningKeys},
		{"import signing key", "POST", "/admin/signing-keys/import", url.Values{}, pagekit.ManageSigningKeys},
		{"rename signing key", "POST", "/admin/signing-keys/00000000-0000-4000-8000-000000000000", url.Values{}, pagekit.ManageSigningKeys},
		{"rotate signing key", "POST", "/admin/signing-keys/00000000-0000-4000-8000-000000000000/rotate", url.Values{}, pagekit.ManageSigningKeys},
		{"delete signing key", "POST", "/admin/signing-keys/00000000-0000-4000-8000-000000000000/delete", url.Values{}, pagekit.ManageSigningKeys},
		{"ip lists", "GET", "/admin/ip-acls", nil, pagekit.ViewIPACLs},
		{"ip list page", "GET", "/admin/ip-acls/00000000-0000-4000-8000-000000000000", nil, pagekit.ViewIPACLs},
		{"new ip list form", "GET", "/admin/ip-acls/new", nil, pagekit.ManageIPACLs},
		{"create ip list", "POST", "/admin/ip-acls", url.Values{"entries": {"Wave *"}}, pagekit.ManageIPACLs},
		{"update ip list", "POST", "/admin/ip-acls/00000000-0000-4000-8000-000000000000", url.Values{}, pagekit.ManageIPACLs},
		{"delete ip list", "POST", "/admin/ip-acls/00000000-0000-4000-8000-000000000000/delete", url.Values{}, pagekit.DeleteIPACLs},
	}
}

// allowedByRole is, independently of the server's table, what each role may
// do; everything else must be refused with 403.
var allowedByRole = map[string][]pagekit.Action{
	"admin": {pagekit.ViewDashboard, pagekit.ViewAPIKeys, pagekit.ManageAPIKeys, pagekit.ViewAuditLog, pagekit.ViewUsers, pagekit.ManageUsers, pagekit.DeleteUsers,
		pagekit.ViewApplications, pagekit.ManageApplications, pagekit.DeleteApplications, pagekit.ViewIPACLs, pagekit.ManageIPACLs, pagekit.DeleteIPACLs, pagekit.ManageAdmins,
		pagekit.ViewSigningKeys, pagekit.ManageSigningKeys, pagekit.ViewTenants, pagekit.ManageTenants, pagekit.DeleteTenants,
		pagekit.ViewGroups, pagekit.ManageGroups, pagekit.DeleteGroups, pagekit.ViewEntities, pagekit.ManageEntities},
	"api_key_manager":      {pagekit.ViewDashboard, pagekit.ViewAPIKeys, pagekit.ManageAPIKeys},
	"audit_log_viewer":     {pagekit.ViewDashboard, pagekit.ViewAuditLog},
	"user_manager":         {pagekit.ViewDashboard, pagekit.ViewUsers, pagekit.ManageUsers},
	"user_deleter":         {pagekit.ViewDashboard, pagekit.ViewUsers, pagekit.DeleteUsers},
	"user_support_manager": {pagekit.ViewDashboard, pagekit.ViewUsers, pagekit.ManageUsers},
	"user_support_viewer":  {pagekit.ViewDashboard, pagekit.ViewUsers},
	"application_manager":  {pagekit.ViewDashboard, pagekit.ViewApplications, pagekit.ManageApplications},
	"application_deleter":  {pagekit.ViewDashboard, pagekit.ViewApplications, pagekit.DeleteApplications},
	"tenant_manager":       {pagekit.ViewDashboard, pagekit.ViewTenants, pagekit.ManageTenants},
	"tenant_deleter":       {pagekit.ViewDashboard, pagekit.ViewTenants, pagekit.DeleteTenants},
	"acl_manager":          {pagekit.ViewDashboard, pagekit.ViewIPACLs, pagekit.ManageIPACLs},
	"acl_deleter":          {pagekit.ViewDashboard, pagekit.ViewIPACLs, pagekit.DeleteIPACLs},
	"group_manager":        {pagekit.ViewDashboard, pagekit.ViewGroups, pagekit.ManageGroups},
	"group_deleter":        {pagekit.ViewDashboard, pagekit.ViewGroups, pagekit.DeleteGroups},
	"entity_manager":       {pagekit.ViewDashboard, pagekit.ViewEntities, pagekit.ManageEntities},
	"key_manager":          {pagekit.ViewDashboard, pagekit.ViewSigningKeys, pagekit.ManageSigningKeys},
	"system_manager":       {pagekit.ViewDashboard},
}

// navigationPages are the navigation's entries beyond the dashboard, with
// the action that opens each.
var navigationPages = map[string]pagekit.Action{
	"/admin/users": pagekit.ViewUsers, "/admin/applications": pagekit.ViewApplications, "/admin/tenants": pagekit.ViewTenants,
	"/admin/groups": pagekit.ViewGroups, "/admin/entities": pagekit.ViewEntities, "/admin/api-keys": pagekit.ViewAPIKeys,
	"/admin/signing-keys": pagekit.ViewSigningKeys, "/admin/ip-acls": pagekit.ViewIPACLs, "/admin/audit-log": pagekit.ViewAuditLog,
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
		if action != rq.action && rq.action != pagekit.ManageAdmins {
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
// whatever the navigation showed, and lets the others through, on both
// databases.
func TestRoleMatrix(t *testing.T) {
	testutil.EachBackend(t, func(t *testing.T, b testutil.Backend) {
		roleMatrix(t, b)
	})
}

func roleMatrix(t *testing.T, b testutil.Backend) {
	e := start(t, b)
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
				if got := pagekit.Allowed([]string{role}, rq.action); got != want {
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
	for _, rq := range append(matrixRequests(initial, target), request{"sign out", "POST", "/admin/logout", url.Values{}, pagekit.ViewDashboard}) {
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
