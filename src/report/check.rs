//! `check`: per host and worker type, what the logs carry (the appliance
//! enrichment, the seed's patch, or only stock `log_status` lines), with which
//! settings, how much of it arrived (messages sampled against delivered, gaps,
//! heap dumps announced against the dump files ingested), and a plain line for
//! each problem found.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;

use crate::parse::SampleKind;
use crate::store::{EnrichmentRow, ProcessSummary, Selection, Store, Table, Value};
use crate::zone::Zone;

/// Status samples further apart than this many times their usual interval
/// (and at least [`MIN_GAP_US`]) are a gap in the logs.
pub const GAP_FACTOR: i64 = 3;
/// The shortest gap worth naming: three of the server's 5-minute status rounds.
pub const MIN_GAP_US: i64 = 15 * 60 * 1_000_000;

/// What the logs of a worker type carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Carries {
    /// The appliance enrichment's samples (true bytes, after each message).
    Enrichment,
    /// The seed's patched samples (after each message).
    Patch,
    /// Only the stock `log_status` samples, every few minutes.
    StatusOnly,
}

impl Carries {
    pub fn as_str(self) -> &'static str {
        match self {
            Carries::Enrichment => "enrichment",
            Carries::Patch => "patch",
            Carries::StatusOnly => "status only",
        }
    }
}

/// Worker types that deliver no queue messages: the enrichment cannot sample
/// them, so status lines are all they ever have.
fn delivers_no_messages(worker: &str) -> bool {
    let short = worker.rsplit("::").next().unwrap_or(worker);
    worker == "MiqServer"
        || [
            "UiWorker",
            "WebServiceWorker",
            "RemoteConsoleWorker",
            "CockpitWsWorker",
            "EventCatcher",
        ]
        .iter()
        .any(|s| short.ends_with(s))
        || short == "MiqScheduleWorker"
}

/// One worker type of one host.
#[derive(Debug, Clone, PartialEq)]
pub struct Coverage {
    pub host: String,
    pub worker: String,
    pub processes: usize,
    pub carries: Carries,
    /// The enrichment's version and settings, as its `started` lines say them
    /// (several values joined by `,` when processes differ).
    pub version: String,
    pub settings: [String; 6],
    /// Per-message samples (the enrichment's or the patch's).
    pub samples: i64,
    /// Messages the processes delivered, from the enrichment's counters.
    pub delivered: Option<i64>,
    /// Enrichment samples missing by those counters.
    pub lost: i64,
    pub status_gaps: usize,
    pub longest_gap_us: Option<(i64, i64)>,
    pub dumps_announced: usize,
    pub dumps_ingested: usize,
    /// Processes where the enrichment disabled itself, and the first reason.
    pub disabled: usize,
    pub disabled_reason: Option<String>,
}

/// The coverage of every selected worker type, and the problems found.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub rows: Vec<Coverage>,
    pub problems: Vec<String>,
}

pub const SETTINGS: [&str; 6] = ["every", "gc", "dump_every", "dump_max", "trace", "sinks"];

fn joined(values: &BTreeSet<String>) -> String {
    values.iter().cloned().collect::<Vec<_>>().join(",")
}

/// How many samples the message counters of one process say are missing:
/// each step between two of its samples should be `every` messages.
fn lost_by_counters(ticks: &[i64], every: i64) -> i64 {
    ticks
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|&step| step > every)
        .map(|step| (step + every - 1) / every - 1)
        .sum()
}

/// Gaps between status samples: (count, the longest as (from, length)).
fn status_gaps(times: &[i64]) -> (usize, Option<(i64, i64)>) {
    let mut steps: Vec<i64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    if steps.is_empty() {
        return (0, None);
    }
    let mut sorted = steps.clone();
    sorted.sort_unstable();
    let usual = sorted[sorted.len() / 2];
    let limit = (usual * GAP_FACTOR).max(MIN_GAP_US);
    let mut count = 0;
    let mut longest: Option<(i64, i64)> = None;
    for (i, step) in steps.drain(..).enumerate() {
        if step > limit {
            count += 1;
            if longest.is_none_or(|(_, len)| step > len) {
                longest = Some((times[i], step));
            }
        }
    }
    (count, longest)
}

