-- Restarts per worker type and host: memory_exceeded events (the server stopped a worker for
-- exceeding its memory limit) and server_memory_exceeded events (the server stopped itself),
-- worker_started events, and the largest usage reported at a restart.
-- Parameters: :host (text, NULL for every host).
SELECT host, worker,
       SUM(kind IN ('memory_exceeded', 'server_memory_exceeded')) AS restarts,
       SUM(kind = 'worker_started') AS started,
       MAX(usage_bytes) AS max_usage, MAX(limit_bytes) AS limit_bytes
FROM events
WHERE kind IN ('memory_exceeded', 'server_memory_exceeded', 'worker_started') AND (:host IS NULL OR host = :host)
GROUP BY host, worker
ORDER BY restarts DESC, host, worker
