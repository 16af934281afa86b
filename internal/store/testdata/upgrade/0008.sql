-- Groups arrive: a group granting the owner role, with the user as member.
INSERT INTO groups (id, tenant_id, name, name_lower, data, insert_instant, last_update_instant)
VALUES ('7e0b5a22-0001-4000-8000-000000000009', '7e0b5a22-0001-4000-8000-000000000001', 'Clinic', 'clinic',
        '{}', 1700000000000, 1700000000000);
INSERT INTO group_roles (group_id, role_id)
VALUES ('7e0b5a22-0001-4000-8000-000000000009', '7e0b5a22-0001-4000-8000-000000000004');
INSERT INTO group_members (id, group_id, user_id, data, insert_instant)
VALUES ('7e0b5a22-0001-4000-8000-00000000000a', '7e0b5a22-0001-4000-8000-000000000009',
        '7e0b5a22-0001-4000-8000-000000000005', '{}', 1700000000000);
