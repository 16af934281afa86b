-- A login id's look-alike key (store.LookalikeKey, then LoginKey) where it
-- differs from the login key: for emails and usernames with letters of other
-- scripts that imitate ASCII ones ("раураl" in Cyrillic holds "paypal").
-- A new login id is refused when its key is another user's look-alike key,
-- so that an imitation registered first cannot pose as the real name that
-- comes later. Rows written before this column are filled by the store at
-- start (fillLookalikeKeys).
ALTER TABLE users ADD COLUMN email_lookalike TEXT;
ALTER TABLE users ADD COLUMN username_lookalike TEXT;
CREATE INDEX users_email_lookalike ON users (tenant_id, email_lookalike);
CREATE INDEX users_username_lookalike ON users (tenant_id, username_lookalike);
