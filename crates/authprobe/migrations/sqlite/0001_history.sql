-- The history store (SQLite). Timestamps are unix milliseconds, booleans 0/1, JSON text.
-- Keep in step with ../postgres/0001_history.sql: the queries are shared.

CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    admin BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE targets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    spec TEXT,
    checks_json TEXT NOT NULL DEFAULT '[]',
    schedule_minutes BIGINT,
    -- Sealed (AES-256-GCM) JSON of the credentials; NULL when there are none.
    credentials BLOB,
    -- Which credentials, names only, no values.
    credential_kinds_json TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX targets_name ON targets (name, id);
CREATE INDEX targets_url ON targets (url, id);

CREATE TABLE scans (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    target_id BIGINT NOT NULL REFERENCES targets (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    trigger_kind TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    score BIGINT,
    grade TEXT,
    findings_count BIGINT,
    sev_critical BIGINT,
    sev_high BIGINT,
    sev_medium BIGINT,
    sev_low BIGINT,
    sev_info BIGINT,
    requests_sent BIGINT,
    duration_ms BIGINT,
    error TEXT,
    requeued_from BIGINT
);
CREATE INDEX scans_target ON scans (target_id, id);
CREATE INDEX scans_status ON scans (status, id);
-- The latest finished scans of each target and their scores (targets list, sparkline):
-- covering, so the window over them reads no table row.
CREATE INDEX scans_target_done ON scans (target_id, id, score) WHERE status = 'done';
-- At most one queued or running scan per target, whatever the races.
CREATE UNIQUE INDEX scans_one_active ON scans (target_id) WHERE status IN ('queued', 'running');

-- The whole JSON report, zlib-compressed (a report is mostly repeated keys and prose:
-- about a tenth of its size).
CREATE TABLE reports (
    scan_id BIGINT PRIMARY KEY NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    body BLOB NOT NULL
);

CREATE TABLE findings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scan_id BIGINT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    fingerprint TEXT NOT NULL,
    check_id TEXT NOT NULL,
    severity TEXT NOT NULL,
    title TEXT NOT NULL,
    operation TEXT
);
CREATE INDEX findings_scan ON findings (scan_id);
