//! The chart `plot` draws, as a plain model (series and markers) built from the
//! store's rows and the leak report's fits, and its rendering to PNG or SVG with
//! plotters. A fitted trend is one more [`Series`]; the renderer draws whatever
//! the model holds.

use std::path::Path;
use std::sync::Once;

use anyhow::{anyhow, Result};
use chrono::{DateTime, Utc};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::analysis::fit::Fit;
use crate::analysis::process::{Basis, ProcessReport};
use crate::analysis::{BYTES_PER_MB, US_PER_HOUR};
use crate::parse::SampleKind;
use crate::store::{ChartSample, MarkerKind, ProcessEvent, ProcessSummary};
use crate::zone::Zone;

/// Which y axis a series is measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    /// Left: bytes.
    Bytes,
    /// Right: object counts.
    Objects,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineStyle {
    Solid,
    Dashed,
    /// Long dashes: a fitted trend line.
    Trend,
}

#[derive(Debug, Clone)]
pub struct Series {
    pub label: String,
    pub axis: Axis,
    pub color: (u8, u8, u8),
    pub width: u32,
    pub style: LineStyle,
    /// (UTC µs, value); a gap in time does not break the line.
    pub points: Vec<(i64, f64)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marker {
    pub ts_us: i64,
    pub kind: MarkerKind,
}

#[derive(Debug, Clone)]
pub struct Chart {
    pub title: String,
    pub subtitle: String,
    /// Times on the axis are wall-clock times in this zone.
    pub zone: Zone,
    pub series: Vec<Series>,
    pub markers: Vec<Marker>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Svg,
}

/// Colours that stay apart on white, for one process's lines or one line per process.
pub const PALETTE: [(u8, u8, u8); 10] = [
    (31, 119, 180),
    (44, 160, 44),
    (255, 127, 14),
    (148, 103, 189),
    (23, 190, 207),
    (188, 189, 34),
    (227, 119, 194),
    (127, 127, 127),
    (140, 86, 75),
    (0, 0, 128),
];
const DUMP_COLOR: RGBColor = RGBColor(140, 86, 75);
const RESTART_COLOR: RGBColor = RGBColor(214, 39, 40);
const FONT: &str = "sans-serif";

static FONT_ONCE: Once = Once::new();

/// The bundled DejaVu Sans: text renders the same on every machine, no system fonts needed.
fn register_font() {
    FONT_ONCE.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
        for style in [FontStyle::Normal, FontStyle::Bold] {
            // The bundled font is a valid TrueType file; a failure would show as missing text.
            let _ = plotters::style::register_font(FONT, style, bytes);
        }
    });
}

/// `1.5 GB`-style numbers with SI prefixes.
pub fn si(value: f64, unit: &str) -> String {
    let prefixes = ["", "k", "M", "G", "T", "P"];
    let mut v = value;
    let mut i = 0;
    while v.abs() >= 1000.0 && i + 1 < prefixes.len() {
        v /= 1000.0;
        i += 1;
    }
    let number = if v.fract().abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    };
    format!("{number} {}{unit}", prefixes[i])
        .trim_end()
        .to_string()
}

pub fn render(chart: &Chart, path: &Path, format: ImageFormat, size: (u32, u32)) -> Result<()> {
    register_font();
    match format {
        ImageFormat::Png => {
            let root = BitMapBackend::new(path, size).into_drawing_area();
            draw(chart, &root)?;
            root.present()
                .map_err(|e| anyhow!("cannot write {}: {e}", path.display()))
        }
        ImageFormat::Svg => {
            let root = SVGBackend::new(path, size).into_drawing_area();
            draw(chart, &root)?;
            root.present()
                .map_err(|e| anyhow!("cannot write {}: {e}", path.display()))
        }
    }
}

fn plot_err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("drawing the chart: {e:?}")
}

