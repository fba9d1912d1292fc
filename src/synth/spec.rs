//! What a synthetic appliance runs: its workers, how they leak and what makes them.

use anyhow::{bail, Context, Result};

/// A queue message kind: `class_name.method_name` of the delivered `MiqQueue`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageKind {
    pub class_name: String,
    pub method_name: String,
}

impl MessageKind {
    pub fn parse(s: &str) -> Result<MessageKind> {
        let (class_name, method_name) = s
            .rsplit_once('.')
            .filter(|(c, m)| !c.is_empty() && !m.is_empty())
            .with_context(|| format!("message kind {s:?} is not Class.method"))?;
        Ok(MessageKind {
            class_name: class_name.to_string(),
            method_name: method_name.to_string(),
        })
    }
}

impl std::fmt::Display for MessageKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.class_name, self.method_name)
    }
}

/// One kind of worker on every generated appliance.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerSpec {
    /// The worker class as `log_status` names it (patched lines add `::Runner`).
    pub class: String,
    /// Writes a `Memory Info XXXX` line after every queue message.
    pub patched: bool,
    /// RSS right after start, MB (MiB).
    pub base_mb: f64,
    /// True RSS growth, MB (MiB) per hour.
    pub leak_mb_per_hour: f64,
    /// True growth of `GC.stat[:old_objects]`, objects per hour.
    pub old_per_hour: f64,
    /// Standard deviation of the RSS jitter around the trend, MB.
    pub noise_mb: f64,
    /// The server asks the worker to exit once its RSS exceeds this, MB.
    pub limit_mb: f64,
    /// Mean seconds between queue messages.
    pub interval_s: f64,
    /// The message kinds it processes, picked uniformly.
    pub kinds: Vec<MessageKind>,
    /// When set, all growth happens while processing this kind of message.
    pub cause: Option<MessageKind>,
}

const VMWARE: &str = "ManageIQ::Providers::Vmware::InfraManager";

fn kinds(list: &[&str]) -> Vec<MessageKind> {
    list.iter()
        .map(|k| MessageKind::parse(k).expect("built-in message kinds are Class.method"))
        .collect()
}

impl WorkerSpec {
    fn new(class: &str, kinds: Vec<MessageKind>) -> WorkerSpec {
        WorkerSpec {
            class: class.to_string(),
            patched: true,
            base_mb: 250.0,
            leak_mb_per_hour: 0.0,
            old_per_hour: 0.0,
            noise_mb: 2.0,
            limit_mb: 600.0,
            interval_s: 30.0,
            kinds,
            cause: None,
        }
    }

    /// The default appliance: a metrics processor leaking on `Storage.perf_process`
    /// (restarted about every 30 hours), a generic worker leaking slowly on every
    /// message, steady collector and priority workers, and an unpatched event handler
    /// that leaks and is seen through `log_status` only.
    pub fn defaults() -> Vec<WorkerSpec> {
        vec![
            WorkerSpec {
                base_mb: 220.0,
                leak_mb_per_hour: 6.0,
                old_per_hour: 15_000.0,
                limit_mb: 400.0,
                cause: MessageKind::parse("Storage.perf_process").ok(),
                ..WorkerSpec::new(
                    "MiqEmsMetricsProcessorWorker",
                    kinds(&[
                        "Storage.perf_process",
                        &format!("{VMWARE}::Vm.perf_process"),
                        &format!("{VMWARE}::Host.perf_process"),
                        &format!("{VMWARE}::Vm.perf_rollup"),
                    ]),
                )
            },
            WorkerSpec {
                base_mb: 260.0,
                noise_mb: 4.0,
                ..WorkerSpec::new(
                    &format!("{VMWARE}::MetricsCollectorWorker"),
                    kinds(&[
                        &format!("{VMWARE}::Vm.perf_capture_realtime"),
                        &format!("{VMWARE}::Host.perf_capture_realtime"),
                        &format!("{VMWARE}::Vm.perf_capture_historical"),
                    ]),
                )
            },
            WorkerSpec {
                base_mb: 300.0,
                leak_mb_per_hour: 2.0,
                old_per_hour: 4_000.0,
                limit_mb: 700.0,
                ..WorkerSpec::new(
                    "MiqGenericWorker",
                    kinds(&[
                        "MiqReport.generate_table",
                        "MiqTask.destroy_older_by_condition",
                        "VmOrTemplate.post_refresh_ems",
                    ]),
                )
            },
            WorkerSpec {
                base_mb: 240.0,
                ..WorkerSpec::new(
                    "MiqPriorityWorker",
                    kinds(&["MiqServer.ntp_reload", "MiqEvent.raise_evm_event"]),
                )
            },
            WorkerSpec {
                patched: false,
                base_mb: 280.0,
                leak_mb_per_hour: 1.0,
                limit_mb: 800.0,
                ..WorkerSpec::new(
                    "MiqEventHandler",
                    kinds(&["EmsEvent.add_vc", "MiqEvent.raise_evm_event"]),
                )
            },
        ]
    }

