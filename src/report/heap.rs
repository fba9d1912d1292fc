//! Heap dumps as tables: per dump what it holds beside the process's memory at
//! its time (`dumps`), and per process the leak finding over its dumps
//! (`heap`): windows, sites retaining window after window, holders, root
//! paths and a verdict.

use std::collections::BTreeMap;

use anyhow::Result;
use serde_json::json;

use super::leak::{iso_seconds, megabytes, real, table_of};
use crate::heap::diff::{analyse, HeapAnalysis, SiteTrend, Window};
use crate::store::{HeapDumpRow, Selection, Store, Table, Value};
use crate::zone::Zone;

/// One row per selected dump: its content's totals, the nearest sample's RSS
/// and PSS and how far from the dump it was, and the heap as a share of RSS.
pub fn dumps_table(store: &Store, selection: &Selection, zone: Zone) -> Result<Table> {
    let columns = [
        "time",
        "host",
        "pid",
        "worker",
        "objects",
        "heap_mb",
        "garbage_objects",
        "garbage_mb",
        "untraced_objects",
        "max_generation",
        "tracer_mb",
        "bad_lines",
        "rss_mb",
        "pss_mb",
        "sample_distance_s",
        "heap_pct_of_rss",
        "file",
    ];
    let int = |v: Option<i64>| v.map_or(Value::Null, Value::Integer);
    let rows = store
        .heap_dumps(selection)?
        .into_iter()
        .map(|d| {
            let c = d.content.as_ref();
            let n = d.nearest.as_ref();
            let rss = n.and_then(|n| n.rss_bytes);
            vec![
                Value::Text(iso_seconds(zone, d.ts_us)),
                Value::Text(d.host.clone()),
                Value::Integer(d.pid),
                Value::Text(n.map(|n| n.worker.clone()).unwrap_or_default()),
                int(c.map(|c| c.objects)),
                megabytes(c.map(|c| c.bytes)),
                int(c.map(|c| c.garbage_objects)),
                megabytes(c.map(|c| c.garbage_bytes)),
                int(c.map(|c| c.untraced_objects)),
                int(c.and_then(|c| c.max_generation)),
                megabytes(c.map(|c| c.tracer_bytes)),
                int(c.map(|c| c.bad_lines)),
                megabytes(rss),
                megabytes(n.and_then(|n| n.pss_bytes)),
                int(n.map(|n| (n.ts_us - d.ts_us) / 1_000_000)),
                real(
                    c.zip(rss)
                        .filter(|(_, r)| *r > 0)
                        .map(|(c, r)| 100.0 * c.bytes as f64 / r as f64),
                    1,
                ),
                Value::Text(d.file_name.clone()),
            ]
        })
        .collect();
    Ok(table_of(&columns, rows))
}

/// The leak finding of one process.
#[derive(Debug, Clone)]
pub struct ProcessHeap {
    pub host: String,
    pub pid: i64,
    pub worker: String,
    pub dumps: Vec<HeapDumpRow>,
    pub analysis: HeapAnalysis,
}

/// Every selected process with two or more dumps whose content was read.
pub fn heap_report(store: &Store, selection: &Selection) -> Result<Vec<ProcessHeap>> {
    let mut by_process: BTreeMap<(String, i64), Vec<HeapDumpRow>> = BTreeMap::new();
    for d in store.heap_dumps(selection)? {
        if d.content.is_some() {
            by_process
                .entry((d.host.clone(), d.pid))
                .or_default()
                .push(d);
        }
    }
    let mut processes = Vec::new();
    for ((host, pid), dumps) in by_process {
        if dumps.len() < 2 {
            continue;
        }
        let mut loaded = Vec::with_capacity(dumps.len());
        for d in &dumps {
            if let Some(objects) = store.heap_dump_objects(d)? {
                loaded.push(objects);
            }
        }
        let mut messages = Vec::new();
        for pair in dumps.windows(2) {
            messages.push(store.heap_messages(&host, pid, pair[0].ts_us, pair[1].ts_us)?);
        }
        let analysis = analyse(&loaded, &messages);
        drop(loaded);
        let worker = dumps
            .iter()
            .find_map(|d| d.nearest.as_ref().map(|n| n.worker.clone()))
            .unwrap_or_default();
        processes.push(ProcessHeap {
            host,
            pid,
            worker,
            dumps,
            analysis,
        });
    }
    Ok(processes)
}

