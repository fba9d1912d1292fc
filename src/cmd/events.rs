use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use crate::export::table::{write_table, TableFormat};
use crate::store::{Access, Selection, Store};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this host.
    #[arg(long)]
    pub host: Option<String>,
    /// Only this process id.
    #[arg(long)]
    pub pid: Option<i64>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: TableFormat,
}

pub fn run(db: &Path, args: Args) -> Result<ExitCode> {
    let store = Store::open(db, Access::ReadOnly)?;
    let selection = Selection {
        host: args.host,
        pid: args.pid,
    };
    let mut out = io::stdout().lock();
    write_table(&mut out, &store.events(&selection)?, args.format)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
