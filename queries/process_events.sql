-- The heap dumps and restarts (memory_exceeded and server_memory_exceeded events) of one process in a
-- window, oldest first.
-- Parameters: :host (text), :pid (integer), :worker (the process's worker type),
-- :from_us, :to_us (UTC µs, inclusive, NULL for open).
SELECT ts_us, kind FROM (
    SELECT e.ts_us, e.kind
    FROM event e
    WHERE e.host = :host AND e.pid = :pid
      AND e.kind IN ('memory_exceeded', 'server_memory_exceeded')
      AND (e.worker IS NULL OR e.worker = :worker)
    UNION ALL
    SELECT d.ts_us, 'dump' FROM dump d WHERE d.host = :host AND d.pid = :pid
)
WHERE (:from_us IS NULL OR ts_us >= :from_us)
  AND (:to_us IS NULL OR ts_us <= :to_us)
ORDER BY ts_us, kind
