//! `export --format gnuplot`: per process a `.data` file (`TIME PSS RSS Live Old`),
//! a `.impulses` file (`TIME 2000000000` per heap dump) in the layout of the old
//! `plot_worker_memleak_data.gnup` workflow, and a `.gp` script that renders them
//! (with the leak report's trend lines as gnuplot functions when asked for).

use std::io::Write;

use anyhow::Result;

use crate::analysis::fit::Fit;
use crate::analysis::process::{Basis, ProcessReport};

use crate::report::chart::{mb_per_hour, objects_per_hour, old_objects_span};
use crate::report::SampleBlock;
use crate::store::{MarkerKind, ProcessEvent, ProcessSummary};
use crate::zone::Zone;

/// The height of a dump's impulse in the `.impulses` file, as the old layout had it.
pub const IMPULSE_HEIGHT: i64 = 2_000_000_000;
/// Written where a value was not logged (Live/Old of `log_status` samples):
/// gnuplot reads `NaN` as an undefined point and skips it.
pub const MISSING: &str = "NaN";
const TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6f";

fn field(out: &mut Vec<u8>, v: Option<i64>) {
    match v {
        Some(n) => out.extend_from_slice(n.to_string().as_bytes()),
        None => out.extend_from_slice(MISSING.as_bytes()),
    }
}

fn write_header(out: &mut (impl Write + ?Sized), header: &[String]) -> Result<()> {
    for line in header {
        writeln!(out, "# {line}")?;
    }
    Ok(())
}

/// `TIME PSS RSS Live Old`, one block per source; blocks are separated by two
/// blank lines (gnuplot's data-set separator) and named in a comment, so samples
/// of different sources are never joined into one line.
pub fn write_data(
    out: &mut (impl Write + ?Sized),
    header: &[String],
    blocks: &[SampleBlock],
    zone: Zone,
) -> Result<()> {
    write_header(out, header)?;
    writeln!(
        out,
        "# columns: TIME PSS RSS Live Old (bytes, bytes, objects, objects); {MISSING} = not logged"
    )?;
    let mut line = Vec::with_capacity(96);
    for (i, block) in blocks.iter().enumerate() {
        if i > 0 {
            writeln!(out, "\n")?;
        }
        writeln!(out, "# source: {}", block.source.as_str())?;
        for s in &block.samples {
            line.clear();
            line.extend_from_slice(zone.format_local(s.ts_us, TIME_FORMAT).as_bytes());
            for v in [s.pss_bytes, s.rss_bytes, s.live_slots, s.old_objects] {
                line.push(b' ');
                field(&mut line, v);
            }
            line.push(b'\n');
            out.write_all(&line)?;
        }
    }
    Ok(())
}

/// `TIME 2000000000` per heap dump.
pub fn write_impulses(
    out: &mut (impl Write + ?Sized),
    header: &[String],
    events: &[ProcessEvent],
    zone: Zone,
) -> Result<()> {
    write_header(out, header)?;
    writeln!(
        out,
        "# columns: TIME {IMPULSE_HEIGHT} (one line per heap dump)"
    )?;
    for e in events.iter().filter(|e| e.kind == MarkerKind::Dump) {
        writeln!(
            out,
            "{} {IMPULSE_HEIGHT}",
            zone.format_local(e.ts_us, TIME_FORMAT)
        )?;
    }
    Ok(())
}

/// What the `.gp` script needs to know about the process it draws.
pub struct ScriptSpec<'a> {
    pub stem: &'a str,
    pub process: &'a ProcessSummary,
    pub blocks: &'a [SampleBlock],
    pub events: &'a [ProcessEvent],
    pub zone: Zone,
    pub window: String,
    /// The leak report's figures, when its trend lines are drawn.
    pub trend: Option<&'a ProcessReport>,
}

/// Escapes text for inside a gnuplot double-quoted string.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Quotes a string for gnuplot's double-quoted syntax.
fn gp_quote(text: &str) -> String {
    format!("\"{}\"", escape(text))
}

