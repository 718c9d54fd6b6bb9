-- 0008: assets (data-aware scheduling), as Airflow 3.2 keeps them: assets and aliases, the
-- DAGs' references to them (scheduled on, task outlets and inlets), the asset events tasks and
-- the API emit, the queue of assets each asset-scheduled DAG has seen updated
-- (asset_dag_run_queue), and which events each asset-triggered run consumed.

CREATE TABLE asset (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL,
    uri         TEXT    NOT NULL,
    "group"     TEXT    NOT NULL DEFAULT 'asset',
    extra       TEXT    NOT NULL DEFAULT '{}',
    -- 0 when no live DAG references it any more (Airflow's asset_active): kept, listed with
    -- only_active=false.
    is_active   INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    UNIQUE (name, uri)
);
CREATE INDEX asset_uri ON asset(uri);

CREATE TABLE asset_alias (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    name    TEXT NOT NULL UNIQUE,
    "group" TEXT NOT NULL DEFAULT 'asset'
);

-- The assets an alias resolved to (through events emitted via the alias).
CREATE TABLE asset_alias_asset (
    alias_id INTEGER NOT NULL REFERENCES asset_alias(id) ON DELETE CASCADE,
    asset_id INTEGER NOT NULL REFERENCES asset(id) ON DELETE CASCADE,
    PRIMARY KEY (alias_id, asset_id)
);

-- AssetWatchers declared on assets (recorded; Lite runs no triggerer).
CREATE TABLE asset_watcher (
    asset_id     INTEGER NOT NULL REFERENCES asset(id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    trigger      TEXT    NOT NULL,                 -- the trigger's class path
    created_date TEXT    NOT NULL,
    PRIMARY KEY (asset_id, name)
);

-- DAGs scheduled on an asset, an alias, or an asset reference (Asset.ref by name or uri).
CREATE TABLE dag_schedule_asset_reference (
    asset_id   INTEGER NOT NULL REFERENCES asset(id) ON DELETE CASCADE,
    dag_id     TEXT    NOT NULL REFERENCES dag(dag_id) ON DELETE CASCADE,
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (asset_id, dag_id)
);
CREATE INDEX dag_schedule_asset_reference_dag ON dag_schedule_asset_reference(dag_id);

CREATE TABLE dag_schedule_asset_alias_reference (
    alias_id   INTEGER NOT NULL REFERENCES asset_alias(id) ON DELETE CASCADE,
    dag_id     TEXT    NOT NULL REFERENCES dag(dag_id) ON DELETE CASCADE,
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (alias_id, dag_id)
);

CREATE TABLE dag_schedule_asset_ref (
    dag_id     TEXT NOT NULL REFERENCES dag(dag_id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,                      -- name | uri
    value      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (dag_id, kind, value)
);

-- Tasks producing (outlets) and consuming (inlets) an asset.
CREATE TABLE task_outlet_asset_reference (
    asset_id   INTEGER NOT NULL REFERENCES asset(id) ON DELETE CASCADE,
    dag_id     TEXT    NOT NULL REFERENCES dag(dag_id) ON DELETE CASCADE,
    task_id    TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (asset_id, dag_id, task_id)
);
CREATE INDEX task_outlet_asset_reference_dag ON task_outlet_asset_reference(dag_id);

CREATE TABLE task_inlet_asset_reference (
    asset_id   INTEGER NOT NULL REFERENCES asset(id) ON DELETE CASCADE,
    dag_id     TEXT    NOT NULL REFERENCES dag(dag_id) ON DELETE CASCADE,
    task_id    TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (asset_id, dag_id, task_id)
);
CREATE INDEX task_inlet_asset_reference_dag ON task_inlet_asset_reference(dag_id);

-- An update of an asset: by a task (source_*), or through the API (source_* null).
CREATE TABLE asset_event (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    asset_id         INTEGER NOT NULL REFERENCES asset(id) ON DELETE CASCADE,
    extra            TEXT    NOT NULL DEFAULT '{}',
    source_task_id   TEXT,
    source_dag_id    TEXT,
    source_run_id    TEXT,
    source_map_index INTEGER NOT NULL DEFAULT -1,
    partition_key    TEXT,
    timestamp        TEXT    NOT NULL
);
CREATE INDEX asset_event_asset_ts ON asset_event(asset_id, timestamp);
CREATE INDEX asset_event_source ON asset_event(source_dag_id, source_run_id);

-- Events emitted through an alias.
CREATE TABLE asset_alias_asset_event (
    alias_id INTEGER NOT NULL REFERENCES asset_alias(id) ON DELETE CASCADE,
    event_id INTEGER NOT NULL REFERENCES asset_event(id) ON DELETE CASCADE,
    PRIMARY KEY (alias_id, event_id)
);

-- Airflow's asset_dag_run_queue: asset updates an asset-scheduled DAG has not run on yet.
CREATE TABLE asset_dag_run_queue (
    asset_id      INTEGER NOT NULL REFERENCES asset(id) ON DELETE CASCADE,
    target_dag_id TEXT    NOT NULL REFERENCES dag(dag_id) ON DELETE CASCADE,
    created_at    TEXT    NOT NULL,
    PRIMARY KEY (asset_id, target_dag_id)
);
CREATE INDEX asset_dag_run_queue_dag ON asset_dag_run_queue(target_dag_id);

-- The events an asset-triggered run consumed (Airflow's dagrun_asset_event).
CREATE TABLE dagrun_asset_event (
    dag_run_id INTEGER NOT NULL REFERENCES dag_run(id) ON DELETE CASCADE,
    event_id   INTEGER NOT NULL REFERENCES asset_event(id) ON DELETE CASCADE,
    PRIMARY KEY (dag_run_id, event_id)
);
CREATE INDEX dagrun_asset_event_event ON dagrun_asset_event(event_id);
