-- The samples `export --format csv` writes: one row per selected sample, ordered by host, pid, time, source
-- (the last four columns, the enrichment's, with --wide only).
-- Parameters: the selection: :host (text), :worker (regex on the worker type), :pids (JSON array of integers),
-- :from_us, :to_us (UTC µs, inclusive), :source ('patch', 'status' or 'memlog'); NULL means no restriction.
WITH chosen AS MATERIALIZED (
    -- Processes first: the worker regex runs once per process, not per sample.
    SELECT p.id, p.host, p.pid, p.worker
    FROM process p
    WHERE (:host IS NULL OR p.host = :host)
      AND (:worker IS NULL OR regexp(:worker, p.worker) OR regexp(:worker, p.worker || '::Runner'))
      AND (:pids IS NULL OR p.pid IN (SELECT value FROM json_each(:pids)))
)
SELECT s.ts_us, p.host, p.pid, p.worker, s.source,
       s.rss_bytes, s.pss_bytes, s.uss_bytes, s.vsz_bytes, s.live_slots, s.old_objects,
       s.msg_id, c.name, m.name,
       s.swap_bytes, s.gc_ms, s.msg_ms, s.msgs
FROM chosen p
JOIN sample s ON s.process_id = p.id
LEFT JOIN msg_name c ON c.id = s.msg_class_id
LEFT JOIN msg_name m ON m.id = s.msg_method_id
WHERE (:from_us IS NULL OR s.ts_us >= :from_us)
  AND (:to_us IS NULL OR s.ts_us <= :to_us)
  AND (:source IS NULL OR s.source = :source)
ORDER BY p.host, p.pid, s.ts_us, s.source
