-- miq-memlog schema, version 5: what the listings need of each process, kept
-- current by ingest, so `pids` and `workers` read one row per process and source
-- instead of every sample.

-- Per process and sample source: how many samples, the first and last sample
-- time (UTC µs) and the highest RSS. Ingest adds each file's new samples to it in
-- the file's own transaction; it always equals the same aggregate over `sample`.
CREATE TABLE process_summary (
    process_id  INTEGER NOT NULL REFERENCES process (id),
    source      TEXT    NOT NULL,
    samples     INTEGER NOT NULL,
    first_us    INTEGER NOT NULL,
    last_us     INTEGER NOT NULL,
    rss_max     INTEGER,
    PRIMARY KEY (process_id, source)
) WITHOUT ROWID;

INSERT INTO process_summary (process_id, source, samples, first_us, last_us, rss_max)
SELECT process_id, source, COUNT(*), MIN(ts_us), MAX(ts_us), MAX(rss_bytes)
FROM sample
GROUP BY process_id, source;
