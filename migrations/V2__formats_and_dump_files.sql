-- miq-memlog schema, version 2: every ingested file records the format its content
-- was read as, and heap dumps are files with rows of their own.

-- 'classic' (evm.log lines), later formats by name; 'heap-dump' for dump files.
ALTER TABLE source_file ADD COLUMN format TEXT NOT NULL DEFAULT 'classic';

-- One row per heap dump of a process: host, pid and UTC time from the file name
-- (<prefix>_<epoch>_<pid>.dump[.gz]). A plain and a gzip copy of one dump are one
-- dump; file_id is the copy ingested first (NULL for dumps recorded at version 1,
-- until their file is ingested again).
CREATE TABLE dump (
    id          INTEGER PRIMARY KEY,
    file_id     INTEGER REFERENCES source_file (id),
    host        TEXT    NOT NULL,
    pid         INTEGER NOT NULL,
    ts_us       INTEGER NOT NULL,
    prefix      TEXT    NOT NULL,
    size_bytes  INTEGER NOT NULL,
    UNIQUE (host, pid, ts_us)
);

-- Version 1 recorded dumps as events only ('file=NAME size=BYTES').
WITH named AS (
    SELECT host, pid, ts_us, coalesce(size_bytes, 0) AS size_bytes,
           substr(detail, 6, instr(detail, ' ') - 6) AS name
    FROM event WHERE kind = 'dump'
)
INSERT INTO dump (file_id, host, pid, ts_us, prefix, size_bytes)
SELECT NULL, host, pid, ts_us,
       substr(name, 1, instr(name, '_' || (ts_us / 1000000) || '_' || pid || '.dump') - 1),
       size_bytes
FROM named;
