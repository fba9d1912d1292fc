//! `html`: the one-file report opened in a real headless Chromium driven over
//! the DevTools protocol (no console error, every chart drawn, hover values,
//! sorting, nothing fetched, a screenshot for the README), and the file itself
//! (same bytes on re-run, its size, no URL to fetch, the report's own rows).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use std::{fs, thread};

use base64::Engine;
use serde_json::{json, Value};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

mod fixture_db;
mod heap_dumps;
use fixture_db::{records, repo, FixtureDb};

const CHROMIUM: &str = "/usr/bin/chromium";

/// A headless Chromium with one page, driven over its DevTools websocket.
struct Browser {
    child: Child,
    socket: WebSocket<MaybeTlsStream<TcpStream>>,
    session: String,
    next_id: u64,
    /// Every event of the page seen so far.
    events: Vec<Value>,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn launch(width: u32, height: u32) -> Browser {
        assert!(
            Path::new(CHROMIUM).exists(),
            "{CHROMIUM} is missing: the HTML report is tested in a real browser \
             (apt-get install chromium; .ci/run installs it)"
        );
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(CHROMIUM)
            .args([
                "--headless",
                // Root (as in CI) needs it; the page is our own file.
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--mute-audio",
                "--hide-scrollbars",
                "--force-device-scale-factor=1",
                "--remote-debugging-port=0",
                &format!("--window-size={width},{height}"),
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            // The page offers "this browser's zone": make it one with an offset.
            .env("TZ", "America/New_York")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start chromium");
        // The websocket address is on stderr; the rest of stderr is drained so
        // the browser never blocks on it.
        let stderr = child.stderr.take().unwrap();
        let (found, address) = mpsc::channel();
        thread::spawn(move || {
            let mut found = Some(found);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.split_whitespace().find(|w| w.starts_with("ws://")) {
                    if let Some(tx) = found.take() {
                        let _ = tx.send(url.to_string());
                    }
                }
            }
        });
        let url = address
            .recv_timeout(Duration::from_secs(60))
            .expect("chromium prints its DevTools address");
        let (mut socket, _) = tungstenite::connect(url.as_str()).expect("connect to chromium");
        if let MaybeTlsStream::Plain(s) = socket.get_mut() {
            s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        }
        let mut browser = Browser {
            child,
            socket,
            session: String::new(),
            next_id: 0,
            events: Vec::new(),
            _profile: profile,
        };
        let target = browser.call(None, "Target.createTarget", json!({"url": "about:blank"}));
        let attached = browser.call(
            None,
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        browser.session = attached["sessionId"].as_str().unwrap().to_string();
        for domain in ["Page", "Runtime", "Log", "Network"] {
            browser.send(&format!("{domain}.enable"), json!({}));
        }
        browser
    }

    fn read(&mut self) -> Value {
        loop {
            match self.socket.read().expect("read from chromium") {
                Message::Text(text) => return serde_json::from_str(&text).unwrap(),
                Message::Close(_) => panic!("chromium closed the connection"),
                _ => {}
            }
        }
    }

    /// Sends a command (to the page when `session` is given) and returns its result.
    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            message["sessionId"] = json!(s);
        }
        self.socket
            .send(Message::Text(message.to_string().into()))
            .expect("send to chromium");
        loop {
            let reply = self.read();
            if reply["id"] == json!(id) {
                assert!(reply.get("error").is_none(), "{method}: {reply}");
                return reply["result"].clone();
            }
            if reply.get("method").is_some() {
                self.events.push(reply);
            }
        }
    }

    fn send(&mut self, method: &str, params: Value) -> Value {
        let session = self.session.clone();
        self.call(Some(&session), method, params)
    }

    /// Runs a script in the page (awaiting a promise) and returns its value.
    fn eval(&mut self, script: &str) -> Value {
        let result = self.send(
            "Runtime.evaluate",
            json!({"expression": script, "awaitPromise": true, "returnByValue": true}),
        );
        assert!(
            result.get("exceptionDetails").is_none(),
            "{script}: {}",
            result["exceptionDetails"]
        );
        result["result"]["value"].clone()
    }

