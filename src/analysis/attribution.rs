//! Which queue messages make a worker grow. A patched worker logs its memory
//! after every message it delivers, so the change from one patched sample to
//! the next of the same process belongs to the message named in the later one.

use std::collections::BTreeMap;

use super::Sample;

/// The kind of the message a patched sample names: `class_name.method_name`,
/// `nil` for either part the message does not give, and `nil` alone for no
/// message at all.
pub fn message_kind(sample: &Sample) -> String {
    match (&sample.msg_id, &sample.msg_class, &sample.msg_method) {
        (None, None, None) => "nil".to_string(),
        (_, class, method) => format!(
            "{}.{}",
            class.as_deref().unwrap_or("nil"),
            method.as_deref().unwrap_or("nil")
        ),
    }
}

/// The change across one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageDelta {
    pub kind: String,
    pub rss_bytes: Option<i64>,
    pub old_objects: Option<i64>,
}

/// The change from each patched sample to the next patched sample of the same
/// process, given that process's samples in time order (status samples are
/// skipped: they name no message).
pub fn message_deltas(samples: &[Sample]) -> Vec<MessageDelta> {
    let patched: Vec<&Sample> = samples.iter().filter(|s| s.source.per_message()).collect();
    patched
        .windows(2)
        .map(|pair| {
            let (before, after) = (pair[0], pair[1]);
            let change = |v: fn(&Sample) -> Option<i64>| Some(v(after)? - v(before)?);
            MessageDelta {
                kind: message_kind(after),
                rss_bytes: change(|s| s.rss_bytes),
                old_objects: change(|s| s.old_objects),
            }
        })
        .collect()
}

/// A message kind makes its worker grow when its mean change is positive and at
/// least this many standard errors above zero (or every change is the same
/// positive amount). Sample-to-sample jitter alone gives totals of either sign
/// that grow with the square root of the count; a real cause grows with the count.
pub const MESSAGE_MIN_T: f64 = 3.0;

/// Growth per worker type and message kind.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageGrowth {
    pub worker: String,
    pub kind: String,
    /// Messages delivered of this kind.
    pub count: usize,
    pub rss: Change,
    /// This kind's share of the RSS growth of its worker type: its total if
    /// positive, over the sum of the positive totals of every kind of that
    /// worker type. `None` when no kind grew.
    pub rss_share: Option<f64>,
    pub old: Change,
    pub old_share: Option<f64>,
    /// The kind makes its worker grow (see [`MESSAGE_MIN_T`]) in old objects
    /// or in RSS. Old objects are the surer sign of a leak, but they swing
    /// with every major GC, so a steady RSS rise counts too.
    pub grows: bool,
}

/// The changes after the messages of one kind: exact total, running mean and
/// spread (Welford's method, exact for equal changes).
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Change {
    pub total: i64,
    pub known: usize,
    mean: f64,
    m2: f64,
}

impl Change {
    fn add(&mut self, value: i64) {
        self.total += value;
        self.known += 1;
        let x = value as f64;
        let d = x - self.mean;
        self.mean += d / self.known as f64;
        self.m2 += d * (x - self.mean);
    }

    pub fn mean(&self) -> Option<f64> {
        (self.known > 0).then(|| self.total as f64 / self.known as f64)
    }

    /// Mean over its standard error; `None` for fewer than two changes or no spread.
    pub fn t(&self) -> Option<f64> {
        if self.known < 2 || self.m2 <= 0.0 {
            return None;
        }
        let n = self.known as f64;
        let standard_error = (self.m2 / (n - 1.0) / n).sqrt();
        Some(self.total as f64 / n / standard_error)
    }

