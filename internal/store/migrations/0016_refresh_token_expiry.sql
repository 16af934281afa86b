-- The sweeper deletes expired refresh tokens oldest first, in small batches.
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_instant);
