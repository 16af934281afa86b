-- Groups, their roles and members; and the registration fields Latch owns
-- beside the registration's JSON object.

-- A registration's verification and last login are columns: verification is
-- decided by Latch, and the login feature updates the last login per request.
-- Rows written before this migration (the setup admin's registration) count
-- as verified. The authentication token a registration may carry is a
-- credential: only its SHA-256 is kept.
ALTER TABLE registrations ADD COLUMN verified BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE registrations ADD COLUMN verified_instant BIGINT;
ALTER TABLE registrations ADD COLUMN last_login_instant BIGINT;
ALTER TABLE registrations ADD COLUMN authentication_token_hash TEXT;

-- A group belongs to one tenant; deleting the tenant deletes its groups.
CREATE TABLE groups (
    id                  TEXT PRIMARY KEY,
    tenant_id           TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name                TEXT NOT NULL,
    name_lower          TEXT NOT NULL,
    data                TEXT NOT NULL DEFAULT '{}',
    insert_instant      BIGINT NOT NULL,
    last_update_instant BIGINT NOT NULL,
    UNIQUE (tenant_id, name_lower)
);

-- The application roles a group grants. A role deleted from its application
-- leaves every group with it.
CREATE TABLE group_roles (
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    role_id  TEXT NOT NULL REFERENCES application_roles (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, role_id)
);
CREATE INDEX group_roles_role ON group_roles (role_id);

-- A user's membership in a group.
CREATE TABLE group_members (
    id             TEXT PRIMARY KEY,
    group_id       TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    data           TEXT NOT NULL DEFAULT '{}',
    insert_instant BIGINT NOT NULL,
    UNIQUE (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id);
