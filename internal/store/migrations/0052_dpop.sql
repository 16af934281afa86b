-- DPoP (RFC 9449). An authorization request's dpop_jkt binds its code to a
-- key: the code's exchange must prove possession of it.
ALTER TABLE oauth_codes ADD COLUMN dpop_jkt TEXT NOT NULL DEFAULT '';

-- DPoP proofs seen: the SHA-256 of the key thumbprint and jti, kept until the
-- proof's iat window has passed, so that a proof is accepted once, on any node.
CREATE TABLE dpop_proofs (
    id              TEXT PRIMARY KEY,
    expires_instant BIGINT NOT NULL
);
CREATE INDEX dpop_proofs_expires ON dpop_proofs (expires_instant);
