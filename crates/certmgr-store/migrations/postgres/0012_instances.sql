-- Every certmgr process that holds issuance leases or journals TXT records,
-- with a heartbeat (postgres). A lease or journal entry whose owner has no live row
-- here (alive_until in the past) belongs to a dead process: decided by time,
-- not by a process table, so processes in other containers or on other hosts
-- are judged alike. Keep in step with ../sqlite/0012_instances.sql.
CREATE TABLE instances (
    id           TEXT PRIMARY KEY,   -- random per process (UUID v7)
    host         TEXT NOT NULL,      -- for people reading messages; not an identity
    pid          BIGINT NOT NULL,
    started_at   BIGINT NOT NULL,
    alive_until  BIGINT NOT NULL
);
