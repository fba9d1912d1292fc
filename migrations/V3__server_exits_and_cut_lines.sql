-- miq-memlog schema, version 3: the server stopping itself for memory is an event
-- of its own kind, and files count the lines ManageIQ's message limit cut.

-- Lines of a stored shape cut by ManageIQ's message limit (8 KB from Lasker on)
-- before their values: counted, never stored, not rejected.
ALTER TABLE source_file ADD COLUMN truncated INTEGER NOT NULL DEFAULT 0;

-- 'server_memory_exceeded': MiqServer#monitor_myself exiting the server process.
CREATE TABLE event_v3 (
    host         TEXT    NOT NULL,
    pid          INTEGER NOT NULL,
    ts_us        INTEGER NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('memory_exceeded', 'server_memory_exceeded',
                                                  'worker_started')),
    worker       TEXT,
    usage_bytes  INTEGER,
    limit_bytes  INTEGER,
    size_bytes   INTEGER,
    detail       TEXT    NOT NULL,
    file_id      INTEGER REFERENCES source_file (id),
    line_no      INTEGER,
    PRIMARY KEY (host, pid, kind, ts_us)
) WITHOUT ROWID;
INSERT INTO event_v3 (host, pid, ts_us, kind, worker, usage_bytes, limit_bytes, size_bytes,
                      detail, file_id, line_no)
SELECT host, pid, ts_us, kind, worker, usage_bytes, limit_bytes, size_bytes, detail, file_id, line_no
FROM event;
DROP VIEW events;
DROP TABLE event;
ALTER TABLE event_v3 RENAME TO event;

-- Events, and heap dumps as events of kind 'dump', with the worker resolved from the
-- process of that host and pid when the event itself does not name it.
CREATE VIEW events AS
SELECT e.host, e.pid,
       COALESCE(e.worker,
                -- the process of that host and pid running at the event's time, else the first
                (SELECT p.worker FROM process p
                 WHERE p.host = e.host AND p.pid = e.pid
                   AND p.first_us = (SELECT MAX(q.first_us) FROM process q
                                     WHERE q.host = e.host AND q.pid = e.pid AND q.first_us <= e.ts_us)),
                (SELECT p.worker FROM process p
                 WHERE p.host = e.host AND p.pid = e.pid
                   AND p.first_us = (SELECT MIN(q.first_us) FROM process q
                                     WHERE q.host = e.host AND q.pid = e.pid))) AS worker,
       strftime('%Y-%m-%dT%H:%M:%S', e.ts_us / 1000000, 'unixepoch')
           || '.' || printf('%06d', e.ts_us % 1000000) || 'Z' AS time,
       e.kind, e.detail, e.usage_bytes, e.limit_bytes, e.size_bytes,
       e.ts_us, e.file_id, e.line_no
FROM (SELECT host, pid, ts_us, kind, worker, detail, usage_bytes, limit_bytes, size_bytes,
             file_id, line_no
      FROM event
      UNION ALL
      SELECT host, pid, ts_us, 'dump', NULL, 'file=' || file_name || ' size=' || size_bytes,
             NULL, NULL, size_bytes, file_id, NULL
      FROM dump) e;
