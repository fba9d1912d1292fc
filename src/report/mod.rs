//! The report model: selects plus analysis, returned as rows (`leak`), charts
//! (`chart`) and provenance, for every writer alike: `report` prints the rows,
//! `plot` renders the charts, `export` writes gnuplot files of the same
//! processes, the HTML report shows all of it. Nothing here writes a file.

pub mod chart;
pub mod check;
pub mod heap;
pub mod leak;
pub mod page;

use std::collections::{BTreeMap, HashMap};

use anyhow::{bail, Result};

use crate::analysis::process::ProcessReport;
use crate::parse::SampleKind;
use crate::store::{ChartSample, ProcessEvent, ProcessSummary, Selection, Store};
use crate::zone::Zone;
use chart::{overlay_chart, process_chart, Chart, ProcessData};

/// The `#` lines heading every exported file: enough to tell how it was made, and
/// nothing that changes between two runs over the same database.
pub fn provenance(store: &Store, selection_text: &str, zone: Zone) -> Result<Vec<String>> {
    let (files, digest) = store.source_set()?;
    Ok(vec![
        format!("miq-memlog {}", env!("CARGO_PKG_VERSION")),
        format!("selection: {selection_text}"),
        format!("zone: {zone}"),
        format!("database: {files} ingested log files, content digest {digest}"),
    ])
}

/// The selected processes; an empty selection is an error naming it
/// (`selection_text`), before any file is made.
pub fn selected_processes(
    store: &Store,
    selection: &Selection,
    selection_text: &str,
    zone: Zone,
) -> Result<Vec<ProcessSummary>> {
    let processes = store.processes(selection)?;
    if processes.is_empty() {
        bail!("no samples match the selection {selection_text} (zone {zone}): nothing written");
    }
    Ok(processes)
}

/// The sources drawn of a process: the one asked for, else (with `all`, when
/// `--source all` was given) every source it has, else its per-message
/// samples (the enrichment's, else the patch's) when it has any in the
/// selection, else its `log_status` samples.
pub fn sources_for(process: &ProcessSummary, selection: &Selection, all: bool) -> Vec<SampleKind> {
    match selection.source {
        Some(s) => vec![s],
        None if all => [
            (SampleKind::Status, process.status_samples),
            (SampleKind::Patch, process.patch_samples),
            (SampleKind::Memlog, process.memlog_samples),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(s, _)| s)
        .collect(),
        None if process.memlog_samples > 0 => vec![SampleKind::Memlog],
        None if process.patch_samples > 0 => vec![SampleKind::Patch],
        None => vec![SampleKind::Status],
    }
}

/// How charts and gnuplot files are drawn.
#[derive(Debug, Clone, Copy)]
pub struct DrawOptions {
    /// The zone of the time axis.
    pub zone: Zone,
    /// Every source a process has (`--source all`), each its own line.
    pub all_sources: bool,
    /// The leak report's fits as trend lines.
    pub trend: bool,
}

/// `2017-03-01 13:25 to 2017-03-02 16:34 (UTC)`.
pub fn span_text(first_us: i64, last_us: i64, zone: Zone) -> String {
    let fmt = |us| zone.format_local(us, "%Y-%m-%d %H:%M");
    format!("{} to {} ({zone})", fmt(first_us), fmt(last_us))
}

/// The span, and the selection's window when it has one.
fn window_text(first_us: i64, last_us: i64, zone: Zone, sel: &Selection) -> String {
    let mut text = span_text(first_us, last_us, zone);
    if sel.from_us.is_some() || sel.to_us.is_some() {
        let fmt = |us| zone.format_local(us, "%Y-%m-%d %H:%M");
        text.push_str(&format!(
            "; window {} to {}",
            sel.from_us.map_or("start".to_string(), fmt),
            sel.to_us.map_or("end".to_string(), fmt)
        ));
    }
    text
}

/// What names a chart's output: its host, a label (the pid, or `<Type>_overlay`),
/// the time of its first sample and its worker type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartKey {
    pub host: String,
    pub label: String,
    pub first_us: i64,
    pub worker: String,
}

/// The leak report of every selected process by id, when trends are drawn.
fn trend_reports(
    store: &Store,
    selection: &Selection,
    draw: &DrawOptions,
) -> Result<HashMap<i64, ProcessReport>> {
    if draw.trend {
        leak::reports_by_process(store, selection)
    } else {
        Ok(HashMap::new())
    }
}

/// A process's samples per source, never merged (the sources differ in rate and
/// fields), its dumps and restarts, and its report when trends are drawn.
fn load<'a>(
    store: &Store,
    selection: &Selection,
    all: bool,
    process: &'a ProcessSummary,
    reports: &mut HashMap<i64, ProcessReport>,
) -> Result<ProcessData<'a>> {
    let mut sources = Vec::new();
    for source in sources_for(process, selection, all) {
        sources.push((source, store.process_samples(process, selection, source)?));
    }
    Ok(ProcessData {
        process,
        sources,
        events: store.process_events(process, selection)?,
        trend: reports.remove(&process.process_id),
    })
}

