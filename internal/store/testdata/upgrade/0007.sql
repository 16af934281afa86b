-- One-time codes arrive: a change-password id ("migratest-change-password-0007")
-- for the user, expiring far in the future.
INSERT INTO one_time_codes (code_hash, kind, user_id, tenant_id, data, expires_instant, insert_instant)
VALUES ('5d1342ae0a962112efad3d94b6053ef769d48920cf5b6e909ea0f7076d305a56', 'changePassword',
        '7e0b5a22-0001-4000-8000-000000000005', '7e0b5a22-0001-4000-8000-000000000001', '{}',
        4102444800000, 1700000000000);
