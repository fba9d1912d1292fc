use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use crate::cmd::select_args::ListArgs;
use crate::export::table::print_table;
use crate::store::{Access, Store, Value};

pub type Args = ListArgs;

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
