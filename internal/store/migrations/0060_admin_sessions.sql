-- Admin UI sessions: an admin's sign-in to /admin, made after Latch's own
-- authorization-code flow on the admin application. Only the SHA-256 of the
-- cookie's value is stored. auth_instant is when the admin last entered a
-- password or second factor (re-authentication for sensitive actions).
CREATE TABLE admin_sessions (
    id              TEXT PRIMARY KEY,
    token_hash      TEXT NOT NULL UNIQUE,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_instant    BIGINT NOT NULL,
    expires_instant BIGINT NOT NULL,
    insert_instant  BIGINT NOT NULL
);
CREATE INDEX admin_sessions_user ON admin_sessions (user_id);
CREATE INDEX admin_sessions_expires ON admin_sessions (expires_instant);
