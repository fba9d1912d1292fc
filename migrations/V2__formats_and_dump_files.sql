-- miq-memlog schema, version 2: every ingested file records the format its content
-- was read as, and heap dumps are files with rows of their own.

-- 'classic' (evm.log lines), later formats by name; 'heap-dump' for dump files.
ALTER TABLE source_file ADD COLUMN format TEXT NOT NULL DEFAULT 'classic';

-- One row per heap dump of a process, from its file name <prefix>_<epoch>_<pid>.dump[.gz]:
-- host, pid, UTC time and prefix (two dumps of one second differ by their prefix). A plain
-- and a gzip copy of one dump are one dump; file_name and file_id are those of the copy
-- ingested first (file_id NULL for dumps recorded at version 1, until their file is
-- ingested again).
CREATE TABLE dump (
    id          INTEGER PRIMARY KEY,
    file_id     INTEGER REFERENCES source_file (id),
    host        TEXT    NOT NULL,
    pid         INTEGER NOT NULL,
    ts_us       INTEGER NOT NULL,
    prefix      TEXT    NOT NULL,
    file_name   TEXT    NOT NULL,
    size_bytes  INTEGER NOT NULL,
    UNIQUE (host, pid, ts_us, prefix)
);

-- Version 1 recorded dumps as events only ('file=NAME size=BYTES').
WITH named AS (
    SELECT host, pid, ts_us, coalesce(size_bytes, 0) AS size_bytes,
           substr(detail, 6, instr(detail, ' ') - 6) AS name
    FROM event WHERE kind = 'dump'
)
INSERT INTO dump (file_id, host, pid, ts_us, prefix, file_name, size_bytes)
SELECT NULL, host, pid, ts_us,
       substr(name, 1, instr(name, '_' || (ts_us / 1000000) || '_' || pid || '.dump') - 1),
       name, size_bytes
FROM named;
DELETE FROM event WHERE kind = 'dump';

-- Events, and heap dumps as events of kind 'dump', with the worker resolved from the
-- process of that host and pid when the event itself does not name it.
DROP VIEW events;
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
