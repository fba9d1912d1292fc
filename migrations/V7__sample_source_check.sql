-- miq-memlog schema, version 7: the same `sample` table, its `source` check
-- written as comparisons. SQLite evaluates `x IN (three or more constants)`
-- through a temporary index it builds for every row a many-row INSERT adds:
-- about a fifth of the cost of storing a sample. Comparisons check the same.
CREATE TABLE sample_v7 (
    process_id   INTEGER NOT NULL REFERENCES process (id),
    ts_us        INTEGER NOT NULL,
    source       TEXT    NOT NULL CHECK (source = 'patch' OR source = 'status' OR source = 'memlog'),
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

INSERT INTO sample_v7 (process_id, ts_us, source, rss_bytes, pss_bytes, uss_bytes, vsz_bytes, live_slots,
                       old_objects, msg_id, msg_class, msg_method, file_id, line_no, swap_bytes, gc_ms,
                       msg_ms, msgs)
SELECT process_id, ts_us, source, rss_bytes, pss_bytes, uss_bytes, vsz_bytes, live_slots,
       old_objects, msg_id, msg_class, msg_method, file_id, line_no, swap_bytes, gc_ms,
       msg_ms, msgs
FROM sample ORDER BY process_id, ts_us, source;
DROP VIEW samples;
DROP TABLE sample;
ALTER TABLE sample_v7 RENAME TO sample;

-- Unchanged from version 4.
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
