-- The table of live objects of one heap dump (varints, src/heap/table.rs) and its ROOT categories.
-- Parameters: :dump_id (integer).
SELECT object_table, roots FROM heap_dump WHERE dump_id = :dump_id
