-- The system configuration (FusionAuth's /api/system-configuration) is one
-- JSON document in system_settings; its cache version tells every node to
-- reload it (the CORS policy is read on every OAuth request, from memory).
INSERT INTO cache_versions (name, version) VALUES ('system_configuration', 0);
