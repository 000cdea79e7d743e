-- The renewal due index (postgres): when the renewal planner must next look at a
-- credential (crates/certmgr-store/src/due.rs), kept by every write that
-- changes what it is computed from, so that a scheduler pass selects the
-- credentials that may be due with a range scan instead of planning every
-- one. NULL: never by itself (issued outside certmgr, revoked); 0: at once.
-- Derived data: not in the content digest, not covered by the row MAC.
-- Rows of an older store get theirs on the first open (the meta entry
-- 'due_at_backfill' asks for it, and goes in the same transaction).
-- Keep in step with ../sqlite/0018_due_index.sql.
ALTER TABLE credentials ADD COLUMN due_at BIGINT;
CREATE INDEX credentials_by_due_at ON credentials (due_at);
-- The earliest expiry of a credential's current version (a due time's input,
-- and every listing's) read from an index alone, not from the key rows.
CREATE INDEX credential_keys_expiry ON credential_keys (credential_id, version, not_after);
INSERT INTO meta (key, value) VALUES ('due_at_backfill', '');
