-- miq-memlog schema, version 4: samples written by the appliance enrichment
-- (appliance/miq_memlog.rb; source 'memlog', memory in true bytes) with the other
-- values its lines carry, and what the enrichment says of itself.

-- source 'memlog': the enrichment's lines (`Memlog: 1` in their block): RSS, PSS, USS and
-- swap in true bytes (kB x 1024); 'patch' and 'status' PSS and USS are ManageIQ's kB x 1000.
-- swap_bytes, gc_ms (the forced GC before the sample), msg_ms (the message's delivery) and
-- msgs (messages the process had delivered, this one included) come from those lines only.
CREATE TABLE sample_v4 (
    process_id   INTEGER NOT NULL REFERENCES process (id),
    ts_us        INTEGER NOT NULL,
    source       TEXT    NOT NULL CHECK (source IN ('patch', 'status', 'memlog')),
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
    swap_bytes   INTEGER,
    gc_ms        INTEGER,
    msg_ms       INTEGER,
    msgs         INTEGER,
    PRIMARY KEY (process_id, ts_us, source)
) WITHOUT ROWID;
INSERT INTO sample_v4 (process_id, ts_us, source, rss_bytes, pss_bytes, uss_bytes, vsz_bytes,
                       live_slots, old_objects, msg_id, msg_class, msg_method, file_id, line_no)
SELECT process_id, ts_us, source, rss_bytes, pss_bytes, uss_bytes, vsz_bytes,
       live_slots, old_objects, msg_id, msg_class, msg_method, file_id, line_no
FROM sample;
DROP VIEW samples;
DROP TABLE sample;
ALTER TABLE sample_v4 RENAME TO sample;

-- ISO 8601 UTC with microseconds, e.g. 2017-03-01T00:00:06.137911Z.
CREATE VIEW samples AS
SELECT strftime('%Y-%m-%dT%H:%M:%S', s.ts_us / 1000000, 'unixepoch')
           || '.' || printf('%06d', s.ts_us % 1000000) || 'Z' AS time,
       p.host, p.pid, p.worker, s.source,
       s.rss_bytes AS rss, s.pss_bytes AS pss, s.uss_bytes AS uss, s.vsz_bytes AS vsz,
       s.live_slots AS live, s.old_objects AS old,
       s.msg_id, s.msg_class, s.msg_method,
       s.ts_us, s.process_id, s.file_id, s.line_no,
       s.swap_bytes AS swap, s.gc_ms, s.msg_ms, s.msgs
FROM sample s JOIN process p ON p.id = s.process_id;

-- What the enrichment says of each process: 'started' (its version, Ruby and settings),
-- 'dump' (a heap dump written: file, bytes, ms), 'dump_cap' (no more dumps: the cap was
-- reached), 'disabled' (it turned itself off: the reason).
CREATE TABLE enrichment (
    host        TEXT    NOT NULL,
    pid         INTEGER NOT NULL,
    ts_us       INTEGER NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('started', 'dump', 'dump_cap', 'disabled')),
    worker      TEXT,
    version     INTEGER,
    ruby        TEXT,
    workers     TEXT,
    every       INTEGER,
    gc          INTEGER,
    dump_every  INTEGER,
    dump_max    INTEGER,
    trace       INTEGER,
    sinks       TEXT,
    dump_file   TEXT,
    size_bytes  INTEGER,
    ms          INTEGER,
    reason      TEXT,
    file_id     INTEGER REFERENCES source_file (id),
    line_no     INTEGER,
    PRIMARY KEY (host, pid, kind, ts_us)
) WITHOUT ROWID;
