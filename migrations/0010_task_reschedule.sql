-- 0010: sensors in `mode="reschedule"` (Airflow's task_reschedule). Between pokes the task
-- instance is `up_for_reschedule` with its next poke time in `next_retry_at`, and holds no
-- slot; `rescheduled` = 1 says its next start continues the same try (same try number, same
-- log, first poke's start date) instead of beginning a new one. One row per poke that asked
-- to be rescheduled.
ALTER TABLE task_instance ADD COLUMN rescheduled INTEGER NOT NULL DEFAULT 0;

CREATE TABLE task_reschedule (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    ti_id           TEXT    NOT NULL REFERENCES task_instance(id) ON DELETE CASCADE,
    try_number      INTEGER NOT NULL,
    start_date      TEXT    NOT NULL,
    end_date        TEXT    NOT NULL,
    duration        REAL    NOT NULL,
    reschedule_date TEXT    NOT NULL
);
CREATE INDEX task_reschedule_ti ON task_reschedule(ti_id, try_number);
