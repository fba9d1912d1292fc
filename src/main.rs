use std::io;
use std::process::ExitCode;

use clap::Parser;

use miq_memlog::{cli, cmd, store};

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Ingest(args) => cmd::ingest::run(&cli.db, args),
        cli::Command::Files(args) => cmd::files::run(&cli.db, args),
        cli::Command::Workers(args) => cmd::workers::run(&cli.db, args),
        cli::Command::Pids(args) => cmd::pids::run(&cli.db, args),
        cli::Command::Events(args) => cmd::events::run(&cli.db, args),
        cli::Command::Dumps(args) => cmd::dumps::run(&cli.db, args),
        cli::Command::Heap(args) => cmd::heap::run(&cli.db, args),
        cli::Command::Export(args) => cmd::export::run(&cli.db, args),
        cli::Command::Report(args) => cmd::report::run(&cli.db, args),
        cli::Command::Plot(args) => cmd::plot::run(&cli.db, args),
        cli::Command::Html(args) => cmd::html::run(&cli.db, args),
        cli::Command::Sql(args) => cmd::sql::run(&cli.db, args),
        cli::Command::Query(args) => cmd::query::run(&cli.db, args),
        cli::Command::Completions(args) => cmd::completions::run(args),
        cli::Command::Generate(args) => cmd::generate::run(args),
        cli::Command::Appliance(args) => cmd::appliance::run(args),
        cli::Command::Check(args) => cmd::check::run(&cli.db, args),
    };
    match result {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            match store::write_fault(&err) {
                Some(why) => eprintln!("miq-memlog: {err:#}: {why}"),
                None => eprintln!("miq-memlog: {err:#}"),
            }
            ExitCode::FAILURE
        }
    }
}

/// `miq-memlog export | head` closes the pipe early: that is success, not an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause.downcast_ref::<io::Error>().is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .is_some_and(|e| e.io_error_kind() == Some(io::ErrorKind::BrokenPipe))
            || cause
                .downcast_ref::<csv::Error>()
                .is_some_and(|e| matches!(e.kind(), csv::ErrorKind::Io(io) if io.kind() == io::ErrorKind::BrokenPipe))
    })
}
