-- Which process journalled a TXT record, so a dead one's records are cleaned
-- up at once by the next run (SQLite). Keep in step with ../postgres/0008_journal_owner.sql.
ALTER TABLE txt_journal ADD COLUMN owner TEXT;
