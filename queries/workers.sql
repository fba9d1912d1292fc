-- Each worker type with the hosts it ran on, its process count, samples, and first and last sample time (UTC µs).
-- Parameters: :host (text), :worker (regex on the worker type), :pids (JSON array of integers),
-- :from_us, :to_us (UTC µs, inclusive), :source ('patch', 'status' or 'memlog'); NULL means no restriction.
WITH chosen AS MATERIALIZED (
    -- Processes first: the worker regex runs once per process, not per sample.
    SELECT p.id, p.host, p.worker
    FROM process p
    WHERE (:host IS NULL OR p.host = :host)
      AND (:worker IS NULL OR regexp(:worker, p.worker) OR regexp(:worker, p.worker || '::Runner'))
      AND (:pids IS NULL OR p.pid IN (SELECT value FROM json_each(:pids)))
),
per_process AS (
    -- Inside a time window, from the samples themselves.
    SELECT p.id, p.worker, COUNT(*) AS samples, MIN(s.ts_us) AS first_us, MAX(s.ts_us) AS last_us
    FROM chosen p
    JOIN sample s ON s.process_id = p.id
    WHERE (:from_us IS NOT NULL OR :to_us IS NOT NULL)
      AND (:from_us IS NULL OR s.ts_us >= :from_us)
      AND (:to_us IS NULL OR s.ts_us <= :to_us)
      AND (:source IS NULL OR s.source = :source)
    GROUP BY p.id
    UNION ALL
    -- Without one, from the summaries ingest keeps.
    SELECT p.id, p.worker, SUM(m.samples), MIN(m.first_us), MAX(m.last_us)
    FROM chosen p
    JOIN process_summary m ON m.process_id = p.id
    WHERE :from_us IS NULL AND :to_us IS NULL
      AND (:source IS NULL OR m.source = :source)
    GROUP BY p.id
)
SELECT x.worker,
       (SELECT group_concat(host, ',') FROM (
            SELECT DISTINCT c.host FROM chosen c WHERE c.worker = x.worker ORDER BY c.host)) AS hosts,
       COUNT(*) AS processes, SUM(x.samples) AS samples,
       MIN(x.first_us) AS first_us, MAX(x.last_us) AS last_us
FROM per_process x
GROUP BY x.worker
ORDER BY x.worker
