-- Login: refresh tokens, failed-login counters and login records.

-- Refresh tokens. Only the SHA-256 of a token is stored (token_hash). Tokens
-- of one login form a family (family_id, also the JWT's sid): a one-time-use
-- token is rotated into a new member of its family, and a rotated token used
-- again revokes the whole family. Rows stay after rotation or revocation so
-- that reuse is recognised; expired rows are removed as their user logs in.
-- Every use is one conditional UPDATE … RETURNING, so that of two nodes
-- racing on one token exactly one wins, and a revocation is seen by every
-- node at once (tokens are never cached).
CREATE TABLE refresh_tokens (
    id                    TEXT PRIMARY KEY,
    token_hash            TEXT NOT NULL UNIQUE,
    family_id             TEXT NOT NULL,
    user_id               TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    application_id        TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    tenant_id             TEXT NOT NULL,
    auth_instant          BIGINT NOT NULL,
    start_instant         BIGINT NOT NULL,
    expires_instant       BIGINT NOT NULL,
    revoked               BOOLEAN NOT NULL DEFAULT FALSE,
    rotated_instant       BIGINT,
    last_accessed_instant BIGINT,
    last_accessed_address TEXT NOT NULL DEFAULT '',
    data                  TEXT NOT NULL DEFAULT '{}',
    insert_instant        BIGINT NOT NULL
);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id, application_id);
CREATE INDEX refresh_tokens_application ON refresh_tokens (application_id);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- Failed password checks, shared by every node: the count within the
-- tenant's resetCountInSeconds window since first_instant, and the lockout
-- that tooManyAttempts failures start. subject is a user's id (so that email
-- and username count together), or "login:" and the SHA-256 of tenant and
-- login id for a login id no user has: unknown login ids are throttled like
-- known ones, so that a lockout does not tell them apart. No foreign key for
-- that reason; a deleted user's row is harmless.
CREATE TABLE failed_logins (
    subject       TEXT PRIMARY KEY,
    failures      INTEGER NOT NULL,
    first_instant BIGINT NOT NULL,
    locked_until  BIGINT
);
CREATE INDEX failed_logins_first_instant ON failed_logins (first_instant);

-- Successful logins (FusionAuth's login records; not audit entries).
CREATE TABLE login_records (
    id             {{autoid}},
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    application_id TEXT,
    ip_address     TEXT NOT NULL DEFAULT '',
    login_id       TEXT NOT NULL DEFAULT '',
    instant        BIGINT NOT NULL
);
CREATE INDEX login_records_user ON login_records (user_id, instant);
CREATE INDEX login_records_instant ON login_records (instant);