/// Builds the charts of the selected processes one at a time (a chart holds its
/// samples) and hands each to `each` with its key: one per process, or with
/// `overlay` one per host and worker type.
pub fn for_each_chart(
    store: &Store,
    selection: &Selection,
    processes: &[ProcessSummary],
    draw: &DrawOptions,
    overlay: bool,
    each: impl FnMut(ChartKey, Chart) -> Result<()>,
) -> Result<()> {
    let reports = trend_reports(store, selection, draw)?;
    for_each_chart_with(store, selection, processes, draw, overlay, reports, each)
}

/// As [`for_each_chart`], with the leak reports by process id already made:
/// the trend lines drawn are those of `reports` (a caller that shows the
/// report's tables too analyses once).
pub fn for_each_chart_with(
    store: &Store,
    selection: &Selection,
    processes: &[ProcessSummary],
    draw: &DrawOptions,
    overlay: bool,
    mut reports: HashMap<i64, ProcessReport>,
    mut each: impl FnMut(ChartKey, Chart) -> Result<()>,
) -> Result<()> {
    let zone = draw.zone;
    if overlay {
        let mut groups: BTreeMap<(&str, &str), Vec<&ProcessSummary>> = BTreeMap::new();
        for p in processes {
            groups.entry((&p.host, &p.worker)).or_default().push(p);
        }
        for ((host, worker), members) in groups {
            let mut drawn = Vec::new();
            for process in members {
                drawn.push(load(
                    store,
                    selection,
                    draw.all_sources,
                    process,
                    &mut reports,
                )?);
            }
            let first_us = drawn
                .iter()
                .map(|d| d.process.first_us)
                .min()
                .unwrap_or_default();
            let last_us = drawn
                .iter()
                .map(|d| d.process.last_us)
                .max()
                .unwrap_or_default();
            let window = window_text(first_us, last_us, zone, selection);
            let chart = overlay_chart(host, worker, &drawn, zone, &window);
            let short = worker.rsplit("::").next().unwrap_or(worker);
            let key = ChartKey {
                host: host.to_string(),
                label: format!("{short}_overlay"),
                first_us,
                worker: worker.to_string(),
            };
            each(key, chart)?;
        }
        return Ok(());
    }
    for process in processes {
        let data = load(store, selection, draw.all_sources, process, &mut reports)?;
        let first_us = data
            .sources
            .iter()
            .filter_map(|(_, s)| s.first().map(|s| s.ts_us))
            .min()
            .unwrap_or(process.first_us);
        let window = window_text(first_us, process.last_us, zone, selection);
        let chart = process_chart(&data, zone, &window);
        let key = ChartKey {
            host: process.host.clone(),
            label: process.pid.to_string(),
            first_us,
            worker: process.worker.clone(),
        };
        each(key, chart)?;
    }
    Ok(())
}

/// The samples of one source, as one block of a gnuplot `.data` file.
pub struct SampleBlock {
    pub source: SampleKind,
    pub samples: Vec<ChartSample>,
}

/// What a gnuplot export writes of one process.
pub struct ProcessFiles<'a> {
    pub process: &'a ProcessSummary,
    pub blocks: Vec<SampleBlock>,
    pub events: Vec<ProcessEvent>,
    /// First and last sample written.
    pub first_us: i64,
    pub last_us: i64,
    /// The leak report's figures, when trend lines are drawn.
    pub trend: Option<ProcessReport>,
}

impl ProcessFiles<'_> {
    pub fn key(&self) -> ChartKey {
        ChartKey {
            host: self.process.host.clone(),
            label: self.process.pid.to_string(),
            first_us: self.first_us,
            worker: self.process.worker.clone(),
        }
    }

    /// `2017-03-01 13:25 to 2017-03-02 16:34 (UTC)`.
    pub fn span_text(&self, zone: Zone) -> String {
        span_text(self.first_us, self.last_us, zone)
    }
}

/// The data of each selected process's gnuplot files, one process at a time.
pub fn for_each_process_files(
    store: &Store,
    selection: &Selection,
    processes: &[ProcessSummary],
    draw: &DrawOptions,
    mut each: impl FnMut(ProcessFiles<'_>) -> Result<()>,
) -> Result<()> {
    let mut reports = trend_reports(store, selection, draw)?;
    for process in processes {
        let ProcessData {
            sources,
            events,
            trend,
            ..
        } = load(store, selection, draw.all_sources, process, &mut reports)?;
        let blocks: Vec<SampleBlock> = sources
            .into_iter()
            .map(|(source, samples)| SampleBlock { source, samples })
            .collect();
        let first_us = blocks
            .iter()
            .filter_map(|b| b.samples.first().map(|s| s.ts_us))
            .min()
            .unwrap_or(process.first_us);
        let last_us = blocks
            .iter()
            .filter_map(|b| b.samples.last().map(|s| s.ts_us))
            .max()
            .unwrap_or(process.last_us);
        each(ProcessFiles {
            process,
            blocks,
            events,
            first_us,
            last_us,
            trend,
        })?;
    }
    Ok(())
}
