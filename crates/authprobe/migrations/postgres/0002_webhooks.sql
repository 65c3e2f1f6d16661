-- Webhooks on regressions (PostgreSQL). Timestamps are unix milliseconds, booleans 0/1.
-- Keep in step with ../sqlite/0002_webhooks.sql: the queries are shared.

CREATE TABLE webhooks (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- NULL: every target's scans.
    target_id BIGINT REFERENCES targets (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    -- Sealed (AES-256-GCM) signing secret: shown once at creation, never again.
    secret BYTEA NOT NULL,
    on_new_findings BIGINT NOT NULL DEFAULT 0,
    on_fixed_findings BIGINT NOT NULL DEFAULT 0,
    -- Fire when the score falls by at least this many points; NULL: never.
    score_drop BIGINT,
    on_grade_change BIGINT NOT NULL DEFAULT 0,
    -- 'json' or 'slack'.
    format TEXT NOT NULL DEFAULT 'json',
    created_at BIGINT NOT NULL
);
CREATE INDEX webhooks_target ON webhooks (target_id, id);

CREATE TABLE webhook_deliveries (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id BIGINT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    scan_id BIGINT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    -- The events that fired, comma-separated (the Authprobe-Event header).
    events TEXT NOT NULL,
    -- The exact bytes sent and signed.
    body BYTEA NOT NULL,
    -- 'pending', 'delivered' or 'failed'.
    status TEXT NOT NULL DEFAULT 'pending',
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    -- A sender's lease: until then no other sender takes the delivery.
    locked_until BIGINT,
    last_status_code BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT
);
-- One delivery per webhook and scan, however often a finished scan is reported; also
-- the index the scan's cascade deletes through.
CREATE UNIQUE INDEX webhook_deliveries_once ON webhook_deliveries (scan_id, webhook_id);
-- A webhook's delivery log, newest first.
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (webhook_id, id);
-- The senders' claims: only what is still to send.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id) WHERE status = 'pending';
