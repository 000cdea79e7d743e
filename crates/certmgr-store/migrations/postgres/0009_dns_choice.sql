-- The DNS account a credential asks for, and provider definitions imported by
-- users (PostgreSQL). Keep in step with ../sqlite/0009_dns_choice.sql.
ALTER TABLE credentials ADD COLUMN dns_account TEXT;

CREATE TABLE dns_providers (
    id          TEXT PRIMARY KEY,
    source      TEXT NOT NULL,       -- the definition file's text
    file_name   TEXT NOT NULL,       -- where it was imported from, for messages
    imported_at BIGINT NOT NULL
);
