//! The one-file HTML report as a model: the same tables `report` prints, the
//! same charts `plot` draws, the dumps the database knows, and what made it.
//! `export::html` writes it; nothing here writes a file.

use std::collections::{BTreeSet, HashMap};

use anyhow::Result;

use super::chart::Chart;
use super::heap::{heap_report, sites_table};
use super::leak::{self, analyse_all, message_table, process_table, worker_table};
use super::{for_each_chart_with, provenance, selected_processes, DrawOptions};
use crate::analysis::process::ProcessReport;
use crate::store::{ProcessSummary, Selection, Store, Table, Value};
use crate::zone::Zone;

/// Everything the page shows, in the order it shows it.
#[derive(Debug, Clone)]
pub struct Page {
    /// The command that rebuilds this page from the same database.
    pub command: String,
    /// Tool version, selection, zone and the database's file set, as every
    /// exported file states them.
    pub provenance: Vec<String>,
    /// The zone times are shown in.
    pub zone: Zone,
    /// The zones the ingested files' local times were read in.
    pub file_zones: Vec<String>,
    /// The ingested files: path, hash, host, format, zone, lines, span.
    pub files: Table,
    /// `report --by worker`.
    pub workers: Table,
    /// `report --by process`, and per row the anchor of its chart.
    pub processes: Table,
    pub process_anchors: Vec<Option<String>>,
    /// `report --by message`.
    pub messages: Table,
    /// One chart per selected process, with trends.
    pub charts: Vec<PageChart>,
    /// One chart per host and worker type.
    pub overlays: Vec<PageChart>,
    pub heap: HeapFindings,
}

/// A chart and how to get all of its samples.
#[derive(Debug, Clone)]
pub struct PageChart {
    pub anchor: String,
    pub chart: Chart,
    /// The `export` command that writes every sample the chart draws from.
    pub export_command: String,
}

/// What the page says of heap dumps: the dumps the database holds for the
/// selection, each beside the process that wrote it, and for every process
/// with two or more dumps read, the leak finding `heap` prints.
#[derive(Debug, Clone, Default)]
pub struct HeapFindings {
    pub dumps: Vec<DumpListing>,
    pub processes: Vec<HeapFinding>,
}

/// The leak finding over one process's dumps, ready to show.
#[derive(Debug, Clone)]
pub struct HeapFinding {
    pub host: String,
    pub pid: i64,
    /// Empty when no log names the process.
    pub worker: String,
    pub dumps: usize,
    pub first_us: i64,
    pub last_us: i64,
    /// As `heap` says it: `heap grows`, `RSS grows outside the heap`, ...
    pub verdict: &'static str,
    /// The verdict in a sentence.
    pub reason: String,
    /// The sites retaining in the most windows first, as `heap` prints them.
    pub sites: Table,
    /// The `heap` command that shows the rest (holders, root paths).
    pub command: String,
    /// The chart of the process, when it is on the page.
    pub anchor: Option<String>,
}

/// How many retaining sites the page shows per process.
pub const HEAP_SITES_SHOWN: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpListing {
    pub host: String,
    pub pid: i64,
    /// Empty when no log names the process.
    pub worker: String,
    pub ts_us: i64,
    pub prefix: String,
    pub size_bytes: i64,
    /// The chart of the process, when it is on the page.
    pub anchor: Option<String>,
}

/// How the page's commands are spelled: the `--db` argument and the
/// selectors' words, so every command shown runs as printed.
pub struct CommandWords<'a> {
    /// `miq-memlog --db DB html ... --out FILE`, already quoted.
    pub rebuild: String,
    /// The `--db` word, quoted.
    pub db: &'a str,
    /// `--from`, `--to`, `--source`, `--tz` as given, quoted.
    pub window: Vec<String>,
    /// `--pid` words as given.
    pub pids: Vec<String>,
}

