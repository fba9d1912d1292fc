-- Heap dumps with what their content holds (NULL where it was not read), oldest first per host
-- and pid: live objects and bytes (reachable from the ROOT lines), garbage not yet swept, objects
-- with and without allocation info, the tracer's own object, lines skipped as bad.
-- Parameters: :host (text), :pids (JSON array of integers), :from_us, :to_us (UTC µs, inclusive);
-- NULL means no restriction.
SELECT d.id AS dump_id, d.host, d.pid, d.ts_us, d.file_name,
       h.objects, h.bytes, h.garbage_objects, h.garbage_bytes, h.traced_objects, h.untraced_objects,
       h.max_generation, h.tracer_objects, h.tracer_bytes, h.lines, h.bad_lines, h.roots
FROM dump d LEFT JOIN heap_dump h ON h.dump_id = d.id
WHERE (:host IS NULL OR d.host = :host)
  AND (:pids IS NULL OR d.pid IN (SELECT value FROM json_each(:pids)))
  AND (:from_us IS NULL OR d.ts_us >= :from_us)
  AND (:to_us IS NULL OR d.ts_us <= :to_us)
ORDER BY d.host, d.pid, d.ts_us, d.prefix
