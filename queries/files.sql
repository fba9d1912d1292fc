-- The log files ingested so far, oldest ingest first.
-- Parameters: none.
SELECT path, substr(hash, 1, 16) AS hash, host, tz, status, lines,
       samples_new, samples_dup, events_new, rejected,
       strftime('%Y-%m-%dT%H:%M:%SZ', first_ts_us / 1000000, 'unixepoch') AS first,
       strftime('%Y-%m-%dT%H:%M:%SZ', last_ts_us / 1000000, 'unixepoch') AS last,
       strftime('%Y-%m-%dT%H:%M:%SZ', ingested_us / 1000000, 'unixepoch') AS ingested
FROM source_file
WHERE format <> 'heap-dump'
ORDER BY id
