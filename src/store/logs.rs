//! Writing one log file: its `source_file` row, its processes, samples and
//! events, all in one transaction, so a file is stored whole or not at all.
//! Records arrive with their UTC time already decided (`crate::zone`); a
//! sample already stored (same process, time and source) or an event already
//! stored (same host, pid, kind and time) is counted as present, not added.

use anyhow::{Context, Result};
use rusqlite::types::Null;
use rusqlite::{params, CachedStatement, ToSql, Transaction};

use super::files::{Earlier, FileMeta};
use super::Store;
use crate::heap::hash::FastMap;
use crate::parse::{Enrichment, Event, EventKind, Sample, SampleKind};

/// Two `worker_started` events of one host and pid this close are one start.
pub const START_WINDOW_US: i64 = 120 * 1_000_000;

/// What writing a file added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FileCounts {
    pub samples_new: u64,
    pub samples_present: u64,
    pub events_new: u64,
    pub events_present: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileOutcome {
    Ingested(FileCounts),
    /// A file with the same bytes was ingested first (by another run, say).
    AlreadyIngested(Earlier),
}

/// Samples of one process and source: how many, first and last time, highest RSS.
#[derive(Debug, Clone, Copy)]
struct Summary {
    samples: i64,
    first_us: i64,
    last_us: i64,
    rss_max: Option<i64>,
}

/// A process of the file being written and the span of its samples there.
struct Span {
    host: Option<String>,
    worker: String,
    id: i64,
    first_us: i64,
    last_us: i64,
}

/// One log file being written; dropped without [`LogWrite::commit`], nothing of
/// it is stored.
pub struct LogWrite<'s> {
    /// One statement inserting [`ROWS_PER_INSERT`] samples, and one for a
    /// single sample (the file's last few).
    insert_samples: SampleInsert<'s>,
    insert_sample: SampleInsert<'s>,
    insert_event: CachedStatement<'s>,
    insert_enrichment: CachedStatement<'s>,
    insert_process: CachedStatement<'s>,
    process_id: CachedStatement<'s>,
    start_near: CachedStatement<'s>,
    insert_name: CachedStatement<'s>,
    name_id: CachedStatement<'s>,
    tx: Transaction<'s>,
    file_id: i64,
    host: String,
    path: String,
    /// pid -> its processes in this file (a pid is one worker type, or a few
    /// when it was reused).
    processes: FastMap<i64, Vec<Span>>,
    /// Message class and method names -> their `msg_name` ids, as this
    /// transaction found or added them.
    names: FastMap<String, i64>,
    /// Samples waiting to be inserted, with their process id and UTC time.
    pending: Vec<Pending>,
    /// The pending samples' keys and places, sorted to insert in key order:
    /// sorting these moves 32 bytes a sample where the samples are 350.
    order: Vec<(i64, i64, SampleKind, u32)>,
    /// What the file offered of each process and source: while every sample
    /// offered is added, the summaries need nothing read back.
    offered: FastMap<(i64, SampleKind), Summary>,
    counts: FileCounts,
    first_us: Option<i64>,
    last_us: Option<i64>,
}

