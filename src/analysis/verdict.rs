//! Verdicts: does a series leak, and does a worker type leak. Every threshold is
//! a named constant here; the README's "Leak report" section lists them.

use super::fit::{theil_sen_line, Fit};

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
/// (from [`super::fit::theil_sen`] over the same points) and how often the process was
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
    match theil_sen_line(&later) {
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
    let judged = processes
        .iter()
        .filter(|v| **v != Verdict::TooShort)
        .count();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fit::theil_sen;
    use crate::analysis::synthetic::points;

    fn verdict_of(series: &[(f64, f64)], restarts: usize) -> Verdict {
        judge(series, theil_sen(series).as_ref(), restarts)
    }

    #[test]
    fn flat_with_noise_is_stable() {
        for seed in 0..5 {
            let series = points(48.0, 10.0, 5.0, seed, |_| 400.0);
            assert_eq!(verdict_of(&series, 0), Verdict::Stable, "seed {seed}");
        }
    }

    #[test]
    fn linear_leaks_are_leaking() {
        for rate in [2.0, 10.0, 50.0] {
            let series = points(24.0, 10.0, 3.0, 1, |h| 300.0 + rate * h);
            assert_eq!(verdict_of(&series, 0), Verdict::Leaking, "rate {rate}");
        }
    }

    #[test]
    fn slow_significant_growth_is_growing() {
        // 0.3 MB/h for 24 h on 300 MB: 2.4 %, above the 2 % floor, below the 10 % leak.
        let series = points(24.0, 10.0, 0.5, 2, |h| 300.0 + 0.3 * h);
        assert_eq!(verdict_of(&series, 0), Verdict::Growing);
        // 0.1 MB/h is significant with so little noise but under 2 %: stable.
        let series = points(24.0, 10.0, 0.2, 2, |h| 300.0 + 0.1 * h);
        assert!(theil_sen(&series).unwrap().rises());
        assert_eq!(verdict_of(&series, 0), Verdict::Stable);
    }

    #[test]
    fn growth_that_stops_is_not_a_leak() {
        // Warm-up: +150 MB in the first 6 hours, then flat for 42. Most pairs
        // of samples lie on the plateau, so the robust slope is about zero.
        let series = points(48.0, 10.0, 2.0, 3, |h| 250.0 + 25.0 * h.min(6.0));
        assert_eq!(verdict_of(&series, 0), Verdict::Stable);
        // +5 MB/h for 20 hours, then flat for 28: a real rise (40 %) that does
        // not go on in the later half.
        let series = points(48.0, 10.0, 2.0, 3, |h| 250.0 + 5.0 * h.min(20.0));
        let fit = theil_sen(&series).unwrap();
        assert!(
            fit.rises() && fit.slope * 48.0 / 350.0 > LEAK_GROWTH_FRACTION,
            "{fit:?}"
        );
        assert_eq!(verdict_of(&series, 0), Verdict::Growing);
    }

    #[test]
    fn a_spike_does_not_make_a_leak() {
        let mut series = points(24.0, 10.0, 2.0, 4, |_| 300.0);
        let n = series.len();
        for p in &mut series[n - 3..] {
            p.1 += 1500.0;
        }
        assert_eq!(verdict_of(&series, 0), Verdict::Stable);
    }

    #[test]
    fn short_series_are_too_short() {
        // Enough samples, too few hours.
        let series = points(2.5, 1.0, 1.0, 5, |h| 300.0 + 50.0 * h);
        assert!(series.len() >= MIN_SAMPLES);
        assert_eq!(verdict_of(&series, 0), Verdict::TooShort);
        // Enough hours, too few samples.
        let series = points(10.0, 120.0, 1.0, 5, |h| 300.0 + 50.0 * h);
        assert!(series.len() < MIN_SAMPLES);
        assert_eq!(verdict_of(&series, 1), Verdict::TooShort);
        assert_eq!(verdict_of(&[], 0), Verdict::TooShort);
    }

    #[test]
    fn a_restarted_process_that_rose_is_leaking() {
        // 5 % growth: only `growing` on its own, but it hit its limit.
        let series = points(24.0, 10.0, 0.5, 6, |h| 500.0 + 1.0 * h);
        assert_eq!(verdict_of(&series, 0), Verdict::Growing);
        assert_eq!(verdict_of(&series, 1), Verdict::Leaking);
    }

    #[test]
    fn worker_type_verdicts() {
        use Verdict::*;
        // The sawtooth: every process too short to judge, but restarted again and again.
        assert_eq!(worker_verdict(&[TooShort, TooShort, TooShort], 3), Leaking);
        assert_eq!(worker_verdict(&[TooShort, TooShort], 1), TooShort);
        assert_eq!(worker_verdict(&[Leaking, Stable], 0), Leaking);
        assert_eq!(worker_verdict(&[Leaking, Stable, Stable], 0), Growing);
        assert_eq!(worker_verdict(&[Growing, Stable, TooShort], 0), Growing);
        assert_eq!(worker_verdict(&[Stable, Stable, TooShort], 0), Stable);
        assert_eq!(worker_verdict(&[], 0), TooShort);
    }
}
