-- The heap dumps and restarts (memory_exceeded and server_memory_exceeded events) of one process in a
-- window, oldest first.
-- Parameters: :host (text), :pid (integer), :worker (the process's worker type),
-- :from_us, :to_us (UTC µs, inclusive, NULL for open).
SELECT e.ts_us, e.kind
FROM event e
WHERE e.host = :host AND e.pid = :pid
  AND e.kind IN ('dump', 'memory_exceeded', 'server_memory_exceeded')
  AND (e.worker IS NULL OR e.worker = :worker)
  AND (:from_us IS NULL OR e.ts_us >= :from_us)
  AND (:to_us IS NULL OR e.ts_us <= :to_us)
ORDER BY e.ts_us, e.kind
