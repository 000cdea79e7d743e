-- ACME accounts and the challenge a credential uses (PostgreSQL). Keep in step with ../sqlite/0002_acme.sql.
CREATE TABLE acme_accounts (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL UNIQUE,
    ca_id               TEXT,                  -- catalog id, NULL for a custom directory
    directory_url       TEXT NOT NULL,
    account_url         TEXT NOT NULL,
    contacts            TEXT NOT NULL,         -- JSON array of mailto: URIs
    eab_kid             TEXT,
    sealed_credentials  BYTEA NOT NULL,         -- instant-acme AccountCredentials (JSON, holds the key), sealed
    ca_bundle_pem       TEXT,                  -- extra trust for the directory's TLS (private ACME CAs)
    status              TEXT NOT NULL,         -- valid | deactivated
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);

ALTER TABLE credentials ADD COLUMN challenge TEXT;
