package api

// table is the whole /api surface: every route with what it demands. A route
// without an access rule does not start (New panics), and a test checks that
// every non-anonymous family is one FusionAuth's key permissions can name.
func (s *Server) table() []Route {
	return []Route{
		// Operations.
		{Pattern: "GET /api/status", Access: Anonymous, Handler: s.status},
		{Pattern: "GET /api/health", Access: Anonymous, Handler: s.health},
		{Pattern: "GET /api/system/version", Access: Endpoint, GlobalOnly: true, Handler: s.version},

		// API keys: gated by keyManager only, never by permissions.
		{Pattern: "POST /api/api-key", Access: KeyManager, Handler: s.createAPIKey},
		{Pattern: "POST /api/api-key/{id}", Access: KeyManager, Handler: s.createAPIKey},
		{Pattern: "GET /api/api-key", Access: KeyManager, Handler: s.listAPIKeys},
		{Pattern: "GET /api/api-key/{id}", Access: KeyManager, Handler: s.retrieveAPIKey},
		{Pattern: "PUT /api/api-key/{id}", Access: KeyManager, Handler: s.updateAPIKey},
		{Pattern: "PATCH /api/api-key/{id}", Access: KeyManager, Handler: s.patchAPIKey},
		{Pattern: "DELETE /api/api-key/{id}", Access: KeyManager, Handler: s.deleteAPIKey},
		{Pattern: "POST /api/api-key/search", Access: KeyManager, Handler: s.searchAPIKeys},

		// IP access control lists.
		{Pattern: "POST /api/ip-acl", Access: Endpoint, GlobalOnly: true, Handler: s.createIPACL},
		{Pattern: "POST /api/ip-acl/{id}", Access: Endpoint, GlobalOnly: true, Handler: s.createIPACL},
		{Pattern: "GET /api/ip-acl/{id}", Access: Endpoint, GlobalOnly: true, Handler: s.retrieveIPACL},
		{Pattern: "PUT /api/ip-acl/{id}", Access: Endpoint, GlobalOnly: true, Handler: s.updateIPACL},
		{Pattern: "PATCH /api/ip-acl/{id}", Access: Endpoint, GlobalOnly: true, Handler: s.patchIPACL},
		{Pattern: "DELETE /api/ip-acl/{id}", Access: Endpoint, GlobalOnly: true, Handler: s.deleteIPACL},
		{Pattern: "POST /api/ip-acl/search", Access: Endpoint, GlobalOnly: true, Handler: s.searchIPACLs},
		{Pattern: "GET /api/ip-acl/search", Access: Endpoint, GlobalOnly: true, Handler: s.searchIPACLs},

		// Audit log.
		{Pattern: "POST /api/system/audit-log/search", Access: Endpoint, GlobalOnly: true, Handler: s.searchAuditLogs},
		{Pattern: "GET /api/system/audit-log/search", Access: Endpoint, GlobalOnly: true, Handler: s.searchAuditLogs},
		{Pattern: "GET /api/system/audit-log/{id}", Access: Endpoint, GlobalOnly: true, Handler: s.retrieveAuditLog},

		// Tenants. Creating and searching are global operations; a tenant-scoped
		// key sees only its own tenants.
		{Pattern: "POST /api/tenant", Access: Endpoint, GlobalOnly: true, Handler: s.createTenant},
		{Pattern: "POST /api/tenant/{id}", Access: Endpoint, GlobalOnly: true, Handler: s.createTenant},
		{Pattern: "GET /api/tenant", Access: Endpoint, Handler: s.retrieveTenants},
		{Pattern: "GET /api/tenant/{id}", Access: Endpoint, Handler: s.retrieveTenant},
		{Pattern: "PUT /api/tenant/{id}", Access: Endpoint, Handler: s.updateTenant},
		{Pattern: "PATCH /api/tenant/{id}", Access: Endpoint, Handler: s.patchTenant},
		{Pattern: "DELETE /api/tenant/{id}", Access: Endpoint, Handler: s.deleteTenant},
		{Pattern: "POST /api/tenant/search", Access: Endpoint, GlobalOnly: true, Handler: s.searchTenants},
		{Pattern: "GET /api/tenant/search", Access: Endpoint, GlobalOnly: true, Handler: s.searchTenants},

		// Applications, their roles and OAuth configuration.
		{Pattern: "POST /api/application", Access: Endpoint, Handler: s.createApplication},
		{Pattern: "POST /api/application/{id}", Access: Endpoint, Handler: s.createApplication},
		{Pattern: "GET /api/application", Access: Endpoint, Handler: s.retrieveApplications},
		{Pattern: "GET /api/application/{id}", Access: Endpoint, Handler: s.retrieveApplication},
		{Pattern: "PUT /api/application/{id}", Access: Endpoint, Handler: s.updateApplication},
		{Pattern: "PATCH /api/application/{id}", Access: Endpoint, Handler: s.patchApplication},
		{Pattern: "DELETE /api/application/{id}", Access: Endpoint, Handler: s.deleteApplication},
		{Pattern: "POST /api/application/search", Access: Endpoint, Handler: s.searchApplications},
		{Pattern: "GET /api/application/search", Access: Endpoint, Handler: s.searchApplications},
		{Pattern: "GET /api/application/{id}/oauth-configuration", Access: Endpoint, Handler: s.retrieveOAuthConfiguration},
		{Pattern: "POST /api/application/{id}/role", Access: Endpoint, Handler: s.createRole},
		{Pattern: "POST /api/application/{id}/role/{roleId}", Access: Endpoint, Handler: s.createRole},
		{Pattern: "PUT /api/application/{id}/role/{roleId}", Access: Endpoint, Handler: s.updateRole},
		{Pattern: "PATCH /api/application/{id}/role/{roleId}", Access: Endpoint, Handler: s.patchRole},
		{Pattern: "DELETE /api/application/{id}/role/{roleId}", Access: Endpoint, Handler: s.deleteRole},
		{Pattern: "DELETE /api/application/{id}/role", Access: Endpoint, Handler: s.deleteRole},
	}
}
