-- Row integrity (sqlite): a MAC under a key derived from the master key over the
-- columns that decide where a secret is sent or what the challenge server
-- answers (crates/certmgr-store/src/integrity.rs). Rows of an older store
-- get theirs on the first open with the master key; a row without a valid
-- MAC is refused. Journal captures become sealed text at the same time.
-- Keep in step with ../postgres/0013_row_integrity.sql.
ALTER TABLE dns_accounts ADD COLUMN mac TEXT;
ALTER TABLE txt_journal ADD COLUMN mac TEXT;
ALTER TABLE acme_challenges ADD COLUMN mac TEXT;
ALTER TABLE dns_providers ADD COLUMN mac TEXT;
ALTER TABLE acme_accounts ADD COLUMN mac TEXT;
ALTER TABLE acme_orders ADD COLUMN mac TEXT;
ALTER TABLE credentials ADD COLUMN mac TEXT;
