-- Scans as jobs: how many times a scan was started, by which worker, (after a failure)
-- not before when it may be tried again, and when its worker last said it was alive. On PostgreSQL the dispatch itself is
-- underway's (its own schema); these columns are what the dashboard shows.
ALTER TABLE scans
    ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN worker TEXT,
    ADD COLUMN run_after BIGINT,
    ADD COLUMN heartbeat_at BIGINT;
CREATE INDEX scans_running_heartbeat ON scans (heartbeat_at) WHERE status = 'running';
