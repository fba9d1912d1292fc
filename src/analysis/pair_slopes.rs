//! The order statistics of the slopes between every pair of points, without
//! listing the pairs: O(n log n) per rank instead of O(n²).
//!
//! For points in increasing x, the pair a < b has a slope below `t` exactly
//! when `z(b) < z(a)` with `z = y − t·x`: the pairs below `t` are the
//! inversions of the points' `z` values taken in x order, counted by merge sort
//! ([`PairSlopes::below`]). The pairs with a slope in `[lo, hi)` are the
//! inversions of the `z_hi` values taken in `z_lo` order, listed the same way
//! ([`PairSlopes::between`]). A rank is found by bracketing it with the slopes
//! of a seeded random sample of pairs, narrowing the bracket (by the sample's
//! slopes inside it, else by bisection) until few pairs fall in it, and
//! selecting among those; a bracket the sample says is small is listed at once,
//! its length counting the pairs below its upper end: the answer is the brute
//! force's, slope for slope (each slope is computed as `(y_b − y_a) / (x_b −
//! x_a)`, as listing every pair does). Only where slopes tie to within
//! floating-point rounding (`y − t·x` and the slope round apart) can a pair's
//! side of `t` differ from its slope's, and then the rank falls on one of those
//! tied slopes: an answer within rounding of the brute force's.

use std::cell::{OnceCell, RefCell};

/// Up to this many pairs, every slope is listed and selected directly.
pub const LISTED_PAIRS: u64 = 1 << 16;
/// Pairs drawn to bracket the ranks: two per point, within these bounds.
const MIN_SAMPLED_PAIRS: usize = 1 << 13;
const MAX_SAMPLED_PAIRS: usize = 1 << 18;
/// Fewer sampled slopes than this inside a bracket, and it is halved instead.
const MIN_INNER_SAMPLE: usize = 32;
/// Sample brackets reach this many standard errors of the sample quantile
/// either side. Narrow brackets miss the rank more often (each miss costs one
/// more count) but list and count fewer pairs: on the patched-fleet benchmark
/// one standard error did about half the work of four.
const BRACKET_ERRORS: f64 = 1.0;
/// A bracket holding at most this many pairs (times the point count) is listed.
const LISTED_PER_POINT: u64 = 16;

/// The pair slopes of points given in increasing x (pairs of equal x have none).
pub struct PairSlopes<'a> {
    points: &'a [(f64, f64)],
    total: u64,
    /// No two points share an x: every pair has a slope.
    distinct_x: bool,
    /// The sorted sample of slopes every rank is bracketed from, drawn once.
    sample: OnceCell<Vec<f64>>,
    /// Every `(t, below(t))` counted so far, ascending, with both infinities:
    /// later ranks start from the tightest of them.
    counted: RefCell<Vec<(f64, u64)>>,
}

