//! `appliance`: the enrichment that makes every queue worker log its memory
//! after each message (`appliance/miq_memlog.rb`, built into the binary so it
//! always matches this version's parser), and how to install it.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;

use crate::export::files::write_whole;

/// The Ruby file, as shipped in `appliance/`.
pub const ENRICHMENT: &str = include_str!("../../appliance/miq_memlog.rb");

/// Prints the appliance enrichment (`miq_memlog.rb`) for `config/initializers/`,
/// or with --out writes it to a file and prints the install and removal steps
/// for every release family, and how to collect what it writes.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write the Ruby file here (replaced whole) and print the steps.
    #[arg(long, value_name = "FILE", conflicts_with = "steps")]
    pub out: Option<PathBuf>,
    /// Print only the install, removal and collection steps.
    #[arg(long)]
    pub steps: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let mut out = io::stdout().lock();
    match (&args.out, args.steps) {
        (Some(path), _) => {
            write_whole(path, |w| Ok(w.write_all(ENRICHMENT.as_bytes())?))?;
            writeln!(out, "wrote {}\n", path.display())?;
            out.write_all(steps(path).as_bytes())?;
        }
        (None, true) => out.write_all(steps(Path::new("miq_memlog.rb")).as_bytes())?,
        (None, false) => out.write_all(ENRICHMENT.as_bytes())?,
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The steps, with the file copied from `file` (its name as written).
pub fn steps(file: &Path) -> String {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "miq_memlog.rb".into());
    format!(
        r#"Install: copy {name} to config/initializers/zz_miq_memlog.rb under /var/www/miq/vmdb,
set MIQ_MEMLOG=1 (and the settings below) for evmserverd and its workers, restart.
It does nothing without MIQ_MEMLOG=1 and never raises into a worker.

Euwe .. Morphy appliances (evmserverd sources /etc/default/evm):
  # cp {name} /var/www/miq/vmdb/config/initializers/zz_miq_memlog.rb
  # printf 'export MIQ_MEMLOG=1\nexport MIQ_MEMLOG_EVERY=10\n' >> /etc/default/evm
  # systemctl restart evmserverd
  Remove: delete zz_miq_memlog.rb and the two lines, restart evmserverd.

Najdorf and later appliances (evmserverd and every worker unit read
EnvironmentFile=/etc/default/manageiq*.properties: KEY=value lines, no export):
  # cp {name} /var/www/miq/vmdb/config/initializers/zz_miq_memlog.rb
  # printf 'MIQ_MEMLOG=1\nMIQ_MEMLOG_EVERY=10\n' > /etc/default/manageiq-memlog.properties
  # systemctl restart evmserverd
  Remove: delete both files, restart evmserverd.

Pods: an image layer on the release's image, and the settings in the worker Deployments:
  FROM <the release's manageiq image>
  COPY {name} /var/www/miq/vmdb/config/initializers/zz_miq_memlog.rb
  ENV MIQ_MEMLOG=1 MIQ_MEMLOG_SINKS=stdout MIQ_MEMLOG_EVERY=10
  Remove: deploy the release's image again.

Settings (environment; defaults in brackets): MIQ_MEMLOG_WORKERS regex on the runner class [.],
MIQ_MEMLOG_EVERY sample every Nth message [1], MIQ_MEMLOG_GC full GC before each sample [0],
MIQ_MEMLOG_DUMP_EVERY heap dump every N messages [0 = off], MIQ_MEMLOG_DUMP_MAX dumps per
process [3], MIQ_MEMLOG_TRACE allocation tracing for dumps [0], MIQ_MEMLOG_DUMP_DIR [tmp],
MIQ_MEMLOG_FILE [log/memlog.log], MIQ_MEMLOG_SINKS file,log,stdout [file].
Costs: a forced GC is about 0.1 s per sample at 700 k live objects; a dump blocks the worker
for seconds per GB (systemd's watchdog kills a worker silent for about 2 minutes). Safe for
production: MIQ_MEMLOG=1 MIQ_MEMLOG_EVERY=10, GC and dumps off.

Collect (the appliance rotates log/memlog.log daily to memlog.log-YYYYMMDD.gz):
  # cd /var/www/miq/vmdb && gzip tmp/memlog_*.dump
  # tar czf /tmp/memlog-$(hostname).tgz log/memlog.log* tmp/memlog_*.dump.gz
Pods: oc logs <pod> > <pod>.log for each pod.
Then: miq-memlog ingest --host <appliance> <the files>; miq-memlog check; miq-memlog plot --trend
"#
    )
}