fn draw<DB: DrawingBackend>(chart: &Chart, root: &DrawingArea<DB, Shift>) -> Result<()> {
    let zone = chart.zone;
    // Wall-clock times shown as if UTC, so tick labels read in the chart's zone.
    let local = |us: i64| -> DateTime<Utc> {
        DateTime::from_timestamp_micros(zone.utc_to_local_us(us)).unwrap_or_default()
    };
    let times = chart
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .chain(chart.markers.iter().map(|m| m.ts_us));
    let (t0, t1) = times.fold((i64::MAX, i64::MIN), |(lo, hi), t| (lo.min(t), hi.max(t)));
    if t0 > t1 {
        return Err(anyhow!("nothing to draw"));
    }
    // A single instant still gets a readable axis: a minute either side.
    let (t0, t1) = if t1 - t0 < 60_000_000 {
        (t0 - 60_000_000, t1 + 60_000_000)
    } else {
        // A little room either side keeps a marker at the very edge visible.
        let pad = (t1 - t0) / 80;
        (t0 - pad, t1 + pad)
    };
    let max_on = |axis: Axis| {
        chart
            .series
            .iter()
            .filter(|s| s.axis == axis)
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .fold(0.0f64, f64::max)
    };
    let bytes_top = (max_on(Axis::Bytes) * 1.12).max(1.0);
    let objects_top = (max_on(Axis::Objects) * 1.12).max(1.0);
    let has_objects = chart.series.iter().any(|s| s.axis == Axis::Objects);

    root.fill(&WHITE).map_err(plot_err)?;
    let (width, _) = root.dim_in_pixel();
    let scale = (width as f64 / 1280.0).max(0.5);
    let px = |n: f64| (n * scale).round() as u32;
    let titled = root
        .margin(px(10.0), 0, 0, 0)
        .titled(
            &chart.title,
            (FONT, px(26.0)).into_font().style(FontStyle::Bold),
        )
        .map_err(plot_err)?;
    let body = titled.margin(0, px(10.0), px(16.0), px(16.0));
    let (sub, body) = body.split_vertically(px(24.0));
    sub.draw_text(
        &chart.subtitle,
        &(FONT, px(16.0)).into_font().color(&BLACK.mix(0.75)),
        (0, 0),
    )
    .map_err(plot_err)?;

    let mut legend: Vec<LegendEntry> = chart
        .series
        .iter()
        .map(|s| LegendEntry {
            label: if has_objects && s.axis == Axis::Objects {
                format!("{} (right)", s.label)
            } else {
                s.label.clone()
            },
            color: RGBColor(s.color.0, s.color.1, s.color.2),
            style: s.style,
        })
        .collect();
    let markers = [
        (MarkerKind::Dump, DUMP_COLOR, "heap dump", LineStyle::Solid),
        (
            MarkerKind::Restart,
            RESTART_COLOR,
            "restart (limit exceeded)",
            LineStyle::Dashed,
        ),
    ];
    for (kind, color, label, style) in markers {
        if chart.markers.iter().any(|m| m.kind == kind) {
            legend.push(LegendEntry {
                label: label.to_string(),
                color,
                style,
            });
        }
    }
    // The legend gets its own column on the right, so it never hides a line; it
    // widens for long labels (trend slopes, pids).
    let legend_font = (FONT, px(15.0)).into_font();
    let widest = legend
        .iter()
        .filter_map(|e| legend_font.box_size(&e.label).ok())
        .map(|(w, _)| w)
        .max()
        .unwrap_or(0);
    let legend_width = px(250.0).max(widest * 11 / 10 + px(72.0));
    let (plot_area, legend_area) =
        body.split_horizontally(body.dim_in_pixel().0.saturating_sub(legend_width) as i32);
    let mut ctx = ChartBuilder::on(&plot_area)
        .margin(px(8.0))
        .x_label_area_size(px(56.0))
        .y_label_area_size(px(90.0))
        .right_y_label_area_size(if has_objects { px(90.0) } else { px(10.0) })
        .build_cartesian_2d(local(t0)..local(t1), 0f64..bytes_top)
        .map_err(plot_err)?
        .set_secondary_coord(local(t0)..local(t1), 0f64..objects_top);

    let label_font = (FONT, px(15.0)).into_font();
    let desc_font = (FONT, px(17.0)).into_font();
    ctx.configure_mesh()
        .x_labels(10)
        .y_labels(10)
        .x_label_formatter(&|t| t.format("%m/%d %H:%M").to_string())
        .y_label_formatter(&|v| si(*v, "B"))
        .x_desc(format!("time ({zone})"))
        .y_desc("memory (bytes)")
        .label_style(label_font.clone())
        .axis_desc_style(desc_font.clone())
        .light_line_style(BLACK.mix(0.05))
        .bold_line_style(BLACK.mix(0.15))
        .draw()
        .map_err(plot_err)?;
    if has_objects {
        ctx.configure_secondary_axes()
            .y_labels(10)
            .y_label_formatter(&|v| si(*v, ""))
            .y_desc("objects")
            .label_style(label_font.clone())
            .axis_desc_style(desc_font)
            .draw()
            .map_err(plot_err)?;
    }

    for s in &chart.series {
        let color = RGBColor(s.color.0, s.color.1, s.color.2);
        let style = color.stroke_width(px(s.width as f64).max(1));
        let points: Vec<(DateTime<Utc>, f64)> =
            s.points.iter().map(|&(t, v)| (local(t), v)).collect();
        let (dash, gap) = match s.style {
            LineStyle::Trend => (px(16.0), px(7.0)),
            _ => (px(8.0), px(5.0)),
        };
        match (s.axis, s.style == LineStyle::Solid) {
            (Axis::Bytes, true) => ctx.draw_series(LineSeries::new(points, style)).map(|_| ()),
            (Axis::Bytes, false) => ctx
                .draw_series(DashedLineSeries::new(points, dash, gap, style))
                .map(|_| ()),
            (Axis::Objects, true) => ctx
                .draw_secondary_series(LineSeries::new(points, style))
                .map(|_| ()),
            (Axis::Objects, false) => ctx
                .draw_secondary_series(DashedLineSeries::new(points, dash, gap, style))
                .map(|_| ()),
        }
        .map_err(plot_err)?;
    }

    for (kind, color, _, style) in markers {
        let dashed = style == LineStyle::Dashed;
        let at: Vec<DateTime<Utc>> = chart
            .markers
            .iter()
            .filter(|m| m.kind == kind)
            .map(|m| local(m.ts_us))
            .collect();
        if at.is_empty() {
            continue;
        }
        let style = color.stroke_width(px(2.0).max(1));
        let top = if kind == MarkerKind::Dump {
            bytes_top * 0.93
        } else {
            bytes_top
        };
        for t in &at {
            let line = [(*t, 0.0), (*t, top)];
            if dashed {
                ctx.draw_series(DashedLineSeries::new(line, px(10.0), px(6.0), style))
                    .map_err(plot_err)?;
            } else {
                ctx.draw_series(std::iter::once(PathElement::new(line.to_vec(), style)))
                    .map_err(plot_err)?;
                // A triangle on top of each dump line, so short windows still show them.
                ctx.draw_series(std::iter::once(TriangleMarker::new(
                    (*t, top),
                    px(7.0) as i32,
                    color.filled(),
                )))
                .map_err(plot_err)?;
            }
        }
    }
    draw_legend(&legend_area, &legend, px)?;
    Ok(())
}

