-- The set of ingested log files, for stating which database an export came from:
-- their count and content hashes in a stable order.
-- Parameters: none.
SELECT hash FROM source_file WHERE format <> 'heap-dump' ORDER BY hash
