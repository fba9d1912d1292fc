//! Reading: selections of samples and events, and generic result tables for
//! listings, named queries and ad-hoc SQL.

use anyhow::{bail, Context, Result};
use regex::Regex;
use rusqlite::types::ValueRef;
use rusqlite::{Row, Statement, ToSql};

use super::Store;
use crate::analysis::Sample;
use crate::heap::hash::FastMap;
use crate::parse::time::format_utc_seconds;
use crate::parse::SampleKind;

/// A sample's queue message: id, class and method.
type Message = (Option<i64>, Option<String>, Option<String>);

/// Which processes, samples and events a command looks at. Every field narrows;
/// the default selects everything. Values are always bound as SQL parameters.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub host: Option<String>,
    /// Matched (unanchored) against the worker type, and against it with
    /// `::Runner` appended, so patterns written for the class name still work.
    pub worker: Option<Regex>,
    pub pids: Vec<i64>,
    /// Inclusive window, UTC µs.
    pub from_us: Option<i64>,
    pub to_us: Option<i64>,
    pub source: Option<SampleKind>,
}

impl Selection {
    fn pids_json(&self) -> Option<String> {
        if self.pids.is_empty() {
            return None;
        }
        let list: Vec<String> = self.pids.iter().map(i64::to_string).collect();
        Some(format!("[{}]", list.join(",")))
    }

    /// The named parameters every selecting query in `queries/` takes.
    pub(super) fn params(&self) -> SelectionParams {
        SelectionParams {
            host: self.host.clone(),
            worker: self.worker.as_ref().map(|r| r.as_str().to_string()),
            pids: self.pids_json(),
            from_us: self.from_us,
            to_us: self.to_us,
            source: self.source.map(SampleKind::as_str),
        }
    }
}

pub(super) struct SelectionParams {
    host: Option<String>,
    worker: Option<String>,
    pids: Option<String>,
    from_us: Option<i64>,
    to_us: Option<i64>,
    source: Option<&'static str>,
}

impl SelectionParams {
    /// Binds the parameters the statement actually names.
    pub(super) fn bind(&self, stmt: &Statement<'_>) -> Vec<(&'static str, &dyn ToSql)> {
        let all: [(&'static str, &dyn ToSql); 6] = [
            (":host", &self.host),
            (":worker", &self.worker),
            (":pids", &self.pids),
            (":from_us", &self.from_us),
            (":to_us", &self.to_us),
            (":source", &self.source),
        ];
        all.into_iter()
            .filter(|(name, _)| stmt.parameter_index(name).ok().flatten().is_some())
            .collect()
    }
}

/// One cell of a result table.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
}

impl Value {
    fn from_sql(v: ValueRef<'_>) -> Value {
        match v {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Real(f) => Value::Real(f),
            ValueRef::Text(t) => Value::Text(crate::parse::lossy(t).into_owned()),
            ValueRef::Blob(b) => Value::Text(format!("<{} bytes>", b.len())),
        }
    }
}

/// A query's result: column names and rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

/// Runs a prepared statement with named parameters into a [`Table`].
pub fn collect_table(stmt: &mut Statement<'_>, params: &[(&str, &dyn ToSql)]) -> Result<Table> {
    let columns: Vec<String> = stmt.column_names().map(|c| c.to_string()).collect();
    let width = columns.len();
    let mut rows = Vec::new();
    let mut cursor = stmt.query(params)?;
    while let Some(row) = cursor.next()? {
        rows.push(
            (0..width)
                .map(|i| row.get_ref(i).map(Value::from_sql))
                .collect::<Result<_, _>>()?,
        );
    }
    Ok(Table { columns, rows })
}

/// One selected process with what the selection holds of it (`queries/pids.sql`).
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessSummary {
    pub process_id: i64,
    pub host: String,
    pub pid: i64,
    pub worker: String,
    pub first_us: i64,
    pub last_us: i64,
    pub patch_samples: i64,
    /// Samples the appliance enrichment wrote.
    pub memlog_samples: i64,
    pub status_samples: i64,
    pub dumps: i64,
    pub restarts: i64,
    pub rss_first: Option<i64>,
    pub rss_last: Option<i64>,
    pub rss_max: Option<i64>,
}

