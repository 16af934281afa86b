-- Webhooks, the event outbox and its delivery logs, and the event log.

-- A webhook is stored as its whole JSON object (FusionAuth's Webhook, fields
-- Latch does not read included), without its HTTP Basic password, which is
-- sealed under the master key in sealed_password.
CREATE TABLE webhooks (
    id                  TEXT PRIMARY KEY,
    url                 TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    body                TEXT NOT NULL,
    sealed_password     TEXT NOT NULL DEFAULT '',
    insert_instant      BIGINT NOT NULL,
    last_update_instant BIGINT NOT NULL
);

-- One row per event that at least one webhook wanted: FusionAuth's webhook
-- event log. body is the event as sent ({"event":{…}}).
CREATE TABLE webhook_events (
    seq                  {{autoid}},
    id                   TEXT NOT NULL UNIQUE,
    event_type           TEXT NOT NULL,
    tenant_id            TEXT NOT NULL DEFAULT '',
    linked_object_id     TEXT NOT NULL DEFAULT '',
    body                 TEXT NOT NULL,
    event_result         TEXT NOT NULL DEFAULT 'Running',
    failed_attempts      INTEGER NOT NULL DEFAULT 0,
    successful_attempts  INTEGER NOT NULL DEFAULT 0,
    insert_instant       BIGINT NOT NULL,
    last_attempt_instant BIGINT NOT NULL DEFAULT 0,
    last_update_instant  BIGINT NOT NULL
);
CREATE INDEX webhook_events_insert_instant ON webhook_events (insert_instant);

-- The outbox: one row per event and webhook still to deliver. A node claims a
-- row by setting its lease in one UPDATE … RETURNING; order_key (the user the
-- event is about, else the event id) keeps one user's events in order per
-- webhook. Rows are deleted once delivered or given up.
CREATE TABLE webhook_deliveries (
    seq            {{autoid}},
    event_seq      BIGINT NOT NULL REFERENCES webhook_events (seq) ON DELETE CASCADE,
    webhook_id     TEXT NOT NULL,
    order_key      TEXT NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    next_attempt   BIGINT NOT NULL,
    lease_owner    TEXT NOT NULL DEFAULT '',
    lease_until    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt);
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (webhook_id, order_key, seq);

-- Each delivery attempt: FusionAuth's webhook attempt log.
CREATE TABLE webhook_attempts (
    id             TEXT PRIMARY KEY,
    event_seq      BIGINT NOT NULL REFERENCES webhook_events (seq) ON DELETE CASCADE,
    webhook_id     TEXT NOT NULL,
    start_instant  BIGINT NOT NULL,
    end_instant    BIGINT NOT NULL,
    attempt_result TEXT NOT NULL,
    status_code    INTEGER NOT NULL DEFAULT 0,
    data           TEXT
);
CREATE INDEX webhook_attempts_event ON webhook_attempts (event_seq);

-- FusionAuth's event log: delivery and email failures, for operators.
CREATE TABLE event_logs (
    id             {{autoid}},
    insert_instant BIGINT NOT NULL,
    log_type       TEXT NOT NULL,
    message        TEXT NOT NULL
);
CREATE INDEX event_logs_insert_instant ON event_logs (insert_instant);

INSERT INTO cache_versions (name, version) VALUES ('webhooks', 0);

-- Email templates, stored as their whole JSON object.
CREATE TABLE email_templates (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    body                TEXT NOT NULL,
    insert_instant      BIGINT NOT NULL,
    last_update_instant BIGINT NOT NULL
);

-- Mail to send: rendered messages, sent by any node's mailer (leased like
-- webhook deliveries) and deleted once the SMTP server took them.
CREATE TABLE email_outbox (
    seq            {{autoid}},
    tenant_id      TEXT NOT NULL,
    message        TEXT NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    next_attempt   BIGINT NOT NULL,
    lease_owner    TEXT NOT NULL DEFAULT '',
    lease_until    BIGINT NOT NULL DEFAULT 0,
    insert_instant BIGINT NOT NULL
);
CREATE INDEX email_outbox_due ON email_outbox (next_attempt);
