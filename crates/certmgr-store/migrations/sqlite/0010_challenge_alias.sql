-- DNS-01: where to write a credential's TXT records when `_acme-challenge`
-- is delegated by a CNAME that cannot be looked up (SQLite).
-- Keep in step with ../postgres/0010_challenge_alias.sql.
ALTER TABLE credentials ADD COLUMN challenge_alias TEXT;