/// One worker type in the selection (`queries/workers.sql`).
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerSummary {
    pub worker: String,
    pub hosts: String,
    pub processes: i64,
    pub samples: i64,
    pub first_us: i64,
    pub last_us: i64,
}

/// A sample as charts and gnuplot files draw it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChartSample {
    pub ts_us: i64,
    pub pss_bytes: Option<i64>,
    pub rss_bytes: Option<i64>,
    pub live_slots: Option<i64>,
    pub old_objects: Option<i64>,
}

/// What happened to a process, as markers on its chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerKind {
    /// A heap dump was written.
    Dump,
    /// The server stopped the worker for exceeding its memory limit
    /// (`memory_exceeded`); a replacement process takes over.
    Restart,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessEvent {
    pub ts_us: i64,
    pub kind: MarkerKind,
}

/// Every SQL file in `queries/`, embedded at build time: (name, text).
/// `named_queries_match_the_folder` keeps this list and the folder in step.
pub const NAMED_QUERIES: &[(&str, &str)] = &[
    (
        "check_series",
        include_str!("../../queries/check_series.sql"),
    ),
    ("dump_files", include_str!("../../queries/dump_files.sql")),
    (
        "dumps_per_process",
        include_str!("../../queries/dumps_per_process.sql"),
    ),
    ("enrichment", include_str!("../../queries/enrichment.sql")),
    ("events", include_str!("../../queries/events.sql")),
    (
        "export_samples",
        include_str!("../../queries/export_samples.sql"),
    ),
    ("files", include_str!("../../queries/files.sql")),
    ("heap_dumps", include_str!("../../queries/heap_dumps.sql")),
    (
        "heap_messages",
        include_str!("../../queries/heap_messages.sql"),
    ),
    (
        "heap_nearest_sample",
        include_str!("../../queries/heap_nearest_sample.sql"),
    ),
    ("heap_sites", include_str!("../../queries/heap_sites.sql")),
    ("heap_table", include_str!("../../queries/heap_table.sql")),
    ("pids", include_str!("../../queries/pids.sql")),
    (
        "process_events",
        include_str!("../../queries/process_events.sql"),
    ),
    (
        "process_samples",
        include_str!("../../queries/process_samples.sql"),
    ),
    (
        "report_processes",
        include_str!("../../queries/report_processes.sql"),
    ),
    (
        "report_series",
        include_str!("../../queries/report_series.sql"),
    ),
    (
        "restarts_per_worker",
        include_str!("../../queries/restarts_per_worker.sql"),
    ),
    ("rss_growth", include_str!("../../queries/rss_growth.sql")),
    ("rss_jumps", include_str!("../../queries/rss_jumps.sql")),
    (
        "samples_per_hour",
        include_str!("../../queries/samples_per_hour.sql"),
    ),
    ("source_set", include_str!("../../queries/source_set.sql")),
    ("workers", include_str!("../../queries/workers.sql")),
];

pub(super) fn named(name: &str) -> &'static str {
    NAMED_QUERIES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, sql)| *sql)
        .expect("query is embedded")
}

/// The leading `--` comment of a query file: what it answers and its parameters.
pub fn query_description(sql: &str) -> String {
    sql.lines()
        .map_while(|l| l.strip_prefix("--"))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
}