struct LegendEntry {
    label: String,
    color: RGBColor,
    style: LineStyle,
}

fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
    px: impl Fn(f64) -> u32,
) -> Result<()> {
    let font = (FONT, px(15.0)).into_font();
    let row = px(24.0) as i32;
    let (x0, y0) = (px(16.0) as i32, px(20.0) as i32);
    let swatch = px(28.0) as i32;
    for (i, e) in entries.iter().enumerate() {
        let y = y0 + i as i32 * row;
        let style = e.color.stroke_width(px(3.0).max(1));
        // Dashes as (start, end) in fifths of the swatch.
        let dashes: &[(i32, i32)] = match e.style {
            LineStyle::Solid => &[(0, 5)],
            LineStyle::Dashed => &[(0, 1), (2, 3), (4, 5)],
            LineStyle::Trend => &[(0, 2), (3, 5)],
        };
        for &(a, b) in dashes {
            area.draw(&PathElement::new(
                vec![(x0 + a * swatch / 5, y), (x0 + b * swatch / 5, y)],
                style,
            ))
            .map_err(plot_err)?;
        }
        area.draw(&Text::new(
            e.label.clone(),
            (x0 + swatch + px(8.0) as i32, y - px(8.0) as i32),
            font.clone(),
        ))
        .map_err(plot_err)?;
    }
    Ok(())
}

