package pagekit

import "slices"

// Action is what an admin does on a page: see it, or change something.
type Action string

// The admin UI's actions. Each route names one; the server refuses (403)
// an action the admin's roles do not allow, whatever the page showed.
const (
	ViewDashboard Action = "dashboard.view"
	ViewAPIKeys   Action = "apiKeys.view"
	ManageAPIKeys Action = "apiKeys.manage"
	ViewAuditLog  Action = "auditLog.view"
	ViewUsers     Action = "users.view"
	ManageUsers   Action = "users.manage"
	DeleteUsers   Action = "users.delete"
	// Applications: ViewApplications shows settings and roles (never the
	// client secret); ManageApplications creates applications, changes
	// them, shows and rotates the secret; DeleteApplications deletes them.
	ViewApplications   Action = "applications.view"
	ManageApplications Action = "applications.manage"
	DeleteApplications Action = "applications.delete"
	// ManageAdmins changes an administrator's profile (whose email leads
	// to a password reset), anyone's roles in the admin application (a
	// user's or a group's) and the admin application's OAuth settings and
	// secret: only admin may, so no other role can raise its own rights.
	ManageAdmins Action = "users.admins"
	ViewIPACLs   Action = "ipAcls.view"
	ManageIPACLs Action = "ipAcls.manage"
	DeleteIPACLs Action = "ipAcls.delete"
	// Signing keys: ManageSigningKeys generates, imports, renames, rotates
	// (which names the new key in the tenants and applications that named
	// the old one) and deletes.
	ViewTenants       Action = "tenants.view"
	ManageTenants     Action = "tenants.manage"
	DeleteTenants     Action = "tenants.delete"
	ViewGroups        Action = "groups.view"
	ManageGroups      Action = "groups.manage"
	DeleteGroups      Action = "groups.delete"
	ViewEntities      Action = "entities.view"
	ManageEntities    Action = "entities.manage"
	ViewSigningKeys   Action = "signingKeys.view"
	ManageSigningKeys Action = "signingKeys.manage"
)

// SuperRole may do everything.
const SuperRole = "admin"

// actionRoles is the one table of who may do what: the roles of the admin
// application (FusionAuth's names) that allow each action, besides admin.
// An action missing here is refused to all but admin (deny by default).
var actionRoles = map[Action][]string{
	ViewDashboard:      adminRoles, // every admin sees the dashboard
	ViewAPIKeys:        {"api_key_manager"},
	ManageAPIKeys:      {"api_key_manager"},
	ViewAuditLog:       {"audit_log_viewer"},
	ViewUsers:          {"user_manager", "user_deleter", "user_support_manager", "user_support_viewer"},
	ManageUsers:        {"user_manager", "user_support_manager"},
	DeleteUsers:        {"user_deleter"},
	ViewApplications:   {"application_manager", "application_deleter"},
	ManageApplications: {"application_manager"},
	DeleteApplications: {"application_deleter"},
	ViewIPACLs:         {"acl_manager", "acl_deleter"},
	ManageIPACLs:       {"acl_manager"},
	DeleteIPACLs:       {"acl_deleter"},
	ManageAdmins:       nil, // admin only
	ViewTenants:        {"tenant_manager", "tenant_deleter"},
	ManageTenants:      {"tenant_manager"},
	DeleteTenants:      {"tenant_deleter"},
	ViewGroups:         {"group_manager", "group_deleter"},
	ManageGroups:       {"group_manager"},
	DeleteGroups:       {"group_deleter"},
	ViewEntities:       {"entity_manager"},
	ManageEntities:     {"entity_manager"},
	ViewSigningKeys:    {"key_manager"},
	ManageSigningKeys:  {"key_manager"},
}

// adminRoles are the roles of the admin application that open the admin UI.
var adminRoles = []string{
	"admin", "acl_deleter", "acl_manager", "api_key_manager", "application_deleter", "application_manager",
	"audit_log_viewer", "connector_deleter", "connector_manager", "consent_deleter", "consent_manager",
	"email_template_manager", "entity_manager", "event_log_viewer", "form_deleter", "form_manager",
	"group_deleter", "group_manager", "key_manager", "lambda_manager", "message_template_deleter",
	"message_template_manager", "messenger_deleter", "messenger_manager", "reactor_manager", "report_viewer",
	"system_manager", "tenant_deleter", "tenant_manager", "theme_manager", "user_action_deleter",
	"user_action_manager", "user_deleter", "user_manager", "user_support_manager", "user_support_viewer",
	"webhook_event_log_viewer", "webhook_manager",
}

// Allowed reports whether an admin with roles may take action.
func Allowed(roles []string, action Action) bool {
	if slices.Contains(roles, SuperRole) {
		return true
	}
	for _, r := range actionRoles[action] {
		if slices.Contains(roles, r) {
			return true
		}
	}
	return false
}

// IsAdmin reports whether roles include any role of the admin application.
func IsAdmin(roles []string) bool {
	for _, r := range roles {
		if slices.Contains(adminRoles, r) {
			return true
		}
	}
	return false
}

// navItem is one entry of the navigation.
type navItem struct {
	Key, Label, Path string
	Action           Action
}

// navigation is every page of the menu; each is shown only to roles that
// may view it.
var navigation = []navItem{
	{"dashboard", "Dashboard", "/admin", ViewDashboard},
	{"users", "Users", "/admin/users", ViewUsers},
	{"applications", "Applications", "/admin/applications", ViewApplications},
	{"tenants", "Tenants", "/admin/tenants", ViewTenants},
	{"groups", "Groups", "/admin/groups", ViewGroups},
	{"entities", "Entities", "/admin/entities", ViewEntities},
	{"api-keys", "API keys", "/admin/api-keys", ViewAPIKeys},
	{"signing-keys", "Signing keys", "/admin/signing-keys", ViewSigningKeys},
	{"ip-acls", "IP lists", "/admin/ip-acls", ViewIPACLs},
	{"audit-log", "Audit log", "/admin/audit-log", ViewAuditLog},
}
