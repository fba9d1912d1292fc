use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use crate::cmd::select_args::Selectors;
use crate::export::table::{print_table, TableFormat};
use crate::store::{Access, Store, Value};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub select: Selectors,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: TableFormat,
}

pub fn run(db: &Path, args: Args) -> Result<ExitCode> {
    let selection = args.select.selection()?;
    let store = Store::open(db, Access::ReadOnly)?;
    let mut table = store.events(&selection)?;
    // The last column is the UTC µs time: the shown time is rewritten in --tz from it.
    table.columns.pop();
    for row in &mut table.rows {
        if let Some(Value::Integer(ts_us)) = row.pop() {
            row[3] = Value::Text(args.select.tz.format_iso(ts_us));
        }
    }
    print_table(&table, args.format)?;
    Ok(ExitCode::SUCCESS)
}