/// What the store holds of one process for a chart: its samples per source drawn
/// (never merged into one line) and its dumps and restarts.
pub struct ProcessData<'a> {
    pub process: &'a ProcessSummary,
    pub sources: Vec<(SampleKind, Vec<ChartSample>)>,
    pub events: Vec<ProcessEvent>,
    /// The leak report's figures for the process, when its trend is drawn.
    pub trend: Option<ProcessReport>,
}

impl ProcessData<'_> {
    fn suffix(&self, source: SampleKind) -> String {
        if self.sources.len() > 1 {
            format!(" ({})", source.as_str())
        } else {
            String::new()
        }
    }

    fn markers(&self) -> impl Iterator<Item = Marker> + '_ {
        self.events.iter().map(|e| Marker {
            ts_us: e.ts_us,
            kind: e.kind,
        })
    }
}

fn points(samples: &[ChartSample], value: fn(&ChartSample) -> Option<i64>) -> Vec<(i64, f64)> {
    samples
        .iter()
        .filter_map(|s| value(s).map(|v| (s.ts_us, v as f64)))
        .collect()
}

/// Label, axis, colour, width and the value drawn.
type SeriesSpec = (
    &'static str,
    Axis,
    (u8, u8, u8),
    u32,
    fn(&ChartSample) -> Option<i64>,
);

/// The chart of one process: RSS and PSS on the left axis, live and old objects
/// on the right (when logged), heap dumps and restarts as markers. A second
/// source is drawn dashed in the same colours.
pub fn process_chart(data: &ProcessData<'_>, zone: Zone, window: &str) -> Chart {
    let p = data.process;
    let mut series = Vec::new();
    for (i, (source, samples)) in data.sources.iter().enumerate() {
        let lines: [SeriesSpec; 4] = [
            ("RSS", Axis::Bytes, PALETTE[0], 2, |s| s.rss_bytes),
            ("PSS", Axis::Bytes, PALETTE[1], 2, |s| s.pss_bytes),
            ("live objects", Axis::Objects, PALETTE[2], 1, |s| {
                s.live_slots
            }),
            ("old objects", Axis::Objects, PALETTE[3], 1, |s| {
                s.old_objects
            }),
        ];
        for (label, axis, color, width, value) in lines {
            series.push(Series {
                label: format!("{label}{}", data.suffix(*source)),
                axis,
                color,
                width,
                style: if i > 0 {
                    LineStyle::Dashed
                } else {
                    LineStyle::Solid
                },
                points: points(samples, value),
            });
        }
    }
    series.retain(|s| !s.points.is_empty());
    if let Some(report) = &data.trend {
        series.extend(rss_trend(report, "", RSS_TREND_COLOR, zone));
        // Old objects decided the verdict: their trend too, over the patched
        // samples drawn.
        let span = old_objects_span(data.sources.iter().flat_map(|(_, s)| s));
        if let (Basis::Old, Some(fit), Some((from_us, to_us))) = (report.basis, report.old, span) {
            series.push(Series {
                label: format!("old objects trend {}", objects_per_hour(fit.slope)),
                axis: Axis::Objects,
                color: OLD_TREND_COLOR,
                width: 2,
                style: LineStyle::Trend,
                points: trend_points(&fit, report.start_us, (from_us, to_us), 1.0, zone),
            });
        }
    }
    Chart {
        title: format!("{}  {}  pid {}", p.host, p.worker, p.pid),
        subtitle: window.to_string(),
        zone,
        series,
        markers: data.markers().collect(),
    }
}

