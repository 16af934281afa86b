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
		{Pattern: "GET /api/prometheus/metrics", Access: Endpoint, GlobalOnly: true, Handler: s.prometheusMetrics},

		// System configuration: Latch interprets corsConfiguration and keeps the rest (system.go).
		{Pattern: "GET /api/system-configuration", Access: Endpoint, GlobalOnly: true, Handler: handle(s, noBody, s.retrieveSystemConfiguration)},
		{Pattern: "PUT /api/system-configuration", Access: Endpoint, GlobalOnly: true, Handler: handle(s, jsonBody[systemConfigurationRequest], s.updateSystemConfiguration)},
		{Pattern: "PATCH /api/system-configuration", Access: Endpoint, GlobalOnly: true, Handler: handle(s, patchBody, s.patchSystemConfiguration)},

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
		{Pattern: "POST /api/ip-acl", Access: Endpoint, GlobalOnly: true, Handler: handle(s, jsonBody[ipaclRequest], s.createIPACL)},
		{Pattern: "POST /api/ip-acl/{id}", Access: Endpoint, GlobalOnly: true, Handler: handle(s, jsonBody[ipaclRequest], s.createIPACL)},
		{Pattern: "GET /api/ip-acl/{id}", Access: Endpoint, GlobalOnly: true, Handler: handle(s, noBody, s.retrieveIPACL)},
		{Pattern: "PUT /api/ip-acl/{id}", Access: Endpoint, GlobalOnly: true, Handler: s.notOwnList(handle(s, jsonBody[ipaclRequest], s.updateIPACL))},
		{Pattern: "PATCH /api/ip-acl/{id}", Access: Endpoint, GlobalOnly: true, Handler: s.notOwnList(handle(s, patchBody, s.patchIPACL))},
		{Pattern: "DELETE /api/ip-acl/{id}", Access: Endpoint, GlobalOnly: true, Handler: s.notOwnList(handle(s, noBody, s.deleteIPACL))},
		{Pattern: "POST /api/ip-acl/search", Access: Endpoint, GlobalOnly: true, Handler: handle(s, search(ipaclQuery), s.searchIPACLs)},
		{Pattern: "GET /api/ip-acl/search", Access: Endpoint, GlobalOnly: true, Handler: handle(s, search(ipaclQuery), s.searchIPACLs)},

		// Audit log.
		{Pattern: "POST /api/system/audit-log/search", Access: Endpoint, GlobalOnly: true, Handler: handle(s, search(auditQuery), s.searchAuditLogs)},
		{Pattern: "GET /api/system/audit-log/search", Access: Endpoint, GlobalOnly: true, Handler: handle(s, search(auditQuery), s.searchAuditLogs)},
		{Pattern: "GET /api/system/audit-log/{id}", Access: Endpoint, GlobalOnly: true, Handler: s.retrieveAuditLog},
		{Pattern: "POST /api/system/audit-log", Access: Endpoint, GlobalOnly: true, Handler: handle(s, jsonBody[auditAppend], s.createAuditLog)},
		{Pattern: "POST /api/system/audit-log/export", Access: Endpoint, GlobalOnly: true, Handler: s.exportAuditLogs},
		{Pattern: "GET /api/system/audit-log/export", Access: Endpoint, GlobalOnly: true, Handler: s.exportAuditLogs},

		// Webhooks and what became of their events (webhooks.go).
		{Pattern: "POST /api/webhook", Access: Endpoint, GlobalOnly: true, Handler: handle(s, jsonBody[webhookRequest], s.createWebhook)},
		{Pattern: "POST /api/webhook/{id}", Access: Endpoint, GlobalOnly: true, Handler: handle(s, jsonBody[webhookRequest], s.createWebhook)},
		{Pattern: "GET /api/webhook", Access: Endpoint, GlobalOnly: true, Handler: handle(s, noBody, s.retrieveWebhooks)},
		{Pattern: "GET /api/webhook/{id}", Access: Endpoint, GlobalOnly: true, Handler: handle(s, noBody, s.retrieveWebhook)},
		{Pattern: "PUT /api/webhook/{id}", Access: Endpoint, GlobalOnly: true, Handler: handle(s, jsonBody[webhookRequest], s.updateWebhook)},
		{Pattern: "PATCH /api/webhook/{id}", Access: Endpoint, GlobalOnly: true, Handler: handle(s, patchBody, s.patchWebhook)},
		{Pattern: "DELETE /api/webhook/{id}", Access: Endpoint, GlobalOnly: true, Handler: handle(s, noBody, s.deleteWebhook)},
		{Pattern: "POST /api/webhook/search", Access: Endpoint, GlobalOnly: true, Handler: handle(s, search(webhookQuery), s.searchWebhooks)},
		{Pattern: "GET /api/webhook/search", Access: Endpoint, GlobalOnly: true, Handler: handle(s, search(webhookQuery), s.searchWebhooks)},
		{Pattern: "GET /api/system/webhook-event-log/{id}", Access: Endpoint, GlobalOnly: true, Handler: handle(s, noBody, s.retrieveWebhookEventLog)},
		{Pattern: "POST /api/system/webhook-event-log/search", Access: Endpoint, GlobalOnly: true, Handler: handle(s, search(webhookEventLogQuery), s.searchWebhookEventLogs)},
		{Pattern: "GET /api/system/webhook-event-log/search", Access: Endpoint, GlobalOnly: true, Handler: handle(s, search(webhookEventLogQuery), s.searchWebhookEventLogs)},
		{Pattern: "GET /api/system/webhook-attempt-log/{id}", Access: Endpoint, GlobalOnly: true, Handler: handle(s, noBody, s.retrieveWebhookAttemptLog)},
		{Pattern: "GET /api/system/event-log/{id}", Access: Endpoint, GlobalOnly: true, Handler: handle(s, noBody, s.retrieveEventLog)},
		{Pattern: "POST /api/system/event-log/search", Access: Endpoint, GlobalOnly: true, Handler: handle(s, search(eventLogQuery), s.searchEventLogs)},
		{Pattern: "GET /api/system/event-log/search", Access: Endpoint, GlobalOnly: true, Handler: handle(s, search(eventLogQuery), s.searchEventLogs)},

		// Email templates and sending (emailtemplates.go). Mail is queued and
		// sent by each node's mailer.
		{Pattern: "POST /api/email/template", Access: Endpoint, GlobalOnly: true, Handler: handle(s, jsonBody[emailTemplateRequest], s.createEmailTemplate)},
		{Pattern: "POST /api/email/template/{id}", Access: Endpoint, GlobalOnly: true, Handler: handle(s, jsonBody[emailTemplateRequest], s.createEmailTemplate)},
		{Pattern: "GET /api/email/template", Access: Endpoint, GlobalOnly: true, Handler: handle(s, noBody, s.retrieveEmailTemplates)},
		{Pattern: "GET /api/email/template/{id}", Access: Endpoint, GlobalOnly: true, Handler: handle(s, noBody, s.retrieveEmailTemplate)},
		{Pattern: "PUT /api/email/template/{id}", Access: Endpoint, GlobalOnly: true, Handler: handle(s, jsonBody[emailTemplateRequest], s.updateEmailTemplate)},
		{Pattern: "PATCH /api/email/template/{id}", Access: Endpoint, GlobalOnly: true, Handler: handle(s, patchBody, s.patchEmailTemplate)},
		{Pattern: "DELETE /api/email/template/{id}", Access: Endpoint, GlobalOnly: true, Handler: handle(s, noBody, s.deleteEmailTemplate)},
		{Pattern: "POST /api/email/template/search", Access: Endpoint, GlobalOnly: true, Handler: handle(s, search(emailTemplateQuery), s.searchEmailTemplates)},
		{Pattern: "GET /api/email/template/search", Access: Endpoint, GlobalOnly: true, Handler: handle(s, search(emailTemplateQuery), s.searchEmailTemplates)},
		{Pattern: "POST /api/email/template/preview", Access: Endpoint, GlobalOnly: true, Handler: handle(s, jsonBody[previewRequest], s.previewEmailTemplate)},
		{Pattern: "POST /api/email/send/{id}", Access: Endpoint, Handler: handle(s, jsonBody[sendEmailRequest], s.sendEmail)},
		{Pattern: "POST /api/email/send", Access: Endpoint, Handler: handle(s, jsonBody[emailTestRequest], s.testEmail)},

		// Tenants. Creating and searching are global operations; a tenant-scoped
		// key sees only its own tenants.
		{Pattern: "POST /api/tenant", Access: Endpoint, GlobalOnly: true, Handler: s.createTenant},
		{Pattern: "POST /api/tenant/{id}", Access: Endpoint, GlobalOnly: true, Handler: s.createTenant},
		{Pattern: "GET /api/tenant", Access: Endpoint, Handler: handle(s, noBody, s.retrieveTenants)},
		{Pattern: "GET /api/tenant/{id}", Access: Endpoint, Handler: handle(s, noBody, s.retrieveTenant)},
		{Pattern: "PUT /api/tenant/{id}", Access: Endpoint, Handler: handle(s, objectBody, s.updateTenant)},
		{Pattern: "PATCH /api/tenant/{id}", Access: Endpoint, Handler: handle(s, patchBody, s.patchTenant)},
		{Pattern: "DELETE /api/tenant/{id}", Access: Endpoint, Handler: s.deleteTenant},
		{Pattern: "POST /api/tenant/search", Access: Endpoint, GlobalOnly: true, Handler: s.searchTenants},
		{Pattern: "GET /api/tenant/search", Access: Endpoint, GlobalOnly: true, Handler: s.searchTenants},

		// Applications, their roles and OAuth configuration.
		{Pattern: "POST /api/application", Access: Endpoint, Handler: handle(s, objectBody, s.createApplication)},
		{Pattern: "POST /api/application/{id}", Access: Endpoint, Handler: handle(s, objectBody, s.createApplication)},
		{Pattern: "GET /api/application", Access: Endpoint, Handler: handle(s, noBody, s.retrieveApplications)},
		{Pattern: "GET /api/application/{id}", Access: Endpoint, Handler: handle(s, noBody, s.retrieveApplication)},
		{Pattern: "PUT /api/application/{id}", Access: Endpoint, Handler: s.updateApplication},
		{Pattern: "PATCH /api/application/{id}", Access: Endpoint, Handler: handle(s, patchBody, s.patchApplication)},
		{Pattern: "DELETE /api/application/{id}", Access: Endpoint, Handler: handle(s, noBody, s.deleteApplication)},
		{Pattern: "POST /api/application/search", Access: Endpoint, Handler: handle(s, search(applicationQuery), s.searchApplications)},
		{Pattern: "GET /api/application/search", Access: Endpoint, Handler: handle(s, search(applicationQuery), s.searchApplications)},
		{Pattern: "GET /api/application/{id}/oauth-configuration", Access: Endpoint, Handler: handle(s, noBody, s.retrieveOAuthConfiguration)},
		{Pattern: "POST /api/application/{id}/role", Access: Endpoint, Handler: handle(s, objectBody, s.createRole)},
		{Pattern: "POST /api/application/{id}/role/{roleId}", Access: Endpoint, Handler: handle(s, objectBody, s.createRole)},
		{Pattern: "PUT /api/application/{id}/role/{roleId}", Access: Endpoint, Handler: handle(s, objectBody, s.updateRole)},
		{Pattern: "PATCH /api/application/{id}/role/{roleId}", Access: Endpoint, Handler: handle(s, patchBody, s.patchRole)},
		{Pattern: "DELETE /api/application/{id}/role/{roleId}", Access: Endpoint, Handler: handle(s, noBody, s.deleteRole)},
		{Pattern: "DELETE /api/application/{id}/role", Access: Endpoint, Handler: handle(s, noBody, s.deleteRole)},

		// Users, their search and bulk delete, forgot and change password.
		// Change password is anonymous with a changePasswordId and needs a key
		// with a loginId, as in FusionAuth (the handler checks the key).
		{Pattern: "POST /api/user", Access: Endpoint, Handler: handle(s, objectBody, s.createUser)},
		{Pattern: "POST /api/user/{id}", Access: Endpoint, Handler: handle(s, objectBody, s.createUser)},
		{Pattern: "GET /api/user", Access: Endpoint, Handler: handle(s, noBody, s.retrieveUserBy)},
		{Pattern: "GET /api/user/{id}", Access: Endpoint, Handler: handle(s, noBody, s.retrieveUser)},
		{Pattern: "PUT /api/user/{id}", Access: Endpoint, Handler: s.updateUser},
		{Pattern: "PATCH /api/user/{id}", Access: Endpoint, Handler: handle(s, patchBody, s.patchUser)},
		{Pattern: "DELETE /api/user/{id}", Access: Endpoint, Handler: handle(s, optionalBody[userDeleteRequest], s.deleteUser)},
		{Pattern: "POST /api/user/search", Access: Endpoint, Handler: s.searchUsers},
		{Pattern: "POST /api/user/import", Access: Endpoint, Handler: s.importUsers},
		{Pattern: "GET /api/user/search", Access: Endpoint, Handler: s.searchUsers},
		{Pattern: "PUT /api/user/search", Access: Endpoint, Handler: s.refreshUserSearchIndex},
		{Pattern: "DELETE /api/user/bulk", Access: Endpoint, Handler: s.deleteUsers},
		{Pattern: "POST /api/user/forgot-password", Access: Anonymous, Handler: s.forgotPassword},
		{Pattern: "POST /api/user/verify-email", Access: Anonymous, Handler: s.verifyEmail},
		{Pattern: "PUT /api/user/verify-email", Access: Endpoint, Handler: handle(s, ignoredBody, s.resendVerifyEmail)},
		{Pattern: "POST /api/user/verify-registration", Access: Anonymous, Handler: s.verifyRegistration},
		{Pattern: "POST /api/user/verify-registration/{verificationId}", Access: Anonymous, Handler: s.verifyRegistration},
		{Pattern: "PUT /api/user/verify-registration", Access: Endpoint, Handler: handle(s, ignoredBody, s.resendVerifyRegistration)},
		{Pattern: "POST /api/user/change-password", Access: Anonymous, Handler: s.changePassword},
		{Pattern: "POST /api/user/change-password/{changePasswordId}", Access: Anonymous, Handler: s.changePassword},
		{Pattern: "GET /api/user/change-password", Access: Anonymous, Handler: s.checkChangePassword},
		{Pattern: "GET /api/user/change-password/{changePasswordId}", Access: Anonymous, Handler: s.checkChangePassword},

		// Registrations. POST with a "user" member creates the user as well.
		{Pattern: "POST /api/user/registration", Access: Endpoint, Handler: handle(s, objectBody, s.register)},
		{Pattern: "POST /api/user/registration/{userId}", Access: Endpoint, Handler: handle(s, objectBody, s.register)},
		{Pattern: "POST /api/user/registration/{userId}/{applicationId}", Access: Endpoint, Handler: handle(s, objectBody, s.register)},
		{Pattern: "GET /api/user/registration/{userId}/{applicationId}", Access: Endpoint, Handler: handle(s, noBody, s.retrieveRegistration)},
		{Pattern: "PUT /api/user/registration/{userId}", Access: Endpoint, Handler: handle(s, objectBody, s.updateRegistration)},
		{Pattern: "PUT /api/user/registration/{userId}/{applicationId}", Access: Endpoint, Handler: handle(s, objectBody, s.updateRegistration)},
		{Pattern: "PATCH /api/user/registration/{userId}", Access: Endpoint, Handler: handle(s, patchBody, s.patchRegistration)},
		{Pattern: "PATCH /api/user/registration/{userId}/{applicationId}", Access: Endpoint, Handler: handle(s, patchBody, s.patchRegistration)},
		{Pattern: "DELETE /api/user/registration/{userId}/{applicationId}", Access: Endpoint, Handler: handle(s, ignoredBody, s.deleteRegistration)},

		// Groups, their roles and members.
		{Pattern: "POST /api/group", Access: Endpoint, Handler: handle(s, groupRequestBody, s.createGroup)},
		{Pattern: "POST /api/group/{id}", Access: Endpoint, Handler: handle(s, groupRequestBody, s.createGroup)},
		{Pattern: "GET /api/group", Access: Endpoint, Handler: handle(s, noBody, s.retrieveGroups)},
		{Pattern: "GET /api/group/{id}", Access: Endpoint, Handler: handle(s, noBody, s.retrieveGroup)},
		{Pattern: "PUT /api/group/{id}", Access: Endpoint, Handler: handle(s, groupRequestBody, s.updateGroup)},
		{Pattern: "PATCH /api/group/{id}", Access: Endpoint, Handler: handle(s, patchBody, s.patchGroup)},
		{Pattern: "DELETE /api/group/{id}", Access: Endpoint, Handler: handle(s, noBody, s.deleteGroup)},
		{Pattern: "POST /api/group/search", Access: Endpoint, Handler: handle(s, search(groupQuery), s.searchGroups)},
		{Pattern: "GET /api/group/search", Access: Endpoint, Handler: handle(s, search(groupQuery), s.searchGroups)},
		{Pattern: "POST /api/group/member", Access: Endpoint, Handler: handle(s, memberRequestBody, s.writeGroupMembers)},
		{Pattern: "PUT /api/group/member", Access: Endpoint, Handler: handle(s, memberRequestBody, s.writeGroupMembers)},
		{Pattern: "DELETE /api/group/member", Access: Endpoint, Handler: s.deleteGroupMembers},
		{Pattern: "DELETE /api/group/member/{memberId}", Access: Endpoint, Handler: s.deleteGroupMembers},
		{Pattern: "POST /api/group/member/search", Access: Endpoint, Handler: handle(s, search(memberQuery), s.searchGroupMembers)},
		{Pattern: "GET /api/group/member/search", Access: Endpoint, Handler: handle(s, search(memberQuery), s.searchGroupMembers)},

		// Entity types (global objects) and their permissions; entities
		// (tenant-scoped, as users) and grants on them (entities.go).
		{Pattern: "POST /api/entity/type", Access: Endpoint, GlobalOnly: true, Handler: handle(s, objectBody, s.createEntityType)},
		{Pattern: "POST /api/entity/type/{id}", Access: Endpoint, GlobalOnly: true, Handler: handle(s, objectBody, s.createEntityType)},
		{Pattern: "GET /api/entity/type", Access: Endpoint, Handler: handle(s, noBody, s.retrieveEntityTypes)},
		{Pattern: "GET /api/entity/type/{id}", Access: Endpoint, Handler: handle(s, noBody, s.retrieveEntityType)},
		{Pattern: "PUT /api/entity/type/{id}", Access: Endpoint, GlobalOnly: true, Handler: handle(s, objectBody, s.updateEntityType)},
		{Pattern: "PATCH /api/entity/type/{id}", Access: Endpoint, GlobalOnly: true, Handler: handle(s, patchBody, s.patchEntityType)},
		{Pattern: "DELETE /api/entity/type/{id}", Access: Endpoint, GlobalOnly: true, Handler: handle(s, noBody, s.deleteEntityType)},
		{Pattern: "POST /api/entity/type/search", Access: Endpoint, Handler: handle(s, search(entityTypeQuery), s.searchEntityTypes)},
		{Pattern: "GET /api/entity/type/search", Access: Endpoint, Handler: handle(s, search(entityTypeQuery), s.searchEntityTypes)},
		{Pattern: "POST /api/entity/type/{id}/permission", Access: Endpoint, GlobalOnly: true, Handler: handle(s, objectBody, s.createEntityTypePermission)},
		{Pattern: "POST /api/entity/type/{id}/permission/{permissionId}", Access: Endpoint, GlobalOnly: true, Handler: handle(s, objectBody, s.createEntityTypePermission)},
		{Pattern: "PUT /api/entity/type/{id}/permission/{permissionId}", Access: Endpoint, GlobalOnly: true, Handler: handle(s, objectBody, s.updateEntityTypePermission)},
		{Pattern: "PATCH /api/entity/type/{id}/permission/{permissionId}", Access: Endpoint, GlobalOnly: true, Handler: handle(s, patchBody, s.patchEntityTypePermission)},
		{Pattern: "DELETE /api/entity/type/{id}/permission/{permissionId}", Access: Endpoint, GlobalOnly: true, Handler: handle(s, noBody, s.deleteEntityTypePermission)},
		{Pattern: "POST /api/entity", Access: Endpoint, Handler: handle(s, objectBody, s.createEntity)},
		{Pattern: "POST /api/entity/{id}", Access: Endpoint, Handler: handle(s, objectBody, s.createEntity)},
		{Pattern: "GET /api/entity/{id}", Access: Endpoint, Handler: handle(s, noBody, s.retrieveEntity)},
		{Pattern: "PUT /api/entity/{id}", Access: Endpoint, Handler: handle(s, objectBody, s.updateEntity)},
		{Pattern: "PATCH /api/entity/{id}", Access: Endpoint, Handler: handle(s, patchBody, s.patchEntity)},
		{Pattern: "DELETE /api/entity/{id}", Access: Endpoint, Handler: handle(s, noBody, s.deleteEntity)},
		{Pattern: "POST /api/entity/search", Access: Endpoint, Handler: handle(s, search(entityQuery), s.searchEntities)},
		{Pattern: "GET /api/entity/search", Access: Endpoint, Handler: handle(s, search(entityQuery), s.searchEntities)},
		{Pattern: "PUT /api/entity/search", Access: Endpoint, Handler: handle(s, ignoredBody, s.refreshEntitySearchIndex)},
		{Pattern: "POST /api/entity/{id}/grant", Mux: "POST /api/entity/{id}/{sub}", Access: Endpoint, Handler: s.grantRoute(handle(s, objectBody, s.upsertEntityGrant))},
		{Pattern: "GET /api/entity/{id}/grant", Mux: "GET /api/entity/{id}/{sub}", Access: Endpoint, Handler: s.grantRoute(handle(s, noBody, s.retrieveEntityGrant))},
		{Pattern: "DELETE /api/entity/{id}/grant", Mux: "DELETE /api/entity/{id}/{sub}", Access: Endpoint, Handler: s.grantRoute(handle(s, ignoredBody, s.deleteEntityGrant))},
		{Pattern: "POST /api/entity/grant/search", Access: Endpoint, Handler: handle(s, search(entityGrantQuery), s.searchEntityGrants)},
		{Pattern: "GET /api/entity/grant/search", Access: Endpoint, Handler: handle(s, search(entityGrantQuery), s.searchEntityGrants)},

		// Signing keys (Key Master) and the public keys that verify JWTs.
		{Pattern: "GET /api/key", Access: Endpoint, GlobalOnly: true, Handler: handle(s, noBody, s.retrieveKeys)},
		{Pattern: "GET /api/key/{id}", Access: Endpoint, GlobalOnly: true, Handler: handle(s, noBody, s.retrieveKey)},
		{Pattern: "POST /api/key/generate", Access: Endpoint, GlobalOnly: true, Handler: handle(s, jsonBody[keyRequest], s.generateKey)},
		{Pattern: "POST /api/key/generate/{id}", Access: Endpoint, GlobalOnly: true, Handler: handle(s, jsonBody[keyRequest], s.generateKey)},
		{Pattern: "POST /api/key/import", Access: Endpoint, GlobalOnly: true, Handler: handle(s, jsonBody[keyRequest], s.importKey)},
		{Pattern: "POST /api/key/import/{id}", Access: Endpoint, GlobalOnly: true, Handler: handle(s, jsonBody[keyRequest], s.importKey)},
		{Pattern: "PUT /api/key/{id}", Access: Endpoint, GlobalOnly: true, Handler: handle(s, jsonBody[keyRequest], s.updateKey)},
		{Pattern: "DELETE /api/key/{id}", Access: Endpoint, GlobalOnly: true, Handler: handle(s, noBody, s.deleteKey)},
		{Pattern: "POST /api/key/search", Access: Endpoint, GlobalOnly: true, Handler: handle(s, search(keyQuery), s.searchKeys)},
		{Pattern: "GET /api/key/search", Access: Endpoint, GlobalOnly: true, Handler: handle(s, search(keyQuery), s.searchKeys)},
		{Pattern: "GET /api/jwt/public-key", Access: Anonymous, Handler: s.retrieveJWTPublicKeys},

		// Login, logout, JWTs and refresh tokens (login.go). The Login API is
		// Anonymous here: the application's requireAuthentication decides
		// whether it needs a key, so the handler checks the key's permission
		// for /api/login itself. The login ping always needs one.
		{Pattern: "POST /api/login", Access: Anonymous, Handler: s.login},
		{Pattern: "POST /api/passwordless/start", Access: Endpoint, Handler: s.startPasswordless},
		{Pattern: "POST /api/passwordless/send", Access: Anonymous, Handler: s.sendPasswordless},
		{Pattern: "POST /api/passwordless/login", Access: Anonymous, Handler: s.passwordlessLogin},
		{Pattern: "PUT /api/login", Access: Endpoint, Handler: s.loginPing},
		{Pattern: "PUT /api/login/{userId}/{applicationId}", Access: Endpoint, Handler: s.loginPing},
		{Pattern: "POST /api/logout", Access: Anonymous, Handler: s.logout},
		{Pattern: "GET /api/jwt/validate", Access: Anonymous, Handler: s.validateJWT},
		{Pattern: "GET /api/jwt/issue", Access: Anonymous, Handler: s.issueJWT},
		{Pattern: "POST /api/jwt/refresh", Access: Anonymous, Handler: s.refreshJWT},
		{Pattern: "GET /api/jwt/refresh", Access: Endpoint, Handler: s.retrieveRefreshTokens},
		{Pattern: "GET /api/jwt/refresh/{tokenId}", Access: Endpoint, Handler: s.retrieveRefreshToken},
		{Pattern: "DELETE /api/jwt/refresh", Access: Endpoint, Handler: s.revokeRefreshTokens},
		{Pattern: "DELETE /api/jwt/refresh/{tokenId}", Access: Endpoint, Handler: s.revokeRefreshTokens},

		// Two-factor (twofactor.go). The forms without a user id act on the
		// user of a JWT (or, for the secret, accept a key); the handler checks.
		// Two-factor login needs a key exactly when /api/login does.
		{Pattern: "GET /api/two-factor/secret", Access: Anonymous, Handler: s.twoFactorSecret},
		{Pattern: "POST /api/two-factor/login", Access: Anonymous, Handler: s.twoFactorLogin},
		{Pattern: "POST /api/two-factor/start", Access: Endpoint, Handler: s.startTwoFactor},
		{Pattern: "GET /api/two-factor/status", Access: Endpoint, Handler: s.twoFactorStatus},
		{Pattern: "GET /api/two-factor/status/{twoFactorTrustId}", Access: Endpoint, Handler: s.twoFactorStatus},
		{Pattern: "POST /api/two-factor/status", Access: Endpoint, Handler: s.twoFactorStatus},
		{Pattern: "POST /api/two-factor/send", Access: Endpoint, Handler: s.sendTwoFactorCode},
		{Pattern: "POST /api/two-factor/send/{twoFactorId}", Access: Anonymous, Handler: s.sendTwoFactorCode},
		{Pattern: "POST /api/user/two-factor", Access: Anonymous, Handler: s.enableTwoFactor},
		{Pattern: "POST /api/user/two-factor/{userId}", Access: Endpoint, Handler: s.enableTwoFactor},
		{Pattern: "DELETE /api/user/two-factor", Access: Anonymous, Handler: s.disableTwoFactor},
		{Pattern: "DELETE /api/user/two-factor/{userId}", Access: Endpoint, Handler: s.disableTwoFactor},
	}
}
