-- certmgr store, initial schema (SQLite). Keep in step with ../postgres/0001_initial.sql.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
);

CREATE TABLE credentials (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    hostnames         TEXT NOT NULL,          -- JSON array of normalised hostnames
    key_specs         TEXT NOT NULL,          -- JSON array of key specs
    issuer            TEXT NOT NULL,          -- ca:NAME | manual | import | acme:ACCOUNT
    status            TEXT NOT NULL,
    health            TEXT NOT NULL,
    last_error        TEXT,
    validity_days     BIGINT,
    renew_before_days BIGINT,
    current_version   BIGINT NOT NULL DEFAULT 0,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);

CREATE TABLE credential_keys (
    credential_id TEXT NOT NULL REFERENCES credentials(id) ON DELETE CASCADE,
    version       BIGINT NOT NULL,
    family        TEXT NOT NULL,              -- rsa | ecdsa
    key_spec      TEXT NOT NULL,
    sealed_key    BLOB NOT NULL,              -- PKCS#8 DER sealed with the master key
    cert_der      BLOB,                       -- NULL while a CSR is out
    chain_der     BLOB,                       -- concatenated DER of the intermediates, issuer first
    root_der      BLOB,
    serial        TEXT,
    fingerprint   TEXT,
    not_before    BIGINT,
    not_after     BIGINT,
    source        TEXT NOT NULL,              -- microca | csr | import
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (credential_id, version, family)
);

CREATE TABLE events (
    id              TEXT PRIMARY KEY,         -- UUIDv7: sorts by time
    credential_id   TEXT,
    credential_name TEXT,
    at              BIGINT NOT NULL,
    kind            TEXT NOT NULL,
    message         TEXT NOT NULL
);
CREATE INDEX events_by_credential ON events (credential_id, id);

CREATE TABLE cas (
    id                      TEXT PRIMARY KEY,
    name                    TEXT NOT NULL UNIQUE,
    key_spec                TEXT NOT NULL,
    root_der                BLOB NOT NULL,
    sealed_root_key         BLOB NOT NULL,
    intermediate_der        BLOB,
    sealed_intermediate_key BLOB,
    not_after               BIGINT NOT NULL,
    created_at              BIGINT NOT NULL
);

CREATE TABLE trust_anchors (
    fingerprint TEXT PRIMARY KEY,
    subject     TEXT NOT NULL,
    der         BLOB NOT NULL,
    is_root     BIGINT NOT NULL,
    not_after   BIGINT NOT NULL,
    added_at    BIGINT NOT NULL
);