/// All processes of one worker type on one host: RSS (solid) and PSS (dashed)
/// per pid, each pid its own colour, with every dump and restart among them,
/// and each pid's RSS trend (long dashes) when asked for.
pub fn overlay_chart(
    host: &str,
    worker: &str,
    processes: &[ProcessData<'_>],
    zone: Zone,
    window: &str,
) -> Chart {
    let mut series = Vec::new();
    let mut markers = Vec::new();
    for (i, data) in processes.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let pid = data.process.pid;
        for (source, samples) in &data.sources {
            let suffix = data.suffix(*source);
            series.push(Series {
                label: format!("pid {pid} RSS{suffix}"),
                axis: Axis::Bytes,
                color,
                width: 2,
                style: LineStyle::Solid,
                points: points(samples, |s| s.rss_bytes),
            });
            series.push(Series {
                label: format!("pid {pid} PSS{suffix}"),
                axis: Axis::Bytes,
                color,
                width: 1,
                style: LineStyle::Dashed,
                points: points(samples, |s| s.pss_bytes),
            });
        }
        if let Some(report) = &data.trend {
            let prefix = format!("pid {pid} ");
            series.extend(rss_trend(report, &prefix, darker(color), zone));
        }
        markers.extend(data.markers());
    }
    series.retain(|s| !s.points.is_empty());
    markers.sort_by_key(|m| m.ts_us);
    Chart {
        title: format!("{host}  {worker}  {} processes", processes.len()),
        subtitle: window.to_string(),
        zone,
        series,
        markers,
    }
}

const RSS_TREND_COLOR: (u8, u8, u8) = (8, 48, 107);
const OLD_TREND_COLOR: (u8, u8, u8) = (106, 27, 154);

/// A darker shade of a process's colour: its trend stays visible on its own line.
fn darker((r, g, b): (u8, u8, u8)) -> (u8, u8, u8) {
    let shade = |c: u8| (c as f64 * 0.55).round() as u8;
    (shade(r), shade(g), shade(b))
}

/// A slope with its sign and three significant digits (at most three decimals),
/// as legends and gnuplot titles show it.
fn signed(value: f64) -> String {
    let decimals = match value.abs() {
        v if v >= 99.95 => 0,
        v if v >= 9.995 => 1,
        v if v >= 0.9995 => 2,
        _ => 3,
    };
    let text = format!("{value:+.decimals$}");
    // A slope that rounds to zero has no sign worth showing.
    if text[1..].chars().all(|c| c == '0' || c == '.') {
        format!("+{}", &text[1..])
    } else {
        text
    }
}

/// `+15.4 MiB/h`: the leak report's MB/h, named unambiguously beside the SI axis.
pub fn mb_per_hour(slope: f64) -> String {
    format!("{} MiB/h", signed(slope))
}

/// `+19.4 k/h`: objects per hour with an SI prefix.
pub fn objects_per_hour(slope: f64) -> String {
    let (value, prefix) = match slope.abs() {
        v if v >= 999_500.0 => (slope / 1e6, " M"),
        v if v >= 999.5 => (slope / 1e3, " k"),
        _ => (slope, ""),
    };
    format!("{}{prefix}/h", signed(value))
}