    fn wait_for(&mut self, method: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.events.iter().any(|e| e["method"] == method) {
            assert!(Instant::now() < deadline, "no {method} within 60 s");
            let event = self.read();
            self.events.push(event);
        }
    }

    fn open(&mut self, file: &Path) {
        self.events.clear();
        let url = format!("file://{}", file.display());
        self.send("Page.navigate", json!({"url": url}));
        self.wait_for("Page.loadEventFired");
    }

    fn mouse(&mut self, kind: &str, x: f64, y: f64) {
        let mut params = json!({"type": kind, "x": x, "y": y, "button": "none"});
        if kind != "mouseMoved" {
            params["button"] = json!("left");
            params["clickCount"] = json!(1);
        }
        self.send("Input.dispatchMouseEvent", params);
    }

    /// Console errors, exceptions and error log entries seen so far.
    fn errors(&self) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| {
                (e["method"] == "Runtime.consoleAPICalled"
                    && matches!(e["params"]["type"].as_str(), Some("error" | "assert")))
                    || e["method"] == "Runtime.exceptionThrown"
                    || (e["method"] == "Log.entryAdded" && e["params"]["entry"]["level"] == "error")
            })
            .map(Value::to_string)
            .collect()
    }

    /// Every URL the page requested.
    fn requests(&self) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| e["method"] == "Network.requestWillBeSent")
            .map(|e| {
                e["params"]["request"]["url"]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            })
            .collect()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Scrolls every chart into view, waits for it to be drawn, and returns per
/// chart the count of its canvas's pixels that are not white or transparent.
const INK_PER_CHART: &str = r#"
(async () => {
  const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const ink = {};
  for (const el of document.querySelectorAll('.plot[data-chart]')) {
    el.scrollIntoView();
    for (let i = 0; i < 100 && !el.querySelector('canvas'); i++) await frame();
    await frame();
    const canvas = el.querySelector('canvas');
    if (!canvas) { ink[el.dataset.chart] = -1; continue; }
    const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 0; i < px.length; i += 4) {
      if (px[i + 3] > 0 && (px[i] < 240 || px[i + 1] < 240 || px[i + 2] < 240)) n++;
    }
    ink[el.dataset.chart] = n;
  }
  window.scrollTo(0, 0);
  await frame();
  return ink;
})()
"#;

fn write_report(fixtures: &FixtureDb, out: &str, selectors: &[&str]) -> Vec<u8> {
    let mut args = vec!["html"];
    args.extend(selectors);
    args.extend(["--out", out]);
    fixtures.ok(&args);
    fs::read(fixtures.path().join(out)).unwrap()
}

/// What would make the page reach outside itself.
fn fetches(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut found = Vec::new();
    for needle in [
        "src=\"http",
        "src='http",
        "href=\"http",
        "href='http",
        "href=\"//",
        "src=\"//",
        "url(http",
        "url(\"http",
        "url('http",
        "url(//",
        "@import",
        "<link",
        "<img",
        "<iframe",
        "<script src",
        "fetch(",
        "xmlhttprequest",
        "import(",
        "navigator.sendbeacon",
        "new websocket",
        "new eventsource",
    ] {
        if lower.contains(needle) {
            found.push(needle.to_string());
        }
    }
    found
}

