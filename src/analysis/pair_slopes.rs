//! The order statistics of the slopes between every pair of points, without
//! listing the pairs: O(n log n) per rank instead of O(n²).
//!
//! For points in increasing x, the pair a < b has a slope below `t` exactly
//! when `z(b) < z(a)` with `z = y − t·x`: the pairs below `t` are the
//! inversions of the points' `z` values taken in x order, counted by merge sort
//! ([`PairSlopes::below`]). The pairs with a slope in `[lo, hi)` are the
//! inversions of the `z_hi` values taken in `z_lo` order, listed the same way
//! ([`PairSlopes::between`]). A rank is found by bracketing it with the slopes
//! of a seeded random sample of pairs, narrowing the bracket by bisection until
//! few pairs fall in it, and selecting among those: the answer is the brute
//! force's, slope for slope (each slope is computed as `(y_b − y_a) / (x_b −
//! x_a)`, as listing every pair does). Only where slopes tie to within
//! floating-point rounding (`y − t·x` and the slope round apart) can a pair's
//! side of `t` differ from its slope's, and then the rank falls on one of those
//! tied slopes: an answer within rounding of the brute force's.

/// Up to this many pairs, every slope is listed and selected directly.
pub const LISTED_PAIRS: u64 = 1 << 16;
/// Pairs drawn to bracket a rank.
const SAMPLED_PAIRS: usize = 1 << 13;
/// A bracket holding at most this many pairs (times the point count) is listed.
const LISTED_PER_POINT: u64 = 8;

/// The pair slopes of points given in increasing x (pairs of equal x have none).
pub struct PairSlopes<'a> {
    points: &'a [(f64, f64)],
    total: u64,
}

