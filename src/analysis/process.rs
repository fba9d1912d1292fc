//! One process's leak figures: trends of RSS, PSS, live and old objects, its
//! verdict and how long until its memory limit; and the per-worker-type summary.

use super::fit::{theil_sen, Fit};
use super::verdict::{self, judge, worker_verdict, Verdict};
use super::{Sample, Source, BYTES_PER_MB, US_PER_HOUR};

/// What the log says about a process besides its samples.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProcessFacts {
    /// The memory limit of its worker type, from a `memory_exceeded` event.
    pub limit_bytes: Option<i64>,
    /// Heap dumps written during its life.
    pub dumps: usize,
    /// Times it was asked to exit for exceeding its memory limit.
    pub restarts: usize,
}

/// Which series decided the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// Old objects of patched samples: a Ruby heap that keeps old objects is the leak.
    Old,
    /// RSS of all samples, when too few patched samples exist.
    Rss,
}

impl Basis {
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Old => "old",
            Basis::Rss => "rss",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProcessReport {
    pub samples: usize,
    pub start_us: i64,
    pub end_us: i64,
    pub hours: f64,
    pub rss_start: Option<i64>,
    pub rss_end: Option<i64>,
    pub rss_max: Option<i64>,
    /// RSS and PSS in MB against hours since `start_us`: slopes are MB/h.
    pub rss: Option<Fit>,
    pub pss: Option<Fit>,
    /// Live slots and old objects of patched samples: slopes are objects/h.
    pub live: Option<Fit>,
    pub old: Option<Fit>,
    pub facts: ProcessFacts,
    pub hours_to_limit: Option<f64>,
    pub verdict: Verdict,
    pub basis: Basis,
}

/// Analyses the samples of one process, in time order. `None` without samples.
pub fn analyse(samples: &[Sample], facts: ProcessFacts) -> Option<ProcessReport> {
    let first = samples.first()?;
    let last = samples.last()?;
    let start_us = first.ts_us;
    let hours_of = |s: &Sample| (s.ts_us - start_us) as f64 / US_PER_HOUR;
    let series = |value: &dyn Fn(&Sample) -> Option<i64>, scale: f64, patched_only: bool| {
        samples
            .iter()
            .filter(|s| !patched_only || s.source == Source::Patch)
            .filter_map(|s| value(s).map(|v| (hours_of(s), v as f64 / scale)))
            .collect::<Vec<_>>()
    };
    let rss_points = series(&|s| s.rss_bytes, BYTES_PER_MB, false);
    let pss_points = series(&|s| s.pss_bytes, BYTES_PER_MB, false);
    let live_points = series(&|s| s.live_slots, 1.0, true);
    let old_points = series(&|s| s.old_objects, 1.0, true);

    let rss = theil_sen(&rss_points);
    let old = theil_sen(&old_points);
    let (basis, verdict) = if verdict::long_enough(&old_points) {
        (Basis::Old, judge(&old_points, old.as_ref(), facts.restarts))
    } else {
        (Basis::Rss, judge(&rss_points, rss.as_ref(), facts.restarts))
    };

    let rss_values = || samples.iter().filter_map(|s| s.rss_bytes);
    let hours = (last.ts_us - start_us) as f64 / US_PER_HOUR;
    let hours_to_limit = match (facts.limit_bytes, rss.as_ref()) {
        (Some(limit), Some(fit)) => {
            hours_to_limit(limit as f64 / BYTES_PER_MB, fit, hours, facts.restarts)
        }
        _ => None,
    };
    Some(ProcessReport {
        samples: samples.len(),
        start_us,
        end_us: last.ts_us,
        hours,
        rss_start: rss_values().next(),
        rss_end: rss_values().last(),
        rss_max: rss_values().max(),
        rss,
        pss: theil_sen(&pss_points),
        live: theil_sen(&live_points),
        old,
        facts,
        hours_to_limit,
        verdict,
        basis,
    })
}

/// Hours from the last sample until the fitted RSS line reaches the limit:
/// 0 when the process was already restarted for memory or the line is past the
/// limit; `None` when RSS does not rise significantly.
fn hours_to_limit(limit_mb: f64, fit: &Fit, end_hours: f64, restarts: usize) -> Option<f64> {
    let fitted_end = fit.at(end_hours);
    if restarts > 0 || fitted_end >= limit_mb {
        return Some(0.0);
    }
    fit.rises().then(|| (limit_mb - fitted_end) / fit.slope)
}

/// One worker type (of one host) summed over its processes.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerReport {
    pub processes: usize,
    pub samples: usize,
    /// Hours of all its processes together.
    pub hours: f64,
    pub restarts: usize,
    pub dumps: usize,
    pub rss_max: Option<i64>,
    pub limit_bytes: Option<i64>,
    /// Medians over the processes that could be judged (over all of them when
    /// none could): MB/h and objects/h.
    pub median_rss_mb_per_hour: Option<f64>,
    pub median_old_per_hour: Option<f64>,
    /// Processes per verdict: leaking, growing, stable, too-short.
    pub counts: [usize; 4],
    pub verdict: Verdict,
}

/// Summarises the reports of the processes of one worker type.
pub fn summarise_worker(processes: &[&ProcessReport]) -> WorkerReport {
    let verdicts: Vec<Verdict> = processes.iter().map(|p| p.verdict).collect();
    let restarts = processes.iter().map(|p| p.facts.restarts).sum();
    let mut counts = [0; 4];
    for v in &verdicts {
        counts[*v as usize] += 1;
    }
    let judged: Vec<&&ProcessReport> = processes
        .iter()
        .filter(|p| p.verdict != Verdict::TooShort)
        .collect();
    let pool: Vec<&&ProcessReport> = if judged.is_empty() {
        processes.iter().collect()
    } else {
        judged
    };
    let median_of = |slope: &dyn Fn(&ProcessReport) -> Option<f64>| {
        let mut values: Vec<f64> = pool.iter().filter_map(|p| slope(p)).collect();
        median(&mut values)
    };
    WorkerReport {
        processes: processes.len(),
        samples: processes.iter().map(|p| p.samples).sum(),
        hours: processes.iter().map(|p| p.hours).sum(),
        restarts,
        dumps: processes.iter().map(|p| p.facts.dumps).sum(),
        rss_max: processes.iter().filter_map(|p| p.rss_max).max(),
        limit_bytes: processes.iter().filter_map(|p| p.facts.limit_bytes).max(),
        median_rss_mb_per_hour: median_of(&|p| p.rss.map(|f| f.slope)),
        median_old_per_hour: median_of(&|p| p.old.map(|f| f.slope)),
        counts,
        verdict: worker_verdict(&verdicts, restarts),
    }
}

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    })
}
