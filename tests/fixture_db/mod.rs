//! Shared by the integration tests: run the built binary, build the fixture
//! database, compare against golden files.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_miq-memlog");

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(rel: &str) -> PathBuf {
    repo().join("fixtures").join(rel)
}

/// Runs miq-memlog in `cwd` with `--db db`.
pub fn run(cwd: &Path, db: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(cwd)
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .expect("run miq-memlog")
}

/// Runs and insists on success; returns stdout.
pub fn ok(cwd: &Path, db: &Path, args: &[&str]) -> String {
    let out = run(cwd, db, args);
    assert!(
        out.status.success(),
        "miq-memlog {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Runs and insists on failure; returns stderr.
pub fn fails(cwd: &Path, db: &Path, args: &[&str]) -> String {
    let out = run(cwd, db, args);
    assert!(!out.status.success(), "miq-memlog {args:?} should fail");
    assert!(out.stdout.is_empty(), "no output on failure");
    String::from_utf8(out.stderr).expect("utf-8 stderr")
}

/// A temp dir holding `miq-memlog.db` with the two appliances ingested the way
/// `fixtures/expected/export.csv` was made.
pub struct FixtureDb {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
}

impl FixtureDb {
    /// A temp dir and the path of a database not yet created in it.
    pub fn empty() -> FixtureDb {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("miq-memlog.db");
        FixtureDb { dir, db }
    }

    pub fn new() -> FixtureDb {
        let fixture_db = FixtureDb::empty();
        let a = fixture("appliance-a");
        let a2 = fixture("trip2/appliance-a");
        let b = fixture("appliance-b");
        for (host, paths) in [("appliance-a", vec![&a, &a2]), ("appliance-b", vec![&b])] {
            let mut args = vec!["ingest", "-q", "--host", host];
            let paths: Vec<&str> = paths.iter().map(|p| p.to_str().unwrap()).collect();
            args.extend(paths);
            fixture_db.ok(&args);
        }
        fixture_db
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn run(&self, args: &[&str]) -> Output {
        run(self.path(), &self.db, args)
    }

    pub fn ok(&self, args: &[&str]) -> String {
        ok(self.path(), &self.db, args)
    }

    pub fn fails(&self, args: &[&str]) -> String {
        fails(self.path(), &self.db, args)
    }
}

/// Compares `actual` with `tests/golden/<name>`; with UPDATE_GOLDEN=1 it writes
/// the golden file instead (then inspect it before committing).
pub fn golden(name: &str, actual: &[u8]) {
    let path = repo().join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, actual).unwrap();
        return;
    }
    let expected = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if expected != actual {
        panic!(
            "{} differs from the output:\n{}",
            path.display(),
            String::from_utf8_lossy(actual)
        );
    }
}

/// Every file of a folder, sorted by name, as (name, bytes).
pub fn files_in(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// Width and height from a PNG's IHDR chunk.
pub fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a PNG file");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

/// The rows of `fixtures/expected/export.csv` (header dropped), split on commas;
/// the fixture has no quoted fields.
pub fn expected_rows() -> Vec<Vec<String>> {
    let text = fs::read_to_string(fixture("expected/export.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.split(',').map(String::from).collect())
        .collect()
}

/// CSV text as maps from column name to cell.
pub fn records(text: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            header
                .iter()
                .map(String::from)
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect()
}
