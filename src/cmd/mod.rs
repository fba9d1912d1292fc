//! One file per subcommand: arguments in, store calls, writers out.

pub mod appliance;
pub mod check;
pub mod completions;
pub mod dumps;
pub mod events;
pub mod export;
pub mod files;
pub mod generate;
pub mod heap;
pub mod html;
pub mod ingest;
pub mod pids;
pub mod plot;
pub mod query;
pub mod report;
pub mod select_args;
pub mod sql;
pub mod workers;