    /// Parses `CLASS[:key=value,...]`, keys `patched` (yes/no), `base`, `leak`
    /// (MB/h), `old` (objects/h), `noise` (MB), `limit` (MB), `interval` (s),
    /// `kinds` (`Class.method+Class.method`), `cause` (`Class.method`).
    pub fn parse(s: &str) -> Result<WorkerSpec> {
        // The class itself holds `::`; the options start at the first lone `:`.
        let bytes = s.as_bytes();
        let split = (0..bytes.len()).find(|&i| {
            bytes[i] == b':' && bytes.get(i + 1) != Some(&b':') && (i == 0 || bytes[i - 1] != b':')
        });
        let (class, options) = match split {
            Some(i) => (&s[..i], &s[i + 1..]),
            None => (s, ""),
        };
        if class.is_empty() || class.contains(['[', ']', ' ', '#', '.']) {
            bail!("worker spec {s:?}: {class:?} is not a worker class name");
        }
        let default_kind = format!("{class}.do_work");
        let mut spec = WorkerSpec::new(class, kinds(&[&default_kind]));
        let mut given_kinds = false;
        for option in options.split(',').filter(|o| !o.is_empty()) {
            let (key, value) = option
                .split_once('=')
                .with_context(|| format!("worker spec {s:?}: {option:?} is not key=value"))?;
            let number = || -> Result<f64> {
                let n: f64 = value.parse().with_context(|| {
                    format!("worker spec {s:?}: {key}={value:?} is not a number")
                })?;
                if !n.is_finite() || n < 0.0 {
                    bail!("worker spec {s:?}: {key} must be zero or more");
                }
                Ok(n)
            };
            match key {
                "patched" => {
                    spec.patched = match value {
                        "yes" | "true" => true,
                        "no" | "false" => false,
                        _ => bail!("worker spec {s:?}: patched is yes or no"),
                    }
                }
                "base" => spec.base_mb = number()?,
                "leak" => spec.leak_mb_per_hour = number()?,
                "old" => spec.old_per_hour = number()?,
                "noise" => spec.noise_mb = number()?,
                "limit" => spec.limit_mb = number()?,
                "interval" => spec.interval_s = number()?.max(1.0),
                "kinds" => {
                    spec.kinds = value
                        .split('+')
                        .map(MessageKind::parse)
                        .collect::<Result<_>>()?;
                    given_kinds = true;
                }
                "cause" => spec.cause = Some(MessageKind::parse(value)?),
                _ => bail!("worker spec {s:?}: unknown key {key:?}"),
            }
        }
        if let Some(cause) = &spec.cause {
            if !spec.kinds.contains(cause) {
                if given_kinds {
                    spec.kinds.push(cause.clone());
                } else {
                    // One kind causing the growth among a few harmless ones.
                    spec.kinds = vec![cause.clone()];
                    spec.kinds.push(MessageKind::parse(&default_kind)?);
                }
            }
        }
        if spec.limit_mb <= spec.base_mb {
            bail!("worker spec {s:?}: limit must be above base");
        }
        Ok(spec)
    }

    /// The name patched lines use: the runner class.
    pub fn runner_class(&self) -> String {
        format!("{}::Runner", self.class)
    }

    /// The heap-dump file prefix: `MiqEmsMetricsProcessorWorker` -> `ems_metrics_processor_wrkr`.
    pub fn dump_prefix(&self) -> String {
        let last = self.class.rsplit("::").next().unwrap_or(&self.class);
        let last = last.strip_prefix("Miq").unwrap_or(last);
        let last = last.strip_suffix("Worker").unwrap_or(last);
        let mut out = String::new();
        for (i, c) in last.chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        }
        if out.is_empty() {
            out.push_str("worker");
        }
        out.push_str("_wrkr");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_specs_with_namespaced_classes() {
        let s = WorkerSpec::parse(
            "ManageIQ::Providers::Vmware::InfraManager::RefreshWorker:leak=12.5,old=3000,cause=ManageIQ::Providers::Vmware::InfraManager.refresh,limit=900",
        )
        .unwrap();
        assert_eq!(
            s.class,
            "ManageIQ::Providers::Vmware::InfraManager::RefreshWorker"
        );
        assert_eq!(
            (s.leak_mb_per_hour, s.old_per_hour, s.limit_mb),
            (12.5, 3000.0, 900.0)
        );
        let cause = s.cause.clone().unwrap();
        assert_eq!(
            cause.class_name,
            "ManageIQ::Providers::Vmware::InfraManager"
        );
        assert_eq!(cause.method_name, "refresh");
        assert_eq!(s.kinds.len(), 2);
        assert!(s.kinds.contains(&cause));
        assert_eq!(s.dump_prefix(), "refresh_wrkr");
        let plain = WorkerSpec::parse("MiqGenericWorker").unwrap();
        assert_eq!(plain.kinds[0].to_string(), "MiqGenericWorker.do_work");
        assert!(plain.patched);
        assert_eq!(
            WorkerSpec::defaults()[0].dump_prefix(),
            "ems_metrics_processor_wrkr"
        );
    }

    #[test]
    fn rejects_bad_specs() {
        for bad in [
            "",
            "Miq Worker",
            "MiqGenericWorker:leak",
            "MiqGenericWorker:leak=-1",
            "MiqGenericWorker:speed=3",
            "MiqGenericWorker:cause=nodot",
            "MiqGenericWorker:base=900",
            "MiqGenericWorker:patched=maybe",
        ] {
            assert!(WorkerSpec::parse(bad).is_err(), "{bad}");
        }
    }
}
