-- Fixed-window request counters of the anonymous authentication endpoints,
-- per client address and per tenant (throttle.Limiter); shared by every
-- node. A row's window ends at expires_instant; the sweeper deletes it after.
CREATE TABLE rate_limits (
    bucket          TEXT PRIMARY KEY,
    hits            BIGINT NOT NULL,
    expires_instant BIGINT NOT NULL
);
CREATE INDEX rate_limits_expires ON rate_limits (expires_instant);
