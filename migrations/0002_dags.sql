-- 0002: parsed DAGs, their versions and source, import errors, and DAG runs (which pin a
-- version: a version that has runs is never rewritten).

CREATE TABLE dag (
    dag_id               TEXT PRIMARY KEY,
    fileloc              TEXT    NOT NULL,
    relative_fileloc     TEXT    NOT NULL,
    is_paused            INTEGER NOT NULL DEFAULT 1,
    is_stale             INTEGER NOT NULL DEFAULT 0,
    last_parsed_time     TEXT,
    last_parse_duration  REAL,
    created_at           TEXT    NOT NULL,
    -- The latest dag_version row and a copy of its model (the parse result's DAG, as JSON).
    latest_version_id    TEXT,
    spec                 TEXT    NOT NULL,
    spec_hash            TEXT    NOT NULL,
    -- Columns the DAG list filters and sorts on, copied from spec.
    description          TEXT,
    owners               TEXT    NOT NULL DEFAULT 'airflow',
    timetable_summary    TEXT,
    max_active_runs      INTEGER NOT NULL DEFAULT 16,
    max_active_tasks     INTEGER NOT NULL DEFAULT 16,
    -- Maintained by the scheduler.
    next_dagrun_logical_date        TEXT,
    next_dagrun_data_interval_start TEXT,
    next_dagrun_data_interval_end   TEXT,
    next_dagrun_run_after           TEXT
);
CREATE INDEX dag_fileloc ON dag(fileloc);

CREATE TABLE dag_tag (
    dag_id TEXT NOT NULL REFERENCES dag(dag_id) ON DELETE CASCADE,
    name   TEXT NOT NULL,
    PRIMARY KEY (dag_id, name)
);
CREATE INDEX dag_tag_name ON dag_tag(name);

CREATE TABLE dag_version (
    id              TEXT PRIMARY KEY,               -- UUID, as Airflow
    dag_id          TEXT    NOT NULL REFERENCES dag(dag_id) ON DELETE CASCADE,
    version_number  INTEGER NOT NULL,
    spec            TEXT    NOT NULL,
    spec_hash       TEXT    NOT NULL,
    source          TEXT    NOT NULL,               -- the DAG file's text for this version
    created_at      TEXT    NOT NULL,
    last_updated    TEXT    NOT NULL,
    UNIQUE (dag_id, version_number)
);

CREATE TABLE import_error (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    filename    TEXT NOT NULL UNIQUE,               -- absolute path
    relative_filename TEXT NOT NULL,
    lineno      INTEGER,
    message     TEXT NOT NULL,
    stack_trace TEXT NOT NULL,
    timestamp   TEXT NOT NULL
);

CREATE TABLE dag_run (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    dag_id               TEXT NOT NULL REFERENCES dag(dag_id) ON DELETE CASCADE,
    run_id               TEXT NOT NULL,
    dag_version_id       TEXT NOT NULL REFERENCES dag_version(id),
    run_type             TEXT NOT NULL,            -- manual | scheduled | backfill | asset_triggered
    state                TEXT NOT NULL,            -- queued | running | success | failed
    logical_date         TEXT,
    run_after            TEXT NOT NULL,
    data_interval_start  TEXT,
    data_interval_end    TEXT,
    queued_at            TEXT,
    start_date           TEXT,
    end_date             TEXT,
    conf                 TEXT NOT NULL DEFAULT '{}',
    note                 TEXT,
    triggered_by         TEXT,
    triggering_user_name TEXT,
    clear_number         INTEGER NOT NULL DEFAULT 0,
    last_scheduling_decision TEXT,
    UNIQUE (dag_id, run_id)
);
CREATE INDEX dag_run_state ON dag_run(state);
CREATE INDEX dag_run_version ON dag_run(dag_version_id);
CREATE INDEX dag_run_dag_after ON dag_run(dag_id, run_after);