impl Store {
    /// Calls `each` with every selected sample row, in export order, without
    /// collecting them: exports stream.
    pub fn for_each_sample(
        &self,
        sel: &Selection,
        mut each: impl FnMut(&Row<'_>) -> Result<()>,
    ) -> Result<()> {
        let mut stmt = self.conn.prepare_cached(named("export_samples"))?;
        let params = sel.params();
        let bound = params.bind(&stmt);
        let mut rows = stmt.query(bound.as_slice())?;
        while let Some(row) = rows.next()? {
            each(row)?;
        }
        Ok(())
    }

    pub fn events(&self, sel: &Selection) -> Result<Table> {
        let mut stmt = self.conn.prepare_cached(named("events"))?;
        let params = sel.params();
        let bound = params.bind(&stmt);
        collect_table(&mut stmt, &bound)
    }

    pub fn files(&self) -> Result<Table> {
        let mut stmt = self.conn.prepare_cached(named("files"))?;
        let mut table = collect_table(&mut stmt, &[]).context("listing files")?;
        // Times are stored as UTC µs and listed as UTC seconds.
        for (stored, shown) in [
            ("first_us", "first"),
            ("last_us", "last"),
            ("ingested_us", "ingested"),
        ] {
            let Some(at) = table.columns.iter().position(|c| c == stored) else {
                continue;
            };
            table.columns[at] = shown.to_string();
            for row in &mut table.rows {
                if let Value::Integer(us) = row[at] {
                    row[at] = Value::Text(format_utc_seconds(us));
                }
            }
        }
        Ok(table)
    }

    /// The selected processes, ordered by host, pid, worker.
    pub fn processes(&self, sel: &Selection) -> Result<Vec<ProcessSummary>> {
        let mut stmt = self.conn.prepare_cached(named("pids"))?;
        let params = sel.params();
        let bound = params.bind(&stmt);
        let rows = stmt.query_map(bound.as_slice(), |r| {
            Ok(ProcessSummary {
                process_id: r.get(0)?,
                host: r.get(1)?,
                pid: r.get(2)?,
                worker: r.get(3)?,
                first_us: r.get(4)?,
                last_us: r.get(5)?,
                patch_samples: r.get(6)?,
                memlog_samples: r.get(13)?,
                status_samples: r.get(7)?,
                dumps: r.get(8)?,
                restarts: r.get(9)?,
                rss_first: r.get(10)?,
                rss_last: r.get(11)?,
                rss_max: r.get(12)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn workers(&self, sel: &Selection) -> Result<Vec<WorkerSummary>> {
        let mut stmt = self.conn.prepare_cached(named("workers"))?;
        let params = sel.params();
        let bound = params.bind(&stmt);
        let rows = stmt.query_map(bound.as_slice(), |r| {
            Ok(WorkerSummary {
                worker: r.get(0)?,
                hosts: r.get(1)?,
                processes: r.get(2)?,
                samples: r.get(3)?,
                first_us: r.get(4)?,
                last_us: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One process's samples of one source inside the selection's window.
    pub fn process_samples(
        &self,
        process: &ProcessSummary,
        sel: &Selection,
        source: SampleKind,
    ) -> Result<Vec<ChartSample>> {
        let mut stmt = self.conn.prepare_cached(named("process_samples"))?;
        let rows = stmt.query_map(
            rusqlite::named_params! {
                ":process_id": process.process_id,
                ":from_us": sel.from_us,
                ":to_us": sel.to_us,
                ":source": source.as_str(),
            },
            |r| {
                Ok(ChartSample {
                    ts_us: r.get(0)?,
                    pss_bytes: r.get(2)?,
                    rss_bytes: r.get(3)?,
                    live_slots: r.get(4)?,
                    old_objects: r.get(5)?,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One process's dumps and restarts inside the selection's window.
    pub fn process_events(
        &self,
        process: &ProcessSummary,
        sel: &Selection,
    ) -> Result<Vec<ProcessEvent>> {
        let mut stmt = self.conn.prepare_cached(named("process_events"))?;
        let rows = stmt.query_map(
            rusqlite::named_params! {
                ":host": process.host,
                ":pid": process.pid,
                ":worker": process.worker,
                ":from_us": sel.from_us,
                ":to_us": sel.to_us,
            },
            |r| {
                let kind: String = r.get(1)?;
                Ok(ProcessEvent {
                    ts_us: r.get(0)?,
                    kind: if kind == "dump" {
                        MarkerKind::Dump
                    } else {
                        MarkerKind::Restart
                    },
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The ingested files as a count and one hash over their content hashes:
    /// the same logs give the same answer whatever their paths were.
    pub fn source_set(&self) -> Result<(usize, String)> {
        let mut stmt = self.conn.prepare_cached(named("source_set"))?;
        let hashes: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let joined = hashes.join("\n");
        let digest = xxhash_rust::xxh3::xxh3_64(joined.as_bytes());
        Ok((hashes.len(), format!("{digest:016x}")))
    }

    /// Runs one read-only statement with named parameters (unnamed ones bound to NULL).
    pub fn run_query(
        &self,
        sql: &str,
        params: &[(String, rusqlite::types::Value)],
    ) -> Result<Table> {
        if sql.trim().trim_end_matches(';').trim().is_empty() {
            bail!("no SQL statement given");
        }
        let mut stmt = match self.conn.prepare(sql) {
            Ok(s) => s,
            Err(rusqlite::Error::MultipleStatement) => {
                bail!("only one SQL statement at a time")
            }
            Err(e) => return Err(e.into()),
        };
        if !stmt.readonly() {
            bail!("refusing a statement that writes: sql and query only read the database");
        }
        let mut names = Vec::new();
        for i in 1..=stmt.parameter_count() {
            match stmt.parameter_name(i) {
                Some(n) => names.push(n.to_string()),
                None => bail!("positional parameters (?) are not supported; name them (:name)"),
            }
        }
        for (given, _) in params {
            if !names.iter().any(|n| n[1..] == *given) {
                let known: Vec<&str> = names.iter().map(|n| &n[1..]).collect();
                bail!(
                    "unknown parameter '{given}' (this query takes: {})",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                );
            }
        }
        let null = rusqlite::types::Value::Null;
        let bound: Vec<(&str, &dyn ToSql)> = names
            .iter()
            .map(|n| {
                let value = params
                    .iter()
                    .find(|(g, _)| *g == n[1..])
                    .map_or(&null, |(_, v)| v);
                (n.as_str(), value as &dyn ToSql)
            })
            .collect();
        collect_table(&mut stmt, &bound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_queries_match_the_folder() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/queries");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .map(|n| n.trim_end_matches(".sql").to_string())
            .collect();
        on_disk.sort();
        let embedded: Vec<String> = NAMED_QUERIES.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(embedded, on_disk);
        for (name, sql) in NAMED_QUERIES {
            assert!(sql.starts_with("-- "), "{name} starts with its description");
            assert!(query_description(sql).contains("Parameters:"), "{name}");
        }
    }
}

/// A process as the leak report sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportProcess {
    pub id: i64,
    pub host: String,
    pub pid: i64,
    pub worker: String,
    pub dumps: usize,
    pub restarts: usize,
    pub limit_bytes: Option<i64>,
    /// Its samples of every source and time (what analysing it costs).
    pub samples: u64,
}

impl Store {
    /// The selected processes (host, worker, pids) with their dumps and
    /// restarts inside the window, ordered by host, pid, first sample.
    pub fn report_processes(&self, sel: &Selection) -> Result<Vec<ReportProcess>> {
        let mut stmt = self.conn.prepare_cached(named("report_processes"))?;
        let params = sel.params();
        let bound = params.bind(&stmt);
        let rows = stmt.query_map(bound.as_slice(), |r| {
            Ok(ReportProcess {
                id: r.get(0)?,
                host: r.get(1)?,
                pid: r.get(2)?,
                worker: r.get(3)?,
                dumps: r.get::<_, u32>(4)? as usize,
                restarts: r.get::<_, u32>(5)? as usize,
                limit_bytes: r.get(6)?,
                samples: r.get::<_, Option<i64>>(7)?.unwrap_or(0) as u64,
            })
        })?;
        rows.collect::<Result<_, _>>()
            .context("listing processes for the report")
    }

    /// The samples of one process inside the selection's window and source, in
    /// time order; the message each followed only where `messages` asks for it.
    pub fn process_series(
        &self,
        process_id: i64,
        sel: &Selection,
        messages: bool,
    ) -> Result<Vec<Sample>> {
        let mut stmt = self.conn.prepare_cached(named("report_series"))?;
        let params = rusqlite::named_params! {
            ":process_id": process_id,
            ":from_us": sel.from_us,
            ":to_us": sel.to_us,
            ":source": sel.source.map(SampleKind::as_str),
        };
        // The message class and method names, by `msg_name` id.
        let names: FastMap<i64, String> = if messages {
            let mut names = self.conn.prepare_cached("SELECT id, name FROM msg_name")?;
            let rows = names.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<Result<_, _>>()
                .context("reading the message names")?
        } else {
            FastMap::default()
        };
        let name = |id: Option<i64>| id.and_then(|id| names.get(&id).cloned());
        let message = |r: &Row<'_>| -> rusqlite::Result<Message> {
            if messages {
                Ok((r.get(6)?, name(r.get(7)?), name(r.get(8)?)))
            } else {
                Ok((None, None, None))
            }
        };
        let rows = stmt.query_map(params, |r| {
            let source = r.get_ref(1)?.as_str().unwrap_or_default();
            let (msg_id, msg_class, msg_method) = message(r)?;
            Ok(Sample {
                ts_us: r.get(0)?,
                source: SampleKind::from_name(source).unwrap_or(SampleKind::Status),
                rss_bytes: r.get(2)?,
                pss_bytes: r.get(3)?,
                live_slots: r.get(4)?,
                old_objects: r.get(5)?,
                msg_id,
                msg_class,
                msg_method,
            })
        })?;
        rows.collect::<Result<_, _>>()
            .with_context(|| format!("reading the samples of process {process_id}"))
    }
}

/// One of the enrichment's lines about a process (`queries/enrichment.sql`).
#[derive(Debug, Clone, PartialEq)]
pub struct EnrichmentRow {
    pub host: String,
    pub pid: i64,
    pub ts_us: i64,
    /// `started`, `dump`, `dump_cap` or `disabled`.
    pub kind: String,
    pub worker: Option<String>,
    pub version: Option<i64>,
    pub ruby: Option<String>,
    pub workers: Option<String>,
    pub every: Option<i64>,
    pub gc: Option<bool>,
    pub dump_every: Option<i64>,
    pub dump_max: Option<i64>,
    pub trace: Option<bool>,
    pub sinks: Option<String>,
    pub dump_file: Option<String>,
    pub size_bytes: Option<i64>,
    pub ms: Option<i64>,
    pub reason: Option<String>,
}

/// A heap dump ingested as a file (`queries/dump_files.sql`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpRow {
    pub host: String,
    pub pid: i64,
    pub ts_us: i64,
    pub prefix: String,
    pub size_bytes: i64,
}

/// A sample's time, source and messages delivered (`queries/check_series.sql`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleTick {
    pub ts_us: i64,
    pub source: SampleKind,
    pub msgs: Option<i64>,
}

impl Store {
    /// What the enrichment said of the selection's hosts and pids, oldest first.
    pub fn enrichment_rows(&self, sel: &Selection) -> Result<Vec<EnrichmentRow>> {
        let mut stmt = self.conn.prepare_cached(named("enrichment"))?;
        let params = sel.params();
        let bound = params.bind(&stmt);
        let rows = stmt.query_map(bound.as_slice(), |r| {
            Ok(EnrichmentRow {
                host: r.get(0)?,
                pid: r.get(1)?,
                ts_us: r.get(2)?,
                kind: r.get(3)?,
                worker: r.get(4)?,
                version: r.get(5)?,
                ruby: r.get(6)?,
                workers: r.get(7)?,
                every: r.get(8)?,
                gc: r.get(9)?,
                dump_every: r.get(10)?,
                dump_max: r.get(11)?,
                trace: r.get(12)?,
                sinks: r.get(13)?,
                dump_file: r.get(14)?,
                size_bytes: r.get(15)?,
                ms: r.get(16)?,
                reason: r.get(17)?,
            })
        })?;
        rows.collect::<Result<_, _>>()
            .context("reading what the enrichment said")
    }

    /// The heap dumps ingested as files, of the selection's hosts and pids.
    pub fn dump_rows(&self, sel: &Selection) -> Result<Vec<DumpRow>> {
        let mut stmt = self.conn.prepare_cached(named("dump_files"))?;
        let params = sel.params();
        let bound = params.bind(&stmt);
        let rows = stmt.query_map(bound.as_slice(), |r| {
            Ok(DumpRow {
                host: r.get(0)?,
                pid: r.get(1)?,
                ts_us: r.get(2)?,
                prefix: r.get(3)?,
                size_bytes: r.get(4)?,
            })
        })?;
        rows.collect::<Result<_, _>>().context("listing heap dumps")
    }

    /// One process's sample times in the window, oldest first.
    pub fn sample_ticks(&self, process_id: i64, sel: &Selection) -> Result<Vec<SampleTick>> {
        let mut stmt = self.conn.prepare_cached(named("check_series"))?;
        let params = rusqlite::named_params! {
            ":process_id": process_id,
            ":from_us": sel.from_us,
            ":to_us": sel.to_us,
        };
        let rows = stmt.query_map(params, |r| {
            let source: String = r.get(1)?;
            Ok(SampleTick {
                ts_us: r.get(0)?,
                source: SampleKind::from_name(&source).unwrap_or(SampleKind::Status),
                msgs: r.get(2)?,
            })
        })?;
        rows.collect::<Result<_, _>>()
            .with_context(|| format!("reading the samples of process {process_id}"))
    }
}
