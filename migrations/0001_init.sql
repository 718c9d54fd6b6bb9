-- 0001: metadata foundation. Append-only: never edit a shipped migration, add a new file.

-- Every applied migration, next to PRAGMA user_version (which holds the latest number).
CREATE TABLE schema_migrations (
    version     INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    checksum    TEXT    NOT NULL,
    applied_at  TEXT    NOT NULL
);

-- Facts about this metadata database itself (created_at, created_by_version...).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