/// Builds the page of the selection. Charts draw the leak report's trends.
pub fn build(
    store: &Store,
    selection: &Selection,
    selection_text: &str,
    draw: &DrawOptions,
    words: &CommandWords<'_>,
) -> Result<Page> {
    let zone = draw.zone;
    let mut processes = selected_processes(store, selection, selection_text, zone)?;
    let draw = DrawOptions {
        trend: true,
        ..*draw
    };
    // One analysis for the tables and the charts' trend lines.
    let report_processes = store.report_processes(selection)?;
    let reports = analyse_all(store, &report_processes, selection)?;
    let by_id: HashMap<i64, ProcessReport> =
        reports.iter().map(|(p, r)| (p.id, r.clone())).collect();
    // Charts in the order of the verdicts, the worst first; processes the
    // report has no row for after them.
    let rank: HashMap<i64, usize> = leak::report_order(&reports)
        .iter()
        .enumerate()
        .map(|(i, (p, _))| (p.id, i))
        .collect();
    processes.sort_by_key(|p| rank.get(&p.process_id).copied().unwrap_or(usize::MAX));

    let mut charts = Vec::new();
    let mut anchor_of: HashMap<i64, String> = HashMap::new();
    // One chart per process, handed over in the order of `processes`.
    let mut order = processes.iter();
    for_each_chart_with(
        store,
        selection,
        &processes,
        &draw,
        false,
        by_id.clone(),
        |key, chart| {
            let process = order.next().expect("one chart per process");
            let anchor = format!("process-{}", process.process_id);
            anchor_of.insert(process.process_id, anchor.clone());
            let mut args = vec!["--host".to_string(), shell_word(&key.host)];
            args.extend(["--pid".to_string(), process.pid.to_string()]);
            charts.push(PageChart {
                anchor,
                chart,
                export_command: export_command(words, &args),
            });
            Ok(())
        },
    )?;
    let mut overlays = Vec::new();
    for_each_chart_with(
        store,
        selection,
        &processes,
        &draw,
        true,
        by_id,
        |key, chart| {
            let mut args = vec!["--host".to_string(), shell_word(&key.host)];
            args.extend([
                "--worker".to_string(),
                shell_word(&format!("^{}$", regex::escape(&key.worker))),
            ]);
            args.extend(words.pids.iter().cloned());
            overlays.push(PageChart {
                anchor: format!("overlay-{}", overlays.len() + 1),
                chart,
                export_command: export_command(words, &args),
            });
            Ok(())
        },
    )?;

    let process_anchors = leak::report_order(&reports)
        .iter()
        .map(|(p, _)| anchor_of.get(&p.id).cloned())
        .collect();

    let all_files = store.files()?;
    let files = keep_columns(
        &all_files,
        &[
            "path",
            "hash",
            "host",
            "format",
            "tz",
            "lines",
            "samples_new",
            "first",
            "last",
        ],
    );
    let file_zones: BTreeSet<String> = column(&files, "tz")
        .filter_map(|v| match v {
            Value::Text(t) if !t.is_empty() => Some(t.clone()),
            _ => None,
        })
        .collect();

    Ok(Page {
        command: words.rebuild.clone(),
        provenance: provenance(store, selection_text, zone)?,
        zone,
        file_zones: file_zones.into_iter().collect(),
        files,
        workers: worker_table(&reports),
        processes: process_table(&reports, zone),
        process_anchors,
        messages: message_table(store, &report_processes, selection)?,
        charts,
        overlays,
        heap: heap_findings(store, selection, &processes, &anchor_of, words.db)?,
    })
}