/// The report's RSS trend of a process as a line over its samples in the
/// window, labelled with the slope.
pub fn rss_trend(
    report: &ProcessReport,
    prefix: &str,
    color: (u8, u8, u8),
    zone: Zone,
) -> Option<Series> {
    let fit = report.rss?;
    Some(Series {
        label: format!("{prefix}RSS trend {}", mb_per_hour(fit.slope)),
        axis: Axis::Bytes,
        color,
        width: 2,
        style: LineStyle::Trend,
        points: trend_points(
            &fit,
            report.start_us,
            (report.start_us, report.end_us),
            BYTES_PER_MB,
            zone,
        ),
    })
}

/// First and last time of the samples that carry old objects (patched ones).
pub fn old_objects_span<'a>(
    samples: impl IntoIterator<Item = &'a ChartSample>,
) -> Option<(i64, i64)> {
    samples
        .into_iter()
        .filter(|s| s.old_objects.is_some())
        .map(|s| s.ts_us)
        .fold(None, |span, t| {
            Some(span.map_or((t, t), |(lo, hi): (i64, i64)| (lo.min(t), hi.max(t))))
        })
}

/// The fitted line (values in `unit`s against hours since `start_us`) from one
/// end of `span` to the other, in base units. The axis shows wall-clock time, so
/// where the zone's offset changes inside the span the line steps, as the samples
/// do; elsewhere two points make it.
pub fn trend_points(
    fit: &Fit,
    start_us: i64,
    (from_us, to_us): (i64, i64),
    unit: f64,
    zone: Zone,
) -> Vec<(i64, f64)> {
    let at = |t: i64| (t, fit.at((t - start_us) as f64 / US_PER_HOUR) * unit);
    let mut points = vec![at(from_us)];
    for change in zone.offset_changes(from_us, to_us) {
        points.extend([at(change - 1), at(change)]);
    }
    points.push(at(to_us));
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slopes_in_legends() {
        assert_eq!(mb_per_hour(15.38712), "+15.4 MiB/h");
        assert_eq!(mb_per_hour(6.0), "+6.00 MiB/h");
        assert_eq!(mb_per_hour(0.181), "+0.181 MiB/h");
        assert_eq!(mb_per_hour(-2.345), "-2.35 MiB/h");
        assert_eq!(mb_per_hour(-0.0001), "+0.000 MiB/h");
        assert_eq!(mb_per_hour(123.4), "+123 MiB/h");
        assert_eq!(objects_per_hour(19359.2), "+19.4 k/h");
        assert_eq!(objects_per_hour(47.0), "+47.0/h");
        assert_eq!(objects_per_hour(-1_500_000.0), "-1.50 M/h");
    }

    #[test]
    fn trend_lines_step_where_the_clock_does() {
        let fit = Fit {
            slope: 10.0,
            intercept: 100.0,
            slope_low: 9.0,
            slope_high: 11.0,
            r2: Some(1.0),
            n: 3,
        };
        let h = 3_600_000_000i64;
        let utc = crate::zone::UTC;
        let points = trend_points(&fit, 0, (h, 3 * h), BYTES_PER_MB, utc);
        assert_eq!(
            points,
            [(h, 110.0 * BYTES_PER_MB), (3 * h, 130.0 * BYTES_PER_MB)]
        );
        // 2017-03-12 07:00 UTC: New York moves from -05:00 to -04:00.
        let ny: Zone = "America/New_York".parse().unwrap();
        let change = 1_489_302_000_000_000i64;
        let points = trend_points(&fit, change - h, (change - h, change + h), 1.0, ny);
        assert_eq!(points.len(), 4);
        assert_eq!(points[2], (change, 110.0));
        assert_eq!(points[3], (change + h, 120.0));
    }

    #[test]
    fn si_prefixes() {
        assert_eq!(si(0.0, "B"), "0 B");
        assert_eq!(si(629_145_600.0, "B"), "629.1 MB");
        assert_eq!(si(2_000_000_000.0, "B"), "2 GB");
        assert_eq!(si(520_580.0, ""), "520.6 k");
        assert_eq!(si(950.0, ""), "950");
    }
}
