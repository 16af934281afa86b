-- Signing keys (FusionAuth's Key Master): key pairs, public keys and HMAC
-- secrets that sign and verify JWTs. Public material is stored as PEM;
-- private_sealed holds the private key PEM or the HMAC secret, encrypted under
-- the master key with the row's id as associated data. No column ever holds
-- private material in plaintext.
CREATE TABLE signing_keys (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    name_lower          TEXT NOT NULL UNIQUE,
    algorithm           TEXT NOT NULL,
    type                TEXT NOT NULL,
    length              INTEGER NOT NULL DEFAULT 0,
    kid                 TEXT NOT NULL UNIQUE,
    public_key          TEXT,
    certificate         TEXT,
    private_sealed      TEXT,
    issuer              TEXT,
    expiration_instant  BIGINT,
    insert_instant      BIGINT NOT NULL,
    last_update_instant BIGINT NOT NULL
);

-- Every node keeps the keys (and the rendered JWKS) in memory and rebuilds
-- them when this version moves.
INSERT INTO cache_versions (name, version) VALUES ('signing_keys', 0);
