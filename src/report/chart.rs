//! The chart model: a plain [`Chart`] of series and markers, built from a
//! process's samples, events and leak-report fits (`process_chart`,
//! `overlay_chart`). Renderers (PNG and SVG in `export::chart`, gnuplot scripts,
//! the HTML report) draw whatever the model holds; a fitted trend is one more
//! [`Series`].

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
}
