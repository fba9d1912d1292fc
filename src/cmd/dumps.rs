//! `dumps`: per heap dump what it holds (live objects and heap bytes, garbage,
//! the tracer apart) beside the process's RSS and PSS at its time.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use crate::cmd::select_args::ListArgs;
use crate::export::table::print_table;
use crate::report::heap::dumps_table;
use crate::store::{Access, Store};

pub type Args = ListArgs;

pub fn run(db: &Path, args: Args) -> Result<ExitCode> {
    let selection = args.select.selection()?;
    let store = Store::open(db, Access::ReadOnly)?;
    print_table(
        &dumps_table(&store, &selection, args.select.tz)?,
        args.format,
    )?;
    Ok(ExitCode::SUCCESS)
}
