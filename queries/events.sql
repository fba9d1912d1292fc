-- Lifecycle events (memory_exceeded, server_memory_exceeded, worker_started, dump) of the selection, ordered by host, pid, time, kind.
-- Parameters: :host (text), :worker (regex on the worker type), :pids (JSON array of integers),
-- :from_us, :to_us (UTC µs, inclusive); NULL means no restriction. ts_us is the time in UTC µs.
SELECT host, pid, worker, time, kind, detail, ts_us
FROM events
WHERE (:host IS NULL OR host = :host)
  AND (:worker IS NULL OR regexp(:worker, coalesce(worker, '')) OR regexp(:worker, worker || '::Runner'))
  AND (:pids IS NULL OR pid IN (SELECT value FROM json_each(:pids)))
  AND (:from_us IS NULL OR ts_us >= :from_us)
  AND (:to_us IS NULL OR ts_us <= :to_us)
ORDER BY host, pid, ts_us, kind
