//! Robust straight-line fits of a memory series: the Theil–Sen estimator with
//! Sen's confidence interval for the slope.
//!
//! The slope is the median of the slopes between every pair of points, so a
//! single spike (or a few) moves it hardly at all, unlike least squares. The
//! intercept is the median of `y - slope * x`.
//!
//! Cost: O(n log n) time and O(n) memory per series, every pair counted
//! (`pair_slopes`): the slope, its median and the interval's ends are exact
//! order statistics of all n(n−1)/2 pair slopes, found without listing them.

use super::pair_slopes::PairSlopes;

/// Two-sided 95 % normal quantile for the slope's confidence interval.
pub const SLOPE_CONFIDENCE_Z: f64 = 1.959_964;

/// Cap on the lag-1 autocorrelation used to widen the interval (keeps the
/// variance factor finite: at most 39).
const MAX_AUTOCORRELATION: f64 = 0.95;

/// A fitted line `y = intercept + slope * x` with its quality.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    pub slope: f64,
    /// Value of the line at `x = 0`.
    pub intercept: f64,
    /// Lower and upper end of the 95 % confidence interval of the slope.
    pub slope_low: f64,
    pub slope_high: f64,
    /// R² of the robust line against the data (1 − SS_res / SS_tot); `None` when
    /// the data do not vary at all. It can be negative: the robust line is not
    /// the least-squares one.
    pub r2: Option<f64>,
    /// Points fitted.
    pub n: usize,
}

impl Fit {
    pub fn at(&self, x: f64) -> f64 {
        self.intercept + self.slope * x
    }

    /// The whole confidence interval lies above zero.
    pub fn rises(&self) -> bool {
        self.slope_low > 0.0
    }
}

/// A Theil–Sen line without its interval: what a slope shown for reading
/// needs, at a third of the cost of a [`Fit`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Line {
    pub slope: f64,
    /// Value of the line at `x = 0`.
    pub intercept: f64,
    /// R² of the line against the data, as in [`Fit::r2`].
    pub r2: Option<f64>,
    /// Points fitted.
    pub n: usize,
}

impl Line {
    pub fn at(&self, x: f64) -> f64 {
        self.intercept + self.slope * x
    }
}

/// The Theil–Sen line of `(x, y)` points given in increasing `x`: the median
/// pair slope and the median offset. `None` when fewer than two distinct `x`
/// values exist.
pub fn theil_sen_line(points: &[(f64, f64)]) -> Option<Line> {
    let pairs = PairSlopes::new(points);
    line_of(points, &pairs).map(|(line, _)| line)
}

/// The line and its residuals.
fn line_of(points: &[(f64, f64)], pairs: &PairSlopes) -> Option<(Line, Vec<f64>)> {
    let total = pairs.count();
    if points.len() < 2 || total == 0 {
        return None;
    }
    let mid = total / 2;
    let slope = if total % 2 == 1 {
        pairs.kth(mid)
    } else {
        let both = pairs.ranks(&[mid - 1, mid]);
        (both[0] + both[1]) / 2.0
    };
    let mut offsets: Vec<f64> = points.iter().map(|&(x, y)| y - slope * x).collect();
    let intercept = median_in_place(&mut offsets);
    let residuals: Vec<f64> = points
        .iter()
        .map(|&(x, y)| y - (intercept + slope * x))
        .collect();
    let line = Line {
        slope,
        intercept,
        r2: r_squared(points, &residuals),
        n: points.len(),
    };
    Some((line, residuals))
}

