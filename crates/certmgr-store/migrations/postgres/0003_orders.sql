-- Crash-safe ACME orders and the one-issuance-at-a-time lease (PostgreSQL).
-- Keep in step with ../sqlite/0003_orders.sql.
CREATE TABLE acme_orders (
    id            TEXT PRIMARY KEY,
    credential_id TEXT NOT NULL REFERENCES credentials(id) ON DELETE CASCADE,
    family        TEXT NOT NULL,
    key_spec      TEXT NOT NULL,
    sealed_key    BYTEA NOT NULL,        -- the key the CSR is made from, sealed before any network step
    order_url     TEXT,                 -- NULL until the CA has created the order
    created_at    BIGINT NOT NULL,
    UNIQUE (credential_id, family)
);

ALTER TABLE credentials ADD COLUMN lease_owner TEXT;
ALTER TABLE credentials ADD COLUMN lease_until BIGINT;