fn opt_int(v: Option<i64>) -> Value {
    v.map_or(Value::Null, Value::Integer)
}

fn per_hour(n: u64, w: &Window) -> Option<f64> {
    (w.hours() > 0.0).then(|| n as f64 / w.hours())
}

fn per_message(n: u64, w: &Window) -> Option<f64> {
    w.messages.filter(|&m| m > 0).map(|m| n as f64 / m as f64)
}

/// One row per window of a process.
pub fn windows_table(p: &ProcessHeap, zone: Zone) -> Table {
    let columns = [
        "window",
        "from",
        "to",
        "still_live_at",
        "hours",
        "messages",
        "objects",
        "bytes",
        "objects_per_hour",
        "bytes_per_hour",
        "objects_per_message",
        "unreliable",
    ];
    let rows = p
        .analysis
        .windows
        .iter()
        .enumerate()
        .map(|(i, w)| {
            vec![
                Value::Integer(i as i64 + 1),
                Value::Text(iso_seconds(zone, w.from_us)),
                Value::Text(iso_seconds(zone, w.to_us)),
                Value::Text(iso_seconds(zone, w.until_us)),
                real(Some(w.hours()), 2),
                opt_int(w.messages),
                Value::Integer(w.retained.objects as i64),
                Value::Integer(w.retained.bytes as i64),
                real(per_hour(w.retained.objects, w), 1),
                real(per_hour(w.retained.bytes, w), 0),
                real(per_message(w.retained.objects, w), 2),
                Value::Text(w.unreliable.clone().unwrap_or_default()),
            ]
        })
        .collect();
    table_of(&columns, rows)
}

/// The top sites of a process, retaining in the most windows first.
pub fn sites_table(p: &ProcessHeap, top: usize) -> Table {
    let reliable = p
        .analysis
        .windows
        .iter()
        .filter(|w| w.unreliable.is_none())
        .count();
    let columns = [
        "windows",
        "site",
        "type",
        "class",
        "gem",
        "objects",
        "bytes",
        "objects_per_hour",
        "bytes_per_hour",
        "objects_per_message",
        "per_window",
    ];
    let rows = p
        .analysis
        .sites
        .iter()
        .filter(|s| s.total.objects > 0)
        .take(top)
        .map(|s| {
            vec![
                Value::Text(format!("{}/{}", s.windows_retaining, reliable)),
                Value::Text(s.site.place()),
                Value::Text(s.site.kind.clone()),
                Value::Text(s.site.class.clone()),
                Value::Text(s.site.gem.clone().unwrap_or_default()),
                Value::Integer(s.total.objects as i64),
                Value::Integer(s.total.bytes as i64),
                real(s.objects_per_hour, 1),
                real(s.bytes_per_hour, 0),
                real(s.objects_per_message, 2),
                Value::Text(per_window(s)),
            ]
        })
        .collect();
    table_of(&columns, rows)
}

