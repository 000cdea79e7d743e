-- DNS accounts (a provider bound to zones, with sealed parameters) and the TXT
-- cleanup journal (SQLite). Keep in step with ../postgres/0007_dns.sql.
CREATE TABLE dns_accounts (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    provider      TEXT NOT NULL,          -- provider definition id
    zones         TEXT NOT NULL,          -- JSON array of zone names served by this account
    sealed_params BLOB NOT NULL,          -- JSON object of parameter values, sealed (holds API tokens)
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

-- A TXT record is journalled before it is created and leaves the journal only
-- after its deletion succeeded, so nothing is left behind after a crash.
CREATE TABLE txt_journal (
    id            TEXT PRIMARY KEY,
    dns_account   TEXT NOT NULL,
    zone          TEXT NOT NULL,
    record_name   TEXT NOT NULL,
    value         TEXT NOT NULL,
    captures      TEXT NOT NULL,          -- JSON object: values the add phase captured (record ids) for delete
    state         TEXT NOT NULL,          -- adding | present | deleting
    credential_id TEXT,
    created_at    BIGINT NOT NULL
);