impl Store {
    /// Starts writing a log file: `Err(earlier)` when a file with the same
    /// bytes is stored already.
    pub fn begin_log(&mut self, meta: &FileMeta) -> Result<Result<LogWrite<'_>, Earlier>> {
        let tx = self.begin_write()?;
        let earlier = Store::stored_file(&tx, &meta.hash)?;
        if let Some(earlier) = earlier {
            return Ok(Err(earlier));
        }
        let file_id = Store::insert_file(&tx, meta, None)?;
        let conn = &self.conn;
        Ok(Ok(LogWrite {
            insert_samples: SampleInsert::new(
                conn.prepare_cached(&insert_samples_sql(ROWS_PER_INSERT))?,
                ROWS_PER_INSERT,
            ),
            insert_sample: SampleInsert::new(conn.prepare_cached(&insert_samples_sql(1))?, 1),
            insert_enrichment: conn.prepare_cached(
                "INSERT OR IGNORE INTO enrichment (host, pid, ts_us, kind, worker, version, ruby, workers,
                     every, gc, dump_every, dump_max, trace, sinks, dump_file, size_bytes, ms, reason,
                     file_id, line_no)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
            )?,
            insert_event: conn.prepare_cached(
                "INSERT OR IGNORE INTO event (host, pid, ts_us, kind, worker, usage_bytes, limit_bytes,
                     size_bytes, detail, file_id, line_no)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?,
            insert_process: conn.prepare_cached(
                "INSERT OR IGNORE INTO process (host, pid, worker) VALUES (?1, ?2, ?3)",
            )?,
            process_id: conn.prepare_cached(
                "SELECT id FROM process WHERE host = ?1 AND pid = ?2 AND worker = ?3",
            )?,
            start_near: conn.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM event WHERE host = ?1 AND pid = ?2 AND kind = 'worker_started'
                                 AND ts_us BETWEEN ?3 - ?4 AND ?3 + ?4)",
            )?,
            insert_name: conn
                .prepare_cached("INSERT INTO msg_name (name) VALUES (?1) ON CONFLICT (name) DO NOTHING")?,
            name_id: conn.prepare_cached("SELECT id FROM msg_name WHERE name = ?1")?,
            tx,
            file_id,
            host: meta.host.clone(),
            path: meta.path.clone(),
            processes: FastMap::default(),
            names: FastMap::default(),
            pending: Vec::with_capacity(PENDING_ROWS),
            order: Vec::with_capacity(PENDING_ROWS),
            offered: FastMap::default(),
            counts: FileCounts::default(),
            first_us: None,
            last_us: None,
        }))
    }
}

/// Samples per INSERT statement: one statement's fixed cost (cursors opened
/// and closed, the statement reset) shared by many rows.
const ROWS_PER_INSERT: usize = 64;
/// Samples gathered before they are inserted in key order (process, time): a
/// file's lines interleave its processes, and inserting each process's run in
/// order appends to one place of the table instead of hopping between many.
const PENDING_ROWS: usize = 64 * ROWS_PER_INSERT;
/// Values of one sample row, in [`insert_samples_sql`]'s column order.
const SAMPLE_COLUMNS: usize = 18;

/// `INSERT OR IGNORE INTO sample ... VALUES (...), ...` for `rows` samples.
fn insert_samples_sql(rows: usize) -> String {
    let row = format!("({})", vec!["?"; SAMPLE_COLUMNS].join(", "));
    format!(
        "INSERT OR IGNORE INTO sample (process_id, ts_us, source, rss_bytes, pss_bytes, uss_bytes,
             vsz_bytes, live_slots, old_objects, msg_id, msg_class_id, msg_method_id, file_id,
             line_no, swap_bytes, gc_ms, msg_ms, msgs)
         VALUES {}",
        vec![row; rows].join(", ")
    )
}

/// A sample waiting to be inserted: its process id, UTC time and message
/// name ids.
struct Pending {
    process_id: i64,
    utc_us: i64,
    msg_class_id: Option<i64>,
    msg_method_id: Option<i64>,
    sample: Sample,
}

/// A prepared many-row sample INSERT and which of its parameters hold NULL.
/// SQLite keeps parameters bound across executions, so a NULL already bound
/// is not bound again: a patched sample leaves six of its 18 values empty,
/// and binding is a third of the cost of the INSERT.
struct SampleInsert<'s> {
    stmt: CachedStatement<'s>,
    null: Vec<bool>,
}

