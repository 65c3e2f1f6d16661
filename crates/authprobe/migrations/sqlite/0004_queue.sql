-- Scans as jobs: how many times a scan was started, by which worker, (after a failure)
-- not before when it may be tried again, and when its worker last said it was alive.
ALTER TABLE scans ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE scans ADD COLUMN worker TEXT;
ALTER TABLE scans ADD COLUMN run_after BIGINT;
-- When the worker running it last said it was alive.
ALTER TABLE scans ADD COLUMN heartbeat_at BIGINT;
