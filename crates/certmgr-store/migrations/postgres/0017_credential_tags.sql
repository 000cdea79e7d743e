-- Tags on credentials (team=web, env=prod): what a role's scope selects, so
-- rows are authenticated (mac) like the others that decide access (postgres).
-- Keep in step with ../sqlite/0017_credential_tags.sql.
CREATE TABLE credential_tags (
    id            TEXT PRIMARY KEY,      -- credential id, '/', key
    credential_id TEXT NOT NULL,
    tag_key       TEXT NOT NULL,
    tag_value     TEXT NOT NULL,
    mac           TEXT
);
CREATE INDEX credential_tags_by_tag ON credential_tags (tag_key, tag_value);
CREATE INDEX credential_tags_by_credential ON credential_tags (credential_id);
