-- Queue messages followed by the largest RSS jumps: for per-message samples (patched or the
-- enrichment's, logged right after a
-- worker delivered a queue message), RSS minus the RSS of the same process's previous patched
-- sample, largest first, with the message that was delivered in between.
-- Parameters: :host (text, NULL for every host), :worker (regex on the worker type, NULL for all),
-- :limit (integer, NULL for 20).
WITH steps AS (
    SELECT p.host, p.pid, p.worker, s.ts_us, s.msg_id, c.name AS msg_class, m.name AS msg_method, s.rss_bytes,
           s.rss_bytes - LAG(s.rss_bytes) OVER (PARTITION BY s.process_id ORDER BY s.ts_us) AS rss_jump
    FROM sample s JOIN process p ON p.id = s.process_id
    LEFT JOIN msg_name c ON c.id = s.msg_class_id
    LEFT JOIN msg_name m ON m.id = s.msg_method_id
    WHERE s.source IN ('patch', 'memlog')
      AND (:host IS NULL OR p.host = :host)
      AND (:worker IS NULL OR regexp(:worker, p.worker) OR regexp(:worker, p.worker || '::Runner'))
)
SELECT host, pid, worker,
       strftime('%Y-%m-%dT%H:%M:%SZ', ts_us / 1000000, 'unixepoch') AS time,
       msg_class, msg_method, msg_id, rss_jump, rss_bytes AS rss
FROM steps
WHERE rss_jump IS NOT NULL
ORDER BY rss_jump DESC, host, pid, ts_us
LIMIT coalesce(:limit, 20)
