use std::io;
use std::process::ExitCode;

use anyhow::Result;
use clap::CommandFactory;
use clap_complete::Shell;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to complete for.
    pub shell: Shell,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let mut command = crate::cli::Cli::command();
    clap_complete::generate(
        args.shell,
        &mut command,
        "miq-memlog",
        &mut io::stdout().lock(),
    );
    Ok(ExitCode::SUCCESS)
}
