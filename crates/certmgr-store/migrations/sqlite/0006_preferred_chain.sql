-- The issuer a credential's chain should lead to, among a CA's alternates (SQLite).
-- Keep in step with ../postgres/0006_preferred_chain.sql.
ALTER TABLE credentials ADD COLUMN preferred_chain TEXT;
ALTER TABLE acme_accounts ADD COLUMN preferred_chain TEXT;