#[test]
fn the_fixtures_report_in_a_real_browser() {
    let fixtures = FixtureDb::new();
    // As a user would run it beside the database: the header shows this command.
    fixture_db::ok(
        fixtures.path(),
        Path::new("miq-memlog.db"),
        &["html", "--out", "report.html"],
    );
    let file = fixtures.path().join("report.html");
    let html = fs::read(&file).unwrap();
    let charts = String::from_utf8_lossy(&html)
        .matches("class=\"plot\"")
        .count();
    assert_eq!(charts, 12 + 9, "12 processes and 9 worker types of a host");

    let started = Instant::now();
    let mut browser = Browser::launch(1400, 1900);
    browser.open(&file);
    let state = browser
        .eval("({charts: miqReport.charts, drawn: miqReport.drawn, readyMs: miqReport.readyMs})");
    assert_eq!(state["charts"], json!(charts));
    let ready_ms = state["readyMs"].as_f64().unwrap();
    assert!(ready_ms < 1000.0, "first charts drawn after {ready_ms} ms");

    // Every chart drawn: each canvas has ink.
    let ink: BTreeMap<String, i64> = serde_json::from_value(browser.eval(INK_PER_CHART)).unwrap();
    assert_eq!(ink.len(), charts);
    for (chart, pixels) in &ink {
        assert!(
            *pixels > 2000,
            "chart {chart} is blank ({pixels} inked pixels)"
        );
    }

    // The screenshot in the README: header, verdicts and the first chart,
    // hovered.
    let first = browser.eval(
        r#"(() => { window.scrollTo(0, 0); const r = document.querySelector('.u-over').getBoundingClientRect();
          return [r.left + r.width * 0.62, r.top + r.height * 0.4]; })()"#,
    );
    browser.mouse(
        "mouseMoved",
        first[0].as_f64().unwrap(),
        first[1].as_f64().unwrap(),
    );
    let shot = browser.send(
        "Page.captureScreenshot",
        json!({"format": "png", "clip": {"x": 0, "y": 0, "width": 1400, "height": 1900, "scale": 1}}),
    );
    let png = base64::engine::general_purpose::STANDARD
        .decode(shot["data"].as_str().unwrap())
        .unwrap();
    assert_eq!(fixture_db::png_size(&png), (1400, 1900));
    fs::write(repo().join("docs/html-report.png"), png).unwrap();

    // A real mouse over the chart of pid 55012 shows values and a time in the legend.
    let at = browser.eval(
        r#"(() => {
          const art = [...document.querySelectorAll('article.chart')].find(a => a.querySelector('h3').textContent.endsWith('pid 55012'));
          art.scrollIntoView();
          const r = art.querySelector('.u-over').getBoundingClientRect();
          return [r.left + r.width * 0.5, r.top + r.height * 0.5, art.id];
        })()"#,
    );
    let (x, y) = (at[0].as_f64().unwrap(), at[1].as_f64().unwrap());
    let id = at[2].as_str().unwrap().to_string();
    // "label: value" per legend row.
    let legend = |browser: &mut Browser| {
        browser.eval(&format!(
            "[...document.querySelectorAll('#{id} .u-legend tr')].map(tr => \
             tr.querySelector('.u-label').textContent + ':' + tr.querySelector('.u-value').textContent)"
        ))
    };
    let before = legend(&mut browser);
    assert!(before.to_string().contains("\"RSS:—\""), "{before}");
    browser.mouse("mouseMoved", x - 5.0, y);
    browser.mouse("mouseMoved", x, y);
    let after = legend(&mut browser);
    let rows: Vec<String> = serde_json::from_value(after.clone()).unwrap();
    let time = rows.iter().find(|r| r.starts_with("time:")).unwrap();
    assert!(
        time.starts_with("time:2017-03-0") && time.ends_with(" UTC"),
        "{after}"
    );
    let rss = rows.iter().find(|r| r.starts_with("RSS:")).unwrap();
    assert!(rss.ends_with(" MB") && rss.len() > 7, "{after}");
    // The trend line is read where the cursor is, with its slope in the label.
    let trend = rows.iter().find(|r| r.starts_with("RSS trend +")).unwrap();
    assert!(
        trend.contains(" MiB/h:") && trend.ends_with(" MB"),
        "{after}"
    );
    // The zone chooser: the same instant in the browser's zone (New York, EST).
    browser.eval(
        r#"(() => { const s = document.getElementById('zone'); s.value = String([...s.options].findIndex(o => o.textContent.startsWith('this browser'))); s.dispatchEvent(new Event('change')); })()"#,
    );
    browser.mouse("mouseMoved", x + 40.0, y);
    browser.mouse("mouseMoved", x, y);
    let rows: Vec<String> = serde_json::from_value(legend(&mut browser)).unwrap();
    let local = rows.iter().find(|r| r.starts_with("time:")).unwrap();
    assert!(local.ends_with(" -05:00"), "{local}");
    let hours = |t: &str| -> i64 { t[16..18].parse().unwrap() };
    assert_eq!((hours(time) - hours(local) + 24) % 24, 5, "{time} {local}");
    assert_eq!(time[19..25], local[19..25], "same minutes and seconds");

    // Clicking a column header sorts the verdict table, again reverses it.
    let pids = |browser: &mut Browser| -> Vec<i64> {
        serde_json::from_value(browser.eval(
            "[...document.querySelectorAll('#processes tbody tr')].map(tr => Number(tr.cells[2].textContent))",
        ))
        .unwrap()
    };
    let unsorted = pids(&mut browser);
    let head = browser.eval(
        r#"(() => { const th = [...document.querySelectorAll('#processes th')].find(th => th.textContent === 'pid');
          th.scrollIntoView(); const r = th.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()"#,
    );
    let (hx, hy) = (head[0].as_f64().unwrap(), head[1].as_f64().unwrap());
    browser.mouse("mousePressed", hx, hy);
    browser.mouse("mouseReleased", hx, hy);
    let ascending = pids(&mut browser);
    let mut expected = unsorted.clone();
    expected.sort();
    assert_ne!(
        unsorted, expected,
        "the report's order is by verdict, not pid"
    );
    assert_eq!(ascending, expected);
    browser.mouse("mousePressed", hx, hy);
    browser.mouse("mouseReleased", hx, hy);
    expected.reverse();
    assert_eq!(pids(&mut browser), expected);

    // Nothing but the file itself was requested.
    let url = format!("file://{}", file.display());
    assert_eq!(browser.requests(), [url]);
    assert_eq!(browser.errors(), Vec::<String>::new());

    eprintln!("browser checks took {:?}", started.elapsed());
}

