//! Which queue messages make a worker grow. A patched worker logs its memory
//! after every message it delivers, so the change from one patched sample to
//! the next of the same process belongs to the message named in the later one.

use std::collections::BTreeMap;

use super::{Sample, Source};

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
    let patched: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.source == Source::Patch)
        .collect();
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

/// Growth per worker type and message kind.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageGrowth {
    pub worker: String,
    pub kind: String,
    /// Messages delivered of this kind.
    pub count: usize,
    pub rss_total_bytes: i64,
    pub rss_mean_bytes: Option<f64>,
    /// This kind's share of the RSS growth of its worker type: its total if
    /// positive, over the sum of the positive totals of every kind of that
    /// worker type. `None` when no kind grew.
    pub rss_share: Option<f64>,
    pub old_total: i64,
    pub old_mean: Option<f64>,
    pub old_share: Option<f64>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Totals {
    count: usize,
    rss_total: i64,
    rss_known: usize,
    old_total: i64,
    old_known: usize,
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
                t.rss_total += rss;
                t.rss_known += 1;
            }
            if let Some(old) = delta.old_objects {
                t.old_total += old;
                t.old_known += 1;
            }
        }
    }

    /// One row per worker type and message kind, largest old-object growth
    /// first, then largest RSS growth.
    pub fn rows(&self) -> Vec<MessageGrowth> {
        let mut rss_growth: BTreeMap<&str, i64> = BTreeMap::new();
        let mut old_growth: BTreeMap<&str, i64> = BTreeMap::new();
        for ((worker, _), t) in &self.totals {
            *rss_growth.entry(worker).or_default() += t.rss_total.max(0);
            *old_growth.entry(worker).or_default() += t.old_total.max(0);
        }
        let share = |total: i64, all: i64| (all > 0).then(|| total.max(0) as f64 / all as f64);
        let mean = |total: i64, known: usize| (known > 0).then(|| total as f64 / known as f64);
        let mut rows: Vec<MessageGrowth> = self
            .totals
            .iter()
            .map(|((worker, kind), t)| MessageGrowth {
                worker: worker.clone(),
                kind: kind.clone(),
                count: t.count,
                rss_total_bytes: t.rss_total,
                rss_mean_bytes: mean(t.rss_total, t.rss_known),
                rss_share: share(t.rss_total, rss_growth[worker.as_str()]),
                old_total: t.old_total,
                old_mean: mean(t.old_total, t.old_known),
                old_share: share(t.old_total, old_growth[worker.as_str()]),
            })
            .collect();
        rows.sort_by(|a, b| {
            b.old_total
                .cmp(&a.old_total)
                .then(b.rss_total_bytes.cmp(&a.rss_total_bytes))
                .then_with(|| a.worker.cmp(&b.worker))
                .then_with(|| a.kind.cmp(&b.kind))
        });
        rows
    }
}