/// A gnuplot script drawing `<stem>.data` and `<stem>.impulses` (found next to the
/// script, wherever gnuplot is started from) into `<stem>.png`, 1280x720.
pub fn write_script(
    out: &mut (impl Write + ?Sized),
    header: &[String],
    spec: &ScriptSpec<'_>,
) -> Result<()> {
    let p = spec.process;
    let samples = spec.blocks.iter().flat_map(|b| &b.samples);
    let rss_top = samples
        .clone()
        .filter_map(|s| s.rss_bytes.max(s.pss_bytes))
        .max()
        .unwrap_or(1)
        .max(1);
    let has_objects = samples
        .clone()
        .any(|s| s.live_slots.is_some() || s.old_objects.is_some());
    let dumps = spec
        .events
        .iter()
        .filter(|e| e.kind == MarkerKind::Dump)
        .count();
    let restarts: Vec<&ProcessEvent> = spec
        .events
        .iter()
        .filter(|e| e.kind == MarkerKind::Restart)
        .collect();

    write_header(out, header)?;
    writeln!(
        out,
        "# Run: gnuplot {}.gp  (writes {}.png beside it)",
        spec.stem, spec.stem
    )?;
    writeln!(
        out,
        "# Restarts (dashed red lines) are memory_exceeded events: the server stopped the"
    )?;
    writeln!(
        out,
        "# worker for exceeding its memory limit. Heap dumps are the impulses."
    )?;
    writeln!(out)?;
    writeln!(out, "# The data files sit beside this script.")?;
    writeln!(out, "dir = \"\"")?;
    writeln!(
        out,
        "do for [i = 1:strlen(ARG0)] {{ if (ARG0[i:i] eq \"/\") {{ dir = ARG0[1:i] }} }}"
    )?;
    writeln!(out, "rss_top = {rss_top}.0")?;
    writeln!(
        out,
        "# Another size: gnuplot -e 'width = 1920; height = 1080' NAME.gp"
    )?;
    writeln!(out, "if (!exists(\"width\")) width = 1280")?;
    writeln!(out, "if (!exists(\"height\")) height = 720")?;
    writeln!(
        out,
        "set terminal pngcairo size width,height font \"DejaVu Sans,10\""
    )?;
    writeln!(
        out,
        "set output dir.{}",
        gp_quote(&format!("{}.png", spec.stem))
    )?;
    // Two lines: gnuplot turns "\n" inside a double-quoted string into a line break.
    let title = format!(
        "{}\\n{}",
        escape(&format!("{}  {}  pid {}", p.host, p.worker, p.pid)),
        escape(&spec.window)
    );
    writeln!(out, "set title \"{title}\" noenhanced")?;
    writeln!(out, "set xdata time")?;
    writeln!(out, "set timefmt \"%Y-%m-%dT%H:%M:%S\"")?;
    writeln!(out, "set format x \"%m/%d %H:%M\"")?;
    // The range covers the markers too: a restart comes just after the last sample.
    let times = spec
        .blocks
        .iter()
        .flat_map(|b| b.samples.iter().map(|s| s.ts_us));
    let times = times.chain(spec.events.iter().map(|e| e.ts_us));
    let (t0, t1) = times.fold((i64::MAX, i64::MIN), |(lo, hi), t| (lo.min(t), hi.max(t)));
    if t0 <= t1 {
        // A little room either side keeps a marker at the very edge visible; a
        // single instant gets a minute either side.
        let pad = ((t1 - t0) / 80).max(if t1 - t0 < 60_000_000 { 60_000_000 } else { 0 });
        let (t0, t1) = (t0 - pad, t1 + pad);
        writeln!(
            out,
            "set xrange [{}:{}]",
            gp_quote(&spec.zone.format_local(t0, TIME_FORMAT)),
            gp_quote(&spec.zone.format_local(t1, TIME_FORMAT))
        )?;
    }
    writeln!(
        out,
        "set xlabel {} noenhanced",
        gp_quote(&format!("time ({})", spec.zone))
    )?;
    writeln!(out, "set ylabel \"memory (bytes)\"")?;
    writeln!(out, "set format y \"%.1s %cB\"")?;
    writeln!(out, "set yrange [0:rss_top * 1.15]")?;
    writeln!(out, "set ytics nomirror")?;
    if has_objects {
        writeln!(out, "set y2label \"objects\"")?;
        writeln!(out, "set format y2 \"%.1s %c\"")?;
        writeln!(out, "set y2tics")?;
        writeln!(out, "set y2range [0:*]")?;
    }
    writeln!(out, "set grid")?;
    writeln!(out, "set key outside top center horizontal")?;
    for (i, r) in restarts.iter().enumerate() {
        let at = gp_quote(&spec.zone.format_local(r.ts_us, TIME_FORMAT));
        writeln!(
            out,
            "set arrow {} from first {at}, graph 0 to first {at}, graph 1 nohead lw 2 dt 2 lc rgb \"#d62728\" front",
            i + 1
        )?;
    }
    let data = gp_quote(&format!("{}.data", spec.stem));
    let impulses = gp_quote(&format!("{}.impulses", spec.stem));
    let mut plots = vec![
        format!("dir.{data} using 1:3 title \"RSS\" with lines lw 2 lc rgb \"#1f77b4\""),
        format!("dir.{data} using 1:2 title \"PSS\" with lines lw 2 lc rgb \"#2ca02c\""),
    ];
    if has_objects {
        plots.push(format!(
            "dir.{data} using 1:4 axes x1y2 title \"live objects\" with lines lc rgb \"#ff7f0e\""
        ));
        plots.push(format!(
            "dir.{data} using 1:5 axes x1y2 title \"old objects\" with lines lc rgb \"#9467bd\""
        ));
    }
    if let Some(report) = spec.trend {
        plots.extend(write_trends(out, spec, report, has_objects)?);
    }
    if dumps > 0 {
        plots.push(format!(
            "dir.{impulses} using 1:(rss_top * 1.1) title \"heap dump\" with impulses lw 3 lc rgb \"#8c564b\""
        ));
    }
    if !restarts.is_empty() {
        plots.push(
            "NaN title \"restart (memory limit exceeded)\" with lines lw 2 dt 2 lc rgb \"#d62728\""
                .to_string(),
        );
    }
    writeln!(out, "plot {}", plots.join(", \\\n     "))?;
    Ok(())
}

