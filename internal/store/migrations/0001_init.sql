-- The first schema. Timestamps are epoch milliseconds; JSON lives in TEXT so
-- the same SQL runs on SQLite and PostgreSQL.

CREATE TABLE tenants (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    name_lower          TEXT NOT NULL UNIQUE,
    data                TEXT NOT NULL DEFAULT '{}',
    insert_instant      BIGINT NOT NULL,
    last_update_instant BIGINT NOT NULL
);

CREATE TABLE applications (
    id                  TEXT PRIMARY KEY,
    tenant_id           TEXT NOT NULL REFERENCES tenants (id),
    name                TEXT NOT NULL,
    active              BOOLEAN NOT NULL DEFAULT TRUE,
    data                TEXT NOT NULL DEFAULT '{}',
    insert_instant      BIGINT NOT NULL,
    last_update_instant BIGINT NOT NULL
);
CREATE INDEX applications_tenant ON applications (tenant_id);

CREATE TABLE application_roles (
    id                  TEXT PRIMARY KEY,
    application_id      TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    name                TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    is_default          BOOLEAN NOT NULL DEFAULT FALSE,
    is_super_role       BOOLEAN NOT NULL DEFAULT FALSE,
    insert_instant      BIGINT NOT NULL,
    last_update_instant BIGINT NOT NULL,
    UNIQUE (application_id, name)
);

CREATE TABLE users (
    id                           TEXT PRIMARY KEY,
    tenant_id                    TEXT NOT NULL REFERENCES tenants (id),
    email                        TEXT,
    email_lower                  TEXT,
    username                     TEXT,
    username_lower               TEXT,
    full_name                    TEXT NOT NULL DEFAULT '',
    password_hash                TEXT NOT NULL DEFAULT '',
    password_change_required     BOOLEAN NOT NULL DEFAULT FALSE,
    active                       BOOLEAN NOT NULL DEFAULT TRUE,
    verified                     BOOLEAN NOT NULL DEFAULT FALSE,
    data                         TEXT NOT NULL DEFAULT '{}',
    insert_instant               BIGINT NOT NULL,
    last_update_instant          BIGINT NOT NULL,
    last_login_instant           BIGINT,
    password_last_update_instant BIGINT NOT NULL DEFAULT 0,
    UNIQUE (tenant_id, email_lower),
    UNIQUE (tenant_id, username_lower)
);

CREATE TABLE registrations (
    id                  TEXT PRIMARY KEY,
    user_id             TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    application_id      TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    roles               TEXT NOT NULL DEFAULT '[]',
    data                TEXT NOT NULL DEFAULT '{}',
    insert_instant      BIGINT NOT NULL,
    last_update_instant BIGINT NOT NULL,
    UNIQUE (user_id, application_id)
);
CREATE INDEX registrations_application ON registrations (application_id);

CREATE TABLE ip_acls (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    name_lower          TEXT NOT NULL UNIQUE,
    entries             TEXT NOT NULL DEFAULT '[]',
    insert_instant      BIGINT NOT NULL,
    last_update_instant BIGINT NOT NULL
);

-- key_hash is the SHA-256 of the key; key_sealed holds retrievable keys only,
-- encrypted under the master key. No column ever holds a key in plaintext.
CREATE TABLE api_keys (
    id                  TEXT PRIMARY KEY,
    key_hash            TEXT NOT NULL UNIQUE,
    key_sealed          TEXT,
    name                TEXT,
    name_lower          TEXT UNIQUE,
    key_manager         BOOLEAN NOT NULL DEFAULT FALSE,
    permissions         TEXT NOT NULL DEFAULT '{}',
    tenant_ids          TEXT NOT NULL DEFAULT '[]',
    ip_acl_id           TEXT REFERENCES ip_acls (id),
    meta_data           TEXT,
    expiration_instant  BIGINT,
    retrievable         BOOLEAN NOT NULL DEFAULT FALSE,
    insert_instant      BIGINT NOT NULL,
    last_update_instant BIGINT NOT NULL,
    last_used_instant   BIGINT,
    use_count           BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE audit_log (
    id             {{autoid}},
    insert_instant BIGINT NOT NULL,
    insert_user    TEXT NOT NULL,
    message        TEXT NOT NULL,
    reason         TEXT,
    data           TEXT,
    old_value      TEXT,
    new_value      TEXT,
    actor_type     TEXT NOT NULL DEFAULT '',
    actor_id       TEXT NOT NULL DEFAULT '',
    method         TEXT NOT NULL DEFAULT '',
    path           TEXT NOT NULL DEFAULT '',
    target_id      TEXT NOT NULL DEFAULT '',
    ip_address     TEXT NOT NULL DEFAULT '',
    severity       TEXT NOT NULL DEFAULT 'info'
);
CREATE INDEX audit_log_insert_instant ON audit_log (insert_instant);

-- Facts about the instance, such as when setup completed. The primary key makes
-- "setup happens once" a constraint, not a hope.
CREATE TABLE system_settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Hashes of one-time setup-wizard tokens; any node accepts any of them.
CREATE TABLE setup_tokens (
    token_hash     TEXT PRIMARY KEY,
    insert_instant BIGINT NOT NULL
);

-- Bumped on every change to cached data; each node polls it to drop stale caches.
CREATE TABLE cache_versions (
    name    TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO cache_versions (name, version) VALUES ('api_keys', 0);