impl<'a> PairSlopes<'a> {
    pub fn new(points: &'a [(f64, f64)]) -> PairSlopes<'a> {
        // Listing orders points by index packed beside a key in 32 bits.
        assert!(points.len() <= u32::MAX as usize, "too many points");
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
        PairSlopes {
            points,
            total,
            distinct_x: points.windows(2).all(|w| w[0].0 != w[1].0),
            sample: OnceCell::new(),
            counted: RefCell::new(vec![(f64::NEG_INFINITY, 0), (f64::INFINITY, total)]),
        }
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
        if self.distinct_x {
            return count_inversions(&mut keys);
        }
        // Points of equal x form no pair: ordered by z, they make no inversion.
        let mut start = 0;
        for i in 1..=self.points.len() {
            if i == self.points.len() || self.points[i].0 != self.points[start].0 {
                if i - start > 1 {
                    keys[start..i].sort_unstable_by(f64::total_cmp);
                }
                start = i;
            }
        }
        count_inversions(&mut keys)
    }

    /// Every slope in `[lo, hi)`.
    pub fn between(&self, lo: f64, hi: f64) -> Vec<f64> {
        self.between_at_most(lo, hi, usize::MAX)
            .expect("no cap on the slopes listed")
    }

    /// Every slope in `[lo, hi)`, or `None` as soon as more than `cap` are.
    fn between_at_most(&self, lo: f64, hi: f64, cap: usize) -> Option<Vec<f64>> {
        if lo == f64::NEG_INFINITY && hi == f64::INFINITY {
            return (self.total <= cap as u64).then(|| self.all());
        }
        let at = |t: f64, p: &(f64, f64)| {
            if t.is_infinite() {
                // z at ±∞ orders by x (then by y), as a slope of ±∞ would.
                t.signum() * -p.0
            } else {
                p.1 - t * p.0
            }
        };
        // Each point keyed by its z at `hi`, in the order of its z at `lo`
        // (ties by x: points come in increasing x, so by index). Points tied
        // in both z and x are one point (finite `lo`) or share an x and so
        // form no pair with each other (infinite `lo`): their order is moot.
        let mut order: Vec<u128> = self
            .points
            .iter()
            .enumerate()
            .map(|(i, p)| (u128::from(ordered_bits(at(lo, p))) << 32) | i as u128)
            .collect();
        order.sort_unstable();
        let mut keyed: Vec<Keyed> = order
            .iter()
            .map(|&o| {
                let p = &self.points[(o as u32) as usize];
                Keyed {
                    key: at(hi, p),
                    x: p.0,
                    y: p.1,
                }
            })
            .collect();
        let mut found = Vec::new();
        let whole = list_inversions(&mut keyed, &mut found, cap, self.distinct_x);
        whole.then_some(found)
    }

    /// The slope of rank `k` (0-based, ascending) among all pair slopes.
    pub fn kth(&self, k: u64) -> f64 {
        self.ranks(&[k])[0]
    }

    /// The slopes of ranks `ks` (0-based, ascending order of slopes), in the
    /// order asked. Ranks close together (a median of an even count) share
    /// their work, and every rank shares one sample of pairs.
    pub fn ranks(&self, ks: &[u64]) -> Vec<f64> {
        for &k in ks {
            assert!(k < self.total, "rank {k} of {} slopes", self.total);
        }
        if self.total <= LISTED_PAIRS {
            let mut all = self.all();
            return ks
                .iter()
                .map(|&k| *all.select_nth_unstable_by(k as usize, f64::total_cmp).1)
                .collect();
        }
        let sample = self.sample.get_or_init(|| self.sample());
        // The last bracket listed: the rank of its first slope, its slopes,
        // and the last place selected in it (slopes after it rank after it).
        let mut listed: Option<(u64, Vec<f64>, Option<usize>)> = None;
        let mut found = Vec::with_capacity(ks.len());
        for &k in ks {
            let reuse = matches!(&listed, Some((first, inside, _))
                if *first <= k && k - first < inside.len() as u64);
            if !reuse {
                let (first, inside) = self.bracket_of(k, sample);
                listed = Some((first, inside, None));
            }
            let (first, inside, selected) = listed.as_mut().expect("a bracket is listed");
            let rank = (k - *first) as usize;
            // A higher rank than the last one selected is among the slopes after it.
            let from = match *selected {
                Some(at) if at < rank => at + 1,
                _ => 0,
            };
            found.push(
                *inside[from..]
                    .select_nth_unstable_by(rank - from, f64::total_cmp)
                    .1,
            );
            *selected = Some(rank);
        }
        found
    }

    /// Moves a bracket's upper end to `t`: where about `estimate` slopes lie
    /// in `[lo, t)` and that is few enough, they are listed (their number
    /// counts those below `t` too) and returned if they hold rank `k`;
    /// otherwise the slopes below `t` are counted.
    fn list_or_count(
        &self,
        k: u64,
        (lo, below_lo): (f64, u64),
        t: f64,
        estimate: f64,
        listed: u64,
    ) -> Ended {
        if estimate <= listed as f64 / 2.0 {
            if let Some(inside) = self.between_at_most(lo, t, listed as usize) {
                let below = below_lo + inside.len() as u64;
                self.remember(t, below);
                return if k < below {
                    Ended::Listed(inside)
                } else {
                    Ended::Counted(below)
                };
            }
        }
        Ended::Counted(self.counted_below(t))
    }

    /// Keeps `below(t)` found another way (a bracket listed whole).
    fn remember(&self, t: f64, below: u64) {
        let mut counted = self.counted.borrow_mut();
        if let Err(i) = counted.binary_search_by(|(u, _)| u.total_cmp(&t)) {
            counted.insert(i, (t, below));
        }
    }

    /// `below(t)`, counted once per `t`.
    fn counted_below(&self, t: f64) -> u64 {
        let known = self
            .counted
            .borrow()
            .binary_search_by(|(u, _)| u.total_cmp(&t))
            .map(|i| self.counted.borrow()[i].1);
        known.unwrap_or_else(|_| {
            let count = self.below(t);
            self.remember(t, count);
            count
        })
    }

    /// The tightest counted values around rank `k`: the highest `t` with at
    /// most `k` slopes below it and the lowest with more, with their counts.
    fn known_around(&self, k: u64) -> ((f64, u64), (f64, u64)) {
        let counted = self.counted.borrow();
        let split = counted.partition_point(|&(_, below)| below <= k);
        (counted[split - 1], counted[split])
    }

    /// Every slope of a bracket holding rank `k`, and the rank of its lowest.
    fn bracket_of(&self, k: u64, sample: &[f64]) -> (u64, Vec<f64>) {
        let ((known_lo, known_below_lo), (known_hi, known_below_hi)) = self.known_around(k);
        let (sample_lo, sample_hi) = quantile_bracket(sample, k as f64 / self.total as f64);
        // The sample's bracket where it is tighter than what is known and
        // holds the rank; else what is known (a miss of the sample is rare).
        let (mut lo, mut below_lo) = (known_lo, known_below_lo);
        if sample_lo > known_lo && sample_lo < known_hi {
            let below = self.counted_below(sample_lo);
            if below <= k {
                (lo, below_lo) = (sample_lo, below);
            }
        }
        let listed = LISTED_PER_POINT * self.points.len() as u64 + LISTED_PAIRS;
        let (mut hi, mut below_hi) = (known_hi, known_below_hi);
        // The share of `of` (sorted slopes) in `[from, to)`.
        let share = |of: &[f64], from: f64, to: f64| {
            let inside = of.partition_point(|&s| s < to) - of.partition_point(|&s| s < from);
            inside as f64 / of.len().max(1) as f64
        };
        if sample_hi > lo && sample_hi < known_hi {
            let estimate = share(sample, lo, sample_hi) * self.total as f64;
            match self.list_or_count(k, (lo, below_lo), sample_hi, estimate, listed) {
                Ended::Listed(inside) => return (below_lo, inside),
                Ended::Counted(below) if below > k => (hi, below_hi) = (sample_hi, below),
                Ended::Counted(below) => (lo, below_lo) = (sample_hi, below),
            }
        }
        for _ in 0..200 {
            if below_hi - below_lo <= listed {
                break;
            }
            // The sample's slopes inside the bracket stand for the bracket's:
            // the rank's place among them gives a narrower bracket, else halve.
            let inner = {
                let from = sample.partition_point(|&s| s <= lo);
                let to = sample.partition_point(|&s| s < hi);
                &sample[from..to.max(from)]
            };
            let pivots = if inner.len() >= MIN_INNER_SAMPLE {
                let p = (k - below_lo) as f64 / (below_hi - below_lo) as f64;
                let (a, b) = quantile_bracket(inner, p);
                [a, b]
            } else {
                let mid = match (lo.is_finite(), hi.is_finite()) {
                    (true, true) => lo + (hi - lo) / 2.0,
                    (false, true) => hi - (hi.abs() + 1.0) * 2.0,
                    (true, false) => lo + (lo.abs() + 1.0) * 2.0,
                    (false, false) => 0.0,
                };
                [mid, f64::NAN]
            };
            let mut moved = false;
            for pivot in pivots {
                if !(pivot > lo && pivot < hi) {
                    continue;
                }
                moved = true;
                let estimate = share(inner, lo, pivot) * (below_hi - below_lo) as f64;
                match self.list_or_count(k, (lo, below_lo), pivot, estimate, listed) {
                    Ended::Listed(inside) => return (below_lo, inside),
                    Ended::Counted(below) if k < below => (hi, below_hi) = (pivot, below),
                    Ended::Counted(below) => (lo, below_lo) = (pivot, below),
                }
            }
            if !moved {
                break;
            }
        }
        let inside = self.between(lo, hi);
        assert!(
            (k - below_lo) < inside.len() as u64,
            "bracket [{lo}, {hi}) holds {} slopes, rank {}",
            inside.len(),
            k - below_lo
        );
        (below_lo, inside)
    }

    /// A seeded random sample of pair slopes, sorted: about two per point.
    fn sample(&self) -> Vec<f64> {
        let n = self.points.len() as u64;
        let size = (2 * self.points.len()).clamp(MIN_SAMPLED_PAIRS, MAX_SAMPLED_PAIRS);
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15 ^ n;
        let mut next = || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        let mut sample = Vec::with_capacity(size);
        for _ in 0..size * 4 {
            if sample.len() == size {
                break;
            }
            let (i, j) = ((next() % n) as usize, (next() % n) as usize);
            let (a, b) = (i.min(j), i.max(j));
            if self.points[a].0 != self.points[b].0 {
                sample.push(self.slope(a, b));
            }
        }
        sample.sort_unstable_by(f64::total_cmp);
        sample
    }
}

/// Slopes around quantile `p` of a sorted sample: a bracket holding the
/// population's quantile `p` more often than not ([`BRACKET_ERRORS`] standard
/// errors of the sample quantile either side); the whole line for an empty sample.
fn quantile_bracket(sample: &[f64], p: f64) -> (f64, f64) {
    if sample.is_empty() {
        return (f64::NEG_INFINITY, f64::INFINITY);
    }
    let m = sample.len() as f64;
    let spread = BRACKET_ERRORS * (p * (1.0 - p) / m).sqrt() + 2.0 / m;
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

/// Bits of `x` that order as `f64::total_cmp` orders the values.
fn ordered_bits(x: f64) -> u64 {
    let bits = x.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
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

/// Sorts `keys` ascending, counting the pairs that were in the wrong order
/// (`a` before `b`, `keys[b] < keys[a]`): insertion sort within short runs,
/// then bottom-up merges.
fn count_inversions(keys: &mut Vec<f64>) -> u64 {
    const RUN: usize = 16;
    let n = keys.len();
    let mut count = 0u64;
    for run in keys.chunks_mut(RUN) {
        for i in 1..run.len() {
            let key = run[i];
            let mut j = i;
            while j > 0 && key < run[j - 1] {
                run[j] = run[j - 1];
                j -= 1;
            }
            run[j] = key;
            count += (i - j) as u64;
        }
    }
    let mut from = std::mem::take(keys);
    let mut into = vec![0.0f64; n];
    let mut width = RUN;
    while width < n {
        for (from, into) in from.chunks(2 * width).zip(into.chunks_mut(2 * width)) {
            let (left, right) = from.split_at(width.min(from.len()));
            count += merge_counting(left, right, into);
        }
        std::mem::swap(&mut from, &mut into);
        width *= 2;
    }
    *keys = from;
    count
}

/// Merges two sorted runs into `into` (their length together), returning how
/// many pairs (one of `left`, one of `right`) had the right key lower.
fn merge_counting(left: &[f64], right: &[f64], into: &mut [f64]) -> u64 {
    if left.len() == right.len() {
        return merge_counting_both_ends(left, right, into);
    }
    let (mut i, mut j, mut count) = (0, 0, 0u64);
    let out = &mut into[..left.len() + right.len()];
    for slot in out.iter_mut() {
        if i == left.len() || j == right.len() {
            break;
        }
        // Branch-free: which side moves is data, not control flow.
        let (l, r) = (left[i], right[j]);
        let take_right = r < l;
        // Every left key still waiting is above a right one taken.
        count += (take_right as u64) * (left.len() - i) as u64;
        *slot = if take_right { r } else { l };
        j += take_right as usize;
        i += !take_right as usize;
    }
    let done = i + j;
    out[done..done + left.len() - i].copy_from_slice(&left[i..]);
    out[done + left.len() - i..].copy_from_slice(&right[j..]);
    count
}

/// [`merge_counting`] of two runs of one length: the lower half of the output
/// merged from the front and the upper half from the back in one loop, two
/// independent chains of comparisons instead of one (about a quarter faster).
/// Neither end runs out: after `k` steps each end has taken `k` of `2n` keys,
/// so with `k < n` both runs still have a key on both sides. Equal keys put
/// `left` first from both ends, as a stable merge does. A right key counts the
/// left keys above it: from the front, those not yet taken; from the back,
/// those already taken.
fn merge_counting_both_ends(left: &[f64], right: &[f64], into: &mut [f64]) -> u64 {
    let n = left.len();
    let out = &mut into[..2 * n];
    let (mut i, mut j) = (0, 0);
    // How many of each run the back has not taken.
    let (mut il, mut jl) = (n, n);
    let mut count = 0u64;
    for k in 0..n {
        let (l, r) = (left[i], right[j]);
        let take_right = r < l;
        count += (take_right as u64) * (n - i) as u64;
        out[k] = if take_right { r } else { l };
        j += take_right as usize;
        i += !take_right as usize;

        let (l, r) = (left[il - 1], right[jl - 1]);
        let take_left = l > r;
        count += (!take_left as u64) * (n - il) as u64;
        out[2 * n - 1 - k] = if take_left { l } else { r };
        il -= take_left as usize;
        jl -= !take_left as usize;
    }
    count
}

/// How [`PairSlopes::list_or_count`] moved a bracket's end.
enum Ended {
    /// The slopes from the bracket's lower end to the new end, holding the rank.
    Listed(Vec<f64>),
    /// The slopes below the new end.
    Counted(u64),
}

/// A point with the key it is sorted by.
#[derive(Clone, Copy)]
struct Keyed {
    key: f64,
    x: f64,
    y: f64,
}

/// The slope of two points; the same bits whichever comes first, since
/// `(ya − yb) / (xa − xb)` is `(yb − ya) / (xb − xa)` with both signs flipped.
fn slope_of(a: &Keyed, b: &Keyed) -> f64 {
    (b.y - a.y) / (b.x - a.x)
}

/// Sorts `points` by key, pushing the slope of every pair that was in the
/// wrong order (`a` before `b`, `b.key < a.key`) and of distinct x onto `found`:
/// insertion sort within short runs, then bottom-up merges. Stops, returning
/// false, once more than `cap` slopes are found (`points` then half sorted).
/// `distinct_x`: no two points share an x, so no pair needs checking.
fn list_inversions(
    points: &mut Vec<Keyed>,
    found: &mut Vec<f64>,
    cap: usize,
    distinct_x: bool,
) -> bool {
    const RUN: usize = 32;
    let n = points.len();
    for run in points.chunks_mut(RUN) {
        for i in 1..run.len() {
            let moving = run[i];
            let mut j = i;
            while j > 0 && moving.key < run[j - 1].key {
                let passed = run[j - 1];
                if passed.x != moving.x {
                    found.push(slope_of(&passed, &moving));
                }
                run[j] = passed;
                j -= 1;
            }
            run[j] = moving;
        }
        if found.len() > cap {
            return false;
        }
    }
    let mut from = std::mem::take(points);
    let mut into = from.clone();
    let mut width = RUN;
    while width < n {
        for start in (0..n).step_by(2 * width) {
            let mid = (start + width).min(n);
            let end = (start + 2 * width).min(n);
            let (mut i, mut j, mut out) = (start, mid, start);
            // Keys come close to sorted (few pairs lie in a listed bracket):
            // only where the runs overlap is there anything to merge. Left
            // points not above the right run's first go out as they are;
            // right points not below the left run's last stay where they are.
            let mut overlap_end = end;
            if mid < end {
                let ahead = from[start..mid].partition_point(|p| p.key <= from[mid].key);
                into[start..start + ahead].copy_from_slice(&from[start..start + ahead]);
                (i, out) = (start + ahead, start + ahead);
                overlap_end = mid + from[mid..end].partition_point(|p| p.key < from[mid - 1].key);
            }
            while i < mid && j < overlap_end {
                if from[j].key < from[i].key {
                    // Every left point still waiting is above this right one.
                    let right = from[j];
                    if distinct_x {
                        found.extend(from[i..mid].iter().map(|left| slope_of(left, &right)));
                    } else {
                        for left in &from[i..mid] {
                            if left.x != right.x {
                                found.push(slope_of(left, &right));
                            }
                        }
                    }
                    if found.len() > cap {
                        *points = from;
                        return false;
                    }
                    into[out] = right;
                    j += 1;
                } else {
                    into[out] = from[i];
                    i += 1;
                }
                out += 1;
            }
            into[out..out + mid - i].copy_from_slice(&from[i..mid]);
            out += mid - i;
            into[out..out + end - j].copy_from_slice(&from[j..end]);
        }
        std::mem::swap(&mut from, &mut into);
        width *= 2;
    }
    *points = from;
    true
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
    fn inversions_are_counted_as_pair_by_pair() {
        let mut rng = Rng::new(0x1a7e5);
        for n in [0, 1, 2, 15, 16, 17, 31, 32, 33, 100, 255, 256, 1000, 1500] {
            for spread in [3, 1000, 1 << 30] {
                // Few distinct keys (many ties), then mostly distinct ones.
                let keys: Vec<f64> = (0..n).map(|_| rng.below(spread) as f64).collect();
                let mut expected = 0u64;
                for (a, &ka) in keys.iter().enumerate() {
                    expected += keys[a + 1..].iter().filter(|&&kb| kb < ka).count() as u64;
                }
                let mut sorted = keys.clone();
                sorted.sort_unstable_by(f64::total_cmp);
                let mut counted = keys;
                assert_eq!(
                    count_inversions(&mut counted),
                    expected,
                    "n {n}, spread {spread}"
                );
                assert_eq!(counted, sorted, "n {n}, spread {spread}");
            }
        }
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
