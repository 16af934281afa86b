-- A setup token expires. Tokens recorded before this column existed get 0:
-- expired, so only a link printed by the upgraded server opens the wizard.
ALTER TABLE setup_tokens ADD COLUMN expires_instant BIGINT NOT NULL DEFAULT 0;
