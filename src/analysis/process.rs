//! One process's leak figures: trends of RSS, PSS, live and old objects, its
//! verdict and how long until its memory limit; and the per-worker-type summary.

use super::fit::{theil_sen, theil_sen_line, Fit, Line};
use super::verdict::{self, judge, worker_verdict, Verdict};
use super::{Sample, BYTES_PER_MB, US_PER_HOUR};

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
    /// RSS and old objects decide the verdict: fits with their interval.
    pub rss: Option<Fit>,
    pub pss: Option<Line>,
    /// Live slots and old objects of patched samples: slopes are objects/h.
    pub live: Option<Line>,
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
            .filter(|s| !patched_only || s.source.per_message())
            .filter_map(|s| value(s).map(|v| (hours_of(s), v as f64 / scale)))
            .collect::<Vec<_>>()
    };
    let rss_points = series(&|s| s.rss_bytes, BYTES_PER_MB, false);
    let pss_points = series(&|s| s.pss_bytes, BYTES_PER_MB, false);
    let live_points = series(&|s| s.live_slots, 1.0, true);
    let old_points = series(&|s| s.old_objects, 1.0, true);

    let rss = theil_sen(&rss_points);
    let old = theil_sen(&old_points);
    let by_rss = || (Basis::Rss, judge(&rss_points, rss.as_ref(), facts.restarts));
    let (basis, verdict) = if verdict::long_enough(&old_points) {
        match judge(&old_points, old.as_ref(), facts.restarts) {
            // Old objects swing with every major GC; a process that rose to its
            // limit and was restarted is leaking whatever they did.
            v if v != Verdict::Leaking && facts.restarts > 0 => match by_rss() {
                leak @ (_, Verdict::Leaking) => leak,
                _ => (Basis::Old, v),
            },
            v => (Basis::Old, v),
        }
    } else {
        by_rss()
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
        rss_end: rss_values().next_back(),
        rss_max: rss_values().max(),
        rss,
        pss: theil_sen_line(&pss_points),
        live: theil_sen_line(&live_points),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::synthetic::{patched, points, status_samples, Noise, T0_US};

    fn within(actual: f64, truth: f64, fraction: f64) -> bool {
        (actual - truth).abs() <= fraction * truth.abs()
    }

    const MB: i64 = 1 << 20;

    #[test]
    fn rss_leak_with_a_known_limit() {
        // 10 MB/h from 300 MB for 24 h: 540 MB at the end, 600 MB limit in 6 h.
        let samples = status_samples(&points(24.0, 10.0, 2.0, 1, |h| 300.0 + 10.0 * h), 0.0);
        let facts = ProcessFacts {
            limit_bytes: Some(600 * MB),
            dumps: 2,
            restarts: 0,
        };
        let r = analyse(&samples, facts).unwrap();
        assert_eq!(r.samples, 145);
        assert_eq!((r.start_us, r.hours), (T0_US, 24.0));
        assert_eq!(r.rss_start, samples[0].rss_bytes);
        assert_eq!(r.rss_end, samples[144].rss_bytes);
        assert_eq!(r.rss_max, samples.iter().filter_map(|s| s.rss_bytes).max());
        assert!(within(r.rss.unwrap().slope, 10.0, 0.05), "{r:?}");
        assert!(within(r.hours_to_limit.unwrap(), 6.0, 0.05), "{r:?}");
        assert_eq!((r.verdict, r.basis), (Verdict::Leaking, Basis::Rss));
        assert_eq!((r.pss, r.live, r.old), (None, None, None));
        assert_eq!(r.facts, facts);

        // Restarted for memory: the limit was reached.
        let restarted = analyse(
            &samples,
            ProcessFacts {
                restarts: 1,
                ..facts
            },
        )
        .unwrap();
        assert_eq!(restarted.hours_to_limit, Some(0.0));
        // A flat worker is on no course to its limit.
        let flat = status_samples(&points(24.0, 10.0, 2.0, 1, |_| 300.0), 0.0);
        let flat = analyse(&flat, facts).unwrap();
        assert_eq!((flat.hours_to_limit, flat.verdict), (None, Verdict::Stable));
        assert!(analyse(&[], facts).is_none());
    }

    /// Patched samples every 10 minutes for 24 h with the given RSS (MB) and
    /// old objects per hour.
    fn patched_series(rss_mb: impl Fn(f64) -> f64, old: impl Fn(f64) -> f64) -> Vec<Sample> {
        let mut noise = Noise::new(9);
        (0..=144)
            .map(|i| {
                let h = i as f64 / 6.0;
                let rss = (rss_mb(h) + noise.normal()) * BYTES_PER_MB;
                let old = old(h) + 2000.0 * noise.normal();
                let ts = T0_US + (h * US_PER_HOUR) as i64;
                patched(
                    ts,
                    rss as i64,
                    old as i64,
                    Some(("Storage", "perf_process")),
                )
            })
            .collect()
    }

    #[test]
    fn old_objects_decide_when_patched_samples_exist() {
        // RSS creeps up (fragmentation) but the heap keeps no more old objects.
        let r = analyse(
            &patched_series(|h| 300.0 + 5.0 * h, |_| 800_000.0),
            ProcessFacts::default(),
        )
        .unwrap();
        assert!(within(r.rss.unwrap().slope, 5.0, 0.05), "{r:?}");
        assert!(within(r.pss.unwrap().slope, 3.75, 0.05), "{r:?}");
        assert_eq!((r.verdict, r.basis), (Verdict::Stable, Basis::Old));

        // Old objects pile up, 10 000 an hour, while RSS still has room.
        let r = analyse(
            &patched_series(|_| 300.0, |h| 800_000.0 + 10_000.0 * h),
            ProcessFacts::default(),
        )
        .unwrap();
        assert!(within(r.old.unwrap().slope, 10_000.0, 0.05), "{r:?}");
        assert!(within(r.live.unwrap().slope, 10_000.0, 0.05), "{r:?}");
        assert_eq!((r.verdict, r.basis), (Verdict::Leaking, Basis::Old));
    }

    #[test]
    fn restarted_for_memory_with_rising_rss_is_leaking_whatever_old_objects_did() {
        let samples = patched_series(|h| 300.0 + 5.0 * h, |_| 800_000.0);
        let restarted = ProcessFacts {
            limit_bytes: Some(420 * MB),
            dumps: 0,
            restarts: 1,
        };
        let r = analyse(&samples, restarted).unwrap();
        assert_eq!((r.verdict, r.basis), (Verdict::Leaking, Basis::Rss));
        assert_eq!(r.hours_to_limit, Some(0.0));
        // Flat RSS and flat old objects stay stable, restart or not.
        let flat = patched_series(|_| 300.0, |_| 800_000.0);
        let r = analyse(&flat, restarted).unwrap();
        assert_eq!((r.verdict, r.basis), (Verdict::Stable, Basis::Old));
    }

    #[test]
    fn sawtooth_of_restarts_makes_the_worker_type_leak() {
        // Six processes, each climbing 200 MB/h from 200 MB to its 600 MB limit
        // in 2 hours, then restarted: none lives long enough to judge alone.
        let reports: Vec<ProcessReport> = (0..6)
            .map(|i| {
                let climb = points(2.0, 10.0, 2.0, i, |h| 200.0 + 200.0 * h);
                let facts = ProcessFacts {
                    limit_bytes: Some(600 * MB),
                    dumps: 0,
                    restarts: 1,
                };
                analyse(&status_samples(&climb, 2.0 * i as f64), facts).unwrap()
            })
            .collect();
        assert!(reports.iter().all(|r| r.verdict == Verdict::TooShort));
        let worker = summarise_worker(&reports.iter().collect::<Vec<_>>());
        assert_eq!(worker.verdict, Verdict::Leaking);
        assert_eq!(
            (worker.processes, worker.restarts, worker.samples),
            (6, 6, 78)
        );
        assert_eq!(worker.counts, [0, 0, 0, 6]);
        assert_eq!(worker.limit_bytes, Some(600 * MB));
        assert!(
            within(worker.median_rss_mb_per_hour.unwrap(), 200.0, 0.05),
            "{worker:?}"
        );
        assert!(within(worker.hours, 12.0, 1e-9));
    }

    #[test]
    fn flat_worker_type_is_stable() {
        let reports: Vec<ProcessReport> = (0..3)
            .map(|i| {
                let flat = points(24.0, 10.0, 3.0, 20 + i, |_| 350.0);
                analyse(
                    &status_samples(&flat, 24.0 * i as f64),
                    ProcessFacts::default(),
                )
                .unwrap()
            })
            .collect();
        let worker = summarise_worker(&reports.iter().collect::<Vec<_>>());
        assert_eq!(worker.counts, [0, 0, 3, 0]);
        assert_eq!(worker.verdict, Verdict::Stable);
        assert!(
            worker.median_rss_mb_per_hour.unwrap().abs() < 0.1,
            "{worker:?}"
        );
        assert_eq!(worker.median_old_per_hour, None);
    }
}
