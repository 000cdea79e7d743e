-- Who may use the manager: local users (argon2id password hashes) and API
-- tokens (stored as SHA-256 of the secret, shown once), each with one role
-- and an optional tag scope; rows authenticated like the other rows that
-- decide where secrets go (mac) (sqlite). Keep in step with ../postgres/0016_users_tokens.sql.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    password_hash TEXT,                  -- argon2id PHC string; NULL: single sign-on only
    role          TEXT NOT NULL,         -- admin | operator | viewer
    scope_key     TEXT,                  -- the role applies to credentials tagged key=value
    scope_value   TEXT,
    created_at    BIGINT NOT NULL,
    disabled_at   BIGINT,
    mac           TEXT
);

CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    secret_hash   TEXT NOT NULL UNIQUE,  -- hex SHA-256 of the secret
    role          TEXT NOT NULL,
    scope_key     TEXT,
    scope_value   TEXT,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT,
    revoked_at    BIGINT,
    last_used_at  BIGINT,
    mac           TEXT
);
