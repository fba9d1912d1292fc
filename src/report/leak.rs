//! The leak report as tables: one row per process, per worker type of each
//! host, or per worker type and queue message kind, from the selected samples
//! and the analysis of `crate::analysis`. `report` prints them; charts draw the
//! same fits; the HTML report shows them.

use std::collections::{BTreeMap, HashMap};
use std::sync::{mpsc, Mutex};

use anyhow::Result;

use crate::analysis::attribution::MessageTally;
use crate::analysis::process::{analyse, summarise_worker, ProcessFacts, ProcessReport};
use crate::analysis::{Sample, BYTES_PER_MB};
use crate::store::{ReportProcess, Selection, Store, Table, Value};
use crate::zone::Zone;

/// What one row of the leak report stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportBy {
    Process,
    Worker,
    Message,
}

/// The leak report of the selection, one row per `by`; times in `zone`.
pub fn table(store: &Store, selection: &Selection, by: ReportBy, zone: Zone) -> Result<Table> {
    let processes = store.report_processes(selection)?;
    Ok(match by {
        ReportBy::Process => process_table(&analyse_all(store, &processes, selection)?, zone),
        ReportBy::Worker => worker_table(&analyse_all(store, &processes, selection)?),
        ReportBy::Message => message_table(store, &processes, selection)?,
    })
}

/// Growth per worker type and message kind, over the processes' patched samples.
pub fn message_table(
    store: &Store,
    processes: &[ReportProcess],
    selection: &Selection,
) -> Result<Table> {
    let mut tally = MessageTally::default();
    for p in processes {
        tally.add_process(&p.worker, &store.process_series(p.id, selection, true)?);
    }
    Ok(message_rows(&tally))
}

/// The report of every process that has samples, in the order given.
///
/// The store is read on this thread, one series at a time, and the fits run
/// on one worker thread per core: memory stays that of a few series.
pub fn analyse_all<'a>(
    store: &Store,
    processes: &'a [ReportProcess],
    selection: &Selection,
) -> Result<Vec<(&'a ReportProcess, ProcessReport)>> {
    let facts_of = |p: &ReportProcess| ProcessFacts {
        limit_bytes: p.limit_bytes,
        dumps: p.dumps,
        restarts: p.restarts,
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(processes.len());
    if threads <= 1 {
        let mut reports = Vec::with_capacity(processes.len());
        for p in processes {
            if let Some(report) =
                analyse(&store.process_series(p.id, selection, false)?, facts_of(p))
            {
                reports.push((p, report));
            }
        }
        return Ok(reports);
    }
    let mut by_index: Vec<Option<ProcessReport>> = vec![None; processes.len()];
    let (series_tx, series_rx) = mpsc::sync_channel::<(usize, Vec<Sample>)>(threads);
    let series_rx = Mutex::new(series_rx);
    let (report_tx, report_rx) = mpsc::channel();
    std::thread::scope(|scope| -> Result<()> {
        for _ in 0..threads {
            let (series_rx, report_tx) = (&series_rx, report_tx.clone());
            let facts_of = &facts_of;
            scope.spawn(move || loop {
                let next = series_rx.lock().map(|rx| rx.recv());
                let Ok(Ok((index, samples))) = next else {
                    return;
                };
                let report = analyse(&samples, facts_of(&processes[index]));
                if report_tx.send((index, report)).is_err() {
                    return;
                }
            });
        }
        drop(report_tx);
        // The largest first, so that no long fit starts last while the other
        // cores have nothing left. Sending stops at the first read error; the
        // workers then drain and stop.
        let mut order: Vec<usize> = (0..processes.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(processes[i].samples));
        for index in order {
            let p = &processes[index];
            let samples = store.process_series(p.id, selection, false)?;
            if series_tx.send((index, samples)).is_err() {
                break;
            }
        }
        drop(series_tx);
        for (index, report) in report_rx {
            by_index[index] = report;
        }
        Ok(())
    })?;
    Ok(processes
        .iter()
        .zip(by_index)
        .filter_map(|(p, report)| report.map(|r| (p, r)))
        .collect())
}

/// The processes in the order of the report's rows: by verdict, then the
/// steepest RSS first.
pub fn report_order<'a, 'p>(
    reports: &'a [(&'p ReportProcess, ProcessReport)],
) -> Vec<&'a (&'p ReportProcess, ProcessReport)> {
    let mut sorted: Vec<&(&ReportProcess, ProcessReport)> = reports.iter().collect();
    sorted.sort_by(|(pa, a), (pb, b)| {
        a.verdict
            .cmp(&b.verdict)
            .then(descending(a.rss.map(|f| f.slope), b.rss.map(|f| f.slope)))
            .then_with(|| (&pa.host, pa.pid, a.start_us).cmp(&(&pb.host, pb.pid, b.start_us)))
    });
    sorted
}

