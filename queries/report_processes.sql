-- The processes a leak report covers: one row per selected process with the heap dumps and the
-- memory restarts (memory_exceeded events, and the server's own server_memory_exceeded exits) of
-- its host and pid during its life and the window,
-- the memory limit its worker type was last restarted at on that host, and its samples in all
-- (from the per-process summaries: what analysing it will cost). A process's life runs
-- from its first sample until the next process of the same host and pid starts.
-- Parameters: :host (text), :worker (regex on the worker type), :pids (JSON array of integers),
-- :from_us, :to_us (UTC µs, inclusive, for the events); NULL means no restriction.
WITH life AS (
    SELECT p.id, p.host, p.pid, p.worker, p.first_us,
           LEAD(p.first_us) OVER (PARTITION BY p.host, p.pid ORDER BY p.first_us) AS next_us
    FROM process p
    WHERE (:host IS NULL OR p.host = :host)
      AND (:pids IS NULL OR p.pid IN (SELECT value FROM json_each(:pids)))
)
SELECT l.id, l.host, l.pid, l.worker,
       (SELECT COUNT(*) FROM dump d
        WHERE d.host = l.host AND d.pid = l.pid
          AND d.ts_us >= l.first_us AND (l.next_us IS NULL OR d.ts_us < l.next_us)
          AND (:from_us IS NULL OR d.ts_us >= :from_us)
          AND (:to_us IS NULL OR d.ts_us <= :to_us)) AS dumps,
       (SELECT COUNT(*) FROM event e
        WHERE e.host = l.host AND e.pid = l.pid AND e.kind IN ('memory_exceeded', 'server_memory_exceeded')
          AND e.ts_us >= l.first_us AND (l.next_us IS NULL OR e.ts_us < l.next_us)
          AND (:from_us IS NULL OR e.ts_us >= :from_us)
          AND (:to_us IS NULL OR e.ts_us <= :to_us)) AS restarts,
       (SELECT e.limit_bytes FROM event e
        WHERE e.host = l.host AND e.worker = l.worker AND e.kind IN ('memory_exceeded', 'server_memory_exceeded')
          AND e.limit_bytes IS NOT NULL
        ORDER BY e.ts_us DESC LIMIT 1) AS limit_bytes,
       (SELECT SUM(ps.samples) FROM process_summary ps WHERE ps.process_id = l.id) AS samples
FROM life l
WHERE :worker IS NULL OR regexp(:worker, l.worker) OR regexp(:worker, l.worker || '::Runner')
ORDER BY l.host, l.pid, l.first_us
