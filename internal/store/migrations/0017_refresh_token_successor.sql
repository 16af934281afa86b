-- A one-time-use refresh token is rotated once: one conditional UPDATE
-- (rotated_instant IS NULL) picks the one exchange that wins, on any number
-- of nodes, whatever their clocks. Under a grace period a retry of that
-- exchange gets the winner's successor again, never a successor of its own,
-- so that no second branch of the session can start: successor_id names the
-- token a rotation issued, and a token issued by a rotation under a grace
-- period keeps its own value in sealed_value, sealed under the master key
-- (bound to the row's id), until it is used or revoked. Without a grace
-- period nothing is sealed.
ALTER TABLE refresh_tokens ADD COLUMN successor_id TEXT;
ALTER TABLE refresh_tokens ADD COLUMN sealed_value TEXT;