#[test]
fn the_same_command_writes_the_same_bytes() {
    let fixtures = FixtureDb::new();
    let selectors = [
        "--worker",
        "MetricsProcessor",
        "--to",
        "2017-03-02 18:00",
        "--tz",
        "America/New_York",
    ];
    let first = write_report(&fixtures, "a.html", &selectors);
    let again = write_report(&fixtures, "a.html", &selectors);
    assert!(first == again, "a second run changed the file");
    let text = String::from_utf8(first).unwrap();
    // The header states how to rebuild it, from what, with which tool and zones.
    let db = fixtures.db.display().to_string();
    assert!(text.contains(&format!(
        "<code>miq-memlog --db {db} html --worker MetricsProcessor --to &#39;2017-03-02 18:00&#39; --tz America/New_York --out a.html</code>"
    )));
    assert!(text.contains(&format!("miq-memlog {}", env!("CARGO_PKG_VERSION"))));
    assert!(text.contains("uPlot 1.6.32"));
    assert!(text.contains("4 ingested log files, content digest c5d0c3295f3d02bf"));
    assert!(text.contains("times shown in America/New_York"));
    // Three processes drawn, each chart naming the export of all its samples.
    assert_eq!(text.matches("<article class=\"chart\"").count(), 3 + 1);
    assert!(text.contains("export --format csv --host appliance-a --pid 55012 --to &#39;2017-03-02 18:00&#39; --tz America/New_York"));
}

#[test]
fn the_verdicts_are_the_reports_rows() {
    let fixtures = FixtureDb::new();
    let html = String::from_utf8(write_report(&fixtures, "r.html", &[])).unwrap();
    for (by, id) in [
        ("process", "processes"),
        ("worker", "workers"),
        ("message", "message-table"),
    ] {
        let report = records(&fixtures.ok(&["report", "--by", by, "--format", "csv"]));
        let start = html.find(&format!("id=\"{id}\"")).unwrap();
        let table = &html[start..start + html[start..].find("</table>").unwrap()];
        let rows: Vec<&str> = table.split("<tr").skip(2).collect();
        assert_eq!(rows.len(), report.len(), "{by}");
        for (row, expected) in rows.iter().zip(&report) {
            for (column, value) in expected {
                let cell = fixture_db_escape(value);
                assert!(
                    row.contains(&format!(">{cell}</td>")),
                    "{by} {column}={value} missing from {row}"
                );
            }
        }
    }
    // Every process row links to its chart, which exists.
    let start = html.find("id=\"processes\"").unwrap();
    let table = &html[start..start + html[start..].find("</table>").unwrap()];
    let links: Vec<&str> = table
        .split("<a href=\"#")
        .skip(1)
        .map(|s| &s[..s.find('"').unwrap()])
        .collect();
    assert_eq!(links.len(), 12);
    for link in links {
        assert!(
            html.contains(&format!("<article class=\"chart\" id=\"{link}\">")),
            "{link}"
        );
    }
    // The heap dumps the database knows, with the pid no log names.
    let start = html.find("id=\"dump-table\"").unwrap();
    let dumps = &html[start..start + html[start..].find("</table>").unwrap()];
    assert_eq!(
        dumps.matches("<tr>").count(),
        1 + 5,
        "header and five dumps"
    );
    assert!(dumps.contains(">51377</td>"));
}

