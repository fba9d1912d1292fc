-- The heap dumps ingested as files, per host and pid, oldest first: time (UTC µs) and prefix from each
-- file's name, its size on disk.
-- Parameters: :host (text), :pids (JSON array of integers); NULL means no restriction.
SELECT host, pid, ts_us, prefix, size_bytes
FROM dump
WHERE (:host IS NULL OR host = :host)
  AND (:pids IS NULL OR pid IN (SELECT value FROM json_each(:pids)))
ORDER BY host, pid, ts_us
