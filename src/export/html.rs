//! The one-file HTML report: a [`Page`] written as HTML whose tables are
//! plain markup and whose charts uPlot draws from JSON in the page. Script,
//! styles and chart library are inlined; the page fetches nothing. Long series
//! are reduced for drawing with LTTB; the page says how many points each
//! line draws of how many, and which `export` writes them all.

use std::io::Write;

use anyhow::Result;
use serde_json::{json, Value as Json};

use crate::analysis::downsample::lttb;
use crate::report::chart::{Axis, Chart, LineStyle};
use crate::report::page::{HeapFinding, HeapFindings, Page, PageChart};
use crate::store::{MarkerKind, Table, Value};
use crate::zone::Zone;

const TEMPLATE: &str = include_str!("../../assets/html/report.html");
const STYLE: &str = include_str!("../../assets/html/report.css");
const SCRIPT: &str = include_str!("../../assets/html/report.js");
const UPLOT_JS: &str = include_str!("../../assets/html/vendor/uplot/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("../../assets/html/vendor/uplot/uPlot.min.css");
const UPLOT_LICENSE: &str = include_str!("../../assets/html/vendor/uplot/LICENSE");
const UPLOT_VERSION: &str = include_str!("../../assets/html/vendor/uplot/VERSION");

/// At most this many points of one line are drawn.
pub const DRAWN_POINTS: usize = 1000;

/// The version of the bundled uPlot, as pinned in `assets/html/vendor/uplot/VERSION`.
pub fn uplot_version() -> &'static str {
    UPLOT_VERSION.trim()
}

pub fn write_html(out: &mut dyn Write, page: &Page) -> Result<()> {
    let mut body = String::new();
    header(&mut body, page);
    verdicts(&mut body, page);
    charts_section(
        &mut body,
        "charts",
        "Memory per process",
        "RSS and PSS (left axis), live and old objects (right axis), the leak report's trend \
         lines with their slopes, heap dumps (brown, ▲) and restarts (red, dashed). Drag to \
         zoom, shift-drag to pan, ctrl + wheel to zoom around the pointer, double-click to \
         reset; hover for values.",
        &page.charts,
    );
    charts_section(
        &mut body,
        "overlays",
        "Each worker type's processes together",
        "RSS (solid) and PSS (dashed) of every selected process of one worker type on one host, a \
         colour per pid: the sawtooth of a worker restarted for memory.",
        &page.overlays,
    );
    messages(&mut body, &page.messages);
    heap_findings(&mut body, &page.heap, page.zone);
    footer(&mut body, &page.files);

    let data = json!({
        "zone": zone_json(page),
        "charts": page.charts.iter().chain(&page.overlays).map(chart_json).collect::<Vec<_>>(),
    });
    // `</` inside a script element would end it.
    let data = serde_json::to_string(&data)?.replace("</", "<\\/");
    let title = escape(&format!("miq-memlog report: {}", selection_of(page)));
    let html = fill(
        TEMPLATE,
        &[
            ("title", &title),
            ("uplot_css", UPLOT_CSS),
            ("style", STYLE),
            ("body", &body),
            ("data", &data),
            ("uplot_js", UPLOT_JS),
            ("script", SCRIPT),
        ],
    );
    out.write_all(html.as_bytes())?;
    Ok(())
}

/// Replaces each `{{name}}` of the template once, in one pass, so nothing
/// inserted is read as a placeholder.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut html =
        String::with_capacity(template.len() + values.iter().map(|v| v.1.len()).sum::<usize>());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        let name = &rest[start + 2..start + len];
        html.push_str(&rest[..start]);
        match values.iter().find(|(n, _)| *n == name) {
            Some((_, value)) => html.push_str(value),
            None => html.push_str(&rest[start..start + len + 2]),
        }
        rest = &rest[start + len + 2..];
    }
    html.push_str(rest);
    html
}