fn fixture_db_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[test]
fn nothing_in_the_file_fetches_a_url_and_its_size_is_bounded() {
    let fixtures = FixtureDb::new();
    let html = write_report(&fixtures, "r.html", &[]);
    let text = String::from_utf8(html.clone()).unwrap();
    assert_eq!(fetches(&text), Vec::<String>::new());
    // uPlot (51 kB) and 21 charts of at most a few hundred samples per line.
    let size = html.len();
    assert!((150_000..400_000).contains(&size), "{size} bytes");
}

/// A generated fleet: four appliances over two days, every line reduced to
/// at most 1000 points, opened in the browser within a second.
#[test]
fn a_fleet_report_stays_small_and_fast() {
    let fixtures = FixtureDb::empty();
    let out = fixtures.path().join("fleet");
    let out_text = out.to_str().unwrap();
    fixtures.ok(&[
        "generate",
        "--seed",
        "5",
        "--appliances",
        "4",
        "--days",
        "2",
        "--interval",
        "120",
        "--out",
        out_text,
    ]);
    let mut ingest = vec![
        "ingest".to_string(),
        "--quiet".into(),
        "--host-from-folder".into(),
    ];
    for entry in fs::read_dir(&out).unwrap() {
        let path: PathBuf = entry.unwrap().path();
        if path.is_dir() {
            ingest.push(path.display().to_string());
        }
    }
    let ingest: Vec<&str> = ingest.iter().map(String::as_str).collect();
    fixtures.ok(&ingest);
    let started = Instant::now();
    let html = write_report(&fixtures, "fleet.html", &[]);
    let write_time = started.elapsed();
    let text = String::from_utf8_lossy(&html);
    let charts = text.matches("class=\"plot\"").count();
    assert!(charts >= 40, "{charts} charts");
    let size = html.len();
    assert!(size < 3_000_000, "{size} bytes for {charts} charts");
    assert!(size / charts < 60_000, "{} bytes per chart", size / charts);
    assert_eq!(fetches(&text), Vec::<String>::new());
    // No line draws more than 1000 points, and the page says so.
    assert!(text.contains(" 1000 of "));

    let mut browser = Browser::launch(1400, 1000);
    browser.open(&fixtures.path().join("fleet.html"));
    // The first screen is ready within a second of navigation; every chart
    // draws as it scrolls into view, in a few tens of milliseconds each.
    let ready_ms = browser.eval("miqReport.readyMs").as_f64().unwrap();
    assert!(ready_ms < 1000.0, "first screen ready after {ready_ms} ms");
    let ink: BTreeMap<String, i64> = serde_json::from_value(browser.eval(INK_PER_CHART)).unwrap();
    assert_eq!(ink.len(), charts);
    for (chart, pixels) in &ink {
        assert!(
            *pixels > 2000,
            "chart {chart} is blank ({pixels} inked pixels)"
        );
    }
    let draw_ms = browser.eval("miqReport.drawMs").as_f64().unwrap();
    assert!(
        draw_ms / (charts as f64) < 100.0,
        "{draw_ms} ms for {charts} charts"
    );
    assert_eq!(browser.errors(), Vec::<String>::new());
    eprintln!(
        "fleet: {charts} charts, {size} bytes, written in {write_time:?}; first screen ready after \
         {ready_ms:.0} ms, all charts drawn in {draw_ms:.0} ms"
    );
}

