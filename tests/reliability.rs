//! Reliability: faults, hostile input and concurrency never lose or corrupt data.
//!
//! Each test drives the built binary against databases in temporary folders and
//! checks the outcome with the real `sqlite3` shell. Logs are generated here, so
//! every expected count is known exactly.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use flate2::write::GzEncoder;
use flate2::Compression;
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_miq-memlog");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");

// ---------------------------------------------------------------- helpers

fn miq(db: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--db").arg(db).env_remove("MIQ_MEMLOG_DB");
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("miq-memlog runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[track_caller]
fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "expected success, got {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        stdout(out),
        stderr(out)
    );
    assert!(!stderr(out).contains("panicked"), "{}", stderr(out));
}

#[track_caller]
fn assert_fails(out: &Output) {
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected a clean failure, got {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        stdout(out),
        stderr(out)
    );
    assert!(!stderr(out).contains("panicked"), "{}", stderr(out));
}

/// Runs one statement with the `sqlite3` shell and returns its output, trimmed.
#[track_caller]
fn sql(db: &Path, query: &str) -> String {
    let out = Command::new("sqlite3")
        .arg(db)
        .arg(query)
        .output()
        .expect("the sqlite3 shell runs");
    assert!(out.status.success(), "sqlite3 {query}: {}", stderr(&out));
    stdout(&out).trim().to_string()
}

fn sql_count(db: &Path, query: &str) -> u64 {
    sql(db, query)
        .parse()
        .unwrap_or_else(|e| panic!("{query}: {e}"))
}

/// A small deterministic random number generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One generated log: `samples` patched `Memory Info` lines of worker `pid`, one
/// second apart from `2017-03-01T00:00:00`, with a noise line after each.
struct GenLog {
    pid: u64,
    samples: u64,
}

