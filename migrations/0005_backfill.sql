-- 0005: backfills (Airflow's `backfill` table) and the runs they created (`dag_run.backfill_id`).
-- A paused backfill's queued runs do not start; a cancelled one is paused with `completed_at`
-- set and its queued runs failed.

CREATE TABLE backfill (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    dag_id               TEXT    NOT NULL REFERENCES dag(dag_id) ON DELETE CASCADE,
    from_date            TEXT    NOT NULL,
    to_date              TEXT    NOT NULL,
    dag_run_conf         TEXT    NOT NULL DEFAULT '{}',
    is_paused            INTEGER NOT NULL DEFAULT 0,
    reprocess_behavior   TEXT    NOT NULL DEFAULT 'none'
                         CHECK (reprocess_behavior IN ('none', 'failed', 'completed')),
    max_active_runs      INTEGER NOT NULL DEFAULT 10,
    run_backwards        INTEGER NOT NULL DEFAULT 0,
    triggering_user_name TEXT,
    created_at           TEXT    NOT NULL,
    completed_at         TEXT,
    updated_at           TEXT    NOT NULL
);
CREATE INDEX backfill_dag ON backfill(dag_id);

ALTER TABLE dag_run ADD COLUMN backfill_id INTEGER REFERENCES backfill(id) ON DELETE SET NULL;
CREATE INDEX dag_run_backfill ON dag_run(backfill_id);
