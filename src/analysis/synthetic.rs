//! Synthetic series of known truth for the analysis tests.

use super::{Sample, SampleKind, BYTES_PER_MB, US_PER_HOUR};

/// 2017-03-01T00:00:00Z.
pub const T0_US: i64 = 1_488_326_400_000_000;

/// Deterministic noise: SplitMix64 turned into roughly normal values (sum of
/// four uniforms, scaled to unit variance).
pub struct Noise(u64);

impl Noise {
    pub fn new(seed: u64) -> Noise {
        Noise(seed)
    }

    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Mean 0, standard deviation 1.
    pub fn normal(&mut self) -> f64 {
        let sum: f64 = (0..4).map(|_| self.uniform()).sum();
        (sum - 2.0) * 3f64.sqrt()
    }
}

/// `(hours, MB)` points every `step_min` minutes for `hours`, following `mb(h)`
/// plus noise of `sigma_mb`.
pub fn points(
    hours: f64,
    step_min: f64,
    sigma_mb: f64,
    seed: u64,
    mb: impl Fn(f64) -> f64,
) -> Vec<(f64, f64)> {
    let mut noise = Noise::new(seed);
    let n = (hours * 60.0 / step_min).round() as usize + 1;
    (0..n)
        .map(|i| {
            let h = i as f64 * step_min / 60.0;
            (h, mb(h) + sigma_mb * noise.normal())
        })
        .collect()
}

/// Status samples (RSS only) from `(hours, MB)` points, starting at [`T0_US`] + `offset_h`.
pub fn status_samples(points: &[(f64, f64)], offset_h: f64) -> Vec<Sample> {
    points
        .iter()
        .map(|&(h, mb)| {
            rss_sample(
                T0_US + ((offset_h + h) * US_PER_HOUR) as i64,
                SampleKind::Status,
                (mb * BYTES_PER_MB) as i64,
            )
        })
        .collect()
}

/// A patched sample after the message `class.method` (no message if `None`).
pub fn patched(ts_us: i64, rss_bytes: i64, old: i64, message: Option<(&str, &str)>) -> Sample {
    Sample {
        ts_us,
        source: SampleKind::Patch,
        rss_bytes: Some(rss_bytes),
        pss_bytes: Some(rss_bytes * 3 / 4),
        live_slots: Some(old + 100_000),
        old_objects: Some(old),
        msg_id: message.map(|_| ts_us),
        msg_class: message.map(|m| m.0.to_string()),
        msg_method: message.map(|m| m.1.to_string()),
    }
}

/// A sample with only the RSS known.
pub fn rss_sample(ts_us: i64, source: SampleKind, rss_bytes: i64) -> Sample {
    Sample {
        ts_us,
        source,
        rss_bytes: Some(rss_bytes),
        pss_bytes: None,
        live_slots: None,
        old_objects: None,
        msg_id: None,
        msg_class: None,
        msg_method: None,
    }
}
