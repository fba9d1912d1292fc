//! Writing: records of a file are staged in temporary tables as they are parsed
//! (local times, no constraints), then moved into the real tables in one
//! transaction once the file is read whole and its zone is known. A file that
//! fails leaves nothing; several files can be staged at once.

use anyhow::{Context, Result};
use rusqlite::functions::FunctionFlags;
use rusqlite::{params, OptionalExtension};

use super::Store;
use crate::parse::{Record, Source};
use crate::zone::Zone;

/// What the store records about an ingested log file.
#[derive(Debug, Clone)]
pub struct FileMeta {
    pub path: String,
    pub hash: String,
    pub quick_key: String,
    pub size_bytes: u64,
    pub compressed: bool,
    pub host: String,
    pub zone: Zone,
    pub zone_inferred: bool,
    pub partial: bool,
    pub lines: u64,
    pub rejected: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileOutcome {
    Ingested {
        samples_new: u64,
        samples_present: u64,
        events_new: u64,
        events_present: u64,
    },
    /// A file with the same bytes was ingested first (by another run, say).
    AlreadyIngested { path: String, host: String },
}

/// A heap-dump file: its event comes from the name alone.
#[derive(Debug, Clone)]
pub struct DumpFile {
    pub host: String,
    pub pid: i64,
    pub utc_us: i64,
    pub size_bytes: u64,
    pub file_name: String,
}

const STAGING_SCHEMA: &str = "
CREATE TEMP TABLE IF NOT EXISTS stage_sample (
    file_seq INTEGER NOT NULL, line_no INTEGER NOT NULL, local_us INTEGER NOT NULL,
    pid INTEGER NOT NULL, worker TEXT NOT NULL, source TEXT NOT NULL,
    rss_bytes INTEGER, pss_bytes INTEGER, uss_bytes INTEGER, vsz_bytes INTEGER,
    live_slots INTEGER, old_objects INTEGER, msg_id INTEGER, msg_class TEXT, msg_method TEXT);
CREATE INDEX IF NOT EXISTS temp.stage_sample_file ON stage_sample (file_seq);
CREATE TEMP TABLE IF NOT EXISTS stage_event (
    file_seq INTEGER NOT NULL, line_no INTEGER NOT NULL, local_us INTEGER NOT NULL,
    pid INTEGER NOT NULL, worker TEXT, kind TEXT NOT NULL,
    usage_bytes INTEGER, limit_bytes INTEGER, size_bytes INTEGER, detail TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS temp.stage_event_file ON stage_event (file_seq);
";

/// `local_us` column to UTC in SQL: arithmetic for a fixed offset, a function for a zone.
fn utc_expr(zone: &Zone) -> String {
    match zone {
        Zone::Fixed(secs) => format!("(s.local_us - {})", *secs as i64 * 1_000_000),
        Zone::Named(_) => "miq_local_to_utc(s.local_us)".to_string(),
    }
}

impl Store {
    /// Stages parsed records of file `file_seq` (a number the caller chooses).
    pub fn stage(&mut self, file_seq: u64, records: &[Record]) -> Result<()> {
        if !self.staging {
            self.conn.execute_batch(STAGING_SCHEMA)?;
            self.conn.execute_batch("BEGIN")?;
            self.staging = true;
        }
        let mut samples = self.conn.prepare_cached(
            "INSERT INTO stage_sample VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        )?;
        let mut events = self.conn.prepare_cached(
            "INSERT INTO stage_event VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        for record in records {
            match record {
                Record::Sample(s) => {
                    samples.execute(params![
                        file_seq as i64,
                        s.line_no as i64,
                        s.local_us,
                        s.pid,
                        s.worker,
                        s.source.unwrap_or(Source::Patch).as_str(),
                        s.rss_bytes,
                        s.pss_bytes,
                        s.uss_bytes,
                        s.vsz_bytes,
                        s.live_slots,
                        s.old_objects,
                        s.msg_id,
                        s.msg_class,
                        s.msg_method,
                    ])?;
                }
                Record::Event(e) => {
                    events.execute(params![
                        file_seq as i64,
                        e.line_no as i64,
                        e.ts_us,
                        e.pid,
                        e.worker,
                        e.kind.as_str(),
                        e.usage_bytes,
                        e.limit_bytes,
                        e.size_bytes,
                        e.detail,
                    ])?;
                }
            }
        }
        Ok(())
    }

    fn end_staging(&mut self) -> Result<()> {
        if self.staging {
            self.conn.execute_batch("COMMIT")?;
            self.staging = false;
        }
        Ok(())
    }

    /// Drops what was staged for a file that failed.
    pub fn abort_file(&mut self, file_seq: u64) -> Result<()> {
        self.end_staging()?;
        if self.has_staging_tables()? {
            self.conn.execute(
                "DELETE FROM stage_sample WHERE file_seq = ?1",
                [file_seq as i64],
            )?;
            self.conn.execute(
                "DELETE FROM stage_event WHERE file_seq = ?1",
                [file_seq as i64],
            )?;
        }
        Ok(())
    }

    fn has_staging_tables(&self) -> Result<bool> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM temp.sqlite_master WHERE name = 'stage_sample')",
            [],
            |r| r.get(0),
        )?)
    }

    /// Moves a file's staged records into the database, in one transaction with
    /// its `source_file` row: all of the file or nothing.
    pub fn finish_file(&mut self, file_seq: u64, meta: &FileMeta) -> Result<FileOutcome> {
        self.end_staging()?;
        if !self.has_staging_tables()? {
            self.conn.execute_batch(STAGING_SCHEMA)?;
        }
        if let Zone::Named(tz) = meta.zone {
            let zone = Zone::Named(tz);
            self.conn.create_scalar_function(
                "miq_local_to_utc",
                1,
                FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
                move |ctx| Ok(zone.local_to_utc_us(ctx.get::<i64>(0)?)),
            )?;
        }
        let seq = file_seq as i64;
        let utc = utc_expr(&meta.zone);
        let tx = self.begin_write()?;
        let earlier: Option<(String, String)> = tx
            .prepare_cached("SELECT path, host FROM source_file WHERE hash = ?1")?
            .query_row([&meta.hash], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if let Some((path, host)) = earlier {
            drop(tx);
            self.abort_file(file_seq)?;
            return Ok(FileOutcome::AlreadyIngested { path, host });
        }
        tx.prepare_cached(
            "INSERT INTO source_file (path, hash, quick_key, size_bytes, compressed, host, tz, tz_inferred,
                 status, lines, samples_new, samples_dup, events_new, rejected, ingested_us)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 0, 0, 0, ?11, ?12)",
        )?
        .execute(params![
            meta.path,
            meta.hash,
            meta.quick_key,
            meta.size_bytes as i64,
            meta.compressed,
            meta.host,
            meta.zone.to_string(),
            meta.zone_inferred,
            if meta.partial { "partial" } else { "complete" },
            meta.lines as i64,
            meta.rejected as i64,
            chrono::Utc::now().timestamp_micros(),
        ])?;
        let file_id = tx.last_insert_rowid();
        tx.prepare_cached(
            "INSERT OR IGNORE INTO process (host, pid, worker)
             SELECT DISTINCT ?1, pid, worker FROM stage_sample WHERE file_seq = ?2",
        )?
        .execute(params![meta.host, seq])?;
        let staged_samples: i64 = tx
            .prepare_cached("SELECT COUNT(*) FROM stage_sample WHERE file_seq = ?1")?
            .query_row([seq], |r| r.get(0))?;
        let samples_new = tx
            .prepare_cached(&format!(
                "INSERT OR IGNORE INTO sample (process_id, ts_us, source, rss_bytes, pss_bytes, uss_bytes,
                     vsz_bytes, live_slots, old_objects, msg_id, msg_class, msg_method, file_id, line_no)
                 SELECT p.id, {utc}, s.source, s.rss_bytes, s.pss_bytes, s.uss_bytes, s.vsz_bytes,
                     s.live_slots, s.old_objects, s.msg_id, s.msg_class, s.msg_method, ?3, s.line_no
                 FROM stage_sample s JOIN process p ON p.host = ?1 AND p.pid = s.pid AND p.worker = s.worker
                 WHERE s.file_seq = ?2 ORDER BY s.line_no"
            ))?
            .execute(params![meta.host, seq, file_id])? as i64;
        let staged_events: i64 = tx
            .prepare_cached("SELECT COUNT(*) FROM stage_event WHERE file_seq = ?1")?
            .query_row([seq], |r| r.get(0))?;
        let events_new = tx
            .prepare_cached(&format!(
                "INSERT OR IGNORE INTO event (host, pid, ts_us, kind, worker, usage_bytes, limit_bytes,
                     size_bytes, detail, file_id, line_no)
                 SELECT ?1, s.pid, {utc}, s.kind, s.worker, s.usage_bytes, s.limit_bytes, s.size_bytes,
                     s.detail, ?3, s.line_no
                 FROM stage_event s WHERE s.file_seq = ?2 ORDER BY s.line_no"
            ))?
            .execute(params![meta.host, seq, file_id])? as i64;
        tx.prepare_cached(
            "UPDATE process SET
                 first_us = (SELECT MIN(ts_us) FROM sample WHERE process_id = process.id),
                 last_us = (SELECT MAX(ts_us) FROM sample WHERE process_id = process.id)
             WHERE host = ?1 AND (pid, worker) IN (SELECT pid, worker FROM stage_sample WHERE file_seq = ?2)",
        )?
        .execute(params![meta.host, seq])?;
        tx.prepare_cached(&format!(
            "UPDATE source_file SET samples_new = ?2, samples_dup = ?3, events_new = ?4,
                 first_ts_us = (SELECT MIN(t) FROM (SELECT MIN({utc}) AS t FROM stage_sample s WHERE s.file_seq = ?5
                                                   UNION ALL SELECT MIN({utc}) FROM stage_event s WHERE s.file_seq = ?5)),
                 last_ts_us = (SELECT MAX(t) FROM (SELECT MAX({utc}) AS t FROM stage_sample s WHERE s.file_seq = ?5
                                                  UNION ALL SELECT MAX({utc}) FROM stage_event s WHERE s.file_seq = ?5))
             WHERE id = ?1"
        ))?
        .execute(params![file_id, samples_new, staged_samples - samples_new, events_new, seq])?;
        tx.prepare_cached("DELETE FROM stage_sample WHERE file_seq = ?1")?
            .execute([seq])?;
        tx.prepare_cached("DELETE FROM stage_event WHERE file_seq = ?1")?
            .execute([seq])?;
        tx.commit()
            .with_context(|| format!("cannot commit {}", meta.path))?;
        Ok(FileOutcome::Ingested {
            samples_new: samples_new as u64,
            samples_present: (staged_samples - samples_new) as u64,
            events_new: events_new as u64,
            events_present: (staged_events - events_new) as u64,
        })
    }

    /// Records heap dumps as `dump` events of their host and pid, in one transaction.
    /// Returns how many were new.
    pub fn add_dumps(&mut self, dumps: &[DumpFile]) -> Result<u64> {
        self.end_staging()?;
        let tx = self.begin_write()?;
        let mut added = 0;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO event (host, pid, ts_us, kind, worker, size_bytes, detail)
                 VALUES (?1, ?2, ?3, 'dump', NULL, ?4, ?5)",
            )?;
            for d in dumps {
                let detail = format!("file={} size={}", d.file_name, d.size_bytes);
                added += insert.execute(params![
                    d.host,
                    d.pid,
                    d.utc_us,
                    d.size_bytes as i64,
                    detail
                ])? as u64;
            }
        }
        tx.commit()?;
        Ok(added)
    }
}