/// The heap-findings section: the dumps the database holds of the selected
/// processes (of every process when no worker type is chosen, so a dump of
/// a pid no log names still shows) inside the window, oldest first per
/// process; and what `heap` finds in the content of each process's dumps.
pub fn heap_findings(
    store: &Store,
    selection: &Selection,
    processes: &[ProcessSummary],
    anchor_of: &HashMap<i64, String>,
    db_word: &str,
) -> Result<HeapFindings> {
    let in_window = |t: i64| {
        selection.from_us.is_none_or(|from| t >= from) && selection.to_us.is_none_or(|to| t <= to)
    };
    let mut dumps = Vec::new();
    for row in store.dump_rows(selection)? {
        if !in_window(row.ts_us) {
            continue;
        }
        // The process of that host and pid alive at the dump, else any of them.
        let same_pid = || {
            processes
                .iter()
                .filter(|p| p.host == row.host && p.pid == row.pid)
        };
        let process = same_pid()
            .find(|p| p.first_us <= row.ts_us && row.ts_us <= p.last_us)
            .or_else(|| same_pid().next());
        if process.is_none() && selection.worker.is_some() {
            continue;
        }
        dumps.push(DumpListing {
            host: row.host,
            pid: row.pid,
            worker: process.map(|p| p.worker.clone()).unwrap_or_default(),
            ts_us: row.ts_us,
            prefix: row.prefix,
            size_bytes: row.size_bytes,
            anchor: process.and_then(|p| anchor_of.get(&p.process_id).cloned()),
        });
    }
    let anchor_at = |host: &str, pid: i64, ts_us: i64| {
        let same_pid = || processes.iter().filter(|p| p.host == host && p.pid == pid);
        same_pid()
            .find(|p| p.first_us <= ts_us && ts_us <= p.last_us)
            .or_else(|| same_pid().next())
            .and_then(|p| anchor_of.get(&p.process_id).cloned())
    };
    let findings = heap_report(store, selection)?
        .iter()
        .map(|p| {
            let first_us = p.dumps.first().map_or(0, |d| d.ts_us);
            let last_us = p.dumps.last().map_or(0, |d| d.ts_us);
            HeapFinding {
                host: p.host.clone(),
                pid: p.pid,
                worker: p.worker.clone(),
                dumps: p.dumps.len(),
                first_us,
                last_us,
                verdict: p.analysis.verdict.as_str(),
                reason: p.analysis.reason.clone(),
                sites: sites_table(p, HEAP_SITES_SHOWN),
                command: format!(
                    "miq-memlog --db {db_word} heap --host {} --pid {}",
                    shell_word(&p.host),
                    p.pid
                ),
                anchor: anchor_at(&p.host, p.pid, last_us),
            }
        })
        .collect();
    Ok(HeapFindings {
        dumps,
        processes: findings,
    })
}

fn export_command(words: &CommandWords<'_>, args: &[String]) -> String {
    let mut command = vec![
        "miq-memlog".to_string(),
        "--db".to_string(),
        words.db.to_string(),
        "export".to_string(),
        "--format".to_string(),
        "csv".to_string(),
    ];
    command.extend(args.iter().cloned());
    command.extend(words.window.iter().cloned());
    command.join(" ")
}

fn column<'t>(table: &'t Table, name: &str) -> impl Iterator<Item = &'t Value> {
    let i = table.columns.iter().position(|c| c == name);
    table.rows.iter().filter_map(move |r| i.map(|i| &r[i]))
}

fn keep_columns(table: &Table, names: &[&str]) -> Table {
    let keep: Vec<usize> = names
        .iter()
        .filter_map(|n| table.columns.iter().position(|c| c == n))
        .collect();
    Table {
        columns: keep.iter().map(|&i| table.columns[i].clone()).collect(),
        rows: table
            .rows
            .iter()
            .map(|r| keep.iter().map(|&i| r[i].clone()).collect())
            .collect(),
    }
}

/// A word as a POSIX shell reads it back: plain when it is safe, else in
/// single quotes.
pub fn shell_word(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./:=+,@%".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn shell_words() {
        assert_eq!(shell_word("appliance-a"), "appliance-a");
        assert_eq!(shell_word("2017-03-02 18:00"), "'2017-03-02 18:00'");
        assert_eq!(shell_word("^Miq$"), "'^Miq$'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
    }
}
