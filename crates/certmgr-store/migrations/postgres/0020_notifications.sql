-- Notifications: the channels notices go out on (e-mail over SMTP, webhooks),
-- the notices the planner decided (one row per credential, version, event and
-- threshold: the unique dedupe key is what keeps a second pass from sending
-- again) and their delivery to each channel. A channel's settings (where
-- notices and the SMTP password go) and its sealed secrets (SMTP password,
-- webhook URL, HMAC secret) are authenticated (mac) like the other rows that
-- decide where secrets go (postgres). Keep in step with ../sqlite/0020_notifications.sql.
CREATE TABLE notify_channels (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    kind           TEXT NOT NULL,          -- email | webhook
    settings       TEXT NOT NULL,          -- JSON, no secret in it
    sealed_secrets BYTEA NOT NULL,          -- JSON of the secrets, sealed
    enabled        BIGINT NOT NULL,        -- 1 | 0
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    last_digest_at BIGINT,                 -- when the last daily digest went out
    mac            TEXT
);

CREATE TABLE notices (
    id              TEXT PRIMARY KEY,
    dedupe_key      TEXT NOT NULL UNIQUE,  -- credential id / version / event [/ threshold]
    credential_id   TEXT NOT NULL,         -- kept when the credential is deleted
    credential_name TEXT NOT NULL,
    event           TEXT NOT NULL,         -- issuance-failed | renewal-overdue | expiring | expired | revoked
    threshold_days  BIGINT,                -- expiring: 14, 7, 3 or 1
    version         BIGINT NOT NULL,
    not_after       BIGINT,
    message         TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX notices_credential ON notices (credential_id, version);
CREATE INDEX notices_created ON notices (created_at);

CREATE TABLE notice_deliveries (
    notice_id       TEXT NOT NULL REFERENCES notices (id) ON DELETE CASCADE,
    channel_id      TEXT NOT NULL,         -- no foreign key: sent rows outlive their channel
    channel_name    TEXT NOT NULL,
    state           TEXT NOT NULL,         -- pending | sent | failed
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT,
    sent_at         BIGINT,
    PRIMARY KEY (notice_id, channel_id)
);
CREATE INDEX notice_deliveries_open ON notice_deliveries (state, next_attempt_at);
