-- Browser sessions: the cookie's secret stored as its SHA-256, the principal
-- (a local user, or one signed in through OpenID Connect) with the role and
-- scope granted at sign-in, and an absolute expiry. Rows authenticated (mac)
-- like the tokens: a planted row grants nothing. Sessions are transient, so
-- the content digest leaves them out (sqlite). Keep in step with
-- ../postgres/0019_sessions.sql.
CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    secret_hash   TEXT NOT NULL UNIQUE,  -- hex SHA-256 of the cookie's secret
    principal     TEXT NOT NULL,         -- user:NAME or oidc:SUBJECT
    role          TEXT NOT NULL,
    scope_key     TEXT,
    scope_value   TEXT,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    mac           TEXT
);
CREATE INDEX sessions_expiry ON sessions (expires_at);
