-- What the appliance enrichment said of each process, oldest first: 'started' lines with the version,
-- Ruby and settings a process ran with, 'dump' lines (a heap dump written: file, bytes, ms), 'dump_cap'
-- (no more dumps) and 'disabled' (it turned itself off, and why). Times are UTC µs.
-- Parameters: :host (text), :pids (JSON array of integers); NULL means no restriction.
SELECT host, pid, ts_us, kind, worker, version, ruby, workers, every, gc, dump_every, dump_max, trace,
       sinks, dump_file, size_bytes, ms, reason
FROM enrichment
WHERE (:host IS NULL OR host = :host)
  AND (:pids IS NULL OR pid IN (SELECT value FROM json_each(:pids)))
ORDER BY host, pid, ts_us, kind
