-- The files ingested so far (logs, journal exports, pod output, heap dumps), oldest ingest first,
-- with the format each one's content was read as and the zone its local times were read in.
-- Parameters: none.
SELECT path, substr(hash, 1, 16) AS hash, host, format, tz, status, lines,
       samples_new, samples_dup, events_new, rejected, truncated,
       strftime('%Y-%m-%dT%H:%M:%SZ', first_ts_us / 1000000, 'unixepoch') AS first,
       strftime('%Y-%m-%dT%H:%M:%SZ', last_ts_us / 1000000, 'unixepoch') AS last,
       strftime('%Y-%m-%dT%H:%M:%SZ', ingested_us / 1000000, 'unixepoch') AS ingested
FROM source_file
ORDER BY id