fn per_window(s: &SiteTrend) -> String {
    s.per_window
        .iter()
        .map(|r| r.objects.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

fn explained(p: &ProcessHeap, top: usize) -> impl Iterator<Item = &SiteTrend> {
    p.analysis
        .sites
        .iter()
        .filter(|s| s.total.objects > 0)
        .take(top.min(crate::heap::diff::EXPLAINED_SITES))
}

/// Who holds the top sites' retained objects.
pub fn holders_table(p: &ProcessHeap, top: usize) -> Table {
    let mut rows = Vec::new();
    for s in explained(p, top) {
        for (holder, n) in &s.holders {
            rows.push(vec![
                Value::Text(s.site.label()),
                Value::Text(holder.clone()),
                Value::Integer(*n as i64),
            ]);
        }
    }
    table_of(&["site", "held_by", "objects"], rows)
}

/// One shortest path from a ROOT per top site.
pub fn paths_table(p: &ProcessHeap, top: usize) -> Table {
    let rows = explained(p, top)
        .filter(|s| !s.root_path.is_empty())
        .map(|s| {
            vec![
                Value::Text(s.site.place()),
                Value::Text(s.root_path.join(" -> ")),
            ]
        })
        .collect();
    table_of(&["site", "root_path"], rows)
}

/// Every process's retained objects as one table: a row per window and site.
pub fn flat_table(processes: &[ProcessHeap], zone: Zone, top: usize) -> Table {
    let columns = [
        "host",
        "pid",
        "worker",
        "window",
        "from",
        "to",
        "still_live_at",
        "hours",
        "messages",
        "unreliable",
        "site",
        "type",
        "class",
        "gem",
        "objects",
        "bytes",
        "objects_per_hour",
        "bytes_per_hour",
        "objects_per_message",
        "site_windows",
        "verdict",
    ];
    let mut rows = Vec::new();
    for p in processes {
        for s in p
            .analysis
            .sites
            .iter()
            .filter(|s| s.total.objects > 0)
            .take(top)
        {
            for (i, (w, r)) in p.analysis.windows.iter().zip(&s.per_window).enumerate() {
                if r.objects == 0 {
                    continue;
                }
                rows.push(vec![
                    Value::Text(p.host.clone()),
                    Value::Integer(p.pid),
                    Value::Text(p.worker.clone()),
                    Value::Integer(i as i64 + 1),
                    Value::Text(iso_seconds(zone, w.from_us)),
                    Value::Text(iso_seconds(zone, w.to_us)),
                    Value::Text(iso_seconds(zone, w.until_us)),
                    real(Some(w.hours()), 2),
                    opt_int(w.messages),
                    Value::Text(w.unreliable.clone().unwrap_or_default()),
                    Value::Text(s.site.place()),
                    Value::Text(s.site.kind.clone()),
                    Value::Text(s.site.class.clone()),
                    Value::Text(s.site.gem.clone().unwrap_or_default()),
                    Value::Integer(r.objects as i64),
                    Value::Integer(r.bytes as i64),
                    real(per_hour(r.objects, w), 1),
                    real(per_hour(r.bytes, w), 0),
                    real(per_message(r.objects, w), 2),
                    Value::Integer(s.windows_retaining as i64),
                    Value::Text(p.analysis.verdict.as_str().to_string()),
                ]);
            }
        }
    }
    table_of(&columns, rows)
}

/// Every process's finding as one JSON document.
pub fn json_report(processes: &[ProcessHeap], zone: Zone, top: usize) -> serde_json::Value {
    let opt = |v: Option<f64>| v.map_or(serde_json::Value::Null, |v| json!(v));
    let list: Vec<serde_json::Value> = processes
        .iter()
        .map(|p| {
            let a = &p.analysis;
            json!({
                "host": p.host,
                "pid": p.pid,
                "worker": p.worker,
                "dumps": p.dumps.iter().map(|d| json!({
                    "time": iso_seconds(zone, d.ts_us),
                    "file": d.file_name,
                    "objects": d.content.as_ref().map(|c| c.objects),
                    "bytes": d.content.as_ref().map(|c| c.bytes),
                    "rss_bytes": d.nearest.as_ref().and_then(|n| n.rss_bytes),
                })).collect::<Vec<_>>(),
                "verdict": a.verdict.as_str(),
                "reason": a.reason,
                "heap_growth_bytes": a.heap_growth_bytes,
                "rss_growth_bytes": a.rss_growth_bytes,
                "windows": a.windows.iter().map(|w| json!({
                    "from": iso_seconds(zone, w.from_us),
                    "to": iso_seconds(zone, w.to_us),
                    "still_live_at": iso_seconds(zone, w.until_us),
                    "hours": w.hours(),
                    "messages": w.messages,
                    "unreliable": w.unreliable,
                    "objects": w.retained.objects,
                    "bytes": w.retained.bytes,
                })).collect::<Vec<_>>(),
                "sites": a.sites.iter().filter(|s| s.total.objects > 0).take(top).map(|s| json!({
                    "site": s.site.place(),
                    "file": s.site.file,
                    "line": s.site.line,
                    "type": s.site.kind,
                    "class": s.site.class,
                    "gem": s.site.gem,
                    "windows_retaining": s.windows_retaining,
                    "objects": s.total.objects,
                    "bytes": s.total.bytes,
                    "objects_per_hour": opt(s.objects_per_hour),
                    "bytes_per_hour": opt(s.bytes_per_hour),
                    "objects_per_message": opt(s.objects_per_message),
                    "per_window": s.per_window.iter().map(|r| json!({"objects": r.objects, "bytes": r.bytes})).collect::<Vec<_>>(),
                    "held_by": s.holders.iter().map(|(h, n)| json!({"holder": h, "objects": n})).collect::<Vec<_>>(),
                    "root_path": s.root_path,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::Value::Array(list)
}