/// Theil–Sen fit of `(x, y)` points given in increasing `x`. `None` when fewer
/// than two distinct `x` values exist.
///
/// The slope's interval is Sen's (1968), from the variance of Kendall's S,
/// widened by `(1 + r1) / (1 − r1)` where `r1 > 0` is the lag-1 autocorrelation
/// of the residuals: memory samples follow each other closely, and without this
/// a slow wander would pass for a significant trend.
pub fn theil_sen(points: &[(f64, f64)]) -> Option<Fit> {
    let pairs = PairSlopes::new(points);
    let (line, residuals) = line_of(points, &pairs)?;
    let total = pairs.count();
    let n = points.len();
    let nf = n as f64;
    let var_s = nf * (nf - 1.0) * (2.0 * nf + 5.0) / 18.0;
    let r1 = lag1_autocorrelation(&residuals).clamp(0.0, MAX_AUTOCORRELATION);
    let var_s = var_s * (1.0 + r1) / (1.0 - r1);
    let c = SLOPE_CONFIDENCE_Z * var_s.sqrt();
    // Sen's ranks M1 = (N − C)/2 and M2 + 1 = (N + C)/2 + 1 (1-based) among the
    // N = n(n−1)/2 ordered pair slopes (over the pairs of distinct x).
    let all = (n * (n - 1) / 2) as f64;
    let low_fraction = ((all - c) / 2.0 / all).max(0.0);
    let high_fraction = ((all + c) / 2.0 / all).min(1.0);
    let ends = pairs.ranks(&[
        rank(total, low_fraction, -1.0),
        rank(total, high_fraction, 0.0),
    ]);
    Some(Fit {
        slope: line.slope,
        intercept: line.intercept,
        slope_low: ends[0],
        slope_high: ends[1],
        r2: line.r2,
        n,
    })
}

fn median_in_place(values: &mut [f64]) -> f64 {
    let n = values.len();
    let mid = n / 2;
    let (_, upper, _) = values.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *upper;
    if n % 2 == 1 {
        return upper;
    }
    let lower = values[..mid]
        .iter()
        .copied()
        .max_by(f64::total_cmp)
        .unwrap_or(upper);
    (lower + upper) / 2.0
}

/// The rank `fraction * total + shift` (0-based, rounded, clamped) among `total` values.
fn rank(total: u64, fraction: f64, shift: f64) -> u64 {
    let rank = (fraction * total as f64 + shift).round();
    (rank.max(0.0) as u64).min(total - 1)
}

fn r_squared(points: &[(f64, f64)], residuals: &[f64]) -> Option<f64> {
    let mean = points.iter().map(|p| p.1).sum::<f64>() / points.len() as f64;
    let ss_tot: f64 = points.iter().map(|p| (p.1 - mean).powi(2)).sum();
    let ss_res: f64 = residuals.iter().map(|r| r * r).sum();
    (ss_tot > 0.0).then(|| 1.0 - ss_res / ss_tot)
}