    fn grows(&self) -> bool {
        match self.t() {
            Some(t) => t >= MESSAGE_MIN_T,
            None => self.known >= 2 && self.total > 0,
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Totals {
    count: usize,
    rss: Change,
    old: Change,
}

/// Adds up message deltas of many processes.
#[derive(Debug, Default)]
pub struct MessageTally {
    totals: BTreeMap<(String, String), Totals>,
}

impl MessageTally {
    /// Adds the deltas of one process (its samples in time order).
    pub fn add_process(&mut self, worker: &str, samples: &[Sample]) {
        for delta in message_deltas(samples) {
            let t = self
                .totals
                .entry((worker.to_string(), delta.kind))
                .or_default();
            t.count += 1;
            if let Some(rss) = delta.rss_bytes {
                t.rss.add(rss);
            }
            if let Some(old) = delta.old_objects {
                t.old.add(old);
            }
        }
    }

    /// One row per worker type and message kind: the kinds that make their
    /// worker grow first, each group by largest old-object growth, then by
    /// largest RSS growth.
    pub fn rows(&self) -> Vec<MessageGrowth> {
        let mut rss_growth: BTreeMap<&str, i64> = BTreeMap::new();
        let mut old_growth: BTreeMap<&str, i64> = BTreeMap::new();
        for ((worker, _), t) in &self.totals {
            *rss_growth.entry(worker).or_default() += t.rss.total.max(0);
            *old_growth.entry(worker).or_default() += t.old.total.max(0);
        }
        let share = |total: i64, all: i64| (all > 0).then(|| total.max(0) as f64 / all as f64);
        let mut rows: Vec<MessageGrowth> = self
            .totals
            .iter()
            .map(|((worker, kind), t)| MessageGrowth {
                worker: worker.clone(),
                kind: kind.clone(),
                count: t.count,
                rss: t.rss,
                rss_share: share(t.rss.total, rss_growth[worker.as_str()]),
                old: t.old,
                old_share: share(t.old.total, old_growth[worker.as_str()]),
                grows: t.old.grows() || t.rss.grows(),
            })
            .collect();
        rows.sort_by(|a, b| {
            b.grows
                .cmp(&a.grows)
                .then(b.old.total.cmp(&a.old.total))
                .then(b.rss.total.cmp(&a.rss.total))
                .then_with(|| a.worker.cmp(&b.worker))
                .then_with(|| a.kind.cmp(&b.kind))
        });
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::synthetic::{patched, rss_sample, Noise, T0_US};
    use crate::parse::SampleKind;

    const MB: i64 = 1 << 20;
    const KINDS: [Option<(&str, &str)>; 4] = [
        Some(("Storage", "perf_process")),
        Some((
            "ManageIQ::Providers::Vmware::InfraManager::Vm",
            "perf_rollup",
        )),
        Some((
            "ManageIQ::Providers::Vmware::InfraManager::Host",
            "perf_process",
        )),
        None,
    ];

    /// 81 patched samples (a status sample between each two): after every
    /// `Vm.perf_rollup` message RSS grows 2 MB and old objects 5 000; the other
    /// kinds go up and down by turns and add nothing overall.
    fn one_kind_leaks(start_us: i64) -> Vec<Sample> {
        let (mut rss, mut old) = (300 * MB, 800_000);
        let mut seen = [0usize; 4];
        let mut samples = Vec::new();
        for i in 0..81 {
            let kind = i % 4;
            let ts = start_us + i as i64 * 600_000_000;
            if i > 0 {
                if kind == 1 {
                    rss += 2 * MB;
                    old += 5_000;
                } else {
                    let sign = if seen[kind] % 2 == 0 { 1 } else { -1 };
                    rss += sign * 300_000;
                    old += sign * 700;
                }
                seen[kind] += 1;
            }
            samples.push(patched(ts, rss, old, KINDS[kind]));
            let mut status = rss_sample(ts + 1, SampleKind::Status, 9_000 * MB);
            status.msg_class = Some("Bogus".into());
            samples.push(status);
        }
        samples
    }

    #[test]
    fn kinds_are_class_dot_method() {
        let t = T0_US;
        assert_eq!(
            message_kind(&patched(t, 1, 1, KINDS[0])),
            "Storage.perf_process"
        );
        assert_eq!(message_kind(&patched(t, 1, 1, None)), "nil");
        let mut no_class = patched(t, 1, 1, Some(("x", "perf_process")));
        no_class.msg_class = None;
        assert_eq!(message_kind(&no_class), "nil.perf_process");
    }

    #[test]
    fn deltas_follow_patched_samples_only() {
        let samples = one_kind_leaks(T0_US);
        let deltas = message_deltas(&samples);
        assert_eq!(deltas.len(), 80);
        assert_eq!(
            deltas[0],
            MessageDelta {
                kind: "ManageIQ::Providers::Vmware::InfraManager::Vm.perf_rollup".into(),
                rss_bytes: Some(2 * MB),
                old_objects: Some(5_000),
            }
        );
        assert_eq!(deltas[1].rss_bytes, Some(300_000));
        assert_eq!(deltas[2].kind, "nil");
    }

    #[test]
    fn the_message_that_causes_all_growth_comes_first_with_all_of_it() {
        let mut tally = MessageTally::default();
        tally.add_process("MiqEmsMetricsProcessorWorker", &one_kind_leaks(T0_US));
        // A second process 5 GB larger: nothing is measured across processes.
        let mut second = one_kind_leaks(T0_US + 100 * 3_600_000_000);
        for s in &mut second {
            s.rss_bytes = s.rss_bytes.map(|b| b + 5_000 * MB);
        }
        tally.add_process("MiqEmsMetricsProcessorWorker", &second);
        let rows = tally.rows();
        assert_eq!(rows.len(), 4);
        let top = &rows[0];
        assert_eq!(
            top.kind,
            "ManageIQ::Providers::Vmware::InfraManager::Vm.perf_rollup"
        );
        assert_eq!(top.count, 40);
        assert_eq!(top.rss.total, 40 * 2 * MB);
        assert_eq!(top.rss.mean(), Some(2.0 * MB as f64));
        assert_eq!(top.old.total, 200_000);
        assert_eq!(top.old.mean(), Some(5_000.0));
        assert_eq!((top.rss_share, top.old_share), (Some(1.0), Some(1.0)));
        // Every change the same: no spread, and growth beyond doubt.
        assert_eq!((top.old.t(), top.grows), (None, true));
        for other in &rows[1..] {
            assert_eq!(other.count, 40, "{other:?}");
            assert_eq!((other.rss.total, other.old.total), (0, 0), "{other:?}");
            assert_eq!((other.rss_share, other.old_share), (Some(0.0), Some(0.0)));
            assert_eq!((other.old.t(), other.grows), (Some(0.0), false));
        }
        // Ties below the top are ordered by name.
        let kinds: Vec<&str> = rows[1..].iter().map(|r| r.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "ManageIQ::Providers::Vmware::InfraManager::Host.perf_process",
                "Storage.perf_process",
                "nil"
            ]
        );
    }

    #[test]
    fn shares_are_per_worker_type() {
        let mut tally = MessageTally::default();
        tally.add_process("A", &one_kind_leaks(T0_US));
        tally.add_process("B", &one_kind_leaks(T0_US));
        let rows = tally.rows();
        assert_eq!(rows.len(), 8);
        let tops: Vec<(&str, Option<f64>)> = rows[..2]
            .iter()
            .map(|r| (r.worker.as_str(), r.old_share))
            .collect();
        assert_eq!(tops, [("A", Some(1.0)), ("B", Some(1.0))]);
    }

    /// Patched samples whose old objects are a constant plus jitter, with one
    /// kind adding `rate` objects per message on top.
    fn jittery(rate: f64) -> Vec<Sample> {
        let mut noise = Noise::new(5);
        let mut grown = 0.0;
        (0..2000)
            .map(|i| {
                let kind = KINDS[i % 3];
                if i > 0 && i % 3 == 0 {
                    grown += rate;
                }
                let old = 800_000.0 + grown + 6_000.0 * noise.normal();
                patched(T0_US + i as i64 * 60_000_000, 300 * MB, old as i64, kind)
            })
            .collect()
    }

    #[test]
    fn jitter_alone_makes_no_message_grow() {
        let mut tally = MessageTally::default();
        tally.add_process("W", &jittery(0.0));
        let rows = tally.rows();
        assert_eq!(rows.len(), 3);
        // Totals of either sign, some large, but none beyond the noise.
        assert!(rows.iter().all(|r| !r.grows), "{rows:?}");
        assert!(
            rows.iter()
                .all(|r| r.old.t().unwrap().abs() < MESSAGE_MIN_T),
            "{rows:?}"
        );

        let mut tally = MessageTally::default();
        tally.add_process("W", &jittery(1_000.0));
        let rows = tally.rows();
        let growing: Vec<&str> = rows
            .iter()
            .filter(|r| r.grows)
            .map(|r| r.kind.as_str())
            .collect();
        assert_eq!(growing, ["Storage.perf_process"]);
        assert_eq!(rows[0].kind, "Storage.perf_process");
        let mean = rows[0].old.mean().unwrap();
        assert!((mean - 1_000.0).abs() < 500.0, "{:?}", rows[0]);
    }
}
