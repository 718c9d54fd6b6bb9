-- 0003: task instances (one row per task and map index of a run; the current try), their
-- past tries, pools, variables, connections and the audit log.

CREATE TABLE task_instance (
    id              TEXT PRIMARY KEY,                -- UUID, as Airflow
    dag_id          TEXT    NOT NULL,
    run_id          TEXT    NOT NULL,
    task_id         TEXT    NOT NULL,
    map_index       INTEGER NOT NULL DEFAULT -1,
    try_number      INTEGER NOT NULL DEFAULT 0,
    max_tries       INTEGER NOT NULL DEFAULT 0,
    state           TEXT,
    start_date      TEXT,
    end_date        TEXT,
    duration        REAL,
    queued_dttm     TEXT,
    scheduled_dttm  TEXT,
    next_retry_at   TEXT,
    pid             INTEGER,
    hostname        TEXT    NOT NULL DEFAULT '',
    operator        TEXT,
    pool            TEXT    NOT NULL DEFAULT 'default_pool',
    pool_slots      INTEGER NOT NULL DEFAULT 1,
    queue           TEXT    NOT NULL DEFAULT 'default',
    priority_weight INTEGER NOT NULL DEFAULT 1,
    dag_version_id  TEXT,
    rendered_fields TEXT    NOT NULL DEFAULT '{}',
    note            TEXT,
    error           TEXT,
    UNIQUE (dag_id, run_id, task_id, map_index),
    FOREIGN KEY (dag_id, run_id) REFERENCES dag_run(dag_id, run_id) ON DELETE CASCADE
);
CREATE INDEX task_instance_state ON task_instance(state);
CREATE INDEX task_instance_run ON task_instance(dag_id, run_id);

CREATE TABLE task_instance_history (
    ti_id       TEXT    NOT NULL REFERENCES task_instance(id) ON DELETE CASCADE,
    try_number  INTEGER NOT NULL,
    state       TEXT,
    start_date  TEXT,
    end_date    TEXT,
    duration    REAL,
    pid         INTEGER,
    error       TEXT,
    PRIMARY KEY (ti_id, try_number)
);

CREATE TABLE slot_pool (
    pool             TEXT PRIMARY KEY,
    slots            INTEGER NOT NULL,
    description      TEXT,
    include_deferred INTEGER NOT NULL DEFAULT 0
);
INSERT INTO slot_pool(pool, slots, description) VALUES ('default_pool', 128, 'Default pool');

CREATE TABLE variable (
    key          TEXT PRIMARY KEY,
    val          TEXT NOT NULL,
    description  TEXT,
    is_encrypted INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE connection (
    conn_id      TEXT PRIMARY KEY,
    conn_type    TEXT NOT NULL,
    description  TEXT,
    host         TEXT,
    schema       TEXT,
    login        TEXT,
    password     TEXT,                             -- AES-256-GCM, base64
    port         INTEGER,
    extra        TEXT                              -- AES-256-GCM, base64
);

CREATE TABLE log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    dttm        TEXT NOT NULL,
    dag_id      TEXT,
    task_id     TEXT,
    run_id      TEXT,
    map_index   INTEGER,
    try_number  INTEGER,
    event       TEXT NOT NULL,
    owner       TEXT,
    extra       TEXT
);
CREATE INDEX log_dttm ON log(dttm);
