-- The files ingested so far (logs, journal exports, pod output, heap dumps), oldest ingest first,
-- with the format each one's content was read as and the zone its local times were read in.
-- first_us / last_us: the span of its samples and events; ingested_us: when it was stored (UTC µs).
-- Parameters: none.
SELECT path, substr(hash, 1, 16) AS hash, host, format, tz, status, lines,
       samples_new, samples_dup, events_new, rejected, truncated,
       first_ts_us AS first_us, last_ts_us AS last_us, ingested_us
FROM source_file
ORDER BY id