#[derive(Default)]
struct Group<'a> {
    processes: Vec<&'a ProcessSummary>,
    versions: BTreeSet<String>,
    settings: [BTreeSet<String>; 6],
    samples: i64,
    delivered: Option<i64>,
    lost: i64,
    gaps: usize,
    longest: Option<(i64, i64)>,
    announced: usize,
    ingested: usize,
    disabled: usize,
    reason: Option<String>,
    memlog: bool,
    patch: bool,
}

/// Checks the selection's logs.
pub fn check(store: &Store, sel: &Selection, zone: Zone) -> Result<Check> {
    let processes = store.processes(sel)?;
    let said = store.enrichment_rows(sel)?;
    let dumps = store.dump_rows(sel)?;
    let mut groups: BTreeMap<(&str, &str), Group> = BTreeMap::new();
    for p in &processes {
        let g = groups.entry((&p.host, &p.worker)).or_default();
        g.processes.push(p);
        g.memlog |= p.memlog_samples > 0;
        g.patch |= p.patch_samples > 0;
        g.samples += p.memlog_samples + p.patch_samples;
        // What the enrichment said of this process: its own lines, or (from its
        // installation, naming no worker) any line of its host and pid.
        let own: Vec<&EnrichmentRow> = said
            .iter()
            .filter(|n| n.host == p.host && n.pid == p.pid)
            .filter(|n| n.worker.as_deref().is_none_or(|w| w == p.worker))
            .collect();
        let started = own.iter().rev().find(|n| n.kind == "started");
        if let Some(s) = started {
            g.versions.extend(s.version.map(|v| v.to_string()));
            let values = [
                s.every.map(|v| v.to_string()),
                s.gc.map(|v| v.to_string()),
                s.dump_every.map(|v| v.to_string()),
                s.dump_max.map(|v| v.to_string()),
                s.trace.map(|v| v.to_string()),
                s.sinks.clone(),
            ];
            for (set, value) in g.settings.iter_mut().zip(values) {
                set.extend(value);
            }
        }
        g.announced += own.iter().filter(|n| n.kind == "dump").count();
        if let Some(off) = own.iter().find(|n| n.kind == "disabled") {
            g.disabled += 1;
            g.reason = g.reason.take().or_else(|| off.reason.clone());
        }
        g.ingested += dumps
            .iter()
            .filter(|d| d.host == p.host && d.pid == p.pid)
            .count();
        let ticks = store.sample_ticks(p.process_id, sel)?;
        let counters: Vec<i64> = ticks
            .iter()
            .filter(|t| t.source == SampleKind::Memlog)
            .filter_map(|t| t.msgs)
            .collect();
        if let Some(&last) = counters.iter().max() {
            g.delivered = Some(g.delivered.unwrap_or(0) + last);
            let every = started.and_then(|s| s.every).unwrap_or(1).max(1);
            g.lost += lost_by_counters(&counters, every);
        }
        let status: Vec<i64> = ticks
            .iter()
            .filter(|t| t.source == SampleKind::Status)
            .map(|t| t.ts_us)
            .collect();
        let (gaps, longest) = status_gaps(&status);
        g.gaps += gaps;
        if let Some(l) = longest {
            if g.longest.is_none_or(|(_, len)| l.1 > len) {
                g.longest = Some(l);
            }
        }
    }
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for ((host, worker), g) in groups {
        let carries = if g.memlog {
            Carries::Enrichment
        } else if g.patch {
            Carries::Patch
        } else {
            Carries::StatusOnly
        };
        let at = format!("{worker} on {host}");
        if carries == Carries::StatusOnly && !delivers_no_messages(worker) {
            problems.push(format!(
                "{at}: status only (a sample every few minutes; `miq-memlog appliance` makes it log after each message)"
            ));
        }
        if carries == Carries::Enrichment && g.versions.is_empty() {
            problems.push(format!(
                "{at}: enrichment samples without its started line (settings unknown: was the first log of the process collected?)"
            ));
        }
        if g.disabled > 0 {
            problems.push(format!(
                "{at}: the enrichment disabled itself in {} of {} processes: {}",
                g.disabled,
                g.processes.len(),
                g.reason.as_deref().unwrap_or("no reason given")
            ));
        }
        if g.lost > 0 {
            problems.push(format!(
                "{at}: {} samples missing by the message counters (lines lost, or a log not collected)",
                g.lost
            ));
        }
        if let Some((from, len)) = g.longest {
            problems.push(format!(
                "{at}: {} gaps in the status samples, the longest {:.1} h from {} (logs missing?)",
                g.gaps,
                len as f64 / 3.6e9,
                zone.format_iso(from)
            ));
        }
        if g.announced > g.ingested {
            problems.push(format!(
                "{at}: {} heap dumps announced, {} ingested (ingest tmp/memlog_*.dump* too)",
                g.announced, g.ingested
            ));
        }
        rows.push(Coverage {
            host: host.to_string(),
            worker: worker.to_string(),
            processes: g.processes.len(),
            carries,
            version: joined(&g.versions),
            settings: g.settings.map(|s| joined(&s)),
            samples: g.samples,
            delivered: g.delivered,
            lost: g.lost,
            status_gaps: g.gaps,
            longest_gap_us: g.longest,
            dumps_announced: g.announced,
            dumps_ingested: g.ingested,
            disabled: g.disabled,
            disabled_reason: g.reason,
        });
    }
    Ok(Check { rows, problems })
}

