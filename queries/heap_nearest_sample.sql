-- The sample of a process nearest a time (a heap dump's), any source, with its worker type.
-- Parameters: :host (text), :pid (integer), :ts_us (UTC µs).
SELECT s.ts_us, s.rss_bytes, s.pss_bytes, p.worker
FROM sample s JOIN process p ON p.id = s.process_id
WHERE p.host = :host AND p.pid = :pid AND s.rss_bytes IS NOT NULL
ORDER BY abs(s.ts_us - :ts_us), s.ts_us
LIMIT 1
