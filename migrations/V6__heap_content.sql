-- miq-memlog schema, version 6: what each heap dump holds, read from its content.
-- "Live" is reachable from the dump's ROOT lines (class pointers count as references);
-- the rest is garbage not yet swept. The allocation tracer's own object
-- (ObjectTracing/allocation_info_tracer) is counted apart and in no other total.

-- One row per dump whose content was read (the first copy of it ingested).
CREATE TABLE heap_dump (
    dump_id           INTEGER PRIMARY KEY REFERENCES dump (id),
    file_id           INTEGER NOT NULL REFERENCES source_file (id),
    lines             INTEGER NOT NULL,
    bad_lines         INTEGER NOT NULL,   -- skipped: torn, NUL bytes, not of Ruby's shape
    first_bad_line    INTEGER,
    objects           INTEGER NOT NULL,   -- live objects
    bytes             INTEGER NOT NULL,   -- their memsize
    garbage_objects   INTEGER NOT NULL,
    garbage_bytes     INTEGER NOT NULL,
    traced_objects    INTEGER NOT NULL,   -- live and garbage, with allocation information
    untraced_objects  INTEGER NOT NULL,
    max_generation    INTEGER,
    tracer_objects    INTEGER NOT NULL,
    tracer_bytes      INTEGER NOT NULL,
    roots             TEXT    NOT NULL,   -- ROOT categories, comma-separated, in order
    -- The live objects sorted by address: address, generation, site index, memsize and
    -- parent on a shortest path from a ROOT, as varints (src/heap/table.rs).
    object_table      BLOB    NOT NULL
);

-- Objects of one type and class allocated at one file:line (file NULL: no allocation
-- information), per dump; idx is what object_table names.
CREATE TABLE heap_site (
    dump_id          INTEGER NOT NULL REFERENCES heap_dump (dump_id),
    idx              INTEGER NOT NULL,
    type             TEXT    NOT NULL,
    class            TEXT    NOT NULL,
    file             TEXT,
    line             INTEGER NOT NULL,
    gem              TEXT,
    objects          INTEGER NOT NULL,
    bytes            INTEGER NOT NULL,
    garbage_objects  INTEGER NOT NULL,
    garbage_bytes    INTEGER NOT NULL,
    PRIMARY KEY (dump_id, idx)
) WITHOUT ROWID;

-- Live traced objects per generation (GC.count at allocation).
CREATE TABLE heap_generation (
    dump_id     INTEGER NOT NULL REFERENCES heap_dump (dump_id),
    generation  INTEGER NOT NULL,
    objects     INTEGER NOT NULL,
    bytes       INTEGER NOT NULL,
    PRIMARY KEY (dump_id, generation)
) WITHOUT ROWID;

-- Dump files ingested before their content was read (heap_read 0) are read again by the
-- next ingest that meets them, which fills their dump's rows above.
ALTER TABLE source_file ADD COLUMN heap_read INTEGER NOT NULL DEFAULT 1;
UPDATE source_file SET heap_read = 0 WHERE format = 'heap-dump';