impl Check {
    /// The coverage as a table (longest gap in hours).
    pub fn table(&self) -> Table {
        let mut columns: Vec<String> = ["host", "worker", "processes", "carries", "version"]
            .map(String::from)
            .to_vec();
        columns.extend(SETTINGS.map(String::from));
        columns.extend(
            [
                "samples",
                "delivered",
                "lost",
                "status_gaps",
                "longest_gap_h",
                "dumps_announced",
                "dumps_ingested",
                "disabled",
            ]
            .map(String::from),
        );
        let text = |s: &str| {
            if s.is_empty() {
                Value::Null
            } else {
                Value::Text(s.to_string())
            }
        };
        let rows = self
            .rows
            .iter()
            .map(|r| {
                let mut row = vec![
                    Value::Text(r.host.clone()),
                    Value::Text(r.worker.clone()),
                    Value::Integer(r.processes as i64),
                    Value::Text(r.carries.as_str().to_string()),
                    text(&r.version),
                ];
                row.extend(r.settings.iter().map(|s| text(s)));
                row.extend([
                    Value::Integer(r.samples),
                    r.delivered.map_or(Value::Null, Value::Integer),
                    Value::Integer(r.lost),
                    Value::Integer(r.status_gaps as i64),
                    r.longest_gap_us.map_or(Value::Null, |(_, len)| {
                        Value::Real((len as f64 / 3.6e8).round() / 10.0)
                    }),
                    Value::Integer(r.dumps_announced as i64),
                    Value::Integer(r.dumps_ingested as i64),
                    Value::Integer(r.disabled as i64),
                ]);
                row
            })
            .collect();
        Table { columns, rows }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lost_samples_by_the_counters() {
        assert_eq!(lost_by_counters(&[1, 2, 3, 4], 1), 0);
        assert_eq!(lost_by_counters(&[1, 2, 5, 6], 1), 2);
        assert_eq!(lost_by_counters(&[10, 20, 50], 10), 2);
        // A counter that starts again is a new process run, not a loss.
        assert_eq!(lost_by_counters(&[10, 20, 1, 2], 10), 0);
    }

    #[test]
    fn gaps_are_against_the_usual_interval() {
        let m = 60_000_000;
        let times: Vec<i64> = [0, 5, 10, 15, 20, 60, 65, 70, 200]
            .iter()
            .map(|t| t * m)
            .collect();
        let (count, longest) = status_gaps(&times);
        assert_eq!(count, 2);
        assert_eq!(longest, Some((70 * m, 130 * m)));
        assert_eq!(status_gaps(&[0, 5 * m, 10 * m]), (0, None));
        assert!(delivers_no_messages("MiqServer"));
        assert!(delivers_no_messages(
            "ManageIQ::Providers::Vmware::InfraManager::EventCatcher"
        ));
        assert!(!delivers_no_messages("MiqGenericWorker"));
    }
}
