-- Users: search keys, sealed secrets, one-time codes and password history.

-- Search and sort keys: lower-cased, never NULL ('' when absent, so that both
-- databases order missing values the same way), compared byte by byte so that
-- a prefix is one contiguous range of each index. email_lower and
-- username_lower stay for the per-tenant uniqueness and exact lookups.
ALTER TABLE users ADD COLUMN email_key TEXT {{bytewise}} NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN username_key TEXT {{bytewise}} NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN full_name_key TEXT {{bytewise}} NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN first_name_key TEXT {{bytewise}} NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN last_name_key TEXT {{bytewise}} NOT NULL DEFAULT '';
-- Credentials inside the user object (two-factor method secrets) are kept out
-- of the data column, sealed under the master key with the user id as
-- associated data.
ALTER TABLE users ADD COLUMN secrets_sealed TEXT;

-- Rows written before this migration (the setup admin) have no names in data.
UPDATE users SET email_key = COALESCE(email_lower, ''), username_key = COALESCE(username_lower, ''),
    full_name_key = LOWER(full_name);

-- Each key ends with id: the tie-breaker of every search order, so that pages
-- are stable and a next page can start after the last row seen.
CREATE INDEX users_email_key ON users (email_key, id);
CREATE INDEX users_username_key ON users (username_key, id);
CREATE INDEX users_full_name_key ON users (full_name_key, id);
CREATE INDEX users_first_name_key ON users (first_name_key, id);
CREATE INDEX users_last_name_key ON users (last_name_key, id);
CREATE INDEX users_insert_instant ON users (insert_instant, id);

-- One-time codes (change-password ids, one-time passwords…): only the SHA-256
-- of a code is stored. A code is used with one DELETE … RETURNING, so that it
-- works exactly once whichever node receives it.
CREATE TABLE one_time_codes (
    code_hash       TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id       TEXT NOT NULL,
    data            TEXT NOT NULL DEFAULT '{}',
    expires_instant BIGINT NOT NULL,
    insert_instant  BIGINT NOT NULL
);
CREATE INDEX one_time_codes_user ON one_time_codes (user_id, kind);
CREATE INDEX one_time_codes_expires ON one_time_codes (expires_instant);

-- Earlier password hashes of a user, for the tenant's rememberPreviousPasswords.
CREATE TABLE user_password_history (
    id             {{autoid}},
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    password_hash  TEXT NOT NULL,
    insert_instant BIGINT NOT NULL
);
CREATE INDEX user_password_history_user ON user_password_history (user_id, id);
