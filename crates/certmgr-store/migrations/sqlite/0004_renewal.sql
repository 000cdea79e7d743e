-- Renewal planning, failure backoff and certificate profiles (SQLite).
-- Keep in step with ../postgres/0004_renewal.sql.
ALTER TABLE credentials ADD COLUMN renew_at BIGINT;           -- when the current certificates are due (NULL: not planned yet)
ALTER TABLE credentials ADD COLUMN ari_next_check BIGINT;     -- when to ask the CA's renewalInfo again (its Retry-After)
ALTER TABLE credentials ADD COLUMN failure_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE credentials ADD COLUMN next_attempt_at BIGINT;    -- backoff after failures
ALTER TABLE credentials ADD COLUMN profile TEXT;              -- ACME certificate profile, NULL = the account's
ALTER TABLE acme_accounts ADD COLUMN profile TEXT;            -- default profile of the account's orders
ALTER TABLE acme_accounts ADD COLUMN max_concurrent_orders BIGINT;
