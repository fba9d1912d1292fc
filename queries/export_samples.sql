-- The samples `export` writes: one row per sample, ordered by host, pid, time, source.
-- Parameters: :host (text, NULL for every host).
SELECT s.ts_us, p.host, p.pid, p.worker, s.source,
       s.rss_bytes, s.pss_bytes, s.uss_bytes, s.vsz_bytes, s.live_slots, s.old_objects,
       s.msg_id, s.msg_class, s.msg_method
FROM sample s
JOIN process p ON p.id = s.process_id
WHERE (:host IS NULL OR p.host = :host)
ORDER BY p.host, p.pid, s.ts_us, s.source
