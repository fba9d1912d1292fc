use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Result};
use rusqlite::types::Value as SqlValue;

use crate::export::table::{write_table, TableFormat};
use crate::store::{query_description, Access, Store, NAMED_QUERIES};

/// Runs a named query from `queries/` (built in). Parameters not given are NULL,
/// which every query reads as "no restriction" or its default.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The query's name (see --list).
    #[arg(required_unless_present = "list")]
    pub name: Option<String>,
    /// A parameter, NAME=VALUE (repeatable); a whole number is bound as an integer.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// List the queries, what each answers and its parameters.
    #[arg(long, conflicts_with = "name")]
    pub list: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: TableFormat,
}

pub fn run(db: &Path, args: Args) -> Result<ExitCode> {
    let mut out = io::stdout().lock();
    if args.list {
        for (name, sql) in NAMED_QUERIES {
            writeln!(out, "{name}\n    {}", query_description(sql))?;
        }
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    let name = args.name.as_deref().unwrap_or_default();
    let sql = NAMED_QUERIES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, sql)| *sql)
        .ok_or_else(|| anyhow!("no query named '{name}' (query --list shows them)"))?;
    let mut params = Vec::new();
    for p in &args.params {
        let Some((key, value)) = p.split_once('=') else {
            bail!("--param {p}: expected NAME=VALUE");
        };
        let value = match value.parse::<i64>() {
            Ok(i) => SqlValue::Integer(i),
            Err(_) => SqlValue::Text(value.to_string()),
        };
        params.push((key.trim_start_matches(':').to_string(), value));
    }
    let store = Store::open(db, Access::ReadOnly)?;
    let table = store
        .run_query(sql, &params)
        .map_err(|e| e.context(format!("query {name}")))?;
    write_table(&mut out, &table, args.format)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
