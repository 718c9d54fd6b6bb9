-- 0004: users of the built-in auth manager (Airflow's simple auth manager roles), with argon2id
-- password hashes in PHC format. Usernames are unique case-sensitively, as Airflow's.

CREATE TABLE users (
    username      TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'user', 'admin')),
    password_hash TEXT NOT NULL,                 -- $argon2id$v=19$...
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    last_login    TEXT
);

-- Tokens revoked by a sign-out (Airflow's revoked_token): refused until they expire anyway.
CREATE TABLE revoked_token (
    jti TEXT PRIMARY KEY,
    exp INTEGER NOT NULL                         -- its expiry (Unix seconds); pruned after that
);
