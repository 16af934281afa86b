-- What a Latch on the first schema (0001_init.sql) wrote: a tenant, an
-- application with roles, a user (a non-ASCII email, lower-cased the way the
-- first schema did, before login keys were normalised) registered to it with
-- a role, an IP ACL, a key-manager API key (the SHA-256 of
-- "migratest-api-key-0001"), an audit entry and the setup setting.
INSERT INTO system_settings (name, value) VALUES ('setup_completed_instant', '1700000000000');

INSERT INTO tenants (id, name, name_lower, data, insert_instant, last_update_instant)
VALUES ('7e0b5a22-0001-4000-8000-000000000001', 'Acme', 'acme', '{}', 1700000000000, 1700000000000);

INSERT INTO applications (id, tenant_id, name, active, data, insert_instant, last_update_instant)
VALUES ('7e0b5a22-0001-4000-8000-000000000002', '7e0b5a22-0001-4000-8000-000000000001', 'Pets', TRUE,
        '{"data":{"kept":"as written"},"loginConfiguration":{"allowTokenRefresh":true,"generateRefreshTokens":true}}', 1700000000000, 1700000000000);

INSERT INTO application_roles (id, application_id, name, description, is_default, is_super_role, insert_instant, last_update_instant)
VALUES ('7e0b5a22-0001-4000-8000-000000000003', '7e0b5a22-0001-4000-8000-000000000002', 'vet', 'Sees every pet', FALSE, FALSE, 1700000000000, 1700000000000),
       ('7e0b5a22-0001-4000-8000-000000000004', '7e0b5a22-0001-4000-8000-000000000002', 'owner', '', TRUE, FALSE, 1700000000000, 1700000000000);

-- The password is "password" (FusionAuth's salted-sha256 test vector).
INSERT INTO users (id, tenant_id, email, email_lower, username, username_lower, full_name, password_hash,
                   password_change_required, active, verified, data, insert_instant, last_update_instant,
                   last_login_instant, password_last_update_instant)
VALUES ('7e0b5a22-0001-4000-8000-000000000005', '7e0b5a22-0001-4000-8000-000000000001',
        'Jürgen@Example.com', 'jürgen@example.com', 'Jürgen', 'jürgen', 'Jürgen Vet',
        'salted-sha256$1$jVqbuA9k2Mlo37OWXBMKLw==$PQR2dLr62m94/Y8kgyWKg8CHdbFlSeHGNdgK52z2mpw=',
        FALSE, TRUE, TRUE, '{"data":{"favourite":"cats"}}', 1700000000000, 1700000000000, NULL, 1700000000000);

INSERT INTO registrations (id, user_id, application_id, roles, data, insert_instant, last_update_instant)
VALUES ('7e0b5a22-0001-4000-8000-000000000006', '7e0b5a22-0001-4000-8000-000000000005',
        '7e0b5a22-0001-4000-8000-000000000002', '["vet"]', '{}', 1700000000000, 1700000000000);

INSERT INTO ip_acls (id, name, name_lower, entries, insert_instant, last_update_instant)
VALUES ('7e0b5a22-0001-4000-8000-000000000007', 'Office', 'office',
        '[{"action":"Allow","startIPAddress":"*","endIPAddress":"*"}]', 1700000000000, 1700000000000);

INSERT INTO api_keys (id, key_hash, key_sealed, name, name_lower, key_manager, permissions, tenant_ids, ip_acl_id,
                      meta_data, expiration_instant, retrievable, insert_instant, last_update_instant)
VALUES ('7e0b5a22-0001-4000-8000-000000000008',
        '06000ed91a104918a185a0323ba596bc1f7d3ae27290244ef83ad11a6090de6e', NULL, 'Initial', 'initial', TRUE,
        '{}', '[]', NULL, NULL, NULL, FALSE, 1700000000000, 1700000000000);

INSERT INTO audit_log (insert_instant, insert_user, message, actor_type, actor_id, target_id)
VALUES (1700000000000, 'setup', 'Completed setup', 'system', '', '7e0b5a22-0001-4000-8000-000000000005');