impl GenLog {
    fn text(&self) -> Vec<u8> {
        let mut rng = Rng(self.pid.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut out = Vec::with_capacity(self.samples as usize * 330);
        for i in 0..self.samples {
            let (day, rest) = (i / 86_400, i % 86_400);
            let stamp = format!(
                "2017-03-{:02}T{:02}:{:02}:{:02}.{:06}",
                1 + day,
                rest / 3600,
                rest / 60 % 60,
                rest % 60,
                self.pid % 1_000_000
            );
            writeln!(
                out,
                "[----] I, [{stamp} #{pid}:2b1c]  INFO -- : MIQ(MiqGenericWorker::Runner#do_work) Memory Info XXXX \
                 (#<MiqQueue id: {id}, method_name: \"perform\", class_name: \"Vm\">) => {{Live: {live}, Old: {old}, RSS: {rss}, PSS: {pss}}}",
                pid = self.pid,
                id = 1_000_000 + i,
                live = rng.below(1 << 20),
                old = rng.below(1 << 20),
                rss = rng.below(1 << 32),
                pss = rng.below(1 << 32),
            )
            .unwrap();
            writeln!(
                out,
                "[----] I, [{stamp} #{pid}:2b1c]  INFO -- : MIQ(MiqQueue.put) Message id: [{i}], Zone: [default], Role: [], Server: [], Ident: [generic]",
                pid = self.pid
            )
            .unwrap();
        }
        out
    }

    fn write_plain(&self, path: &Path) -> PathBuf {
        fs::write(path, self.text()).unwrap();
        path.to_path_buf()
    }

    fn write_gzip(&self, path: &Path) -> PathBuf {
        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        gz.write_all(&self.text()).unwrap();
        fs::write(path, gz.finish().unwrap()).unwrap();
        path.to_path_buf()
    }
}

/// Samples stored per pid, as `pid:count` lines.
fn counts_by_pid(db: &Path) -> Vec<(u64, u64)> {
    sql(
        db,
        "SELECT p.pid || ':' || COUNT(*) FROM sample s JOIN process p ON p.id = s.process_id GROUP BY p.pid ORDER BY p.pid",
    )
    .lines()
    .map(|l| {
        let (pid, n) = l.split_once(':').unwrap();
        (pid.parse().unwrap(), n.parse().unwrap())
    })
    .collect()
}

#[track_caller]
fn assert_integrity(db: &Path) {
    assert_eq!(sql(db, "PRAGMA integrity_check"), "ok");
    assert_eq!(sql(db, "PRAGMA foreign_key_check"), "");
}

/// Every generated file is in the database whole (all its samples and its
/// `source_file` row) or not at all, and nothing else is there.
#[track_caller]
fn assert_whole_files(db: &Path, logs: &[GenLog]) -> usize {
    // A run killed before its migration committed leaves no tables yet.
    if !db.exists() || sql(db, "SELECT name FROM sqlite_master WHERE name = 'sample'").is_empty() {
        return 0;
    }
    let counts = counts_by_pid(db);
    let files: Vec<u64> = sql(
        db,
        "SELECT p.pid FROM source_file f JOIN sample s ON s.file_id = f.id JOIN process p ON p.id = s.process_id GROUP BY f.id ORDER BY p.pid",
    )
    .lines()
    .map(|l| l.parse().unwrap())
    .collect();
    let source_rows = sql_count(db, "SELECT COUNT(*) FROM source_file") as usize;
    assert_eq!(files.len(), source_rows, "a file row without its samples");
    for (pid, n) in &counts {
        let log = logs
            .iter()
            .find(|l| l.pid == *pid)
            .unwrap_or_else(|| panic!("unknown pid {pid}"));
        assert_eq!(*n, log.samples, "pid {pid}: part of a file was stored");
        assert!(files.contains(pid), "pid {pid}: samples without a file row");
    }
    counts.len()
}

/// A command running miq-memlog as an unprivileged user when the tests run as
/// root, so that file permissions apply. The binary is copied into `tmp` (made
/// world-readable), as the build folder may not be reachable for that user.
fn unprivileged(tmp: &Path, db: &Path) -> Command {
    if fs::metadata(tmp).unwrap().uid() != 0 {
        return miq(db);
    }
    fs::set_permissions(tmp, fs::Permissions::from_mode(0o755)).unwrap();
    let bin = tmp.join("miq-memlog");
    if !bin.exists() {
        fs::copy(BIN, &bin).unwrap();
        fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut cmd = Command::new(bin);
    cmd.arg("--db")
        .arg(db)
        .env_remove("MIQ_MEMLOG_DB")
        .current_dir(tmp)
        .uid(65534)
        .gid(65534);
    cmd
}

fn peak_rss_kib(time_v_stderr: &str) -> u64 {
    time_v_stderr
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .expect("/usr/bin/time -v reports the peak RSS")
        .parse()
        .unwrap()
}

// ---------------------------------------------------------------- gzip faults

#[test]
fn corrupt_or_truncated_gzip_fails_alone_and_stores_nothing_of_it() {
    let tmp = TempDir::new().unwrap();
    let db = tmp.path().join("m.db");
    let good = GenLog {
        pid: 101,
        samples: 40,
    }
    .write_gzip(&tmp.path().join("good.log.gz"));
    let corrupt = format!("{FIXTURES}/edge/corrupt.log.gz");
    let truncated = format!("{FIXTURES}/edge/truncated.log.gz");
    let out = run(miq(&db)
        .args(["ingest", "--host", "edge"])
        .arg(&corrupt)
        .arg(&truncated)
        .arg(&good));
    assert_fails(&out);
    let err = stderr(&out);
    for (path, reason) in [(&corrupt, "invalid gzip header"), (&truncated, "incomplete deflate stream: the file is truncated (--accept-truncated keeps the readable part)")] {
        let line = err
            .lines()
            .find(|l| l.contains(path.as_str()))
            .unwrap_or_else(|| panic!("no error naming {path}:\n{err}"));
        assert!(line.contains(reason), "{line}");
        assert!(line.contains("nothing from this file was stored"), "{line}");
    }
    assert!(
        stdout(&out).contains("1 file ingested, 0 already ingested, 2 failed"),
        "{}",
        stdout(&out)
    );
    assert_eq!(counts_by_pid(&db), vec![(101, 40)]);
    assert_eq!(
        sql(&db, "SELECT path || ' ' || status FROM source_file"),
        format!("{} complete", good.display())
    );
    assert_eq!(sql_count(&db, "SELECT COUNT(*) FROM event"), 0);
    assert_integrity(&db);
}

#[test]
fn accepted_truncated_gzip_is_partial_and_a_complete_copy_adds_exactly_the_rest() {
    let tmp = TempDir::new().unwrap();
    let db = tmp.path().join("m.db");
    let log = GenLog {
        pid: 202,
        samples: 3000,
    };
    let complete = log.write_gzip(&tmp.path().join("evm.log-20170302.gz"));
    let bytes = fs::read(&complete).unwrap();
    let cut = tmp.path().join("evm.log-20170302-copy.gz");
    fs::write(&cut, &bytes[..bytes.len() * 3 / 5]).unwrap();

    let out = run(miq(&db).args(["ingest", "--accept-truncated"]).arg(&cut));
    assert_ok(&out);
    assert!(stdout(&out).contains("PARTIAL"), "{}", stdout(&out));
    let kept = sql_count(&db, "SELECT COUNT(*) FROM sample");
    assert!(kept > 1000 && kept < 3000, "kept {kept}");
    assert_eq!(sql(&db, "SELECT status FROM source_file"), "partial");
    // The readable part is the samples in order, with no gap.
    assert_eq!(
        sql(&db, "SELECT MIN(msg_id) || '-' || MAX(msg_id) FROM sample"),
        format!("1000000-{}", 1_000_000 + kept - 1)
    );

    let out = run(miq(&db).arg("ingest").arg(&complete));
    assert_ok(&out);
    assert!(
        stdout(&out).contains(&format!(
            "{} new samples, {kept} already present",
            3000 - kept
        )),
        "{}",
        stdout(&out)
    );
    assert_eq!(counts_by_pid(&db), vec![(202, 3000)]);
    assert_eq!(
        sql(
            &db,
            "SELECT group_concat(status, ',') FROM (SELECT status FROM source_file ORDER BY id)"
        ),
        "partial,complete"
    );
    // Same rows as ingesting the complete file alone.
    let alone = tmp.path().join("alone.db");
    assert_ok(&run(miq(&alone).arg("ingest").arg(&complete)));
    let export = |db: &Path| stdout(&run(miq(db).args(["export", "--format", "csv"])));
    assert_eq!(export(&db), export(&alone));
    assert_integrity(&db);
}

// ---------------------------------------------------------------- hostile bytes

#[test]
fn hostile_bytes_store_nothing_and_count_rejected_lines() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("hostile");
    fs::create_dir(&dir).unwrap();
    let mut rng = Rng(0x5eed);
    let random: Vec<u8> = (0..1 << 20).map(|_| rng.below(256) as u8).collect();
    // Not a gzip magic: this is read as a plain log full of noise.
    fs::write(dir.join("random.log"), [&b"x"[..], &random].concat()).unwrap();
    fs::write(dir.join("empty.log"), b"").unwrap();
    fs::write(dir.join("nul.log"), vec![0u8; 3 << 20]).unwrap();
    let mut invalid_utf8 = Vec::new();
    for _ in 0..1000 {
        invalid_utf8.extend_from_slice(
            b"[----] I, \xff\xfe\xc3 Memory Info XXXX \xc3\x28 => {\xa0\xa1}\n\x00\x00\n",
        );
    }
    fs::write(dir.join("invalid-utf8.log"), invalid_utf8).unwrap();
    let good = "[----] I, [2017-03-01T00:00:00.000001 #77:1]  INFO -- : MIQ(MiqGenericWorker::Runner#do_work) Memory Info XXXX (nil) => {Live: 1, Old: 2, RSS: 3, PSS: 4}";
    let malformed = [
        good.replace("RSS: 3", "RSS: 3x"),
        good.replace("RSS: 3", "RSS: 0x10"),
        good.replace("RSS: 3", "RSS: 3.5"),
        good.replace("RSS: 3", "RSS: -3"),
        good.replace("RSS: 3", "RSS: 9223372036854775808"),
        good.replace("RSS: 3", "RSS: 99999999999999999999999999999999"),
        good.replace("#77", "#99999999999999999999"),
        good.replace("2017-03-01T00", "2017-02-29T00"),
        good.replace("2017-03-01T00", "2017-13-01T00"),
        good.replace("2017-03-01T00", "2017-03-01T24"),
        good.replace("2017-03-01T00", "1969-12-31T23"),
        good.replace("=> {Live: 1, Old: 2, RSS: 3, PSS: 4}", "=> {Live: 1, Old: 2, RSS: 3, PSS: 4"),
        good.replace("{Live: 1, Old: 2, RSS: 3, PSS: 4}", "{}"),
        "[----] I, [2017-03-01T00:00:00.000001 #1:2]  INFO -- : MIQ(MiqServer#log_status) [EVM Server (1)] Process info: Memory Usage [-1], Memory Size [2]".to_string(),
        "[----] W, [2017-03-01T00:00:00.000001 #1:2]  WARN -- : MIQ(MiqServer#validate_worker) Worker [X] with ID: [1], PID: [99999999999999999999], GUID: [g] process memory usage [6] exceeded limit [5]".to_string(),
    ];
    let mut text = String::new();
    for line in &malformed {
        text.push_str(line);
        text.push('\n');
    }
    text.push_str(good);
    text.push('\n');
    fs::write(dir.join("malformed.log"), text).unwrap();

    // 64 MiB single lines: noise, then one whose head makes it a candidate.
    let mut long = Vec::with_capacity(130 << 20);
    long.extend_from_slice(good.replace("#77", "#80").as_bytes());
    long.push(b'\n');
    long.extend(std::iter::repeat_n(b'n', 64 << 20));
    long.push(b'\n');
    long.extend_from_slice(good.replace("#77", "#78").as_bytes());
    long.extend_from_slice(b" (");
    long.extend(std::iter::repeat_n(b'y', 64 << 20));
    long.extend_from_slice(b")\n");
    long.extend_from_slice(good.replace("#77", "#81").as_bytes());
    long.push(b'\n');
    fs::write(dir.join("long-line.log"), long).unwrap();
    // Every newline ends a line, and the bytes after the last one are a torn line.
    let random_lines = random.iter().filter(|&&b| b == b'\n').count() + 1;
    drop(random);

    let db = tmp.path().join("m.db");
    let out = run(Command::new("/usr/bin/time")
        .arg("-v")
        .arg(BIN)
        .arg("--db")
        .arg(&db)
        .args(["ingest", "--tz", "UTC"])
        .arg(&dir));
    assert_ok(&out);
    let peak = peak_rss_kib(&stderr(&out));
    assert!(peak <= 256 * 1024, "peak RSS {peak} KiB");
    eprintln!("peak RSS ingesting two 64 MiB lines: {peak} KiB");
    assert_eq!(counts_by_pid(&db), vec![(77, 1), (80, 1), (81, 1)]);
    let per_file = sql(
        &db,
        "SELECT replace(path, rtrim(path, replace(path, '/', '')), '') || ' ' || lines || ' ' || samples_new || ' ' || rejected FROM source_file ORDER BY path",
    );
    assert_eq!(
        per_file,
        [
            "empty.log 0 0 0",
            "invalid-utf8.log 2000 0 1000",
            "long-line.log 4 2 1",
            "malformed.log 16 1 15",
            "nul.log 1 0 0",
            &format!("random.log {random_lines} 0 0"),
        ]
        .join("\n")
    );
    let report = stdout(&out);
    assert!(
        report.contains("long-line.log:3: line longer than 16 MiB"),
        "{report}"
    );
    assert!(
        report.contains("malformed.log:4: negative value"),
        "{report}"
    );
    assert_integrity(&db);
}

// The line parser's property tests live beside it, in src/parse/fuzz.rs.

// ---------------------------------------------------------------- concurrency

fn write_logs(dir: &Path, logs: &[GenLog]) -> Vec<PathBuf> {
    fs::create_dir_all(dir).unwrap();
    logs.iter()
        .map(|l| l.write_plain(&dir.join(format!("evm-{}.log", l.pid))))
        .collect()
}

#[test]
fn two_ingests_into_one_new_database_at_once_both_succeed() {
    let tmp = TempDir::new().unwrap();
    let logs: Vec<GenLog> = (0..6)
        .map(|i| GenLog {
            pid: 400 + i,
            samples: 2000 + i * 10,
        })
        .collect();
    let paths = write_logs(&tmp.path().join("logs"), &logs);
    let small: Vec<GenLog> = (0..3)
        .map(|i| GenLog {
            pid: 410 + i,
            samples: 1,
        })
        .collect();
    let small_paths = write_logs(&tmp.path().join("small"), &small);
    let expected: Vec<(u64, u64)> = logs.iter().map(|l| (l.pid, l.samples)).collect();
    // Runs racing to create and migrate a new database: the window is a few
    // milliseconds wide, so many rounds of three small runs.
    for round in 0..40 {
        let db = tmp.path().join(format!("race{round}.db"));
        let runs: Vec<Child> = small_paths
            .iter()
            .map(|path| {
                miq(&db)
                    .args(["ingest", "--quiet", "--tz", "UTC", "--host"])
                    .arg(path.file_name().unwrap())
                    .arg(path)
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for run in runs {
            let out = run.wait_with_output().unwrap();
            assert!(out.status.success(), "round {round}: {}", stderr(&out));
        }
        assert_eq!(sql_count(&db, "SELECT COUNT(*) FROM source_file"), 3);
    }
    // Two runs from the very start; both are given one shared file, which must
    // be stored once.
    for round in 0..2 {
        let db = tmp.path().join(format!("m{round}.db"));
        let spawn = |files: &[PathBuf]| {
            miq(&db)
                .args(["ingest", "-j", "1"])
                .args(files)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let a = spawn(&paths[..4]);
        let b = spawn(&paths[3..]);
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        assert_ok(&a);
        assert_ok(&b);
        assert_eq!(counts_by_pid(&db), expected);
        assert_eq!(sql_count(&db, "SELECT COUNT(*) FROM source_file"), 6);
        let skipped = [&a, &b]
            .iter()
            .filter(|o| stdout(o).contains("1 already ingested"))
            .count();
        assert_eq!(skipped, 1, "{}\n{}", stdout(&a), stdout(&b));
        assert_integrity(&db);
    }
}

#[test]
fn ingest_waits_for_another_writer_instead_of_failing() {
    let tmp = TempDir::new().unwrap();
    let db = tmp.path().join("m.db");
    let log = GenLog {
        pid: 450,
        samples: 100,
    }
    .write_plain(&tmp.path().join("evm.log"));
    let first = GenLog {
        pid: 451,
        samples: 1,
    }
    .write_plain(&tmp.path().join("first.log"));
    assert_ok(&run(miq(&db).arg("ingest").arg(first)));
    // The sqlite3 shell holds the write lock for a while, as another writer would.
    let mut holder = Command::new("sqlite3")
        .arg(&db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    holder
        .stdin
        .take()
        .unwrap()
        .write_all(b"BEGIN IMMEDIATE;\nINSERT INTO process (host, pid, worker) VALUES ('holder', 1, 'X');\n.print locked\n.shell sleep 3\nCOMMIT;\n")
        .unwrap();
    let mut said = [0u8; 7];
    std::io::Read::read_exact(holder.stdout.as_mut().unwrap(), &mut said).unwrap();
    assert_eq!(&said, b"locked\n");
    let out = run(miq(&db).arg("ingest").arg(&log));
    assert_ok(&out);
    assert!(holder.wait().unwrap().success());
    assert_eq!(counts_by_pid(&db), vec![(450, 100), (451, 1)]);
    // The ingest wrote after the other writer's transaction, not beside it.
    assert_eq!(
        sql(&db, "SELECT group_concat(host || ' ' || pid, ',') FROM (SELECT host, pid FROM process ORDER BY id)"),
        "appliance 451,holder 1,appliance 450"
    );
}

/// How far process `pid` has read `path`, from /proc, when it has it open
/// (files are read with read(2), so the offset moves as they are parsed).
fn read_position(pid: u32, path: &Path) -> Option<u64> {
    for fd in fs::read_dir(format!("/proc/{pid}/fd")).ok()? {
        let fd = fd.ok()?;
        if fs::read_link(fd.path()).ok().as_deref() == Some(path) {
            let info =
                fs::read_to_string(format!("/proc/{pid}/fdinfo/{}", fd.file_name().to_str()?))
                    .ok()?;
            return info
                .lines()
                .find_map(|l| l.strip_prefix("pos:")?.trim().parse().ok());
        }
    }
    None
}

#[test]
fn parsing_a_file_leaves_the_database_free_for_other_writers() {
    let tmp = TempDir::new().unwrap();
    let db = tmp.path().join("m.db");
    assert_ok(&run(miq(&db).arg("ingest").arg(
        GenLog {
            pid: 460,
            samples: 10,
        }
        .write_plain(&tmp.path().join("a.log")),
    )));
    let big = GenLog {
        pid: 461,
        samples: 60_000,
    }
    .write_plain(&tmp.path().join("b.log"));
    let size = fs::metadata(&big).unwrap().len();
    assert!(size > 16 << 20);
    let mut ingest = miq(&db)
        .args(["ingest", "--quiet", "--tz", "UTC"])
        .arg(&big)
        .spawn()
        .unwrap();
    // Wait until the file is being read well past what the reader buffers ahead:
    // its first records are staged, its last not yet read.
    let staging = loop {
        if ingest.try_wait().unwrap().is_some() {
            break false;
        }
        match read_position(ingest.id(), &big) {
            Some(pos) if (8 << 20..size - (4 << 20)).contains(&pos) => break true,
            _ => thread::sleep(Duration::from_millis(2)),
        }
    };
    assert!(staging, "never saw the ingest halfway through the file");
    // Another writer that will not wait at all gets the write lock meanwhile.
    let out = Command::new("sqlite3")
        .arg(&db)
        .args([".timeout 0", "BEGIN IMMEDIATE; INSERT INTO process (host, pid, worker) VALUES ('other', 1, 'X'); COMMIT;"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(ingest.wait().unwrap().success());
    assert_eq!(counts_by_pid(&db), vec![(460, 10), (461, 60_000)]);
    assert_eq!(
        sql(&db, "SELECT COUNT(*) FROM process WHERE host = 'other'"),
        "1"
    );
}

#[test]
fn export_during_an_ingest_sees_whole_files_only() {
    let tmp = TempDir::new().unwrap();
    let db = tmp.path().join("m.db");
    let logs: Vec<GenLog> = (0..10)
        .map(|i| GenLog {
            pid: 500 + i,
            samples: 2000 + i * 7,
        })
        .collect();
    let paths = write_logs(&tmp.path().join("logs"), &logs);
    assert_ok(&run(miq(&db).arg("ingest").arg(&paths[0])));
    let mut ingest = miq(&db)
        .args(["ingest", "-j", "1", "--quiet"])
        .args(&paths[1..])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut exports = 0;
    let mut states = std::collections::BTreeSet::new();
    loop {
        let done = ingest.try_wait().unwrap().is_some();
        let out = run(miq(&db).args(["export", "--format", "csv"]));
        assert_ok(&out);
        exports += 1;
        let mut per_pid = std::collections::BTreeMap::<u64, u64>::new();
        for row in stdout(&out).lines().skip(1) {
            *per_pid
                .entry(row.split(',').nth(2).unwrap().parse().unwrap())
                .or_default() += 1;
        }
        for (pid, n) in &per_pid {
            let log = logs.iter().find(|l| l.pid == *pid).unwrap();
            assert_eq!(
                *n, log.samples,
                "export {exports} saw part of pid {pid}'s file"
            );
        }
        states.insert(per_pid.len());
        if done {
            break;
        }
    }
    assert!(ingest.wait().unwrap().success());
    assert_eq!(states.last(), Some(&10), "{states:?}");
    assert_integrity(&db);
}

// ---------------------------------------------------------------- crash safety

#[test]
fn ingest_killed_at_any_point_then_rerun_leaves_exact_counts() {
    let tmp = TempDir::new().unwrap();
    let logs: Vec<GenLog> = (0..8)
        .map(|i| GenLog {
            pid: 600 + i,
            samples: 6000 + i * 3,
        })
        .collect();
    let paths = write_logs(&tmp.path().join("logs"), &logs);
    let ingest = |db: &Path| {
        miq(db)
            .args(["ingest", "-j", "2", "--quiet"])
            .args(&paths)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    // How long a whole run takes here, to spread the kills over it.
    let started = Instant::now();
    let status = ingest(&tmp.path().join("timing.db")).wait().unwrap();
    assert!(status.success());
    let whole = started.elapsed();

    let db = tmp.path().join("m.db");
    let mut seen_partial = false;
    for step in 0..10u32 {
        let mut child: Child = ingest(&db);
        thread::sleep(whole * step / 10 + Duration::from_millis(5));
        child.kill().unwrap();
        child.wait().unwrap();
        if db.exists() {
            assert_integrity(&db);
        }
        let files = assert_whole_files(&db, &logs);
        seen_partial |= files > 0 && files < logs.len();
    }
    let out = run(miq(&db).args(["ingest", "--quiet"]).args(&paths));
    assert_ok(&out);
    assert_integrity(&db);
    assert_eq!(assert_whole_files(&db, &logs), logs.len());
    let expected: Vec<(u64, u64)> = logs.iter().map(|l| (l.pid, l.samples)).collect();
    assert_eq!(counts_by_pid(&db), expected);
    assert_eq!(sql_count(&db, "SELECT COUNT(*) FROM source_file"), 8);
    eprintln!("whole run {whole:?}; a kill fell between files: {seen_partial}");
}

// ---------------------------------------------------------------- resource faults

#[test]
fn a_full_disk_is_reported_and_keeps_what_was_committed() {
    let tmp = TempDir::new().unwrap();
    let db = tmp.path().join("m.db");
    let small = GenLog {
        pid: 700,
        samples: 50,
    }
    .write_plain(&tmp.path().join("small.log"));
    let big = GenLog {
        pid: 701,
        samples: 8000,
    }
    .write_plain(&tmp.path().join("big.log"));
    assert_ok(&run(miq(&db).arg("ingest").arg(&small)));
    // bash's file size limit (KiB) fills the "disk" at 256 KiB for the database
    // and its -wal file (the file needs about 400 KiB): a write beyond it fails
    // with EFBIG, which SQLite reports as a write error, as it does ENOSPC.
    let out = run(Command::new("bash")
        .arg("-c")
        .arg(r#"ulimit -f 256 && trap "" XFSZ && exec "$0" "$@""#)
        .arg(BIN)
        .arg("--db")
        .arg(&db)
        .args(["ingest", "--tz", "UTC"])
        .arg(&big));
    assert_fails(&out);
    let err = stderr(&out);
    assert!(
        err.contains(&format!("storing {}: ", big.display())),
        "{err}"
    );
    assert!(
        err.contains("is full, or a file size limit was reached"),
        "{err}"
    );
    assert_integrity(&db);
    assert_eq!(counts_by_pid(&db), vec![(700, 50)]);
    assert_eq!(sql_count(&db, "SELECT COUNT(*) FROM source_file"), 1);
    // With room again, the same command adds exactly what was missing.
    let out = run(miq(&db)
        .args(["ingest", "--tz", "UTC"])
        .arg(&small)
        .arg(&big));
    assert_ok(&out);
    assert_eq!(counts_by_pid(&db), vec![(700, 50), (701, 8000)]);
    assert_integrity(&db);
}

#[test]
fn missing_unwritable_and_read_only_databases_give_clear_errors() {
    let tmp = TempDir::new().unwrap();
    let log = GenLog {
        pid: 710,
        samples: 5,
    }
    .write_plain(&tmp.path().join("evm.log"));
    fs::set_permissions(&log, fs::Permissions::from_mode(0o644)).unwrap();

    let missing = tmp.path().join("no-such-folder/m.db");
    let out = run(miq(&missing).arg("ingest").arg(&log));
    assert_fails(&out);
    assert_eq!(
        stderr(&out),
        format!(
            "miq-memlog: cannot create database {}: folder {} does not exist\n",
            missing.display(),
            missing.parent().unwrap().display()
        )
    );
    let out = run(miq(&missing).args(["export", "--format", "csv"]));
    assert_fails(&out);
    assert!(stderr(&out).contains("no database at"), "{}", stderr(&out));
    assert!(!missing.parent().unwrap().exists());

    let locked = tmp.path().join("locked");
    fs::create_dir(&locked).unwrap();
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o555)).unwrap();
    let db = locked.join("m.db");
    let out = run(unprivileged(tmp.path(), &db).arg("ingest").arg(&log));
    assert_fails(&out);
    assert!(
        stderr(&out).contains(&format!(
            "cannot create database {} (can its folder be written to?)",
            db.display()
        )),
        "{}",
        stderr(&out)
    );
    assert!(!db.exists());

    // A database in a read-only folder, its file read-only too: ingest refuses,
    // reading works.
    let shelf = tmp.path().join("shelf");
    fs::create_dir(&shelf).unwrap();
    let db = shelf.join("m.db");
    assert_ok(&run(miq(&db).arg("ingest").arg(&log)));
    let before = fs::read(&db).unwrap();
    fs::set_permissions(&db, fs::Permissions::from_mode(0o444)).unwrap();
    fs::set_permissions(&shelf, fs::Permissions::from_mode(0o555)).unwrap();
    let out = run(unprivileged(tmp.path(), &db).arg("ingest").arg(&log));
    assert_fails(&out);
    assert_eq!(
        stderr(&out),
        format!(
            "miq-memlog: cannot write to database {}: the file is read-only\n",
            db.display()
        )
    );
    let out = run(unprivileged(tmp.path(), &db).args(["export", "--format", "csv"]));
    assert_ok(&out);
    assert_eq!(stdout(&out).lines().count(), 6);
    assert_ok(&run(
        unprivileged(tmp.path(), &db).args(["files", "--format", "csv"])
    ));
    assert_ok(&run(unprivileged(tmp.path(), &db).arg("events")));
    // The file itself writable, the folder not: no room for the -wal file.
    fs::set_permissions(&db, fs::Permissions::from_mode(0o666)).unwrap();
    let out = run(unprivileged(tmp.path(), &db).arg("ingest").arg(&log));
    assert_fails(&out);
    assert!(
        stderr(&out).contains("its folder is read-only"),
        "{}",
        stderr(&out)
    );
    assert_eq!(fs::read(&db).unwrap(), before);
    fs::set_permissions(&shelf, fs::Permissions::from_mode(0o755)).unwrap();
    assert_integrity(&db);
}

#[test]
fn missing_inputs_and_symlink_loops_are_reported_not_fatal() {
    let tmp = TempDir::new().unwrap();
    let db = tmp.path().join("m.db");
    let dir = tmp.path().join("appliance");
    fs::create_dir_all(dir.join("sub")).unwrap();
    GenLog {
        pid: 720,
        samples: 30,
    }
    .write_plain(&dir.join("sub/evm.log"));
    symlink(&dir, dir.join("sub/loop")).unwrap();
    symlink("..", dir.join("sub/up.log")).unwrap();
    symlink(dir.join("nowhere"), dir.join("dangling.log")).unwrap();
    let missing = tmp.path().join("not-there.log");
    let out = run(miq(&db).arg("ingest").arg(&dir).arg(&missing));
    assert_fails(&out);
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "cannot read {}: No such file or directory",
            missing.display()
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "cannot read {}: No such file or directory",
            dir.join("dangling.log").display()
        )),
        "{err}"
    );
    assert!(stdout(&out).contains("1 file ingested"), "{}", stdout(&out));
    assert_eq!(counts_by_pid(&db), vec![(720, 30)]);
}

// ---------------------------------------------------------------- schema safety

#[test]
fn a_database_from_a_newer_version_is_refused_untouched() {
    let tmp = TempDir::new().unwrap();
    let db = tmp.path().join("m.db");
    let log = GenLog {
        pid: 730,
        samples: 5,
    }
    .write_plain(&tmp.path().join("evm.log"));
    assert_ok(&run(miq(&db).arg("ingest").arg(&log)));
    sql(
        &db,
        "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) \
         VALUES (99, 'future', '2030-01-01T00:00:00Z', '1'); PRAGMA wal_checkpoint(TRUNCATE);",
    );
    let before = fs::read(&db).unwrap();
    let other = GenLog {
        pid: 731,
        samples: 5,
    }
    .write_plain(&tmp.path().join("other.log"));
    for args in [
        vec!["ingest", other.to_str().unwrap()],
        vec!["export", "--format", "csv"],
        vec!["files"],
        vec!["events"],
    ] {
        let out = run(miq(&db).args(&args));
        assert_fails(&out);
        assert_eq!(
            stderr(&out),
            format!(
                "miq-memlog: {} has schema version 99 but this miq-memlog knows only up to {}: \
                 it was written by a newer miq-memlog; use that version (the database was not modified)\n",
                db.display(),
                latest_migration()
            ),
            "{args:?}"
        );
        assert_eq!(
            fs::read(&db).unwrap(),
            before,
            "{args:?} modified the database"
        );
    }
}

#[test]
fn a_file_that_is_not_a_database_is_refused_untouched() {
    let tmp = TempDir::new().unwrap();
    let db = tmp.path().join("notes.db");
    let mut rng = Rng(42);
    let garbage: Vec<u8> = (0..10_000).map(|_| rng.below(256) as u8).collect();
    fs::write(&db, &garbage).unwrap();
    let log = GenLog {
        pid: 735,
        samples: 5,
    }
    .write_plain(&tmp.path().join("evm.log"));
    for args in [
        vec!["ingest", log.to_str().unwrap()],
        vec!["export", "--format", "csv"],
    ] {
        let out = run(miq(&db).args(&args));
        assert_fails(&out);
        assert_eq!(
            stderr(&out),
            format!(
                "miq-memlog: {} is not a miq-memlog database: file is not a database: Error code 26: file is not a database\n",
                db.display()
            ),
            "{args:?}"
        );
        assert_eq!(
            fs::read(&db).unwrap(),
            garbage,
            "{args:?} modified the file"
        );
    }
}

/// The highest `migrations/V<n>__*.sql` shipped.
fn latest_migration() -> u32 {
    fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_prefix('V')?.split_once("__")?.0.parse().ok()
        })
        .max()
        .unwrap()
}

/// Loads `fixtures/db/<name>.sql` (`sqlite3 .dump` of a database written at
/// an older schema version) with the sqlite3 shell into a new database.
fn load_dump(name: &str, db: &Path) {
    let dump = fs::read_to_string(format!("{FIXTURES}/db/{name}.sql")).unwrap();
    let mut shell = Command::new("sqlite3")
        .arg(db)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    shell
        .stdin
        .take()
        .unwrap()
        .write_all(dump.as_bytes())
        .unwrap();
    assert!(shell.wait().unwrap().success());
}

/// An old database migrates forward on first use with its data: the same
/// export, its files still known, new ones added.
fn migrates_forward(name: &str, version: &str) -> PathBuf {
    let tmp = TempDir::new().unwrap().keep();
    let db = tmp.join("m.db");
    load_dump(name, &db);
    assert_eq!(
        sql(&db, "SELECT MAX(version) FROM refinery_schema_history"),
        version
    );

    let out = run(miq(&db).args(["export", "--format", "csv"]));
    assert_ok(&out);
    assert_eq!(
        stdout(&out),
        fs::read_to_string(format!("{FIXTURES}/expected/trip1-export.csv")).unwrap()
    );
    assert_eq!(
        sql(&db, "SELECT MAX(version) FROM refinery_schema_history"),
        latest_migration().to_string()
    );
    // The files it knew are still known: the same file is skipped, a new one added.
    let out = run(miq(&db)
        .args(["ingest", "--host", "appliance-a"])
        .arg(format!("{FIXTURES}/trip1/appliance-a/evm.log"))
        .arg(format!("{FIXTURES}/trip2/appliance-a/evm.log-20170304.gz")));
    assert_ok(&out);
    assert!(
        stdout(&out).contains("1 file ingested, 1 already ingested"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("234 new samples, 245 already present"),
        "{}",
        stdout(&out)
    );
    assert_integrity(&db);
    db
}

#[test]
fn a_version_1_database_is_migrated_forward_with_its_data() {
    // fixtures/db/v1.sql: trip1/appliance-a ingested as appliance-a at schema version 1.
    let db = migrates_forward("v1", "1");
    // Files ingested before formats were recorded were all classic logs.
    assert_eq!(
        sql(&db, "SELECT group_concat(DISTINCT format) FROM source_file"),
        "classic"
    );
    let _ = fs::remove_dir_all(db.parent().unwrap());
}

#[test]
fn a_version_3_database_is_migrated_forward_with_its_data() {
    // fixtures/db/v3.sql: trip1/appliance-a and appliance-a/tmp ingested as appliance-a
    // at schema version 3 (before the enrichment's samples had columns of their own).
    let db = migrates_forward("v3", "3");
    assert_eq!(sql(&db, "SELECT COUNT(*) FROM dump"), "5");
    assert_eq!(
        sql(&db, "SELECT COUNT(*) FROM events WHERE kind = 'dump'"),
        "5"
    );
    assert_eq!(
        sql(
            &db,
            "SELECT COUNT(*), COUNT(swap), COUNT(msgs) FROM samples"
        ),
        "479|0|0"
    );
    // The dumps it knew are known: ingested again, nothing is new.
    let out = run(miq(&db)
        .args(["ingest", "--host", "appliance-a"])
        .arg(format!("{FIXTURES}/appliance-a/tmp")));
    assert_ok(&out);
    assert!(
        stdout(&out).contains("5 heap dumps (0 new)"),
        "{}",
        stdout(&out)
    );
    let _ = fs::remove_dir_all(db.parent().unwrap());
}

/// Every sample of the first classic file, as the `samples` view (the same
/// columns at every schema version since 4) shows them.
fn first_file_samples(db: &Path) -> String {
    sql(
        db,
        "SELECT process_id, ts_us, source, rss, pss, uss, vsz, live, old, msg_id, msg_class,
                msg_method, file_id, line_no, swap, gc_ms, msg_ms, msgs
         FROM samples WHERE file_id IN (SELECT MIN(id) FROM source_file WHERE format = 'classic')
         ORDER BY process_id, ts_us, source",
    )
}

/// What `fixtures/db/<name>.sql` holds before it is migrated.
fn before_migration(name: &str, what: fn(&Path) -> String) -> String {
    let tmp = TempDir::new().unwrap();
    let db = tmp.path().join(format!("{name}.db"));
    load_dump(name, &db);
    what(&db)
}

#[test]
fn a_version_6_database_is_migrated_forward_with_its_data() {
    // fixtures/db/v6.sql: trip1/appliance-a and appliance-a/tmp ingested as appliance-a
    // at schema version 6 (before the sample table was rebuilt with its source
    // check as comparisons).
    let before = before_migration("v6", first_file_samples);
    assert_eq!(before.lines().count(), 245);
    let db = migrates_forward("v6", "6");
    // Every sample row is there as it was, and the summaries still equal them.
    assert_eq!(first_file_samples(&db), before);
    let (expected, stored) = summaries(&db);
    assert_eq!(stored, expected);
    // The check still refuses a source it does not know.
    let refused = Command::new("sqlite3")
        .arg(&db)
        .arg("INSERT INTO sample (process_id, ts_us, source, file_id, line_no) VALUES (1, 1, 'other', 1, 1)")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("CHECK constraint failed"));
    // Its heap dumps and what was read of them are still known.
    assert_eq!(sql(&db, "SELECT COUNT(*) FROM heap_dump"), "5");
    let out = run(miq(&db)
        .args(["ingest", "--host", "appliance-a"])
        .arg(format!("{FIXTURES}/appliance-a/tmp")));
    assert_ok(&out);
    assert!(
        stdout(&out).contains("5 heap dumps (0 new)"),
        "{}",
        stdout(&out)
    );
    let _ = fs::remove_dir_all(db.parent().unwrap());
}

#[test]
fn a_version_7_database_is_migrated_forward_with_its_data() {
    // fixtures/db/v7.sql: the same files at schema version 7, the last to keep
    // a sample's message class and method as text in its row.
    let text = |db: &Path| {
        sql(
            db,
            "SELECT process_id, ts_us, source, msg_class, msg_method FROM sample
             ORDER BY process_id, ts_us, source",
        )
    };
    let before = before_migration("v7", text);
    let names = before_migration("v7", |db| {
        sql(
            db,
            "SELECT msg_class FROM sample WHERE msg_class IS NOT NULL
             UNION SELECT msg_method FROM sample WHERE msg_method IS NOT NULL ORDER BY 1",
        )
    });
    let samples = before_migration("v7", first_file_samples);
    // Rows with a class and a method, a method alone and neither.
    assert_eq!(
        before_migration("v7", |db| sql(
            db,
            "SELECT COUNT(*), COUNT(msg_class), COUNT(msg_method) FROM sample"
        )),
        "245|135|137"
    );
    let db = migrates_forward("v7", "7");
    // Each name is stored once, and every sample names what it named before.
    assert_eq!(names.lines().count(), 7);
    assert_eq!(sql(&db, "SELECT name FROM msg_name ORDER BY name"), names);
    assert_eq!(
        sql(
            &db,
            "SELECT s.process_id, s.ts_us, s.source, c.name, m.name FROM sample s
             LEFT JOIN msg_name c ON c.id = s.msg_class_id
             LEFT JOIN msg_name m ON m.id = s.msg_method_id
             WHERE s.file_id IN (SELECT MIN(id) FROM source_file WHERE format = 'classic')
             ORDER BY s.process_id, s.ts_us, s.source"
        ),
        before
    );
    assert_eq!(first_file_samples(&db), samples);
    // The file ingested after the migration (whose messages are of the same
    // kinds: the names above did not grow) refers to the same names.
    assert_ne!(
        sql(
            &db,
            "SELECT COUNT(msg_method_id) FROM sample
             WHERE file_id = (SELECT MAX(id) FROM source_file WHERE format = 'classic')"
        ),
        "0"
    );
    assert_eq!(
        sql(
            &db,
            "SELECT COUNT(*) FROM samples WHERE msg_method IS NOT NULL
             AND file_id = (SELECT MAX(id) FROM source_file WHERE format = 'classic')"
        ),
        sql(
            &db,
            "SELECT COUNT(msg_method_id) FROM sample
             WHERE file_id = (SELECT MAX(id) FROM source_file WHERE format = 'classic')"
        )
    );
    let (expected, stored) = summaries(&db);
    assert_eq!(stored, expected);
    let _ = fs::remove_dir_all(db.parent().unwrap());
}

/// The per-process summaries the listings read, as the `sqlite3` shell computes
/// them from the samples themselves, and as stored.
fn summaries(db: &Path) -> (String, String) {
    (
        sql(
            db,
            "SELECT process_id, source, COUNT(*), MIN(ts_us), MAX(ts_us), MAX(rss_bytes)
             FROM sample GROUP BY process_id, source ORDER BY process_id, source",
        ),
        sql(
            db,
            "SELECT process_id, source, samples, first_us, last_us, rss_max
             FROM process_summary ORDER BY process_id, source",
        ),
    )
}

#[test]
fn process_summaries_equal_the_samples_after_migration_and_every_ingest() {
    // Backfilled by the migration from a version 3 database...
    let db = migrates_forward("v3", "3");
    let (expected, stored) = summaries(&db);
    assert!(expected.lines().count() >= 2, "{expected}");
    assert_eq!(stored, expected);
    // ...then kept by ingest: new processes, samples of known ones, files
    // overlapping what is stored (duplicates add nothing), and a re-ingest.
    for round in 0..2 {
        for path in [
            format!("{FIXTURES}/trip1"),
            format!("{FIXTURES}/trip2"),
            format!("{FIXTURES}/appliance-b"),
        ] {
            assert_ok(&run(miq(&db)
                .args(["ingest", "--host-from-folder", "-q"])
                .arg(&path)));
            let (expected, stored) = summaries(&db);
            assert_eq!(stored, expected, "round {round}, after {path}");
        }
    }
    // The listings read the summaries: the same rows as a windowed listing,
    // which reads the samples.
    for source in [None, Some("patch"), Some("status")] {
        let listing = |window: bool| {
            let mut cmd = miq(&db);
            cmd.args(["pids", "--format", "csv"]);
            if let Some(source) = source {
                cmd.args(["--source", source]);
            }
            if window {
                cmd.args(["--from", "1970-01-02"]);
            }
            let out = run(&mut cmd);
            assert_ok(&out);
            stdout(&out)
        };
        assert_eq!(listing(false), listing(true), "source {source:?}");
        assert!(listing(false).lines().count() > 2);
    }
    let workers = |window: &[&str]| {
        let out = run(miq(&db).args(["workers", "--format", "csv"]).args(window));
        assert_ok(&out);
        stdout(&out)
    };
    assert_eq!(workers(&[]), workers(&["--from", "1970-01-02"]));
    let _ = fs::remove_dir_all(db.parent().unwrap());
}

// ---------------------------------------------------------------- SQL safety

#[test]
fn selector_values_are_bound_never_spliced_into_sql() {
    let tmp = TempDir::new().unwrap();
    let db = tmp.path().join("m.db");
    let log = GenLog {
        pid: 740,
        samples: 3,
    }
    .write_plain(&tmp.path().join("evm.log"));
    let hostile = "o'brien\"); DROP TABLE sample; --";
    assert_ok(&run(miq(&db).args(["ingest", "--host", hostile]).arg(&log)));
    let other = GenLog {
        pid: 741,
        samples: 2,
    }
    .write_plain(&tmp.path().join("other.log"));
    assert_ok(&run(miq(&db)
        .args(["ingest", "--host", "plain"])
        .arg(&other)));

    let export = |host: &str| {
        let out = run(miq(&db).args(["export", "--format", "csv", "--host", host]));
        assert_ok(&out);
        stdout(&out).lines().count() - 1
    };
    assert_eq!(export(hostile), 3);
    assert_eq!(export("plain"), 2);
    assert_eq!(export("x' OR '1'='1"), 0);
    assert_eq!(export("' OR 1=1 --"), 0);
    let out = run(miq(&db).args(["events", "--format", "csv", "--host", "' OR 1=1 --"]));
    assert_ok(&out);
    assert_eq!(
        sql(&db, "SELECT host FROM process ORDER BY id"),
        format!("{hostile}\nplain")
    );
    assert_eq!(sql_count(&db, "SELECT COUNT(*) FROM sample"), 5);
}
