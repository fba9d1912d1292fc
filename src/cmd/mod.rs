//! One file per subcommand: arguments in, store calls, writers out.

pub mod completions;
pub mod events;
pub mod export;
pub mod files;
pub mod ingest;
pub mod report;