fn lag1_autocorrelation(residuals: &[f64]) -> f64 {
    if residuals.len() < 3 {
        return 0.0;
    }
    let mean = residuals.iter().sum::<f64>() / residuals.len() as f64;
    let var: f64 = residuals.iter().map(|r| (r - mean).powi(2)).sum();
    if var == 0.0 {
        return 0.0;
    }
    let cov: f64 = residuals
        .windows(2)
        .map(|w| (w[0] - mean) * (w[1] - mean))
        .sum();
    cov / var
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::synthetic::points;

    fn within(actual: f64, truth: f64, fraction: f64) -> bool {
        (actual - truth).abs() <= fraction * truth.abs()
    }

    #[test]
    fn exact_line_is_recovered_exactly() {
        let line: Vec<(f64, f64)> = (0..50)
            .map(|i| (i as f64, 300.0 + 2.5 * i as f64))
            .collect();
        let fit = theil_sen(&line).unwrap();
        assert_eq!(fit.slope, 2.5);
        assert_eq!(fit.intercept, 300.0);
        assert_eq!(fit.r2, Some(1.0));
        assert_eq!((fit.slope_low, fit.slope_high), (2.5, 2.5));
        assert_eq!(fit.n, 50);
        assert_eq!(fit.at(10.0), 325.0);
    }

    #[test]
    fn linear_leaks_at_several_rates_within_5_percent() {
        for (seed, rate) in [0.5, 2.0, 10.0, 50.0].into_iter().enumerate() {
            // 48 h every 10 min, 2 MB of noise around 300 MB: the slope's
            // standard error is under 2 % of the slowest rate.
            let series = points(48.0, 10.0, 2.0, seed as u64, |h| 300.0 + rate * h);
            let fit = theil_sen(&series).unwrap();
            assert!(
                within(fit.slope, rate, 0.05),
                "rate {rate}: slope {}",
                fit.slope
            );
            assert!(fit.rises(), "rate {rate}: {fit:?}");
            assert!(
                fit.slope_low <= rate && rate <= fit.slope_high,
                "rate {rate}: {fit:?}"
            );
            assert!(within(fit.intercept, 300.0, 0.01), "rate {rate}: {fit:?}");
        }
    }

    #[test]
    fn flat_noise_has_no_significant_slope() {
        for seed in 0..5 {
            let series = points(48.0, 10.0, 5.0, seed, |_| 400.0);
            let fit = theil_sen(&series).unwrap();
            assert!(
                fit.slope_low <= 0.0 && fit.slope_high >= 0.0,
                "seed {seed}: {fit:?}"
            );
            assert!(fit.slope.abs() < 0.1, "seed {seed}: {fit:?}");
            // The line explains none of the noise.
            assert!(fit.r2.unwrap() < 0.05, "seed {seed}: {fit:?}");
        }
    }

    #[test]
    fn a_spike_does_not_decide_the_slope() {
        let mut leak = points(24.0, 10.0, 2.0, 7, |h| 300.0 + 4.0 * h);
        leak[70].1 += 2000.0;
        let fit = theil_sen(&leak).unwrap();
        assert!(within(fit.slope, 4.0, 0.05), "{fit:?}");

        // A late spike on a flat series would tilt a least-squares line upwards.
        let mut flat = points(24.0, 10.0, 2.0, 8, |_| 300.0);
        let last = flat.len() - 1;
        flat[last].1 += 2000.0;
        flat[last - 1].1 += 2000.0;
        let fit = theil_sen(&flat).unwrap();
        assert!(!fit.rises(), "{fit:?}");
        assert!(fit.slope.abs() < 0.1, "{fit:?}");
    }

    #[test]
    fn autocorrelated_wander_widens_the_interval() {
        // A random walk has no trend, but its neighbouring samples agree.
        let mut walk = points(48.0, 10.0, 1.0, 11, |_| 0.0);
        for i in 1..walk.len() {
            walk[i].1 += walk[i - 1].1;
        }
        let fit = theil_sen(&walk).unwrap();
        let white = points(48.0, 10.0, 1.0, 11, |_| 0.0);
        let white_fit = theil_sen(&white).unwrap();
        let width = |f: &Fit| f.slope_high - f.slope_low;
        assert!(
            width(&fit) > 5.0 * width(&white_fit),
            "{fit:?} vs {white_fit:?}"
        );
    }

    #[test]
    fn long_series_are_fitted_over_every_pair() {
        // 10 000 points: 50 million pairs, none listed.
        let series = points(1000.0, 6.0, 5.0, 3, |h| 500.0 + 0.75 * h);
        assert!(series.len() * (series.len() - 1) / 2 > 1 << 21);
        let fit = theil_sen(&series).unwrap();
        assert!(within(fit.slope, 0.75, 0.01), "{fit:?}");
        assert!(fit.rises());
        assert_eq!(theil_sen(&series), Some(fit));
    }

    #[test]
    fn too_few_points_or_one_instant_give_no_fit() {
        assert_eq!(theil_sen(&[]), None);
        assert_eq!(theil_sen(&[(1.0, 2.0)]), None);
        assert_eq!(theil_sen(&[(1.0, 2.0), (1.0, 5.0), (1.0, 9.0)]), None);
        let flat = theil_sen(&[(0.0, 5.0), (1.0, 5.0), (2.0, 5.0)]).unwrap();
        assert_eq!((flat.slope, flat.r2), (0.0, None));
    }
}
