-- Lifecycle events (memory_exceeded, worker_started, dump), ordered by host, pid, time, kind.
-- Parameters: :host (text, NULL for every host), :pid (integer, NULL for every pid).
SELECT host, pid, worker, time, kind, detail
FROM events
WHERE (:host IS NULL OR host = :host)
  AND (:pid IS NULL OR pid = :pid)
ORDER BY host, pid, ts_us, kind
