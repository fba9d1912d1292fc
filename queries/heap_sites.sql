-- The sites of one heap dump (type, class, file:line, gem), by the index its object table uses,
-- with their live and garbage objects and bytes.
-- Parameters: :dump_id (integer).
SELECT idx, type, class, file, line, gem, objects, bytes, garbage_objects, garbage_bytes
FROM heap_site WHERE dump_id = :dump_id
ORDER BY idx
