-- 0009: Human-in-the-loop details (what a HITLOperator try asks a person, and the answer) and
-- each user's favourite DAGs. (0008 belongs to the asset tables.)

CREATE TABLE hitl_detail (
    ti_id          TEXT    NOT NULL REFERENCES task_instance(id) ON DELETE CASCADE,
    try_number     INTEGER NOT NULL,
    options        TEXT    NOT NULL,              -- JSON list of strings
    subject        TEXT    NOT NULL,
    body           TEXT,
    defaults       TEXT,                          -- JSON list of strings, or NULL
    multiple       INTEGER NOT NULL DEFAULT 0,
    params         TEXT    NOT NULL DEFAULT '{}', -- JSON {name: {value, description, schema}}
    assignees      TEXT,                          -- JSON [{id, name}], or NULL (anyone)
    created_at     TEXT    NOT NULL,
    timeout_at     TEXT,                          -- when the defaults apply (or the task fails)
    responded_at   TEXT,
    responded_by   TEXT,                          -- JSON {id, name}; NULL for a timeout default
    chosen_options TEXT,                          -- JSON list of strings
    params_input   TEXT    NOT NULL DEFAULT '{}',
    PRIMARY KEY (ti_id, try_number)
);
CREATE INDEX hitl_detail_waiting ON hitl_detail(timeout_at) WHERE responded_at IS NULL;

CREATE TABLE dag_favorite (
    user_id TEXT NOT NULL,
    dag_id  TEXT NOT NULL REFERENCES dag(dag_id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, dag_id)
);
