-- Each selected process: host, pid, worker, first and last sample time, samples per source, heap dumps,
-- restarts (memory_exceeded events: the server stopped it for exceeding its memory limit; the server's own
-- server_memory_exceeded exits), RSS first/last/max.
-- A process is selected when it has at least one selected sample; times are UTC µs.
-- Parameters: :host (text), :worker (regex on the worker type), :pids (JSON array of integers),
-- :from_us, :to_us (UTC µs, inclusive), :source ('patch', 'status' or 'memlog'); NULL means no restriction.
WITH chosen AS MATERIALIZED (
    -- Processes first: the worker regex runs once per process, not per sample.
    SELECT p.id
    FROM process p
    WHERE (:host IS NULL OR p.host = :host)
      AND (:worker IS NULL OR regexp(:worker, p.worker) OR regexp(:worker, p.worker || '::Runner'))
      AND (:pids IS NULL OR p.pid IN (SELECT value FROM json_each(:pids)))
),
selected AS (
    -- Inside a time window, from the samples themselves.
    SELECT p.id, MIN(s.ts_us) AS first_us, MAX(s.ts_us) AS last_us,
           SUM(s.source = 'patch') AS patch_samples, SUM(s.source = 'status') AS status_samples,
           SUM(s.source = 'memlog') AS memlog_samples,
           MAX(s.rss_bytes) AS rss_max
    FROM chosen p
    JOIN sample s ON s.process_id = p.id
    WHERE (:from_us IS NOT NULL OR :to_us IS NOT NULL)
      AND (:from_us IS NULL OR s.ts_us >= :from_us)
      AND (:to_us IS NULL OR s.ts_us <= :to_us)
      AND (:source IS NULL OR s.source = :source)
    GROUP BY p.id
    UNION ALL
    -- Without one, from the summaries ingest keeps: the same figures, one row per source.
    SELECT p.id, MIN(m.first_us), MAX(m.last_us),
           SUM(CASE WHEN m.source = 'patch' THEN m.samples ELSE 0 END),
           SUM(CASE WHEN m.source = 'status' THEN m.samples ELSE 0 END),
           SUM(CASE WHEN m.source = 'memlog' THEN m.samples ELSE 0 END),
           MAX(m.rss_max)
    FROM chosen p
    JOIN process_summary m ON m.process_id = p.id
    WHERE :from_us IS NULL AND :to_us IS NULL
      AND (:source IS NULL OR m.source = :source)
    GROUP BY p.id
)
SELECT p.id AS process_id, p.host, p.pid, p.worker, x.first_us, x.last_us,
       x.patch_samples, x.status_samples,
       (SELECT COUNT(*) FROM dump d
        WHERE d.host = p.host AND d.pid = p.pid
          AND (:from_us IS NULL OR d.ts_us >= :from_us)
          AND (:to_us IS NULL OR d.ts_us <= :to_us)) AS dumps,
       (SELECT COUNT(*) FROM event e
        WHERE e.host = p.host AND e.pid = p.pid AND e.kind IN ('memory_exceeded', 'server_memory_exceeded')
          AND (e.worker IS NULL OR e.worker = p.worker)
          AND (:from_us IS NULL OR e.ts_us >= :from_us)
          AND (:to_us IS NULL OR e.ts_us <= :to_us)) AS restarts,
       (SELECT s.rss_bytes FROM sample s
        WHERE s.process_id = p.id AND s.ts_us = x.first_us AND (:source IS NULL OR s.source = :source)
        ORDER BY s.source LIMIT 1) AS rss_first,
       (SELECT s.rss_bytes FROM sample s
        WHERE s.process_id = p.id AND s.ts_us = x.last_us AND (:source IS NULL OR s.source = :source)
        ORDER BY s.source LIMIT 1) AS rss_last,
       x.rss_max, x.memlog_samples
FROM selected x
JOIN process p ON p.id = x.id
ORDER BY p.host, p.pid, p.worker
