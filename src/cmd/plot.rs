use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::ValueEnum;

use crate::cmd::select_args::Selectors;
use crate::export::chart::{render, ImageFormat};
use crate::export::files::{ensure_dir, FileNamer};
use crate::report::chart::Chart;
use crate::report::{for_each_chart, selected_processes};
use crate::store::{Access, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlotFormat {
    Png,
    Svg,
}

/// Draws memory charts without any external program: per process RSS and PSS
/// (bytes, left axis), live and old objects (right axis, patched samples only),
/// heap dumps (brown lines with a triangle) and restarts (dashed red lines:
/// memory_exceeded events). Files are named like the gnuplot export. With
/// --trend, the leak report's fitted RSS line too.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub select: Selectors,
    /// Image format.
    #[arg(long, value_enum, default_value = "png")]
    pub format: PlotFormat,
    /// Folder for the images.
    #[arg(long, value_name = "DIR", default_value = "output")]
    pub out: PathBuf,
    /// One chart per host and worker type with all its selected processes
    /// (the sawtooth of restarts across pids), instead of one per process.
    #[arg(long)]
    pub overlay: bool,
    /// Image size in pixels, WIDTHxHEIGHT.
    #[arg(long, value_name = "WxH", default_value = "1280x720", value_parser = parse_size)]
    pub size: (u32, u32),
    /// Draw each process's RSS trend, the Theil–Sen line of `report` (same
    /// selectors, same samples), with its slope in MB/h in the legend; and its
    /// old-objects trend when old objects decide its verdict (not with --overlay).
    #[arg(long)]
    pub trend: bool,
}

fn parse_size(text: &str) -> Result<(u32, u32), String> {
    let (w, h) = text
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("'{text}' is not WIDTHxHEIGHT"))?;
    let w: u32 = w
        .parse()
        .map_err(|_| format!("'{text}' is not WIDTHxHEIGHT"))?;
    let h: u32 = h
        .parse()
        .map_err(|_| format!("'{text}' is not WIDTHxHEIGHT"))?;
    if !(200..=10000).contains(&w) || !(150..=10000).contains(&h) {
        return Err(format!("{text}: width 200 to 10000, height 150 to 10000"));
    }
    Ok((w, h))
}

pub fn run(db: &Path, args: Args) -> Result<ExitCode> {
    let selection = args.select.selection()?;
    let store = Store::open(db, Access::ReadOnly)?;
    let zone = args.select.tz;
    let processes = selected_processes(&store, &selection, &args.select.describe(), zone)?;
    let (format, ext) = match args.format {
        PlotFormat::Png => (ImageFormat::Png, "png"),
        PlotFormat::Svg => (ImageFormat::Svg, "svg"),
    };
    ensure_dir(&args.out)?;
    let mut namer = FileNamer::new(selection.from_us, selection.to_us, zone);
    let mut stderr = io::stderr().lock();
    let draw = args.select.draw_options(args.trend);
    for_each_chart(
        &store,
        &selection,
        &processes,
        &draw,
        args.overlay,
        |key, chart| {
            let stem = namer.name(&key.host, &key.label, key.first_us, &key.worker);
            let path = args.out.join(format!("{stem}.{ext}"));
            draw_to(&chart, &path, format, args.size)?;
            writeln!(stderr, "wrote {}", path.display())?;
            Ok(())
        },
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Renders through a `.partial` file renamed into place, like every other output.
fn draw_to(chart: &Chart, path: &Path, format: ImageFormat, size: (u32, u32)) -> Result<()> {
    // The image encoder goes by the extension, so it stays last.
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("png");
    let tmp = path.with_extension(format!("partial.{ext}"));
    if let Err(e) = render(chart, &tmp, format, size) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.context(format!("drawing {}", path.display())));
    }
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}
