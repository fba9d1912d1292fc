//! Writing one heap-dump file: its `source_file` row and its `dump` row (one per
//! host, pid, time and prefix: a plain and a gzip copy of one dump are one
//! dump), which the `events` view, charts and listings show beside the samples.

use anyhow::{Context, Result};
use rusqlite::params;

use super::files::{Earlier, FileMeta};
use super::Store;
use crate::parse::dump_name::DumpName;

/// A heap-dump file to record: the file, and what its name says.
#[derive(Debug, Clone)]
pub struct DumpMeta {
    pub file: FileMeta,
    pub file_name: String,
    pub name: DumpName,
}

/// What recording a dump file did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DumpOutcome {
    /// The file is stored; `new_dump` is false when another copy of the same
    /// dump (host, pid, time) was stored before.
    Stored { new_dump: bool },
    /// A file with the same bytes was ingested first.
    AlreadyIngested(Earlier),
}

impl Store {
    pub fn write_dump(&mut self, meta: &DumpMeta) -> Result<DumpOutcome> {
        let tx = self.begin_write()?;
        let file = &meta.file;
        let earlier = Store::stored_file(&tx, &file.hash)?;
        if let Some(earlier) = earlier {
            return Ok(DumpOutcome::AlreadyIngested(earlier));
        }
        let ts_us = meta.name.utc_us;
        let file_id = Store::insert_file(&tx, file, Some(ts_us))?;
        let new_dump =
            tx.prepare_cached(
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
            ])? > 0;
        if !new_dump {
            // A dump recorded from its event alone (schema version 1) gets its file.
            tx.prepare_cached(
                "UPDATE dump SET file_id = ?1 WHERE host = ?2 AND pid = ?3 AND ts_us = ?4 AND prefix = ?5
                 AND file_id IS NULL",
            )?
            .execute(params![file_id, file.host, meta.name.pid, ts_us, meta.name.prefix])?;
        }
        tx.prepare_cached("UPDATE source_file SET events_new = ?2 WHERE id = ?1")?
            .execute(params![file_id, new_dump as i64])?;
        tx.commit()
            .with_context(|| format!("cannot commit {}", file.path))?;
        Ok(DumpOutcome::Stored { new_dump })
    }
}
