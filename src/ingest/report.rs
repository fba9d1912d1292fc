//! What ingesting each file did, as the per-file report lines say it.

use std::fmt;

use crate::store::{Earlier, FileCounts};

/// A line that was not stored, with where it is and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub line_no: u64,
    pub reason: &'static str,
}

/// A log file stored.
#[derive(Debug)]
pub struct LogReport {
    pub path: String,
    pub counts: FileCounts,
    pub rejected: u64,
    /// The first few rejected lines.
    pub shown_rejects: Vec<Reject>,
    /// How its local times were read: `UTC (given)`, `-04:00 (inferred from ...)`.
    pub zone_note: String,
    /// What the user should know about the file (an assumption made).
    pub warnings: Vec<String>,
    /// What else the report line says of it (lines cut, a year assumed).
    pub notes: Vec<String>,
    /// The gzip data ended early and the readable part was kept.
    pub truncated: bool,
    pub torn_last_line: bool,
}

/// What happened to one input file.
#[derive(Debug)]
pub enum FileReport {
    Log(LogReport),
    /// A heap dump: `new_dump` unless the same dump (a copy, or the same
    /// bytes) was stored before.
    Dump {
        path: String,
        new_dump: bool,
        /// What its content holds, when it was read and stored (not another copy's).
        content: Option<DumpSummary>,
    },
    /// The same bytes were ingested before.
    Skipped {
        path: String,
        earlier: Earlier,
    },
    /// Nothing of the file was stored.
    Failed {
        path: String,
        error: anyhow::Error,
    },
}

/// One dump's content, as its report line says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpSummary {
    pub objects: u64,
    pub bytes: u64,
    pub garbage_objects: u64,
    pub bad_lines: u64,
    pub first_bad_line: Option<u64>,
}

impl fmt::Display for DumpSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} live objects ({:.1} MB), {} garbage",
            self.objects,
            self.bytes as f64 / 1e6,
            self.garbage_objects
        )?;
        if let Some(first) = self.first_bad_line {
            write!(
                f,
                ", {} bad lines skipped (first: line {first})",
                self.bad_lines
            )?;
        }
        Ok(())
    }
}

/// The run's totals, as its last line says them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub ingested: usize,
    pub skipped: usize,
    pub failed: usize,
    pub samples_new: u64,
    pub samples_present: u64,
    pub events_new: u64,
    pub dumps: usize,
    pub dumps_new: usize,
}

impl Totals {
    pub(super) fn add(&mut self, report: &FileReport) {
        match report {
            FileReport::Log(log) => {
                self.ingested += 1;
                self.samples_new += log.counts.samples_new;
                self.samples_present += log.counts.samples_present;
                self.events_new += log.counts.events_new;
            }
            FileReport::Dump { new_dump, .. } => {
                self.dumps += 1;
                self.dumps_new += *new_dump as usize;
            }
            FileReport::Skipped { .. } => self.skipped += 1,
            FileReport::Failed { .. } => self.failed += 1,
        }
    }
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

impl fmt::Display for Totals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} ingested, {} already ingested, {} failed; {} new samples ({} already present), {} new events; {} heap {} ({} new)",
            self.ingested,
            plural(self.ingested, "file", "files"),
            self.skipped,
            self.failed,
            self.samples_new,
            self.samples_present,
            self.events_new,
            self.dumps,
            plural(self.dumps, "dump", "dumps"),
            self.dumps_new,
        )
    }
}

impl fmt::Display for LogReport {
    /// `ingested  PATH: ...`, then the first rejected lines, one per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.counts;
        write!(
            f,
            "ingested  {}: {} new samples, {} already present, {} new events ({} already present), {} rejected lines, zone {}",
            self.path, c.samples_new, c.samples_present, c.events_new, c.events_present, self.rejected, self.zone_note
        )?;
        if self.truncated {
            f.write_str("; PARTIAL: the gzip data ends early, the readable part was kept")?;
        }
        if self.torn_last_line {
            f.write_str("; the last line is cut off and was not read")?;
        }
        for note in &self.notes {
            write!(f, "; {note}")?;
        }
        for reject in &self.shown_rejects {
            write!(
                f,
                "\n  rejected {}:{}: {}",
                self.path, reject.line_no, reject.reason
            )?;
        }
        let hidden = self.rejected - self.shown_rejects.len() as u64;
        if hidden > 0 {
            write!(f, "\n  ... and {hidden} more rejected lines")?;
        }
        Ok(())
    }
}
