-- Refresh tokens arrive: one ("migratest-refresh-token-0011") for the user
-- and application, not one-time-use, expiring far in the future.
INSERT INTO refresh_tokens (id, token_hash, family_id, user_id, application_id, tenant_id, auth_instant,
                            start_instant, expires_instant, revoked, rotated_instant, last_accessed_instant,
                            last_accessed_address, data, insert_instant)
VALUES ('7e0b5a22-0001-4000-8000-00000000000b',
        'ca7bc552573f6ca93f48ef4d8267ba72c786772f8d05fac6941671c5b187e6d4',
        '7e0b5a22-0001-4000-8000-00000000000c', '7e0b5a22-0001-4000-8000-000000000005',
        '7e0b5a22-0001-4000-8000-000000000002', '7e0b5a22-0001-4000-8000-000000000001',
        1700000000000, 1700000000000, 4102444800000, FALSE, NULL, NULL, '', '{}', 1700000000000);
