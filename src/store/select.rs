//! Reading: selections of samples and events, and generic result tables for
//! listings, named queries and ad-hoc SQL.

use anyhow::{Context, Result};
use rusqlite::types::ValueRef;
use rusqlite::{Row, Statement, ToSql};

use super::Store;

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
