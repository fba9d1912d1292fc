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
)
SELECT p.worker,
       (SELECT group_concat(host, ',') FROM (
            SELECT DISTINCT c.host FROM chosen c WHERE c.worker = p.worker ORDER BY c.host)) AS hosts,
       COUNT(DISTINCT p.id) AS processes, COUNT(*) AS samples,
       MIN(s.ts_us) AS first_us, MAX(s.ts_us) AS last_us
FROM chosen p
JOIN sample s ON s.process_id = p.id
WHERE (:from_us IS NULL OR s.ts_us >= :from_us)
  AND (:to_us IS NULL OR s.ts_us <= :to_us)
  AND (:source IS NULL OR s.source = :source)
GROUP BY p.worker
ORDER BY p.worker
