//! Leak analysis over ordered series of samples: robust trends, verdicts per
//! process and per worker type, and growth attributed to queue messages.
//! Pure functions: no database, no command line.
//!
//! Units: time is UTC microseconds in, hours out; memory is bytes in and
//! MB out, where MB means MiB (2^20 bytes), the unit of ManageIQ's own
//! `600.megabytes` worker limits; objects are counts.

pub mod attribution;
pub mod downsample;
pub mod fit;
pub mod pair_slopes;
pub mod process;
pub mod verdict;

pub use crate::parse::SampleKind;

/// Bytes in one MB as reported (MiB).
pub const BYTES_PER_MB: f64 = 1_048_576.0;

/// Microseconds in one hour.
pub const US_PER_HOUR: f64 = 3_600_000_000.0;

/// One memory sample of one process, as the analysis needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub ts_us: i64,
    pub source: SampleKind,
    pub rss_bytes: Option<i64>,
    pub pss_bytes: Option<i64>,
    pub live_slots: Option<i64>,
    pub old_objects: Option<i64>,
    /// The queue message delivered just before a patched sample: `None` for a
    /// `nil` message.
    pub msg_id: Option<i64>,
    pub msg_class: Option<String>,
    pub msg_method: Option<String>,
}

#[cfg(test)]
pub(crate) mod synthetic;
