-- The audit log: who did what, when, from where, and how it ended; append
-- only, each entry authenticated together with the one before it (a chain of
-- HMACs under a key derived from the master key), and the head of the chain
-- kept in audit_head, so that an edited, deleted or truncated entry is found
-- by `certmgr audit verify` (sqlite). Keep in step with ../postgres/0015_audit_log.sql.
CREATE TABLE audit_log (
    seq       BIGINT PRIMARY KEY,   -- 1, 2, 3, ... without gaps
    at        BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    address   TEXT,                 -- the client's address; NULL on this machine
    action    TEXT NOT NULL,        -- e.g. cred.create
    target    TEXT NOT NULL,        -- what it acted on (a name), or ''
    outcome   TEXT NOT NULL,        -- ok | bad-input | failed
    detail    TEXT NOT NULL,
    mac       TEXT NOT NULL         -- hex HMAC over this entry and the previous mac
);
CREATE INDEX audit_log_by_action ON audit_log (action, seq);

CREATE TABLE audit_head (
    id        BIGINT PRIMARY KEY,   -- always 1
    seq       BIGINT NOT NULL,      -- the last entry's seq (0: none yet)
    mac       TEXT NOT NULL,        -- the last entry's mac ('' : none yet)
    head_mac  TEXT NOT NULL         -- hex HMAC over seq and mac ('' : none yet)
);
INSERT INTO audit_head (id, seq, mac, head_mac) VALUES (1, 0, '', '');
