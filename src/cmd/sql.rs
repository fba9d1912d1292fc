use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use crate::export::table::{print_table, TableFormat};
use crate::store::{Access, Store};

/// The database is opened read-only and a statement that would write is refused
/// before it runs. `regexp(PATTERN, TEXT)` and `TEXT REGEXP PATTERN` are available.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// One SQL statement, e.g. "SELECT worker, COUNT(*) FROM samples GROUP BY worker".
    pub query: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: TableFormat,
}

pub fn run(db: &Path, args: Args) -> Result<ExitCode> {
    let store = Store::open(db, Access::ReadOnly)?;
    let table = store.run_query(&args.query, &[])?;
    print_table(&table, args.format)?;
    Ok(ExitCode::SUCCESS)
}
