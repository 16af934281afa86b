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
