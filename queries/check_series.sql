-- The sample times of one process with their source and, for the enrichment's samples, the messages the
-- process had delivered: what `check` looks for gaps and lost samples in. Times are UTC µs.
-- Parameters: :process_id (integer), :from_us, :to_us (UTC µs, inclusive, NULL for open).
SELECT ts_us, source, msgs
FROM sample
WHERE process_id = :process_id
  AND (:from_us IS NULL OR ts_us >= :from_us)
  AND (:to_us IS NULL OR ts_us <= :to_us)
ORDER BY ts_us, source
