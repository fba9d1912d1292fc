-- miq-memlog schema, version 1.
-- Times are UTC microseconds since 1970 (ts_us); sizes are bytes; counts are objects.

-- One row per log file whose bytes were ingested; identity is the content hash.
CREATE TABLE source_file (
    id            INTEGER PRIMARY KEY,
    path          TEXT    NOT NULL,           -- path as given on the first ingest
    hash          TEXT    NOT NULL UNIQUE,    -- xxh3-128 of the file's bytes as stored on disk (hex)
    quick_key     TEXT    NOT NULL,           -- size and hash of head and tail: cheap pre-check
    size_bytes    INTEGER NOT NULL,
    compressed    INTEGER NOT NULL CHECK (compressed IN (0, 1)),
    host          TEXT    NOT NULL,
    tz            TEXT    NOT NULL,           -- zone used: 'UTC', '+02:00', 'America/New_York'
    tz_inferred   INTEGER NOT NULL CHECK (tz_inferred IN (0, 1)),
    status        TEXT    NOT NULL CHECK (status IN ('complete', 'partial')),
    lines         INTEGER NOT NULL,
    samples_new   INTEGER NOT NULL,
    samples_dup   INTEGER NOT NULL,
    events_new    INTEGER NOT NULL,
    rejected      INTEGER NOT NULL,
    first_ts_us   INTEGER,                    -- earliest sample or event time in the file
    last_ts_us    INTEGER,
    ingested_us   INTEGER NOT NULL
);
CREATE INDEX source_file_quick_key ON source_file (quick_key);

-- A process is one worker process of one appliance: (host, pid, worker type).
-- worker is the class name without a trailing '::Runner'.
CREATE TABLE process (
    id        INTEGER PRIMARY KEY,
    host      TEXT    NOT NULL,
    pid       INTEGER NOT NULL,
    worker    TEXT    NOT NULL,
    first_us  INTEGER,
    last_us   INTEGER,
    UNIQUE (host, pid, worker)
);

-- One memory sample. source 'patch' = patched "Memory Info XXXX" line,
-- 'status' = stock log_status line. Unique per process, time and source.
CREATE TABLE sample (
    process_id   INTEGER NOT NULL REFERENCES process (id),
    ts_us        INTEGER NOT NULL,
    source       TEXT    NOT NULL CHECK (source IN ('patch', 'status')),
    rss_bytes    INTEGER,
    pss_bytes    INTEGER,
    uss_bytes    INTEGER,
    vsz_bytes    INTEGER,
    live_slots   INTEGER,
    old_objects  INTEGER,
    msg_id       INTEGER,
    msg_class    TEXT,
    msg_method   TEXT,
    file_id      INTEGER NOT NULL REFERENCES source_file (id),
    line_no      INTEGER NOT NULL,
    PRIMARY KEY (process_id, ts_us, source)
) WITHOUT ROWID;

-- Lifecycle events. worker is NULL where the source does not name it (heap dumps).
CREATE TABLE event (
    host         TEXT    NOT NULL,
    pid          INTEGER NOT NULL,
    ts_us        INTEGER NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('memory_exceeded', 'worker_started', 'dump')),
    worker       TEXT,
    usage_bytes  INTEGER,
    limit_bytes  INTEGER,
    size_bytes   INTEGER,
    detail       TEXT    NOT NULL,
    file_id      INTEGER REFERENCES source_file (id),   -- NULL for dump files
    line_no      INTEGER,
    PRIMARY KEY (host, pid, kind, ts_us)
) WITHOUT ROWID;

-- ISO 8601 UTC with microseconds, e.g. 2017-03-01T00:00:06.137911Z.
CREATE VIEW samples AS
SELECT strftime('%Y-%m-%dT%H:%M:%S', s.ts_us / 1000000, 'unixepoch')
           || '.' || printf('%06d', s.ts_us % 1000000) || 'Z' AS time,
       p.host, p.pid, p.worker, s.source,
       s.rss_bytes AS rss, s.pss_bytes AS pss, s.uss_bytes AS uss, s.vsz_bytes AS vsz,
       s.live_slots AS live, s.old_objects AS old,
       s.msg_id, s.msg_class, s.msg_method,
       s.ts_us, s.process_id, s.file_id, s.line_no
FROM sample s JOIN process p ON p.id = s.process_id;

-- Events with the worker resolved from the process of that host and pid when the
-- event itself does not name it.
CREATE VIEW events AS
SELECT e.host, e.pid,
       COALESCE(e.worker,
                (SELECT p.worker FROM process p
                 WHERE p.host = e.host AND p.pid = e.pid
                 ORDER BY (p.first_us > e.ts_us), abs(p.first_us - e.ts_us)
                 LIMIT 1)) AS worker,
       strftime('%Y-%m-%dT%H:%M:%S', e.ts_us / 1000000, 'unixepoch')
           || '.' || printf('%06d', e.ts_us % 1000000) || 'Z' AS time,
       e.kind, e.detail, e.usage_bytes, e.limit_bytes, e.size_bytes,
       e.ts_us, e.file_id, e.line_no
FROM event e;
