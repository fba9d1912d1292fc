use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::ValueEnum;

use crate::export::csv::SampleCsv;
use crate::store::{Access, Selection, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// One row per sample: time,host,pid,worker,source,rss,pss,uss,vsz,live,old,msg_id,msg_class,msg_method.
    Csv,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to write.
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Only this host.
    #[arg(long)]
    pub host: Option<String>,
    /// Write here instead of standard output (replaced whole, never half-written).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

pub fn run(db: &Path, args: Args) -> Result<ExitCode> {
    let store = Store::open(db, Access::ReadOnly)?;
    let selection = Selection {
        host: args.host,
        ..Selection::default()
    };
    match &args.out {
        None => {
            let stdout = io::stdout().lock();
            write_csv(
                &store,
                &selection,
                BufWriter::with_capacity(1 << 16, stdout),
            )?;
        }
        Some(path) => {
            let tmp = path.with_extension("partial");
            let file = fs::File::create(&tmp)
                .with_context(|| format!("cannot create {}", tmp.display()))?;
            let written = write_csv(&store, &selection, BufWriter::with_capacity(1 << 16, file));
            if let Err(e) = written {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
            fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn write_csv(store: &Store, selection: &Selection, out: impl Write) -> Result<()> {
    let mut csv = SampleCsv::new(out)?;
    store.for_each_sample(selection, |row| csv.write_row(row))?;
    csv.finish()
}
