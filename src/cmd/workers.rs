use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use crate::cmd::select_args::ListArgs;
use crate::export::table::print_table;
use crate::store::{Access, Store, Table, Value};

pub type Args = ListArgs;

pub fn run(db: &Path, args: Args) -> Result<ExitCode> {
    let selection = args.select.selection()?;
    let store = Store::open(db, Access::ReadOnly)?;
    let zone = args.select.tz;
    let table = Table {
        columns: ["worker", "hosts", "processes", "samples", "first", "last"]
            .map(String::from)
            .to_vec(),
        rows: store
            .workers(&selection)?
            .into_iter()
            .map(|w| {
                vec![
                    Value::Text(w.worker),
                    Value::Text(w.hosts),
                    Value::Integer(w.processes),
                    Value::Integer(w.samples),
                    Value::Text(zone.format_iso(w.first_us)),
                    Value::Text(zone.format_iso(w.last_us)),
                ]
            })
            .collect(),
    };
    print_table(&table, args.format)?;
    Ok(ExitCode::SUCCESS)
}
