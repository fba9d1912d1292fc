-- miq-memlog schema, version 8: a sample's message class and method names
-- (`MiqQueue` class_name and method_name) stored once each in `msg_name` and
-- referenced by id. A patched log names a handful of kinds of message in
-- hundreds of thousands of samples: as text they were two fifths of every
-- sample row. The `samples` view still shows them as `msg_class` and
-- `msg_method`.
CREATE TABLE msg_name (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

INSERT INTO msg_name (name)
SELECT msg_class FROM sample WHERE msg_class IS NOT NULL
UNION
SELECT msg_method FROM sample WHERE msg_method IS NOT NULL
ORDER BY 1;

CREATE TABLE sample_v8 (
    process_id    INTEGER NOT NULL REFERENCES process (id),
    ts_us         INTEGER NOT NULL,
    source        TEXT    NOT NULL CHECK (source = 'patch' OR source = 'status' OR source = 'memlog'),
    rss_bytes     INTEGER,
    pss_bytes     INTEGER,
    uss_bytes     INTEGER,
    vsz_bytes     INTEGER,
    live_slots    INTEGER,
    old_objects   INTEGER,
    msg_id        INTEGER,
    msg_class_id  INTEGER REFERENCES msg_name (id),
    msg_method_id INTEGER REFERENCES msg_name (id),
    file_id       INTEGER NOT NULL REFERENCES source_file (id),
    line_no       INTEGER NOT NULL,
    swap_bytes    INTEGER,
    gc_ms         INTEGER,
    msg_ms        INTEGER,
    msgs          INTEGER,
    PRIMARY KEY (process_id, ts_us, source)
) WITHOUT ROWID;

INSERT INTO sample_v8 (process_id, ts_us, source, rss_bytes, pss_bytes, uss_bytes, vsz_bytes, live_slots,
                       old_objects, msg_id, msg_class_id, msg_method_id, file_id, line_no, swap_bytes, gc_ms,
                       msg_ms, msgs)
SELECT s.process_id, s.ts_us, s.source, s.rss_bytes, s.pss_bytes, s.uss_bytes, s.vsz_bytes, s.live_slots,
       s.old_objects, s.msg_id, c.id, m.id, s.file_id, s.line_no, s.swap_bytes, s.gc_ms,
       s.msg_ms, s.msgs
FROM sample s
LEFT JOIN msg_name c ON c.name = s.msg_class
LEFT JOIN msg_name m ON m.name = s.msg_method
ORDER BY s.process_id, s.ts_us, s.source;
DROP VIEW samples;
DROP TABLE sample;
ALTER TABLE sample_v8 RENAME TO sample;

-- The same columns as before, the names joined back.
CREATE VIEW samples AS
SELECT strftime('%Y-%m-%dT%H:%M:%S', s.ts_us / 1000000, 'unixepoch')
           || '.' || printf('%06d', s.ts_us % 1000000) || 'Z' AS time,
       p.host, p.pid, p.worker, s.source,
       s.rss_bytes AS rss, s.pss_bytes AS pss, s.uss_bytes AS uss, s.vsz_bytes AS vsz,
       s.live_slots AS live, s.old_objects AS old,
       s.msg_id, c.name AS msg_class, m.name AS msg_method,
       s.ts_us, s.process_id, s.file_id, s.line_no,
       s.swap_bytes AS swap, s.gc_ms, s.msg_ms, s.msgs
FROM sample s
JOIN process p ON p.id = s.process_id
LEFT JOIN msg_name c ON c.id = s.msg_class_id
LEFT JOIN msg_name m ON m.id = s.msg_method_id;
