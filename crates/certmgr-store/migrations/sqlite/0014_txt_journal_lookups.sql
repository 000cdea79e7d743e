-- The TXT journal read by record name (the values wanted on one name) and by
-- value (the cleanup of one challenge's record) without reading it whole
-- (sqlite). Keep in step with ../postgres/0014_txt_journal_lookups.sql.
CREATE INDEX txt_journal_by_record_name ON txt_journal (record_name);
CREATE INDEX txt_journal_by_value ON txt_journal (value);
