//! Reading: selections of samples and events, and generic result tables for
//! listings, named queries and ad-hoc SQL.

use anyhow::{Context, Result};
use rusqlite::types::ValueRef;
use rusqlite::{Row, Statement, ToSql};

use super::Store;
use crate::analysis::Sample;
use crate::parse::Source;

/// Which processes and samples a command looks at.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub host: Option<String>,
    pub pid: Option<i64>,
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
            ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
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

const EXPORT_SAMPLES: &str = include_str!("../../queries/export_samples.sql");
const EVENTS: &str = include_str!("../../queries/events.sql");
const FILES: &str = include_str!("../../queries/files.sql");

impl Store {
    /// Calls `each` with every selected sample row, in export order, without
    /// collecting them: exports stream.
    pub fn for_each_sample(
        &self,
        sel: &Selection,
        mut each: impl FnMut(&Row<'_>) -> Result<()>,
    ) -> Result<()> {
        let mut stmt = self.conn.prepare_cached(EXPORT_SAMPLES)?;
        let mut rows = stmt.query(rusqlite::named_params! { ":host": sel.host })?;
        while let Some(row) = rows.next()? {
            each(row)?;
        }
        Ok(())
    }

    pub fn events(&self, sel: &Selection) -> Result<Table> {
        let mut stmt = self.conn.prepare_cached(EVENTS)?;
        collect_table(&mut stmt, &[(":host", &sel.host), (":pid", &sel.pid)])
    }

    pub fn files(&self) -> Result<Table> {
        let mut stmt = self.conn.prepare_cached(FILES)?;
        collect_table(&mut stmt, &[]).context("listing files")
    }
}

const REPORT_PROCESSES: &str = include_str!("../../queries/report_processes.sql");
const REPORT_SERIES: &str = include_str!("../../queries/report_series.sql");

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
}

impl Store {
    /// Processes of `host` (every host if `None`) with one of `pids` (every pid
    /// if empty), ordered by host, pid, first sample.
    pub fn report_processes(&self, host: Option<&str>, pids: &[i64]) -> Result<Vec<ReportProcess>> {
        let pids = (!pids.is_empty()).then(|| serde_json::Value::from(pids).to_string());
        let mut stmt = self.conn.prepare_cached(REPORT_PROCESSES)?;
        let rows = stmt.query_map(
            rusqlite::named_params! { ":host": host, ":pids": pids },
            |r| {
                Ok(ReportProcess {
                    id: r.get(0)?,
                    host: r.get(1)?,
                    pid: r.get(2)?,
                    worker: r.get(3)?,
                    dumps: r.get::<_, u32>(4)? as usize,
                    restarts: r.get::<_, u32>(5)? as usize,
                    limit_bytes: r.get(6)?,
                })
            },
        )?;
        rows.collect::<Result<_, _>>()
            .context("listing processes for the report")
    }

    /// The samples of one process in time order.
    pub fn process_series(&self, process_id: i64) -> Result<Vec<Sample>> {
        let mut stmt = self.conn.prepare_cached(REPORT_SERIES)?;
        let rows = stmt.query_map(rusqlite::named_params! { ":process_id": process_id }, |r| {
            let source: String = r.get(1)?;
            Ok(Sample {
                ts_us: r.get(0)?,
                source: if source == "patch" {
                    Source::Patch
                } else {
                    Source::Status
                },
                rss_bytes: r.get(2)?,
                pss_bytes: r.get(3)?,
                live_slots: r.get(4)?,
                old_objects: r.get(5)?,
                msg_id: r.get(6)?,
                msg_class: r.get(7)?,
                msg_method: r.get(8)?,
            })
        })?;
        rows.collect::<Result<_, _>>()
            .with_context(|| format!("reading the samples of process {process_id}"))
    }
}