impl<'a> PairSlopes<'a> {
    pub fn new(points: &'a [(f64, f64)]) -> PairSlopes<'a> {
        let n = points.len() as u64;
        let mut total = n * n.saturating_sub(1) / 2;
        let mut run = 1u64;
        for w in points.windows(2) {
            if w[0].0 == w[1].0 {
                run += 1;
            } else {
                total -= run * (run - 1) / 2;
                run = 1;
            }
        }
        total -= run * (run - 1) / 2;
        PairSlopes { points, total }
    }

    /// Pairs with a slope (of distinct x).
    pub fn count(&self) -> u64 {
        self.total
    }

    fn slope(&self, a: usize, b: usize) -> f64 {
        let ((xa, ya), (xb, yb)) = (self.points[a], self.points[b]);
        (yb - ya) / (xb - xa)
    }

    /// Every slope, in no particular order.
    fn all(&self) -> Vec<f64> {
        let mut slopes = Vec::with_capacity(self.total as usize);
        for (i, &(xi, yi)) in self.points.iter().enumerate() {
            for &(xj, yj) in &self.points[i + 1..] {
                if xj != xi {
                    slopes.push((yj - yi) / (xj - xi));
                }
            }
        }
        slopes
    }

    /// How many slopes are below `t`.
    pub fn below(&self, t: f64) -> u64 {
        if t == f64::NEG_INFINITY {
            return 0;
        }
        if t == f64::INFINITY {
            return self.total;
        }
        let z = |p: &(f64, f64)| p.1 - t * p.0;
        let mut keys: Vec<f64> = self.points.iter().map(z).collect();
        // Points of equal x form no pair: ordered by z, they make no inversion.
        let mut start = 0;
        for i in 1..=self.points.len() {
            if i == self.points.len() || self.points[i].0 != self.points[start].0 {
                keys[start..i].sort_unstable_by(f64::total_cmp);
                start = i;
            }
        }
        let mut order: Vec<usize> = (0..keys.len()).collect();
        inversions(&mut order, &keys, &mut |_, _| {})
    }

    /// Every slope in `[lo, hi)`.
    pub fn between(&self, lo: f64, hi: f64) -> Vec<f64> {
        if lo == f64::NEG_INFINITY && hi == f64::INFINITY {
            return self.all();
        }
        let at = |t: f64, p: &(f64, f64)| {
            if t.is_infinite() {
                // z at ±∞ orders by x (then by y), as a slope of ±∞ would.
                t.signum() * -p.0
            } else {
                p.1 - t * p.0
            }
        };
        let mut order: Vec<usize> = (0..self.points.len()).collect();
        order.sort_by(|&a, &b| {
            let (pa, pb) = (&self.points[a], &self.points[b]);
            at(lo, pa)
                .total_cmp(&at(lo, pb))
                .then(pa.0.total_cmp(&pb.0))
                .then(pa.1.total_cmp(&pb.1))
        });
        let keys: Vec<f64> = self.points.iter().map(|p| at(hi, p)).collect();
        let mut found = Vec::new();
        inversions(&mut order, &keys, &mut |a, b| {
            let (pa, pb) = (self.points[a], self.points[b]);
            if pa.0 != pb.0 {
                let (first, second) = if pa.0 < pb.0 { (a, b) } else { (b, a) };
                found.push(self.slope(first, second));
            }
        });
        found
    }

    /// The slope of rank `k` (0-based, ascending) among all pair slopes.
    pub fn kth(&self, k: u64) -> f64 {
        assert!(k < self.total, "rank {k} of {} slopes", self.total);
        if self.total <= LISTED_PAIRS {
            let mut all = self.all();
            return *all.select_nth_unstable_by(k as usize, f64::total_cmp).1;
        }
        let (mut lo, mut hi) = self.bracket(k);
        let (mut below_lo, mut below_hi) = (self.below(lo), self.below(hi));
        // Widen a bracket the sample missed (rare): to the whole line at worst.
        if k < below_lo {
            (lo, below_lo) = (f64::NEG_INFINITY, 0);
        }
        if k >= below_hi {
            (hi, below_hi) = (f64::INFINITY, self.total);
        }
        let listed = LISTED_PER_POINT * self.points.len() as u64 + LISTED_PAIRS;
        for _ in 0..200 {
            if below_hi - below_lo <= listed {
                break;
            }
            let mid = match (lo.is_finite(), hi.is_finite()) {
                (true, true) => lo + (hi - lo) / 2.0,
                (false, true) => hi - (hi.abs() + 1.0) * 2.0,
                (true, false) => lo + (lo.abs() + 1.0) * 2.0,
                (false, false) => 0.0,
            };
            if mid <= lo || mid >= hi {
                break;
            }
            let below_mid = self.below(mid);
            if k < below_mid {
                (hi, below_hi) = (mid, below_mid);
            } else {
                (lo, below_lo) = (mid, below_mid);
            }
        }
        let mut inside = self.between(lo, hi);
        let rank = (k - below_lo) as usize;
        assert!(
            rank < inside.len(),
            "bracket [{lo}, {hi}) holds {} slopes, rank {rank}",
            inside.len()
        );
        *inside.select_nth_unstable_by(rank, f64::total_cmp).1
    }

    /// Slopes around rank `k` from a seeded sample of pairs: a bracket that
    /// holds it with high probability.
    fn bracket(&self, k: u64) -> (f64, f64) {
        let n = self.points.len() as u64;
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15 ^ k;
        let mut next = || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        let mut sample = Vec::with_capacity(SAMPLED_PAIRS);
        for _ in 0..SAMPLED_PAIRS * 4 {
            if sample.len() == SAMPLED_PAIRS {
                break;
            }
            let (i, j) = ((next() % n) as usize, (next() % n) as usize);
            let (a, b) = (i.min(j), i.max(j));
            if self.points[a].0 != self.points[b].0 {
                sample.push(self.slope(a, b));
            }
        }
        if sample.is_empty() {
            return (f64::NEG_INFINITY, f64::INFINITY);
        }
        sample.sort_unstable_by(f64::total_cmp);
        let m = sample.len() as f64;
        let p = k as f64 / self.total as f64;
        // Six standard errors of the sample quantile either side.
        let spread = 6.0 * (p * (1.0 - p) / m).sqrt() + 2.0 / m;
        let at = |q: f64| (q.clamp(0.0, 1.0) * (m - 1.0)).round() as usize;
        let (lo, hi) = (p - spread, p + spread);
        let lo = if lo <= 0.0 {
            f64::NEG_INFINITY
        } else {
            sample[at(lo)]
        };
        let hi = if hi >= 1.0 {
            f64::INFINITY
        } else {
            // Just above the sample slope, so that slope itself is inside.
            next_up(sample[at(hi)])
        };
        (lo, hi)
    }
}

/// The smallest f64 above `x`.
fn next_up(x: f64) -> f64 {
    if x.is_nan() || x == f64::INFINITY {
        return x;
    }
    if x == 0.0 {
        return f64::from_bits(1);
    }
    let bits = x.to_bits();
    f64::from_bits(if x > 0.0 { bits + 1 } else { bits - 1 })
}

/// Sorts `order` (indices into `keys`) by key, merge by merge, counting the
/// pairs that come in the wrong order (a before b in `order`, `keys[b] <
/// keys[a]`) and handing each to `each(a, b)`. Returns their count.
fn inversions(order: &mut [usize], keys: &[f64], each: &mut impl FnMut(usize, usize)) -> u64 {
    let n = order.len();
    let mut buffer = vec![0usize; n];
    let mut count = 0u64;
    let mut width = 1;
    while width < n {
        let mut start = 0;
        while start < n {
            let mid = (start + width).min(n);
            let end = (start + 2 * width).min(n);
            let (mut i, mut j, mut out) = (start, mid, start);
            while i < mid && j < end {
                if keys[order[j]] < keys[order[i]] {
                    // Every left element still waiting is above this right one.
                    count += (mid - i) as u64;
                    for &a in &order[i..mid] {
                        each(a, order[j]);
                    }
                    buffer[out] = order[j];
                    j += 1;
                } else {
                    buffer[out] = order[i];
                    i += 1;
                }
                out += 1;
            }
            buffer[out..out + mid - i].copy_from_slice(&order[i..mid]);
            out += mid - i;
            buffer[out..out + end - j].copy_from_slice(&order[j..end]);
            start = end;
        }
        order.copy_from_slice(&buffer);
        width *= 2;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::rng::Rng;

    /// Equal to within floating-point rounding.
    fn tied(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-300)
    }

    fn brute(points: &[(f64, f64)]) -> Vec<f64> {
        let mut all = PairSlopes::new(points).all();
        all.sort_unstable_by(f64::total_cmp);
        all
    }

    /// Series of every kind: noisy lines, steps, plateaus, repeated x and y,
    /// integer values (many equal slopes), a few wild points.
    fn series(rng: &mut Rng, n: usize) -> Vec<(f64, f64)> {
        let kind = rng.below(5);
        let mut x = 0.0;
        (0..n)
            .map(|i| {
                if rng.below(10) != 0 || kind == 0 {
                    x += (1 + rng.below(600)) as f64 / 3600.0;
                }
                let y = match kind {
                    0 => 300.0 + 2.5 * x + rng.gauss(),
                    1 => (rng.below(20) as f64).floor(),
                    2 => {
                        if i < n / 2 {
                            100.0
                        } else {
                            150.0 + rng.gauss()
                        }
                    }
                    3 => 1e6 + 1e4 * x + 5e3 * rng.gauss(),
                    _ => {
                        if rng.below(50) == 0 {
                            1e9
                        } else {
                            400.0 + 0.1 * x
                        }
                    }
                };
                (x, y)
            })
            .collect()
    }

    #[test]
    fn counts_and_ranks_are_the_brute_force_s() {
        let mut rng = Rng::new(0x51_0be5);
        for round in 0..60 {
            let n = [3, 10, 57, 400, 1200][round % 5];
            let points = series(&mut rng, n);
            let slopes = PairSlopes::new(&points);
            let sorted = brute(&points);
            assert_eq!(slopes.count(), sorted.len() as u64);
            if sorted.is_empty() {
                continue;
            }
            for t in [sorted[sorted.len() / 3], sorted[0] - 1.0, 0.0, 1e300] {
                let expected = sorted.iter().filter(|&&s| s < t).count() as u64;
                // Slopes tied with t to within rounding may fall either side.
                let ties = sorted.iter().filter(|&&s| tied(s, t)).count() as u64;
                let got = slopes.below(t);
                assert!(
                    got.abs_diff(expected) <= ties,
                    "round {round}, t {t}: {got} vs {expected}"
                );
            }
            let (lo, hi) = (sorted[sorted.len() / 4], sorted[sorted.len() * 3 / 4]);
            let mut inside = slopes.between(lo, hi);
            inside.sort_unstable_by(f64::total_cmp);
            let sure = |s: f64| !tied(s, lo) && !tied(s, hi);
            let expected: Vec<f64> = sorted
                .iter()
                .copied()
                .filter(|&s| lo <= s && s < hi && sure(s))
                .collect();
            let got: Vec<f64> = inside.iter().copied().filter(|&s| sure(s)).collect();
            assert_eq!(got, expected, "round {round}");
        }
    }

    #[test]
    fn every_rank_of_long_series_is_the_brute_force_s() {
        let mut rng = Rng::new(0xe8ac7);
        for n in [400usize, 900, 3000] {
            for _ in 0..3 {
                let points = series(&mut rng, n);
                let slopes = PairSlopes::new(&points);
                assert!(slopes.count() > LISTED_PAIRS || n < 500);
                let sorted = brute(&points);
                let total = sorted.len() as u64;
                for k in [
                    0,
                    1,
                    total / 40,
                    total / 2 - 1,
                    total / 2,
                    total - total / 40,
                    total - 1,
                ] {
                    let (got, want) = (slopes.kth(k), sorted[k as usize]);
                    assert!(
                        got == want || tied(got, want),
                        "n {n}, rank {k} of {total}: {got} vs {want}"
                    );
                }
            }
        }
    }
}
