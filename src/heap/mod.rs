//! Heap dumps (`ObjectSpace.dump_all` output), a pipeline beside the logs':
//! lines read as bytes (`line`), a dump read into its totals, sites and live
//! objects (`read`), the compact table of live objects the diff reads back
//! (`table`), and the leak finding over the dumps of one process (`diff`),
//! pure functions over what the store gives back.

pub mod diff;
pub mod hash;
pub mod line;
pub mod read;
pub mod table;

pub use read::{DumpContent, DumpReader, DumpTotals, Site};
pub use table::ObjectTable;
