use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use crate::export::table::{print_table, TableFormat};
use crate::store::{Access, Store};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: TableFormat,
}

pub fn run(db: &Path, args: Args) -> Result<ExitCode> {
    let store = Store::open(db, Access::ReadOnly)?;
    print_table(&store.files()?, args.format)?;
    Ok(ExitCode::SUCCESS)
}
