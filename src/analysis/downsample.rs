//! Reducing a long series for drawing while keeping its shape: Largest
//! Triangle Three Buckets (Steinarsson, "Downsampling Time Series for Visual
//! Representation", 2013). Peaks and the restart sawtooth survive; a flat
//! stretch costs few points.

/// The indices of the points LTTB keeps of `points` (ordered by x), at most
/// `threshold` of them, in order: the first and the last point always, and
/// from each of `threshold - 2` equal buckets between them the point that
/// spans the largest triangle with the point kept before it and the mean of
/// the next bucket. A series no longer than `threshold` is kept whole;
/// thresholds below 3 are read as 3.
pub fn lttb(points: &[(f64, f64)], threshold: usize) -> Vec<usize> {
    let n = points.len();
    let threshold = threshold.max(3);
    if n <= threshold {
        return (0..n).collect();
    }
    // Bucket k starts at floor(k * (n - 2) / (threshold - 2)) + 1, in integers
    // so the last edge is exact: the first and last point are buckets of their own.
    let edge = |k: usize| k * (n - 2) / (threshold - 2) + 1;
    let mut kept = Vec::with_capacity(threshold);
    kept.push(0);
    let mut a = 0;
    for bucket in 0..threshold - 2 {
        let (next_from, next_to) = if bucket + 1 == threshold - 2 {
            (n - 1, n)
        } else {
            (edge(bucket + 1), edge(bucket + 2))
        };
        let span = (next_to - next_from) as f64;
        let (sx, sy) = points[next_from..next_to]
            .iter()
            .fold((0.0, 0.0), |(sx, sy), &(x, y)| (sx + x, sy + y));
        let (cx, cy) = (sx / span, sy / span);
        let (ax, ay) = points[a];
        let mut best = edge(bucket);
        let mut best_area = -1.0;
        for (j, &(bx, by)) in points
            .iter()
            .enumerate()
            .take(edge(bucket + 1))
            .skip(edge(bucket))
        {
            // Twice the triangle's area; the first of equals wins.
            let area = ((ax - cx) * (by - ay) - (ax - bx) * (cy - ay)).abs();
            if area > best_area {
                best_area = area;
                best = j;
            }
        }
        kept.push(best);
        a = best;
    }
    kept.push(n - 1);
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(ys: &[f64]) -> Vec<(f64, f64)> {
        ys.iter().enumerate().map(|(i, &y)| (i as f64, y)).collect()
    }

    /// Worked by hand: 8 points into 4 keeps the ends and one of 1..=3 and
    /// one of 4..=6. Bucket 1 against (0,0) and the mean (5, 11/3) of the
    /// next: twice the areas are 4/3, 53/3 and 1, so index 2. Bucket 2
    /// against (2,5) and the last point (7,3): 11, 21 and 12, so index 5.
    #[test]
    fn keeps_the_points_a_hand_computation_keeps() {
        let points = series(&[0.0, 1.0, 5.0, 2.0, 2.0, 8.0, 1.0, 3.0]);
        assert_eq!(lttb(&points, 4), [0, 2, 5, 7]);
    }

    /// Uneven times (x) weigh in: 7 points into 4, buckets of 2.5 points
    /// (indices 1..=2 and 3..=5). Bucket 1 against (0,0) and the mean of
    /// indices 3..=5, (13.7/3, 2): twice the areas are |−13.7/3·1 + 1·2| = 7.7/3
    /// for (1,1) and |−13.7/3·0 + 4·2| = 8 for (4,0): index 2. Bucket 2 against
    /// (4,0) and the last point (10,0): 6·2, 6·3 and 6·1 for y = 2, 3, 1 at
    /// indices 3, 4, 5: index 4.
    #[test]
    fn weighs_uneven_times() {
        let points = [
            (0.0, 0.0),
            (1.0, 1.0),
            (4.0, 0.0),
            (4.2, 2.0),
            (4.5, 3.0),
            (5.0, 1.0),
            (10.0, 0.0),
        ];
        assert_eq!(lttb(&points, 4), [0, 2, 4, 6]);
    }

    #[test]
    fn short_series_are_kept_whole() {
        let points = series(&[3.0, 1.0, 2.0]);
        assert_eq!(lttb(&points, 3), [0, 1, 2]);
        assert_eq!(lttb(&points, 1000), [0, 1, 2]);
        assert_eq!(lttb(&[], 10), Vec::<usize>::new());
        assert_eq!(lttb(&points[..1], 0), [0]);
    }

    #[test]
    fn a_lone_spike_survives_and_counts_are_exact() {
        let mut ys = vec![100.0; 10_000];
        ys[6_543] = 900.0;
        let kept = lttb(&series(&ys), 50);
        assert_eq!(kept.len(), 50);
        assert!(kept.contains(&6_543));
        assert!(kept.windows(2).all(|w| w[0] < w[1]));
        assert_eq!((kept[0], kept[49]), (0, 9_999));
    }

    #[test]
    fn the_sawtooth_keeps_its_teeth() {
        // Ten rises of 100 points each, each ending in a drop, at 6 points a
        // tooth: each keeps most of its height.
        let ys: Vec<f64> = (0..1000).map(|i| (i % 100) as f64).collect();
        let kept = lttb(&series(&ys), 60);
        for tooth in 0..10 {
            let ys_kept: Vec<f64> = kept
                .iter()
                .filter(|&&i| i / 100 == tooth)
                .map(|&i| ys[i])
                .collect();
            let top = ys_kept.iter().copied().fold(f64::MIN, f64::max);
            let bottom = ys_kept.iter().copied().fold(f64::MAX, f64::min);
            assert!(top >= 85.0 && bottom <= 15.0, "tooth {tooth}: {ys_kept:?}");
        }
    }
}
