-- Challenge answers published for certmgr servers, and the servers themselves (SQLite).
-- Keep in step with ../postgres/0005_server.sql.
CREATE TABLE acme_challenges (
    token             TEXT PRIMARY KEY,
    kind              TEXT NOT NULL,     -- http-01 | tls-alpn-01
    identifier        TEXT NOT NULL,
    key_authorization TEXT NOT NULL,     -- public once served; not a secret
    created_at        BIGINT NOT NULL
);
CREATE INDEX acme_challenges_by_identifier ON acme_challenges (kind, identifier);

CREATE TABLE servers (
    id            TEXT PRIMARY KEY,
    host          TEXT NOT NULL,
    pid           BIGINT NOT NULL,
    http_listen   TEXT,
    https_listen  TEXT,
    started_at    BIGINT NOT NULL,
    heartbeat_at  BIGINT NOT NULL
);
