//! Rendering a [`Chart`] (the model in `report::chart`) to PNG or SVG with
//! plotters: whatever the model holds is drawn.

use std::path::Path;
use std::sync::Once;

use anyhow::{anyhow, Result};
use chrono::{DateTime, Utc};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::report::chart::{Axis, Chart, LineStyle};
use crate::store::MarkerKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Svg,
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn si_prefixes() {
        assert_eq!(si(0.0, "B"), "0 B");
        assert_eq!(si(629_145_600.0, "B"), "629.1 MB");
        assert_eq!(si(2_000_000_000.0, "B"), "2 GB");
        assert_eq!(si(520_580.0, ""), "520.6 k");
        assert_eq!(si(950.0, ""), "950");
    }
}
