//! Writing one heap-dump file: its `source_file` row, its `dump` row (one per
//! host, pid, time and prefix: a plain and a gzip copy of one dump are one
//! dump), which the `events` view, charts and listings show beside the samples,
//! and what its content holds (`heap_dump`, `heap_site`, `heap_generation`),
//! stored once per dump, all in one transaction.

use anyhow::{Context, Result};
use rusqlite::{params, OptionalExtension, Transaction};

use super::files::{Earlier, FileMeta};
use super::Store;
use crate::heap::DumpContent;
use crate::parse::dump_name::DumpName;

/// A heap-dump file to record: the file, what its name says, what it holds.
#[derive(Debug, Clone)]
pub struct DumpMeta {
    pub file: FileMeta,
    pub file_name: String,
    pub name: DumpName,
    pub content: Option<Box<DumpContent>>,
}

/// What recording a dump file did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DumpOutcome {
    /// The file is stored; `new_dump` is false when another copy of the same
    /// dump (host, pid, time) was stored before; `new_content` is whether its
    /// content was stored (false when another copy's was).
    Stored { new_dump: bool, new_content: bool },
    /// A file with the same bytes was ingested first.
    AlreadyIngested(Earlier),
}

impl Store {
    pub fn write_dump(&mut self, meta: &DumpMeta) -> Result<DumpOutcome> {
        let tx = self.begin_write()?;
        let outcome = write_dump(&tx, meta)?;
        tx.commit()
            .with_context(|| format!("cannot commit {}", meta.file.path))?;
        Ok(outcome)
    }

    /// Records several dump files in one transaction: all of them or none.
    /// A commit writes every page it changed, and the few rows of a small dump
    /// touch a page of each heap table, so many small dumps committed one by
    /// one cost the writer and the disk more than reading them costs.
    pub fn write_dumps(&mut self, metas: &[&DumpMeta]) -> Result<Vec<DumpOutcome>> {
        let tx = self.begin_write()?;
        let outcomes = metas
            .iter()
            .map(|meta| write_dump(&tx, meta))
            .collect::<Result<Vec<_>>>()?;
        tx.commit().context("cannot commit the heap dumps")?;
        Ok(outcomes)
    }
}

/// Records a dump file within `tx`.
fn write_dump(tx: &Transaction<'_>, meta: &DumpMeta) -> Result<DumpOutcome> {
    let file = &meta.file;
    let ts_us = meta.name.utc_us;
    let earlier = Store::stored_file(tx, &file.hash)?;
    let (file_id, new_dump) = match earlier {
        // A file stored before its content was read: its content now.
        Some(earlier) => {
            let unread: Option<i64> = tx
                .prepare_cached("SELECT id FROM source_file WHERE hash = ?1 AND heap_read = 0")?
                .query_row([&file.hash], |r| r.get(0))
                .optional()?;
            match unread {
                Some(id) => (id, false),
                None => return Ok(DumpOutcome::AlreadyIngested(earlier)),
            }
        }
        None => {
            let file_id = Store::insert_file(tx, file, Some(ts_us))?;
            let new_dump = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO dump (file_id, host, pid, ts_us, prefix, file_name, size_bytes)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(params![
                    file_id,
                    file.host,
                    meta.name.pid,
                    ts_us,
                    meta.name.prefix,
                    meta.file_name,
                    file.size_bytes as i64
                ])?
                > 0;
            (file_id, new_dump)
        }
    };
    if !new_dump {
        // A dump recorded from its event alone (schema version 1) gets its file.
        tx.prepare_cached(
            "UPDATE dump SET file_id = ?1 WHERE host = ?2 AND pid = ?3 AND ts_us = ?4 AND prefix = ?5
             AND file_id IS NULL",
        )?
        .execute(params![file_id, file.host, meta.name.pid, ts_us, meta.name.prefix])?;
    }
    let dump_id: i64 = tx
        .prepare_cached(
            "SELECT id FROM dump WHERE host = ?1 AND pid = ?2 AND ts_us = ?3 AND prefix = ?4",
        )?
        .query_row(
            params![file.host, meta.name.pid, ts_us, meta.name.prefix],
            |r| r.get(0),
        )?;
    let new_content = match &meta.content {
        Some(content) => write_content(tx, dump_id, file_id, content)?,
        None => false,
    };
    tx.prepare_cached("UPDATE source_file SET events_new = ?2, heap_read = 1, lines = ?3, rejected = ?4 WHERE id = ?1")?
        .execute(params![
            file_id,
            new_dump as i64,
            meta.content.as_ref().map_or(0, |c| c.totals.lines as i64),
            meta.content.as_ref().map_or(0, |c| c.totals.bad_lines as i64),
        ])?;
    Ok(DumpOutcome::Stored {
        new_dump,
        new_content,
    })
}

/// Stores a dump's content unless a copy of it was stored before.
fn write_content(
    tx: &Transaction<'_>,
    dump_id: i64,
    file_id: i64,
    content: &DumpContent,
) -> Result<bool> {
    let t = &content.totals;
    let stored =
        tx.prepare_cached(
            "INSERT OR IGNORE INTO heap_dump (dump_id, file_id, lines, bad_lines, first_bad_line,
                 objects, bytes, garbage_objects, garbage_bytes, traced_objects, untraced_objects,
                 max_generation, tracer_objects, tracer_bytes, roots, object_table)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        )?
        .execute(params![
            dump_id,
            file_id,
            t.lines as i64,
            t.bad_lines as i64,
            t.first_bad_line.map(|l| l as i64),
            t.objects as i64,
            t.bytes as i64,
            t.garbage_objects as i64,
            t.garbage_bytes as i64,
            t.traced_objects as i64,
            t.untraced_objects as i64,
            t.max_generation,
            t.tracer_objects as i64,
            t.tracer_bytes as i64,
            content.roots.join(","),
            content.table.encode(),
        ])? > 0;
    if !stored {
        return Ok(false);
    }
    let mut site = tx.prepare_cached(
        "INSERT INTO heap_site (dump_id, idx, type, class, file, line, gem, objects, bytes,
             garbage_objects, garbage_bytes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    for (idx, s) in content.sites.iter().enumerate() {
        site.execute(params![
            dump_id,
            idx as i64,
            s.kind,
            s.class,
            s.file,
            s.line,
            s.gem,
            s.objects as i64,
            s.bytes as i64,
            s.garbage_objects as i64,
            s.garbage_bytes as i64,
        ])?;
    }
    let mut generation = tx.prepare_cached(
        "INSERT INTO heap_generation (dump_id, generation, objects, bytes) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for &(g, objects, bytes) in &content.generations {
        generation.execute(params![dump_id, g, objects as i64, bytes as i64])?;
    }
    Ok(true)
}
