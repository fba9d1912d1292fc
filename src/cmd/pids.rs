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
    let opt = |v: Option<i64>| v.map_or(Value::Null, Value::Integer);
    let table = Table {
        columns: [
            "host",
            "pid",
            "worker",
            "first",
            "last",
            "patch",
            "status",
            "memlog",
            "dumps",
            "restarts",
            "rss_first",
            "rss_last",
            "rss_max",
        ]
        .map(String::from)
        .to_vec(),
        rows: store
            .processes(&selection)?
            .into_iter()
            .map(|p| {
                vec![
                    Value::Text(p.host),
                    Value::Integer(p.pid),
                    Value::Text(p.worker),
                    Value::Text(zone.format_iso(p.first_us)),
                    Value::Text(zone.format_iso(p.last_us)),
                    Value::Integer(p.patch_samples),
                    Value::Integer(p.status_samples),
                    Value::Integer(p.memlog_samples),
                    Value::Integer(p.dumps),
                    Value::Integer(p.restarts),
                    opt(p.rss_first),
                    opt(p.rss_last),
                    opt(p.rss_max),
                ]
            })
            .collect(),
    };
    print_table(&table, args.format)?;
    Ok(ExitCode::SUCCESS)
}