fn selection_of(page: &Page) -> String {
    page.provenance
        .iter()
        .find_map(|l| l.strip_prefix("selection: "))
        .unwrap_or("(everything)")
        .to_string()
}

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn header(body: &mut String, page: &Page) {
    let line = |prefix: &str| {
        page.provenance
            .iter()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_default()
    };
    body.push_str("<header>\n<h1>miq-memlog report</h1>\n<dl class=\"provenance\">\n");
    let mut item = |term: &str, html: String| {
        body.push_str(&format!("<dt>{term}</dt><dd>{html}</dd>\n"));
    };
    item(
        "rebuilt by",
        format!("<code>{}</code>", escape(&page.command)),
    );
    item("selection", escape(line("selection: ")));
    item(
        "database",
        format!(
            "{} <a href=\"#files\">(files)</a>",
            escape(line("database: "))
        ),
    );
    let file_zones = if page.file_zones.is_empty() {
        "none recorded".to_string()
    } else {
        page.file_zones.join(", ")
    };
    item(
        "zones",
        format!(
            "times shown in {}; the logs' local times were read in {}. Show times in \
             <select id=\"zone\" aria-label=\"time zone of the charts\"></select>",
            escape(&page.zone.to_string()),
            escape(&file_zones)
        ),
    );
    item(
        "tool",
        format!(
            "miq-memlog {}; charts drawn with uPlot {}",
            escape(line("miq-memlog ").trim()),
            escape(uplot_version())
        ),
    );
    body.push_str("</dl>\n</header>\n");
}

fn verdicts(body: &mut String, page: &Page) {
    body.push_str("<section id=\"verdicts\">\n<h2>Verdicts</h2>\n");
    body.push_str(
        "<p>As <code>report --by worker</code> and <code>report</code> print them; click a column \
         to sort. See the README's leak report for what each column means.</p>\n<h3>By worker \
         type</h3>\n",
    );
    table(body, "workers", &page.workers, None);
    body.push_str("<h3>By process</h3>\n");
    table(
        body,
        "processes",
        &page.processes,
        Some(&page.process_anchors),
    );
    body.push_str("</section>\n");
}

fn messages(body: &mut String, messages: &Table) {
    body.push_str("<section id=\"messages\">\n<h2>Growth after queue messages</h2>\n");
    body.push_str(
        "<p>As <code>report --by message</code> prints it: per worker type and message kind, the \
         RSS and old objects gained between the samples around each message.</p>\n",
    );
    if messages.rows.is_empty() {
        body.push_str("<p class=\"none\">No per-message samples in the selection.</p>\n");
    } else {
        table(body, "message-table", messages, None);
    }
    body.push_str("</section>\n");
}

/// The heap-findings section: the dumps the database knows, each beside its
/// process, then what their content says per process.
fn heap_findings(body: &mut String, heap: &HeapFindings, zone: Zone) {
    body.push_str("<section id=\"heap\">\n<h2>Heap dumps</h2>\n");
    if heap.dumps.is_empty() {
        body.push_str("<p class=\"none\">No heap dumps of the selection were ingested.</p>\n");
        body.push_str("</section>\n");
        return;
    }
    body.push_str(&format!(
        "<p>{} heap dumps of the selection, as the database holds them (time from each file's \
         name, in {}).</p>\n",
        heap.dumps.len(),
        escape(&zone.to_string())
    ));
    let rows: Vec<Vec<Value>> = heap
        .dumps
        .iter()
        .map(|d| {
            vec![
                Value::Text(d.host.clone()),
                Value::Integer(d.pid),
                Value::Text(d.worker.clone()),
                Value::Text(zone.format_local(d.ts_us, "%Y-%m-%d %H:%M:%S")),
                Value::Text(d.prefix.clone()),
                Value::Integer(d.size_bytes),
            ]
        })
        .collect();
    let anchors: Vec<Option<String>> = heap.dumps.iter().map(|d| d.anchor.clone()).collect();
    let dumps = Table {
        columns: ["host", "pid", "worker", "time", "prefix", "size_bytes"]
            .map(String::from)
            .to_vec(),
        rows,
    };
    table(body, "dump-table", &dumps, Some(&anchors));
    heap_processes(body, &heap.processes, zone);
    body.push_str("</section>\n");
}

