-- Schedules by cron expression (5 fields, UTC) beside the interval in schedule_minutes (at
-- most one of the two is set), and a jitter in seconds that delays each target's scheduled
-- runs by an amount fixed per target. Keep in step with ../postgres/0003_schedules.sql.

ALTER TABLE targets ADD COLUMN schedule_cron TEXT NULL;
ALTER TABLE targets ADD COLUMN schedule_jitter_seconds BIGINT NULL;
