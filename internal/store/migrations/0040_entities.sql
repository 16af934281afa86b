-- Entity management: entity types and their permissions, entities (the
-- clients of the client_credentials grant) and the grants that give users or
-- entities permissions on an entity.

-- An entity type is global. Its object (data, jwtConfiguration and whatever
-- else a client sends) is kept whole in data, without the columns.
CREATE TABLE entity_types (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    name_lower          TEXT NOT NULL UNIQUE,
    data                TEXT NOT NULL DEFAULT '{}',
    insert_instant      BIGINT NOT NULL,
    last_update_instant BIGINT NOT NULL
);

-- A permission belongs to one type; names are unique within it.
CREATE TABLE entity_type_permissions (
    id                  TEXT PRIMARY KEY,
    entity_type_id      TEXT NOT NULL REFERENCES entity_types (id) ON DELETE CASCADE,
    name                TEXT NOT NULL,
    name_lower          TEXT NOT NULL,
    description         TEXT,
    is_default          BOOLEAN NOT NULL DEFAULT FALSE,
    data                TEXT NOT NULL DEFAULT '{}',
    insert_instant      BIGINT NOT NULL,
    last_update_instant BIGINT NOT NULL,
    UNIQUE (entity_type_id, name_lower)
);

-- An entity belongs to one tenant and has one type; deleting either deletes
-- it. client_id is unique everywhere (the token endpoint finds a client by
-- it alone). The client secret is kept twice, neither in plaintext: sealed
-- under the master key (returned to API callers, as FusionAuth does) and as
-- an HMAC under a key derived from it (checked on every token request).
CREATE TABLE entities (
    id                  TEXT PRIMARY KEY,
    tenant_id           TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    type_id             TEXT NOT NULL REFERENCES entity_types (id) ON DELETE CASCADE,
    name                TEXT NOT NULL,
    name_lower          TEXT NOT NULL,
    client_id           TEXT NOT NULL UNIQUE,
    client_secret_sealed TEXT NOT NULL,
    client_secret_mac   TEXT NOT NULL,
    parent_id           TEXT,
    data                TEXT NOT NULL DEFAULT '{}',
    insert_instant      BIGINT NOT NULL,
    last_update_instant BIGINT NOT NULL
);
CREATE INDEX entities_tenant_name ON entities (tenant_id, name_lower);
CREATE INDEX entities_type ON entities (type_id);

-- A grant gives a user or another entity (exactly one) permissions on an
-- entity; one grant per pair. The permissions are rows, so that renaming a
-- permission follows into grants and deleting one removes it from them.
CREATE TABLE entity_grants (
    id                  TEXT PRIMARY KEY,
    entity_id           TEXT NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    user_id             TEXT REFERENCES users (id) ON DELETE CASCADE,
    recipient_entity_id TEXT REFERENCES entities (id) ON DELETE CASCADE,
    data                TEXT NOT NULL DEFAULT '{}',
    insert_instant      BIGINT NOT NULL,
    last_update_instant BIGINT NOT NULL,
    CHECK ((user_id IS NULL) <> (recipient_entity_id IS NULL)),
    UNIQUE (entity_id, user_id),
    UNIQUE (entity_id, recipient_entity_id)
);
CREATE INDEX entity_grants_user ON entity_grants (user_id);
CREATE INDEX entity_grants_recipient ON entity_grants (recipient_entity_id);

CREATE TABLE entity_grant_permissions (
    grant_id      TEXT NOT NULL REFERENCES entity_grants (id) ON DELETE CASCADE,
    permission_id TEXT NOT NULL REFERENCES entity_type_permissions (id) ON DELETE CASCADE,
    PRIMARY KEY (grant_id, permission_id)
);
CREATE INDEX entity_grant_permissions_permission ON entity_grant_permissions (permission_id);
