-- Access tokens revoked before they expire, by the sid or jti they carry: a
-- replayed authorization code revokes the access tokens its first exchange
-- issued (and those refreshed from its refresh token). Every node keeps the
-- rows in memory and reloads them when the token_revocations cache version
-- moves; a row is swept once the tokens it names have expired.
CREATE TABLE token_revocations (
    id              TEXT PRIMARY KEY,
    expires_instant BIGINT NOT NULL
);
CREATE INDEX token_revocations_expires ON token_revocations (expires_instant);
INSERT INTO cache_versions (name, version) VALUES ('token_revocations', 0);