/// One row per process, in [`report_order`].
pub fn process_table(reports: &[(&ReportProcess, ProcessReport)], zone: Zone) -> Table {
    let sorted = report_order(reports);
    let columns = [
        "host",
        "pid",
        "worker",
        "samples",
        "start",
        "end",
        "hours",
        "rss_start",
        "rss_end",
        "rss_max",
        "rss_mb_per_hour",
        "fit_r2",
        "pss_mb_per_hour",
        "live_per_hour",
        "old_per_hour",
        "dumps",
        "heap",
        "restarts",
        "hours_to_limit",
        "verdict",
        "basis",
    ];
    let rows = sorted
        .iter()
        .map(|(p, r)| {
            vec![
                Value::Text(p.host.clone()),
                Value::Integer(p.pid),
                Value::Text(p.worker.clone()),
                count(r.samples),
                Value::Text(iso_seconds(zone, r.start_us)),
                Value::Text(iso_seconds(zone, r.end_us)),
                real(Some(r.hours), 2),
                megabytes(r.rss_start),
                megabytes(r.rss_end),
                megabytes(r.rss_max),
                real(r.rss.map(|f| f.slope), 3),
                real(r.rss.and_then(|f| f.r2), 3),
                real(r.pss.map(|f| f.slope), 3),
                real(r.live.map(|f| f.slope), 0),
                real(r.old.map(|f| f.slope), 0),
                count(r.facts.dumps),
                // Two dumps or more: `heap` tells what they retained.
                Value::Text(if r.facts.dumps >= 2 {
                    format!("heap --host {} --pid {}", p.host, p.pid)
                } else {
                    String::new()
                }),
                count(r.facts.restarts),
                real(r.hours_to_limit, 1),
                Value::Text(r.verdict.as_str().to_string()),
                Value::Text(r.basis.as_str().to_string()),
            ]
        })
        .collect();
    table_of(&columns, rows)
}

pub fn worker_table(reports: &[(&ReportProcess, ProcessReport)]) -> Table {
    let mut groups: BTreeMap<(&str, &str), Vec<&ProcessReport>> = BTreeMap::new();
    for (p, r) in reports {
        groups.entry((&p.host, &p.worker)).or_default().push(r);
    }
    let mut summaries: Vec<_> = groups
        .into_iter()
        .map(|(key, processes)| (key, summarise_worker(&processes)))
        .collect();
    summaries.sort_by(|(ka, a), (kb, b)| {
        a.verdict
            .cmp(&b.verdict)
            .then(descending(
                a.median_rss_mb_per_hour,
                b.median_rss_mb_per_hour,
            ))
            .then(ka.cmp(kb))
    });
    let columns = [
        "host",
        "worker",
        "processes",
        "samples",
        "hours",
        "restarts",
        "dumps",
        "rss_max",
        "limit",
        "median_rss_mb_per_hour",
        "median_old_per_hour",
        "leaking",
        "growing",
        "stable",
        "too_short",
        "verdict",
    ];
    let rows = summaries
        .iter()
        .map(|((host, worker), w)| {
            vec![
                Value::Text(host.to_string()),
                Value::Text(worker.to_string()),
                count(w.processes),
                count(w.samples),
                real(Some(w.hours), 2),
                count(w.restarts),
                count(w.dumps),
                megabytes(w.rss_max),
                megabytes(w.limit_bytes),
                real(w.median_rss_mb_per_hour, 3),
                real(w.median_old_per_hour, 0),
                count(w.counts[0]),
                count(w.counts[1]),
                count(w.counts[2]),
                count(w.counts[3]),
                Value::Text(w.verdict.as_str().to_string()),
            ]
        })
        .collect();
    table_of(&columns, rows)
}

fn message_rows(tally: &MessageTally) -> Table {
    let columns = [
        "worker",
        "message",
        "count",
        "rss_total_mb",
        "rss_mean_mb",
        "rss_share_pct",
        "rss_t",
        "old_total",
        "old_mean",
        "old_share_pct",
        "old_t",
        "grows",
    ];
    let rows = tally
        .rows()
        .into_iter()
        .map(|m| {
            vec![
                Value::Text(m.worker),
                Value::Text(m.kind),
                count(m.count),
                real(Some(m.rss.total as f64 / BYTES_PER_MB), 3),
                real(m.rss.mean().map(|b| b / BYTES_PER_MB), 3),
                real(m.rss_share.map(|s| s * 100.0), 1),
                real(m.rss.t(), 1),
                Value::Integer(m.old.total),
                real(m.old.mean(), 1),
                real(m.old_share.map(|s| s * 100.0), 1),
                real(m.old.t(), 1),
                Value::Text(if m.grows { "yes" } else { "no" }.to_string()),
            ]
        })
        .collect();
    table_of(&columns, rows)
}

/// The report of every selected process that has samples, by process id: what
/// `plot --trend` and `export --trend` draw, so charts and report agree.
pub fn reports_by_process(
    store: &Store,
    selection: &Selection,
) -> Result<HashMap<i64, ProcessReport>> {
    let processes = store.report_processes(selection)?;
    Ok(analyse_all(store, &processes, selection)?
        .into_iter()
        .map(|(p, r)| (p.id, r))
        .collect())
}

pub(crate) fn table_of(columns: &[&str], rows: Vec<Vec<Value>>) -> Table {
    Table {
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows,
    }
}

/// Larger first, unknown last.
fn descending(a: Option<f64>, b: Option<f64>) -> std::cmp::Ordering {
    match (a, b) {
        (Some(a), Some(b)) => b.total_cmp(&a),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    }
}

fn count(n: usize) -> Value {
    Value::Integer(n as i64)
}

/// Rounded to `decimals`; unknown and non-finite values are empty.
pub(crate) fn real(x: Option<f64>, decimals: i32) -> Value {
    match x.filter(|x| x.is_finite()) {
        Some(x) => {
            let scale = 10f64.powi(decimals);
            let rounded = (x * scale).round() / scale;
            // -0.0 would print as "-0".
            Value::Real(if rounded == 0.0 { 0.0 } else { rounded })
        }
        None => Value::Null,
    }
}

pub(crate) fn megabytes(bytes: Option<i64>) -> Value {
    real(bytes.map(|b| b as f64 / BYTES_PER_MB), 1)
}

/// `2017-03-01T00:00:16Z` (or with the zone's offset): whole seconds are enough here.
pub(crate) fn iso_seconds(zone: Zone, ts_us: i64) -> String {
    let iso = zone.format_iso(ts_us);
    match iso.find('.') {
        Some(dot) => format!("{}{}", &iso[..dot], &iso[dot + 7..]),
        None => iso,
    }
}
