-- Heap dumps per process: how many, their total size on disk, first and last dump time (UTC).
-- The worker of a dump is resolved from the process of that host and pid (empty when no log names it).
-- Parameters: :host (text, NULL for every host).
SELECT host, pid, coalesce(worker, '') AS worker, COUNT(*) AS dumps, SUM(size_bytes) AS bytes,
       MIN(time) AS first, MAX(time) AS last
FROM events
WHERE kind = 'dump' AND (:host IS NULL OR host = :host)
GROUP BY host, pid, worker
ORDER BY dumps DESC, host, pid
