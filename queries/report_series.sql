-- The samples of one process in time order, as the leak report fits them.
-- Parameters: :process_id (integer, process.id), :from_us, :to_us (UTC µs, inclusive,
-- NULL for open), :source ('patch', 'status' or 'memlog', NULL for all).
-- The message's class and method come as `msg_name` ids.
SELECT ts_us, source, rss_bytes, pss_bytes, live_slots, old_objects,
       msg_id, msg_class_id, msg_method_id
FROM sample
WHERE process_id = :process_id
  AND (:from_us IS NULL OR ts_us >= :from_us)
  AND (:to_us IS NULL OR ts_us <= :to_us)
  AND (:source IS NULL OR source = :source)
ORDER BY ts_us, source