impl<'s> SampleInsert<'s> {
    fn new(stmt: CachedStatement<'s>, rows: usize) -> SampleInsert<'s> {
        // A statement fresh from the cache has every parameter NULL.
        SampleInsert {
            stmt,
            null: vec![true; rows * SAMPLE_COLUMNS],
        }
    }

    /// Binds the samples' values, row after row, from parameter 1; returns
    /// the rows the statement added.
    fn insert<'r>(
        &mut self,
        rows: impl Iterator<Item = &'r Pending>,
        file_id: i64,
    ) -> Result<usize> {
        let mut at = 0;
        for row in rows {
            let s = &row.sample;
            self.bind(&mut at, Some(row.process_id))?;
            self.bind(&mut at, Some(row.utc_us))?;
            self.bind(&mut at, Some(s.kind.as_str()))?;
            self.bind(&mut at, s.rss_bytes)?;
            self.bind(&mut at, s.pss_bytes)?;
            self.bind(&mut at, s.uss_bytes)?;
            self.bind(&mut at, s.vsz_bytes)?;
            self.bind(&mut at, s.live_slots)?;
            self.bind(&mut at, s.old_objects)?;
            self.bind(&mut at, s.msg_id)?;
            self.bind(&mut at, row.msg_class_id)?;
            self.bind(&mut at, row.msg_method_id)?;
            self.bind(&mut at, Some(file_id))?;
            self.bind(&mut at, Some(s.line_no as i64))?;
            self.bind(&mut at, s.swap_bytes)?;
            self.bind(&mut at, s.gc_ms)?;
            self.bind(&mut at, s.msg_ms)?;
            self.bind(&mut at, s.msgs)?;
        }
        debug_assert_eq!(at % SAMPLE_COLUMNS, 0);
        Ok(self.stmt.raw_execute()?)
    }

    /// Binds the next parameter (`at` counts them), NULL for `None` unless
    /// it holds NULL already.
    #[inline]
    fn bind<T: ToSql>(&mut self, at: &mut usize, v: Option<T>) -> Result<()> {
        *at += 1;
        let null = &mut self.null[*at - 1];
        match v {
            Some(v) => {
                self.stmt.raw_bind_parameter(*at, v)?;
                *null = false;
            }
            None if !*null => {
                self.stmt.raw_bind_parameter(*at, Null)?;
                *null = true;
            }
            None => {}
        }
        Ok(())
    }
}

/// Counts one row offered: added, or present already (`INSERT OR IGNORE`).
fn tally(added: usize, new: &mut u64, present: &mut u64) {
    if added > 0 {
        *new += 1;
    } else {
        *present += 1;
    }
}

