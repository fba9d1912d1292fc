//! Verdicts: does a series leak, and does a worker type leak. Every threshold is
//! a named constant here; the README's "Leak report" section lists them.

use super::fit::{theil_sen, Fit};

/// Fewer samples than this cannot be judged.
pub const MIN_SAMPLES: usize = 10;
/// A series spanning fewer hours than this cannot be judged.
pub const MIN_HOURS: f64 = 3.0;
/// Fitted growth over the series, as a fraction of its median level, below
/// which a significant rise still counts as stable (2 %).
pub const MIN_GROWTH_FRACTION: f64 = 0.02;
/// Fitted growth over the series, as a fraction of its median level, from
/// which a sustained rise is a leak (10 %).
pub const LEAK_GROWTH_FRACTION: f64 = 0.10;
/// A leak keeps going: the slope over the later half of the series must be at
/// least this fraction of the slope over the whole. A worker that grows while
/// it warms up and then levels off is `growing`, not `leaking`.
pub const LEAK_PERSISTENCE: f64 = 0.5;
/// A worker type restarted for memory at least this often is leaking, however
/// short each of its processes lived (the sawtooth).
pub const SAWTOOTH_MIN_RESTARTS: usize = 2;
/// A worker type is leaking when at least this fraction of its judged processes leak.
pub const LEAKING_PROCESS_FRACTION: f64 = 0.5;

/// The answer, best first in the order reports sort by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    Leaking,
    Growing,
    Stable,
    TooShort,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Leaking => "leaking",
            Verdict::Growing => "growing",
            Verdict::Stable => "stable",
            Verdict::TooShort => "too-short",
        }
    }
}

/// Whether a series is long enough to judge: sample count and time span.
pub fn long_enough(points: &[(f64, f64)]) -> bool {
    points.len() >= MIN_SAMPLES && span(points) >= MIN_HOURS
}

/// Judges one series of `(hours, value)` points in time order, given its fit
/// (from [`theil_sen`] over the same points) and how often the process was
/// restarted for exceeding its memory limit:
///
/// - `too-short`: fewer than [`MIN_SAMPLES`] points or less than [`MIN_HOURS`];
/// - `stable`: the slope's 95 % interval reaches zero or below, or the fitted
///   growth is under [`MIN_GROWTH_FRACTION`] of the median level;
/// - `leaking`: a significant rise of at least [`LEAK_GROWTH_FRACTION`] that
///   persists into the later half ([`LEAK_PERSISTENCE`]), or any significant
///   rise of a process that was restarted for memory;
/// - `growing`: any other significant rise.
pub fn judge(points: &[(f64, f64)], fit: Option<&Fit>, restarts: usize) -> Verdict {
    let Some(fit) = fit.filter(|_| long_enough(points)) else {
        return Verdict::TooShort;
    };
    if !fit.rises() {
        return Verdict::Stable;
    }
    let hours = span(points);
    let growth = growth_fraction(points, fit.slope * hours);
    if growth < MIN_GROWTH_FRACTION {
        return Verdict::Stable;
    }
    if restarts > 0 {
        return Verdict::Leaking;
    }
    if growth < LEAK_GROWTH_FRACTION {
        return Verdict::Growing;
    }
    let half_way = points[0].0 + hours / 2.0;
    let later: Vec<(f64, f64)> = points.iter().copied().filter(|p| p.0 >= half_way).collect();
    match theil_sen(&later) {
        Some(late) if late.slope >= LEAK_PERSISTENCE * fit.slope => Verdict::Leaking,
        _ => Verdict::Growing,
    }
}

/// Verdict of a worker type from the verdicts of its processes and its memory
/// restarts: `leaking` with [`SAWTOOTH_MIN_RESTARTS`] restarts or more, or when
/// at least [`LEAKING_PROCESS_FRACTION`] of the judged (not too-short)
/// processes leak; else `growing` if any process leaks or grows, `stable` if
/// any was judged, `too-short` if none was.
pub fn worker_verdict(processes: &[Verdict], restarts: usize) -> Verdict {
    if restarts >= SAWTOOTH_MIN_RESTARTS {
        return Verdict::Leaking;
    }
    let judged = processes.iter().filter(|v| **v != Verdict::TooShort).count();
    if judged == 0 {
        return Verdict::TooShort;
    }
    let leaking = processes.iter().filter(|v| **v == Verdict::Leaking).count();
    if leaking > 0 && leaking as f64 >= LEAKING_PROCESS_FRACTION * judged as f64 {
        return Verdict::Leaking;
    }
    if processes
        .iter()
        .any(|v| matches!(v, Verdict::Leaking | Verdict::Growing))
    {
        return Verdict::Growing;
    }
    Verdict::Stable
}

fn span(points: &[(f64, f64)]) -> f64 {
    match (points.first(), points.last()) {
        (Some(first), Some(last)) => last.0 - first.0,
        _ => 0.0,
    }
}

/// Growth relative to the median level of the series (a level of zero or less
/// makes any growth count as large).
fn growth_fraction(points: &[(f64, f64)], growth: f64) -> f64 {
    let mut values: Vec<f64> = points.iter().map(|p| p.1).collect();
    values.sort_by(f64::total_cmp);
    let level = values[values.len() / 2];
    if level > 0.0 {
        growth / level
    } else {
        f64::INFINITY
    }
}
