-- The samples of one process in time order, as the leak report fits them.
-- Parameters: :process_id (integer, process.id).
SELECT ts_us, source, rss_bytes, pss_bytes, live_slots, old_objects,
       msg_id, msg_class, msg_method
FROM sample
WHERE process_id = :process_id
ORDER BY ts_us, source
