-- Deleting an IP ACL looks up the keys that use it (and PostgreSQL checks the
-- foreign key the same way); without an index both scan every key.
CREATE INDEX api_keys_ip_acl ON api_keys (ip_acl_id);