/// Per process with two or more dumps read: the verdict over its dumps and
/// the sites retaining in the most windows, as `heap` prints them.
fn heap_processes(body: &mut String, processes: &[HeapFinding], zone: Zone) {
    if processes.is_empty() {
        return;
    }
    body.push_str(
        "<p>What the dumps hold, as <code>heap</code> finds it: a window is three consecutive \
         dumps of a process; the objects allocated between the first two and still live at the \
         third are retained, matched by address and allocation generation and grouped by \
         type, class and <code>file:line</code>. Sites that retain in every window come first.</p>\n",
    );
    for (i, p) in processes.iter().enumerate() {
        let worker = if p.worker.is_empty() {
            "worker unknown"
        } else {
            &p.worker
        };
        body.push_str(&format!(
            "<article class=\"heap-finding\" id=\"heap-{}\">\n<h3>{} pid {} ({}): {} dumps, {} .. {}</h3>\n",
            i + 1,
            escape(&p.host),
            p.pid,
            escape(worker),
            p.dumps,
            escape(&zone.format_local(p.first_us, "%Y-%m-%d %H:%M:%S")),
            escape(&zone.format_local(p.last_us, "%Y-%m-%d %H:%M:%S")),
        ));
        body.push_str(&format!(
            "<p class=\"heap-verdict v-{}\"><strong>{}</strong>: {}</p>\n",
            p.verdict.replace(' ', "-"),
            escape(p.verdict),
            escape(&p.reason)
        ));
        if p.sites.rows.is_empty() {
            body.push_str("<p class=\"none\">No site retained objects in any window.</p>\n");
        } else {
            table(body, &format!("heap-sites-{}", i + 1), &p.sites, None);
        }
        let chart = match &p.anchor {
            Some(a) => format!(" <a href=\"#{a}\">The process's chart.</a>"),
            None => String::new(),
        };
        body.push_str(&format!(
            "<p>Who holds them and a path from a ROOT: <code>{}</code>.{chart}</p>\n</article>\n",
            escape(&p.command)
        ));
    }
}

fn footer(body: &mut String, files: &Table) {
    body.push_str(&format!(
        "<footer>\n<details id=\"files\"><summary>The database's {} ingested files (logs and \
         heap dumps)</summary>\n",
        files.rows.len()
    ));
    table(body, "file-table", files, None);
    body.push_str("</details>\n");
    body.push_str(&format!(
        "<details><summary>uPlot {} licence</summary><pre>{}</pre></details>\n</footer>\n",
        escape(uplot_version()),
        escape(UPLOT_LICENSE)
    ));
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Integer(i) => i.to_string(),
        Value::Real(f) => f.to_string(),
        Value::Text(s) => s.clone(),
    }
}

/// A sortable table; with `anchors`, a first column linking each row to its chart.
fn table(body: &mut String, id: &str, table: &Table, anchors: Option<&Vec<Option<String>>>) {
    let numeric: Vec<bool> = (0..table.columns.len())
        .map(|i| {
            !table.rows.is_empty()
                && table
                    .rows
                    .iter()
                    .all(|r| matches!(r[i], Value::Integer(_) | Value::Real(_) | Value::Null))
        })
        .collect();
    body.push_str(&format!(
        "<div class=\"scroll\"><table class=\"sortable\" id=\"{id}\">\n<thead><tr>"
    ));
    if anchors.is_some() {
        body.push_str("<th class=\"nosort\">chart</th>");
    }
    for (name, &num) in table.columns.iter().zip(&numeric) {
        let class = if num { " class=\"num\"" } else { "" };
        body.push_str(&format!(
            "<th{class} data-type=\"{}\" tabindex=\"0\">{}</th>",
            if num { "num" } else { "text" },
            escape(name)
        ));
    }
    body.push_str("</tr></thead>\n<tbody>\n");
    for (i, row) in table.rows.iter().enumerate() {
        let verdict = table
            .columns
            .iter()
            .position(|c| c == "verdict")
            .map(|v| cell(&row[v]));
        match verdict {
            Some(v) => body.push_str(&format!("<tr class=\"v-{}\">", escape(&v))),
            None => body.push_str("<tr>"),
        }
        if let Some(anchors) = anchors {
            match anchors.get(i).and_then(Option::as_ref) {
                Some(a) => body.push_str(&format!("<td><a href=\"#{a}\">chart</a></td>")),
                None => body.push_str("<td></td>"),
            }
        }
        for ((v, &num), name) in row.iter().zip(&numeric).zip(&table.columns) {
            let class = match (num, name == "verdict") {
                (true, _) => " class=\"num\"",
                (false, true) => " class=\"verdict\"",
                _ => "",
            };
            body.push_str(&format!("<td{class}>{}</td>", escape(&cell(v))));
        }
        body.push_str("</tr>\n");
    }
    body.push_str("</tbody></table></div>\n");
}

fn charts_section(body: &mut String, id: &str, title: &str, intro: &str, charts: &[PageChart]) {
    body.push_str(&format!(
        "<section id=\"{id}\">\n<h2>{}</h2>\n<p>{}</p>\n",
        escape(title),
        escape(intro)
    ));
    for c in charts {
        chart_block(body, c);
    }
    body.push_str("</section>\n");
}

