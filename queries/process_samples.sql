-- The samples of one process that `export --format gnuplot` and `plot` draw, oldest first.
-- Parameters: :process_id (integer), :from_us, :to_us (UTC µs, inclusive, NULL for open),
-- :source ('patch', 'status' or 'memlog').
SELECT s.ts_us, s.source, s.pss_bytes, s.rss_bytes, s.live_slots, s.old_objects
FROM sample s
WHERE s.process_id = :process_id
  AND s.source = :source
  AND (:from_us IS NULL OR s.ts_us >= :from_us)
  AND (:to_us IS NULL OR s.ts_us <= :to_us)
ORDER BY s.ts_us
