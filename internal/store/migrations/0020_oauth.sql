-- The OAuth 2.0 / OpenID Connect provider's state, shared by every node.

-- SSO sessions: a browser's sign-in, referenced by a cookie. Only the SHA-256
-- of the cookie's value is stored, so a database dump signs nobody in.
CREATE TABLE oauth_sessions (
    id              TEXT PRIMARY KEY,
    token_hash      TEXT NOT NULL UNIQUE,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id       TEXT NOT NULL,
    auth_instant    BIGINT NOT NULL,
    auth_type       TEXT NOT NULL DEFAULT 'PASSWORD',
    keep_signed_in  BOOLEAN NOT NULL DEFAULT FALSE,
    expires_instant BIGINT NOT NULL,
    insert_instant  BIGINT NOT NULL
);
CREATE INDEX oauth_sessions_user ON oauth_sessions (user_id);
CREATE INDEX oauth_sessions_expires ON oauth_sessions (expires_instant);

-- Authorization codes: stored hashed, consumed by one conditional UPDATE
-- (used_instant), bound to the client, redirect URI and PKCE challenge. A
-- replayed code marks the row, and whatever its first exchange issued is
-- revoked (refresh_token_id).
CREATE TABLE oauth_codes (
    code_hash        TEXT PRIMARY KEY,
    client_id        TEXT NOT NULL,
    tenant_id        TEXT NOT NULL,
    user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id       TEXT NOT NULL DEFAULT '',
    redirect_uri     TEXT NOT NULL,
    scope            TEXT NOT NULL DEFAULT '',
    nonce            TEXT NOT NULL DEFAULT '',
    code_challenge   TEXT NOT NULL DEFAULT '',
    auth_instant     BIGINT NOT NULL,
    auth_type        TEXT NOT NULL DEFAULT 'PASSWORD',
    expires_instant  BIGINT NOT NULL,
    used_instant     BIGINT,
    replayed         BOOLEAN NOT NULL DEFAULT FALSE,
    refresh_token_id TEXT NOT NULL DEFAULT '',
    insert_instant   BIGINT NOT NULL
);
CREATE INDEX oauth_codes_expires ON oauth_codes (expires_instant);

-- Device authorization grants (RFC 8628): the device polls with its device
-- code (stored hashed); the user types the user code on the hosted page and
-- signs in, which approves the row (user_id set). The approved row is taken
-- by one DELETE … RETURNING, so it yields tokens once.
CREATE TABLE oauth_device_codes (
    device_code_hash  TEXT PRIMARY KEY,
    user_code         TEXT NOT NULL UNIQUE,
    client_id         TEXT NOT NULL,
    tenant_id         TEXT NOT NULL,
    scope             TEXT NOT NULL DEFAULT '',
    interval_seconds  INTEGER NOT NULL,
    expires_instant   BIGINT NOT NULL,
    last_poll_instant BIGINT NOT NULL DEFAULT 0,
    user_id           TEXT REFERENCES users (id) ON DELETE CASCADE,
    session_id        TEXT NOT NULL DEFAULT '',
    auth_instant      BIGINT NOT NULL DEFAULT 0,
    auth_type         TEXT NOT NULL DEFAULT '',
    insert_instant    BIGINT NOT NULL
);
CREATE INDEX oauth_device_codes_expires ON oauth_device_codes (expires_instant);