impl LogWrite<'_> {
    fn saw(&mut self, utc_us: i64) {
        self.first_us = Some(self.first_us.map_or(utc_us, |t| t.min(utc_us)));
        self.last_us = Some(self.last_us.map_or(utc_us, |t| t.max(utc_us)));
    }

    /// Adds a sample at its UTC time, in the order of the file's lines.
    pub fn sample(&mut self, s: Sample, utc_us: i64) -> Result<()> {
        self.saw(utc_us);
        let spans = self.processes.entry(s.pid).or_default();
        let host = s.host.as_deref().unwrap_or(&self.host);
        let same = |span: &&mut Span| {
            span.worker == s.worker && span.host.as_deref().unwrap_or(&self.host) == host
        };
        let id = match spans.iter_mut().find(same) {
            Some(span) => {
                span.first_us = span.first_us.min(utc_us);
                span.last_us = span.last_us.max(utc_us);
                span.id
            }
            None => {
                self.insert_process
                    .execute(params![host, s.pid, s.worker])?;
                let id: i64 = self
                    .process_id
                    .query_row(params![host, s.pid, s.worker], |r| r.get(0))?;
                spans.push(Span {
                    host: s.host.clone(),
                    worker: s.worker.clone(),
                    id,
                    first_us: utc_us,
                    last_us: utc_us,
                });
                id
            }
        };
        let msg_class_id = self.name_id(s.msg_class.as_deref())?;
        let msg_method_id = self.name_id(s.msg_method.as_deref())?;
        self.pending.push(Pending {
            process_id: id,
            utc_us,
            msg_class_id,
            msg_method_id,
            sample: s,
        });
        if self.pending.len() == PENDING_ROWS {
            self.flush_samples()?;
        }
        Ok(())
    }

    /// The `msg_name` id of a message class or method name, added when new.
    fn name_id(&mut self, name: Option<&str>) -> Result<Option<i64>> {
        let Some(name) = name else { return Ok(None) };
        if let Some(&id) = self.names.get(name) {
            return Ok(Some(id));
        }
        self.insert_name.execute([name])?;
        let id: i64 = self.name_id.query_row([name], |r| r.get(0))?;
        self.names.insert(name.to_string(), id);
        Ok(Some(id))
    }

    /// Inserts the pending samples in key order, counting those already stored.
    fn flush_samples(&mut self) -> Result<()> {
        // The place breaks ties: of two samples with one key, the earlier
        // line is stored.
        self.order.clear();
        self.order.extend(
            self.pending
                .iter()
                .enumerate()
                .map(|(i, p)| (p.process_id, p.utc_us, p.sample.kind, i as u32)),
        );
        self.order.sort_unstable();
        // In key order, the samples of one process and source come in runs.
        for run in self
            .order
            .chunk_by(|(pa, _, ka, _), (pb, _, kb, _)| pa == pb && ka == kb)
        {
            let (process_id, first_us, kind, _) = run[0];
            let last_us = run[run.len() - 1].1;
            let rss_max = run
                .iter()
                .filter_map(|&(.., i)| self.pending[i as usize].sample.rss_bytes)
                .max();
            let sum = self.offered.entry((process_id, kind)).or_insert(Summary {
                samples: 0,
                first_us,
                last_us,
                rss_max: None,
            });
            sum.samples += run.len() as i64;
            sum.first_us = sum.first_us.min(first_us);
            sum.last_us = sum.last_us.max(last_us);
            sum.rss_max = sum.rss_max.max(rss_max);
        }
        fn rows<'r>(
            pending: &'r [Pending],
            places: &'r [(i64, i64, SampleKind, u32)],
        ) -> impl Iterator<Item = &'r Pending> {
            places.iter().map(move |&(.., i)| &pending[i as usize])
        }
        let mut added = 0;
        let mut places = self.order.chunks_exact(ROWS_PER_INSERT);
        for full in &mut places {
            added += self
                .insert_samples
                .insert(rows(&self.pending, full), self.file_id)?;
        }
        for one in places.remainder().chunks(1) {
            added += self
                .insert_sample
                .insert(rows(&self.pending, one), self.file_id)?;
        }
        let offered = self.pending.len() as u64;
        self.counts.samples_new += added as u64;
        self.counts.samples_present += offered - added as u64;
        self.pending.clear();
        Ok(())
    }

    /// Adds an event at its UTC time. One start of a worker is often logged
    /// twice, by the server and by the worker itself: a start of the same host
    /// and pid within [`START_WINDOW_US`] of a stored one is that one.
    pub fn event(&mut self, e: &Event, utc_us: i64) -> Result<()> {
        self.saw(utc_us);
        let host = e.host.as_deref().unwrap_or(&self.host);
        if e.kind == EventKind::WorkerStarted {
            let near: bool = self
                .start_near
                .query_row(params![host, e.pid, utc_us, START_WINDOW_US], |r| r.get(0))?;
            if near {
                self.counts.events_present += 1;
                return Ok(());
            }
        }
        let added = self.insert_event.execute(params![
            host,
            e.pid,
            utc_us,
            e.kind.as_str(),
            e.worker,
            e.usage_bytes,
            e.limit_bytes,
            e.size_bytes,
            e.detail,
            self.file_id,
            e.line_no as i64,
        ])?;
        tally(
            added,
            &mut self.counts.events_new,
            &mut self.counts.events_present,
        );
        Ok(())
    }

    /// Adds what the enrichment said of a process at its UTC time (counted with
    /// the events).
    pub fn enrichment(&mut self, n: &Enrichment, utc_us: i64) -> Result<()> {
        self.saw(utc_us);
        let set = &n.settings;
        let added = self.insert_enrichment.execute(params![
            n.host.as_deref().unwrap_or(&self.host),
            n.pid,
            utc_us,
            n.kind.as_str(),
            n.worker,
            n.version,
            n.ruby,
            set.workers,
            set.every,
            set.gc,
            set.dump_every,
            set.dump_max,
            set.trace,
            set.sinks,
            n.dump_file,
            n.size_bytes,
            n.ms,
            n.reason,
            self.file_id,
            n.line_no as i64,
        ])?;
        tally(
            added,
            &mut self.counts.events_new,
            &mut self.counts.events_present,
        );
        Ok(())
    }

    /// Stores the file with everything added to it.
    pub fn commit(mut self) -> Result<FileCounts> {
        self.flush_samples()?;
        let LogWrite {
            insert_samples,
            insert_sample,
            insert_event,
            insert_enrichment,
            insert_process,
            process_id,
            start_near,
            insert_name,
            name_id,
            tx,
            file_id,
            path,
            processes,
            offered,
            counts,
            first_us,
            last_us,
            ..
        } = self;
        drop((
            insert_samples,
            insert_sample,
            insert_event,
            insert_enrichment,
            insert_process,
            process_id,
            start_near,
            insert_name,
            name_id,
        ));
        {
            let mut span = tx.prepare_cached(
                "UPDATE process SET first_us = min(coalesce(first_us, ?2), ?2),
                                    last_us = max(coalesce(last_us, ?3), ?3)
                 WHERE id = ?1",
            )?;
            for s in processes.values().flatten() {
                span.execute(params![s.id, s.first_us, s.last_us])?;
            }
            const ADD: &str = "ON CONFLICT (process_id, source) DO UPDATE SET
                     samples = samples + excluded.samples,
                     first_us = min(first_us, excluded.first_us),
                     last_us = max(last_us, excluded.last_us),
                     rss_max = max(coalesce(rss_max, excluded.rss_max), coalesce(excluded.rss_max, rss_max))";
            if counts.samples_present == 0 {
                // Every sample offered was added: the summaries are those offered.
                let mut summary = tx.prepare_cached(&format!(
                    "INSERT INTO process_summary (process_id, source, samples, first_us, last_us, rss_max)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) {ADD}"
                ))?;
                for ((process_id, source), s) in &offered {
                    summary.execute(params![
                        process_id,
                        source.as_str(),
                        s.samples,
                        s.first_us,
                        s.last_us,
                        s.rss_max
                    ])?;
                }
            } else {
                // Some were stored before: the file's new samples are those
                // stored with its id, read back over each process's span.
                let mut summary = tx.prepare_cached(&format!(
                    "INSERT INTO process_summary (process_id, source, samples, first_us, last_us, rss_max)
                     SELECT process_id, source, COUNT(*), MIN(ts_us), MAX(ts_us), MAX(rss_bytes)
                     FROM sample
                     WHERE process_id = ?1 AND ts_us BETWEEN ?2 AND ?3 AND file_id = ?4
                     GROUP BY source
                     {ADD}"
                ))?;
                for s in processes.values().flatten() {
                    summary.execute(params![s.id, s.first_us, s.last_us, file_id])?;
                }
            }
        }
        tx.prepare_cached(
            "UPDATE source_file SET samples_new = ?2, samples_dup = ?3, events_new = ?4,
                 first_ts_us = ?5, last_ts_us = ?6
             WHERE id = ?1",
        )?
        .execute(params![
            file_id,
            counts.samples_new as i64,
            counts.samples_present as i64,
            counts.events_new as i64,
            first_us,
            last_us,
        ])?;
        tx.commit()
            .with_context(|| format!("cannot commit {path}"))?;
        Ok(counts)
    }
}
