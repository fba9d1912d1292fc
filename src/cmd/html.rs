use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;

use crate::cmd::select_args::Selectors;
use crate::export::files::write_whole;
use crate::export::html::write_html;
use crate::report::page::{self, shell_word, CommandWords};
use crate::store::{Access, Store};

/// Writes one self-contained HTML file to attach to a support case: the
/// command, database and zones that made it; the verdicts by worker type and by
/// process (sortable, each process linked to its chart); an interactive chart
/// per process (RSS, PSS, live and old objects, heap dumps and restarts, the
/// report's trend lines with slopes; zoom, pan, hover values in a chosen zone)
/// and per worker type; growth per message kind; the heap dumps, and per
/// process with two or more read, the heap verdict and top retaining sites.
/// Scripts and styles are inlined: opening it fetches nothing. The same
/// command on the same database writes the same bytes.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub select: Selectors,
    /// The file to write (replaced whole, never half-written).
    #[arg(long, value_name = "FILE", default_value = "miq-memlog-report.html")]
    pub out: PathBuf,
}

pub fn run(db: &Path, args: Args) -> Result<ExitCode> {
    let selection = args.select.selection()?;
    let store = Store::open(db, Access::ReadOnly)?;
    let db_word = shell_word(&db.to_string_lossy());
    let selector_words: Vec<String> = args.select.words().iter().map(|w| shell_word(w)).collect();
    let mut rebuild = vec![
        "miq-memlog".to_string(),
        "--db".to_string(),
        db_word.clone(),
    ];
    rebuild.push("html".to_string());
    rebuild.extend(selector_words);
    rebuild.extend(["--out".to_string(), shell_word(&args.out.to_string_lossy())]);
    // The window and zone of every export command shown: the selection's
    // own, without host, worker and pids, which each chart names itself.
    let window = Selectors {
        host: None,
        worker: None,
        pid: Vec::new(),
        ..args.select.clone()
    };
    let pids = Selectors {
        host: None,
        worker: None,
        from: None,
        to: None,
        source: None,
        tz: crate::zone::UTC,
        ..args.select.clone()
    };
    let words = CommandWords {
        rebuild: rebuild.join(" "),
        db: &db_word,
        window: window.words().iter().map(|w| shell_word(w)).collect(),
        pids: pids.words(),
    };
    let page = page::build(
        &store,
        &selection,
        &args.select.describe(),
        &args.select.draw_options(true),
        &words,
    )?;
    write_whole(&args.out, |out| write_html(out, &page))?;
    let size = std::fs::metadata(&args.out).map(|m| m.len()).unwrap_or(0);
    let count = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    writeln!(
        io::stderr().lock(),
        "wrote {} ({}, {}, {size} bytes)",
        args.out.display(),
        count(page.charts.len(), "process chart"),
        count(page.overlays.len(), "worker-type chart")
    )?;
    Ok(ExitCode::SUCCESS)
}
