-- Samples per worker type per hour (UTC), by source: how densely each worker type was logged.
-- Parameters: :host (text, NULL for every host), :worker (regex on the worker type, NULL for all).
SELECT p.worker,
       strftime('%Y-%m-%dT%H:00Z', s.ts_us / 1000000, 'unixepoch') AS hour,
       SUM(s.source = 'patch') AS patch, SUM(s.source = 'status') AS status,
       SUM(s.source = 'memlog') AS memlog, COUNT(*) AS samples
FROM sample s JOIN process p ON p.id = s.process_id
WHERE (:host IS NULL OR p.host = :host)
  AND (:worker IS NULL OR regexp(:worker, p.worker) OR regexp(:worker, p.worker || '::Runner'))
GROUP BY p.worker, hour
ORDER BY p.worker, hour
