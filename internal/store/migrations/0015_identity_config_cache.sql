-- The cache version of tenant and application settings: every transaction
-- that writes tenants or applications bumps it, so that the nodes' in-memory
-- copies (core/configcache.go) are dropped within one poll.
INSERT INTO cache_versions (name, version) VALUES ('identity_config', 0);
