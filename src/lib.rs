//! miq-memlog as a library: the command-line tool in `main.rs` is one user,
//! the integration tests and benchmarks are others.
//!
//! Data flows one way: input files -> `parse` (records) -> `store` (SQLite)
//! -> selects -> `analysis` -> `export` (writers). `cmd` holds one thin
//! subcommand per file; `cli` is the whole interface at a glance.

pub mod analysis;
pub mod cli;
pub mod cmd;
pub mod export;
pub mod heap;
pub mod ingest;
pub mod input;
pub mod parse;
pub mod report;
pub mod store;
pub mod synth;
pub mod zone;
