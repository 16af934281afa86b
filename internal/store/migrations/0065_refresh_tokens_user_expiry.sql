-- Each login and token issue deletes the user's expired refresh tokens
-- (DeleteExpiredRefreshTokens): a seek on (user_id, expires_instant) instead
-- of a walk over all of the user's tokens, which made issuing slower the
-- more live sessions a user had.
CREATE INDEX refresh_tokens_user_expires ON refresh_tokens (user_id, expires_instant);