fn chart_block(body: &mut String, page_chart: &PageChart) {
    let chart = &page_chart.chart;
    body.push_str(&format!(
        "<article class=\"chart\" id=\"{}\">\n<h3>{}</h3>\n<p class=\"subtitle\">{}</p>\n\
         <div class=\"plot\" data-chart=\"{}\"></div>\n",
        page_chart.anchor,
        escape(&chart.title),
        escape(&chart.subtitle),
        page_chart.anchor
    ));
    let dumps = chart
        .markers
        .iter()
        .filter(|m| m.kind == MarkerKind::Dump)
        .count();
    let restarts = chart.markers.len() - dumps;
    let mut points: Vec<String> = chart
        .series
        .iter()
        .filter(|s| s.style != LineStyle::Trend)
        .map(|s| {
            let drawn = s.points.len().min(DRAWN_POINTS);
            format!("{} {drawn} of {}", escape(&s.label), s.points.len())
        })
        .collect();
    if points.is_empty() {
        points.push("no samples".to_string());
    }
    body.push_str(&format!(
        "<p class=\"points\">{dumps} heap dumps, {restarts} restarts. Points drawn: {}. All of \
         them: <code>{}</code></p>\n</article>\n",
        points.join("; "),
        escape(&page_chart.export_command)
    ));
}

fn hex((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// A chart as uPlot draws it: each line its own table of times (ms, the
/// first absolute, then differences) and values, reduced with LTTB.
fn chart_json(page_chart: &PageChart) -> Json {
    let chart: &Chart = &page_chart.chart;
    let series: Vec<Json> = chart
        .series
        .iter()
        .map(|s| {
            let xy: Vec<(f64, f64)> = s.points.iter().map(|&(t, v)| (t as f64, v)).collect();
            let mut times = Vec::new();
            let mut values = Vec::new();
            let mut last_ms: Option<i64> = None;
            for i in lttb(&xy, DRAWN_POINTS) {
                let (t, v) = s.points[i];
                let ms = t.div_euclid(1000);
                // Two samples in one millisecond: the first stands for both.
                if last_ms == Some(ms) {
                    continue;
                }
                times.push(match last_ms {
                    Some(prev) => ms - prev,
                    None => ms,
                });
                values.push(if v.is_finite() {
                    Json::from(v.round() as i64)
                } else {
                    Json::Null
                });
                last_ms = Some(ms);
            }
            json!({
                "label": s.label,
                "axis": match s.axis { Axis::Bytes => "bytes", Axis::Objects => "objects" },
                "color": hex(s.color),
                "width": s.width,
                "dash": match s.style {
                    LineStyle::Solid => json!([]),
                    LineStyle::Dashed => json!([8, 5]),
                    LineStyle::Trend => json!([16, 7]),
                },
                "trend": s.style == LineStyle::Trend,
                "total": s.points.len(),
                "t": times,
                "y": values,
            })
        })
        .collect();
    let markers: Vec<Json> = chart
        .markers
        .iter()
        .map(|m| {
            json!([
                m.ts_us.div_euclid(1000),
                match m.kind {
                    MarkerKind::Dump => "dump",
                    MarkerKind::Restart => "restart",
                }
            ])
        })
        .collect();
    json!({
        "id": page_chart.anchor,
        "title": chart.title,
        "series": series,
        "markers": markers,
    })
}

/// The zones the page can show times in, each as its UTC offsets over the
/// charts' span: `[[from_ms, offset_minutes], ...]`, the first from the
/// beginning of time.
fn zone_json(page: &Page) -> Json {
    let times = page.charts.iter().chain(&page.overlays).flat_map(|c| {
        c.chart
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .chain(c.chart.markers.iter().map(|m| m.ts_us))
    });
    let (first, last) = times.fold((i64::MAX, i64::MIN), |(lo, hi), t| (lo.min(t), hi.max(t)));
    let (first, last) = if first > last { (0, 0) } else { (first, last) };
    let offsets = |zone: Zone| {
        let minutes = |t: i64| (zone.utc_to_local_us(t) - t) / 60_000_000;
        let mut list = vec![json!([i64::MIN / 2000, minutes(first)])];
        for change in zone.offset_changes(first, last) {
            list.push(json!([change.div_euclid(1000), minutes(change)]));
        }
        Json::from(list)
    };
    let mut zones = vec![json!({"name": page.zone.to_string(), "offsets": offsets(page.zone)})];
    if page.zone != crate::zone::UTC {
        zones.push(json!({"name": "UTC", "offsets": offsets(crate::zone::UTC)}));
    }
    json!(zones)
}
