-- Biggest RSS growth per process: RSS at its last sample minus RSS at its first, largest first,
-- with the growth per hour over the time between them.
-- Parameters: :host (text, NULL for every host), :worker (regex on the worker type, NULL for all),
-- :limit (integer, NULL for 20).
WITH span AS (
    SELECT p.id, p.host, p.pid, p.worker, MIN(s.ts_us) AS first_us, MAX(s.ts_us) AS last_us
    FROM process p JOIN sample s ON s.process_id = p.id
    WHERE (:host IS NULL OR p.host = :host)
      AND (:worker IS NULL OR regexp(:worker, p.worker) OR regexp(:worker, p.worker || '::Runner'))
    GROUP BY p.id
),
ends AS (
    SELECT x.*,
           (SELECT rss_bytes FROM sample s WHERE s.process_id = x.id AND s.ts_us = x.first_us
            ORDER BY s.source LIMIT 1) AS rss_first,
           (SELECT rss_bytes FROM sample s WHERE s.process_id = x.id AND s.ts_us = x.last_us
            ORDER BY s.source LIMIT 1) AS rss_last
    FROM span x
)
SELECT host, pid, worker,
       strftime('%Y-%m-%dT%H:%M:%SZ', first_us / 1000000, 'unixepoch') AS first,
       strftime('%Y-%m-%dT%H:%M:%SZ', last_us / 1000000, 'unixepoch') AS last,
       rss_first, rss_last, rss_last - rss_first AS rss_growth,
       CASE WHEN last_us > first_us
            THEN CAST(round((rss_last - rss_first) * 3600e6 / (last_us - first_us)) AS INTEGER)
       END AS rss_growth_per_hour
FROM ends
ORDER BY rss_growth DESC, host, pid
LIMIT coalesce(:limit, 20)