/// Defines the trend functions of the report's fits and returns their plot
/// elements. The fits are in MB (MiB) or objects against hours since the first
/// sample; gnuplot's x is wall-clock seconds in the file's zone, so a change of
/// the zone's offset inside the span is taken back out (`dst(x)`).
fn write_trends(
    out: &mut (impl Write + ?Sized),
    spec: &ScriptSpec<'_>,
    report: &ProcessReport,
    has_objects: bool,
) -> Result<Vec<String>> {
    let mut plots = Vec::new();
    // The old-objects trend, when they decided the verdict, over the patched
    // samples that carry them.
    let old_span = old_objects_span(spec.blocks.iter().flat_map(|b| &b.samples));
    let old = match (report.basis, report.old, old_span) {
        (Basis::Old, Some(fit), Some(span)) if has_objects => Some((fit, span)),
        _ => None,
    };
    if report.rss.is_none() && old.is_none() {
        return Ok(plots);
    }
    let time = |us: i64| {
        format!(
            "strptime(\"%Y-%m-%dT%H:%M:%S\", {})",
            gp_quote(&spec.zone.format_local(us, TIME_FORMAT))
        )
    };
    writeln!(
        out,
        "# Trends: the Theil-Sen fits of `miq-memlog report` over the same selection,"
    )?;
    writeln!(
        out,
        "# a + b * hours since trend_t0 (the first sample), a and b in MB (2^20 bytes)"
    )?;
    writeln!(out, "# or objects.")?;
    writeln!(out, "trend_t0 = {}", time(report.start_us))?;
    let changes = spec.zone.offset_changes(report.start_us, report.end_us);
    let elapsed = if changes.is_empty() {
        "(x - trend_t0)".to_string()
    } else {
        let mut offset = spec.zone.utc_to_local_us(report.start_us) - report.start_us;
        let steps: Vec<String> = changes
            .iter()
            .map(|&at| {
                let next = spec.zone.utc_to_local_us(at) - at;
                let step = format!("(x >= {} ? {} : 0)", time(at), (next - offset) / 1_000_000);
                offset = next;
                step
            })
            .collect();
        writeln!(
            out,
            "# Seconds the clock moved (daylight saving) between trend_t0 and x."
        )?;
        writeln!(out, "dst(x) = {}", steps.join(" + "))?;
        "(x - trend_t0 - dst(x))".to_string()
    };
    let mut line = |name: &str, fit: Fit, (from, to): (i64, i64), unit: &str| -> Result<()> {
        writeln!(out, "{name}_a = {}", fit.intercept)?;
        writeln!(out, "{name}_b = {}", fit.slope)?;
        writeln!(out, "{name}_from = {}", time(from))?;
        writeln!(out, "{name}_to = {}", time(to))?;
        writeln!(
            out,
            "{name}_trend(x) = ({name}_a + {name}_b * {elapsed} / 3600.0){unit}"
        )?;
        Ok(())
    };
    if let Some(fit) = report.rss {
        line("rss", fit, (report.start_us, report.end_us), " * 1048576")?;
        plots.push(format!(
            "[rss_from:rss_to] rss_trend(x) title {} with lines lw 2 dt (12,6) lc rgb \"#08306b\"",
            gp_quote(&format!("RSS trend {}", mb_per_hour(fit.slope)))
        ));
    }
    if let Some((fit, span)) = old {
        line("old", fit, span, "")?;
        plots.push(format!(
            "[old_from:old_to] old_trend(x) axes x1y2 title {} with lines lw 2 dt (12,6) lc rgb \"#6a1b9a\"",
            gp_quote(&format!("old objects trend {}", objects_per_hour(fit.slope)))
        ));
    }
    Ok(plots)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::process::{analyse, ProcessFacts};
    use crate::analysis::synthetic::{points, status_samples};
    use crate::parse::SampleKind;
    use crate::store::ChartSample;
    use std::process::Command;

    #[test]
    fn trend_function_follows_the_clock_across_daylight_saving() {
        // 300 MB + 10 MB/h for 48 h around 2017-03-12 07:00 UTC, when New York
        // moves from -05:00 to -04:00: gnuplot's wall-clock x jumps an hour.
        let samples = status_samples(&points(48.0, 10.0, 0.0, 1, |h| 300.0 + 10.0 * h), 247.0);
        let report = analyse(&samples, ProcessFacts::default()).unwrap();
        assert!((report.rss.unwrap().slope - 10.0).abs() < 1e-6);
        let zone: Zone = "America/New_York".parse().unwrap();
        let process = ProcessSummary {
            process_id: 1,
            host: "h".to_string(),
            pid: 7,
            worker: "MiqGenericWorker".to_string(),
            first_us: report.start_us,
            last_us: report.end_us,
            patch_samples: 0,
            memlog_samples: 0,
            status_samples: samples.len() as i64,
            dumps: 0,
            restarts: 0,
            rss_first: samples[0].rss_bytes,
            rss_last: samples[samples.len() - 1].rss_bytes,
            rss_max: samples[samples.len() - 1].rss_bytes,
        };
        let blocks = [SampleBlock {
            source: SampleKind::Status,
            samples: samples
                .iter()
                .map(|s| ChartSample {
                    ts_us: s.ts_us,
                    pss_bytes: None,
                    rss_bytes: s.rss_bytes,
                    live_slots: None,
                    old_objects: None,
                })
                .collect(),
        }];
        let spec = ScriptSpec {
            stem: "dst",
            process: &process,
            blocks: &blocks,
            events: &[],
            zone,
            window: String::new(),
            trend: Some(&report),
        };
        let dir = tempfile::tempdir().unwrap();
        let mut script = Vec::new();
        write_script(&mut script, &[], &spec).unwrap();
        let text = String::from_utf8(script.clone()).unwrap();
        assert!(
            text.contains("dst(x) = (x >= strptime(\"%Y-%m-%dT%H:%M:%S\", \"2017-03-12T03:00:00.000000\") ? 3600 : 0)"),
            "{text}"
        );
        std::fs::write(dir.path().join("dst.gp"), &script).unwrap();
        let mut data = Vec::new();
        write_data(&mut data, &[], &blocks, zone).unwrap();
        std::fs::write(dir.path().join("dst.data"), data).unwrap();
        std::fs::write(dir.path().join("dst.impulses"), "").unwrap();
        // gnuplot's value of the line at samples before and after the change.
        let picks = [&samples[6], &samples[200]];
        let at: Vec<String> = picks
            .iter()
            .map(|s| {
                format!(
                    "rss_trend(strptime(\"%Y-%m-%dT%H:%M:%S\", \"{}\"))",
                    zone.format_local(s.ts_us, TIME_FORMAT)
                )
            })
            .collect();
        let out = Command::new("gnuplot")
            .current_dir(dir.path())
            .args(["dst.gp", "-e", &format!("print {}", at.join(", "))])
            .output()
            .expect("gnuplot is installed");
        let printed = String::from_utf8_lossy(&out.stderr);
        let values: Vec<f64> = printed
            .split_whitespace()
            .map(|v| v.parse().unwrap())
            .collect();
        for (value, sample) in values.iter().zip(picks) {
            let rss = sample.rss_bytes.unwrap() as f64;
            assert!((value - rss).abs() < 2.0, "{printed}: {value} vs {rss}");
        }
        assert_eq!(values.len(), 2, "{printed}");
    }
}