/// The dumps of tests/heap/leak.rb (four, an hour apart) with the process's
/// log: the page shows the verdict over them and the sites the script
/// planted, first, with the counts it planted, and nothing of its churn.
#[test]
fn the_heap_findings_show_the_planted_leak_sites() {
    let fixtures = FixtureDb::empty();
    let (dumps, expected) = heap_dumps::leak_dumps(fixtures.path(), "leak");
    let log = fixtures.path().join("evm.log");
    heap_dumps::memory_log(&log, heap_dumps::PID, 4, 0);
    fixtures.ok(&[
        "ingest",
        "--tz",
        "UTC",
        dumps.to_str().unwrap(),
        log.to_str().unwrap(),
    ]);
    fixtures.ok(&["html", "--out", "heap.html"]);
    let file = fixtures.path().join("heap.html");
    let mut browser = Browser::launch(1400, 1900);
    browser.open(&file);
    let found = browser.eval(
        r#"[...document.querySelectorAll('#heap .heap-finding')].map(a => ({
             title: a.querySelector('h3').textContent,
             verdict: a.querySelector('.heap-verdict strong').textContent,
             chart: a.querySelector('a') ? a.querySelector('a').getAttribute('href') : null,
             columns: [...a.querySelectorAll('thead th')].map(th => th.textContent),
             rows: [...a.querySelectorAll('tbody tr')].map(tr => [...tr.cells].map(td => td.textContent)),
           }))"#,
    );
    assert_eq!(browser.errors(), Vec::<String>::new());
    let found = found.as_array().unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    let p = &found[0];
    assert_eq!(
        p["title"],
        "appliance pid 4242 (MiqGenericWorker): 4 dumps, 2023-11-14 22:13:20 .. 2023-11-15 01:13:20"
    );
    assert_eq!(p["verdict"], "heap grows");
    let chart = p["chart"].as_str().unwrap();
    assert!(
        browser.eval(&format!("!!document.querySelector('{chart} .plot')")) == json!(true),
        "{chart}"
    );
    let columns: Vec<&str> = p["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let col = |name: &str| columns.iter().position(|c| *c == name).unwrap();
    let rows = p["rows"].as_array().unwrap();
    let cell = |row: &Value, name: &str| row[col(name)].as_str().unwrap().to_string();
    // The planted sites, each with its type and class, in the script's words.
    let file = expected["file"].as_str().unwrap();
    let planted = [
        ("orders", "OBJECT", "Order"),
        ("strings", "STRING", "String"),
        ("hashes", "HASH", "Hash"),
    ];
    let windows = expected["windows"].as_array().unwrap();
    let mut first: Vec<String> = rows[..planted.len()]
        .iter()
        .map(|r| cell(r, "site"))
        .collect();
    first.sort();
    let mut planted_sites: Vec<String> = planted
        .iter()
        .map(|(name, _, _)| format!("{file}:{}", expected["sites"][name]))
        .collect();
    planted_sites.sort();
    assert_eq!(first, planted_sites, "the planted sites come first");
    for (name, kind, class) in planted {
        let site = format!("{file}:{}", expected["sites"][name]);
        let row = rows.iter().find(|r| cell(r, "site") == site).unwrap();
        let per_window = windows[0][&site].as_u64().unwrap();
        let total: u64 = windows.iter().map(|w| w[&site].as_u64().unwrap()).sum();
        assert_eq!(cell(row, "windows"), format!("{0}/{0}", windows.len()));
        assert_eq!(cell(row, "type"), kind);
        assert_eq!(cell(row, "class"), class);
        assert_eq!(cell(row, "objects"), total.to_string(), "{site}");
        assert_eq!(cell(row, "objects_per_hour"), per_window.to_string());
        assert_eq!(
            cell(row, "per_window"),
            windows
                .iter()
                .map(|w| w[&site].to_string())
                .collect::<Vec<_>>()
                .join(" ")
        );
        assert!(cell(row, "bytes").parse::<u64>().unwrap() >= 40 * total);
    }
    for quiet in ["churn", "garbage"] {
        let site = format!("{file}:{}", expected["sites"][quiet]);
        assert!(rows.iter().all(|r| cell(r, "site") != site), "{quiet}");
    }
}
