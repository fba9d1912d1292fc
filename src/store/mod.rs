//! The database: one `Store` owns the connection. Opening sets the pragmas, then
//! applies the embedded migrations; every statement is prepared once and cached.
//! `files` knows which files are stored, `logs` and `dumps` write them (one
//! transaction per file), `select` reads.

mod dumps;
pub mod files;
mod heap;
mod logs;
mod select;

use std::fs;
use std::path::Path;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use regex::Regex;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

pub use dumps::{DumpMeta, DumpOutcome};
pub use files::{Earlier, FileMeta, Identity, KnownFiles};
pub use heap::{DumpRow as HeapDumpRow, DumpTotalsRow, NearestSample};
pub use logs::{FileCounts, FileOutcome, LogWrite};
pub use select::{
    query_description, ChartSample, DumpRow, EnrichmentRow, MarkerKind, ProcessEvent,
    ProcessSummary, ReportProcess, SampleTick, Selection, Table, Value, NAMED_QUERIES,
};

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// How long a writer waits for another process's write transaction.
const BUSY_TIMEOUT: Duration = Duration::from_secs(120);
/// Busy timeouts a write transaction waits through before giving up.
const WRITE_TIMEOUTS: u64 = 4;

pub struct Store {
    conn: Connection,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Create the database if needed and migrate it.
    ReadWrite,
    /// The database must exist; it is opened read-only at the SQLite level.
    ReadOnly,
}

/// The newest schema version this build knows.
fn known_version() -> i64 {
    embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| m.version() as i64)
        .max()
        .unwrap_or(0)
}

/// The newest schema version recorded in the database, if it has been migrated at all.
fn applied_version(conn: &Connection) -> Result<Option<i64>> {
    let has_history: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'refinery_schema_history')",
        [],
        |r| r.get(0),
    )?;
    if !has_history {
        return Ok(None);
    }
    Ok(conn.query_row(
        "SELECT MAX(version) FROM refinery_schema_history",
        [],
        |r| r.get(0),
    )?)
}

/// `regexp(PATTERN, TEXT)`, which also makes `TEXT REGEXP PATTERN` work in
/// queries and ad-hoc SQL. The compiled pattern is cached per statement.
fn register_regexp(conn: &Connection) -> Result<()> {
    conn.create_scalar_function(
        "regexp",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let pattern = ctx.get_or_create_aux(0, |v| -> Result<Regex, BoxError> {
                Ok(Regex::new(v.as_str()?)?)
            })?;
            Ok(match ctx.get_raw(1) {
                ValueRef::Null => None,
                ValueRef::Text(t) => Some(pattern.is_match(&String::from_utf8_lossy(t))),
                other => Some(pattern.is_match(&format!("{:?}", other))),
            })
        },
    )?;
    Ok(())
}

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Applies the migrations this build knows, all of them and their history rows in
/// one transaction: a run killed midway leaves the schema as it was. Two
/// miq-memlog runs can open a new database at once: the one that loses the race
/// finds the schema migrated by the other (or waits for it) instead of failing.
fn migrate(conn: &mut Connection, known: i64) -> Result<()> {
    let run = |conn: &mut Connection| {
        embedded::migrations::runner()
            .set_grouped(true)
            .run(conn)
            .map(drop)
    };
    match retry_while_busy(|| run(conn)) {
        Ok(()) => Ok(()),
        Err(_) if applied_version(conn).ok().flatten() >= Some(known) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// SQLite's busy handler does not cover every lock (switching to WAL, a
/// transaction whose snapshot another writer made stale): retry those for as long
/// as the busy timeout.
fn retry_while_busy<T, E: std::error::Error + 'static>(
    mut attempt: impl FnMut() -> Result<T, E>,
) -> Result<T, E> {
    let deadline = Instant::now() + BUSY_TIMEOUT;
    loop {
        match attempt() {
            Err(e) if is_busy(&e) && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20))
            }
            result => return result,
        }
    }
}

/// Whether an error (or one of its causes) is SQLite's "database is busy/locked".
fn is_busy(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(err);
    while let Some(e) = cause {
        if let Some(code) = e
            .downcast_ref::<rusqlite::Error>()
            .and_then(rusqlite::Error::sqlite_error_code)
        {
            if matches!(
                code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ) {
                return true;
            }
        }
        cause = e.source();
    }
    false
}

/// The SQLite error code behind an error, if SQLite raised it.
fn sqlite_code(err: &anyhow::Error) -> Option<rusqlite::ErrorCode> {
    err.chain()
        .find_map(|cause| cause.downcast_ref::<rusqlite::Error>()?.sqlite_error_code())
}

/// Opens a database in a read-only folder for reading. SQLite can then neither
/// create the -shm file WAL mode needs nor see another process's writes, which
/// is fine as long as no writer left a -wal file behind: no one can be writing
/// where no -wal file can be created.
fn open_immutable(path: &Path) -> Result<Connection> {
    let shown = path.display();
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    if fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
        bail!("cannot read database {shown}: its folder is read-only and {shown}-wal holds writes not yet merged into it");
    }
    let name = path
        .to_str()
        .with_context(|| format!("cannot read database {shown}: its folder is read-only"))?;
    let mut uri = String::from("file:");
    for c in name.chars() {
        match c {
            '%' | '?' | '#' => uri.push_str(&format!("%{:02X}", c as u32)),
            c => uri.push(c),
        }
    }
    uri.push_str("?immutable=1");
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    Connection::open_with_flags(&uri, flags)
        .with_context(|| format!("cannot open database {shown}"))
}

/// What a failed write most likely means, for the user: SQLite only says "disk I/O error".
pub fn write_fault(err: &anyhow::Error) -> Option<&'static str> {
    let sqlite = err.chain().find_map(|cause| match cause.downcast_ref() {
        Some(rusqlite::Error::SqliteFailure(e, _)) => Some(*e),
        _ => None,
    })?;
    let full = concat!(
        "the disk holding the database (or SQLite's temporary files) is full, or a file size ",
        "limit was reached; what was stored before is kept, and running the same ingest again ",
        "adds the rest"
    );
    match sqlite.code {
        rusqlite::ErrorCode::DiskFull => Some(full),
        rusqlite::ErrorCode::SystemIoFailure
            if sqlite.extended_code == rusqlite::ffi::SQLITE_IOERR_WRITE
                || sqlite.extended_code == rusqlite::ffi::SQLITE_IOERR_TRUNCATE
                || sqlite.extended_code == rusqlite::ffi::SQLITE_IOERR_SHMSIZE =>
        {
            Some(full)
        }
        _ => None,
    }
}

impl Store {
    pub fn open(path: &Path, access: Access) -> Result<Store> {
        let shown = path.display();
        if access == Access::ReadOnly && !path.exists() {
            bail!("no database at {shown} (ingest some logs first, or name one with --db)");
        }
        if access == Access::ReadWrite {
            let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
            if let Some(dir) = parent {
                if !dir.is_dir() {
                    bail!(
                        "cannot create database {shown}: folder {} does not exist",
                        dir.display()
                    );
                }
            }
        }
        let flags = match access {
            Access::ReadWrite => OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
            Access::ReadOnly => OpenFlags::SQLITE_OPEN_READ_ONLY,
        } | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(path, flags).with_context(|| {
            if path.exists() {
                format!("cannot open database {shown}")
            } else {
                format!("cannot create database {shown} (can its folder be written to?)")
            }
        })?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        if access == Access::ReadWrite && conn.is_readonly(rusqlite::MAIN_DB)? {
            bail!("cannot write to database {shown}: the file is read-only");
        }
        let applied = match applied_version(&conn) {
            Ok(applied) => applied,
            // A WAL database needs its -shm file, which a read-only folder cannot hold.
            Err(e) if sqlite_code(&e) == Some(rusqlite::ErrorCode::ReadOnly) => match access {
                Access::ReadWrite => bail!(
                    "cannot write to database {shown}: its folder is read-only \
                     (SQLite keeps {shown}-wal and {shown}-shm beside it)"
                ),
                Access::ReadOnly => {
                    conn = open_immutable(path)?;
                    applied_version(&conn)
                        .with_context(|| format!("cannot read database {shown}"))?
                }
            },
            Err(e) if sqlite_code(&e) == Some(rusqlite::ErrorCode::NotADatabase) => {
                return Err(e.context(format!("{shown} is not a miq-memlog database")))
            }
            Err(e) => return Err(e.context(format!("cannot read database {shown}"))),
        };
        register_regexp(&conn)?;
        let known = known_version();
        if applied.unwrap_or(0) > known {
            bail!(
                "{shown} has schema version {} but this miq-memlog knows only up to {known}: \
                 it was written by a newer miq-memlog; use that version (the database was not modified)",
                applied.unwrap_or(0)
            );
        }
        match access {
            Access::ReadWrite => {
                // Pragmas first: journal_mode cannot change inside a migration's transaction.
                // 16 KiB pages for a new database (an existing one keeps its
                // own): storing a sample took a tenth less with 8 KiB than
                // with 4 KiB, and as much again with 16 KiB (fewer pages
                // logged, split and checkpointed); the leaves a many-process
                // file appends to still fit the default page cache.
                conn.pragma_update(None, "page_size", 16384)?;
                let mode: String = retry_while_busy(|| {
                    conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
                })
                .with_context(|| format!("cannot write to database {shown}"))?;
                if !mode.eq_ignore_ascii_case("wal") {
                    bail!("cannot switch {shown} to WAL journaling (got {mode})");
                }
                conn.pragma_update(None, "synchronous", "NORMAL")?;
                // Every reference a write makes (a sample's process and file)
                // is to a row it looked up or inserted in its own transaction;
                // checking each again per row (two cursors opened and closed)
                // was a sixth of the cost of storing a sample. The schema still
                // declares them, and the reliability and heap tests run
                // `PRAGMA foreign_key_check` after their writes.
                conn.pragma_update(None, "foreign_keys", "OFF")?;
                // A many-row INSERT keeps a statement journal (to undo itself
                // alone): in memory, not a temporary file written page by page.
                conn.pragma_update(None, "temp_store", "MEMORY")?;
                migrate(&mut conn, known)
                    .with_context(|| format!("cannot migrate database {shown}"))?;
            }
            Access::ReadOnly => {
                if applied.unwrap_or(0) < known {
                    drop(conn);
                    Store::open(path, Access::ReadWrite)?;
                    return Store::open(path, Access::ReadOnly);
                }
                conn.pragma_update(None, "query_only", "ON")?;
            }
        }
        conn.set_prepared_statement_cache_capacity(64);
        Ok(Store { conn })
    }

    /// Starts a write transaction. Other miq-memlog runs write a file at a time;
    /// one that keeps winning the lock can outlast a single busy timeout, so
    /// waiting goes on for a few of them before giving up.
    fn begin_write(&self) -> Result<Transaction<'_>> {
        let mut timeouts = 0;
        loop {
            match Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate) {
                Ok(tx) => return Ok(tx),
                Err(e) if is_busy(&e) && timeouts < WRITE_TIMEOUTS => timeouts += 1,
                Err(e) if is_busy(&e) => {
                    return Err(e).context(format!(
                        "another process has kept the database locked for {} s",
                        BUSY_TIMEOUT.as_secs() * (WRITE_TIMEOUTS + 1)
                    ))
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// Checkpoints of the write-ahead log, run on a thread and connection of
/// their own while an ingest writes: copying committed pages into the database
/// file and waiting for the disk (about a fifth of a second per million samples
/// stored) then leaves the single writer free to go on with the next file.
pub struct Checkpoints {
    committed: Option<mpsc::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Checkpoints {
    /// Says a transaction was committed: its pages can be copied.
    pub fn committed(&self) {
        if let Some(tx) = &self.committed {
            let _ = tx.send(());
        }
    }
}

impl Drop for Checkpoints {
    fn drop(&mut self) {
        drop(self.committed.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Store {
    /// Moves the database's checkpoints to a thread of their own until
    /// [`Store::end_background_checkpoints`]; `None` for a database without a
    /// file (nothing to copy).
    pub fn background_checkpoints(&self) -> Result<Option<Checkpoints>> {
        let Some(path) = self.conn.path().filter(|p| !p.is_empty()) else {
            return Ok(None);
        };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        self.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let (committed, commits) = mpsc::channel::<()>();
        let thread = thread::Builder::new()
            .name("checkpoint".into())
            .spawn(move || {
                while commits.recv().is_ok() {
                    while commits.try_recv().is_ok() {}
                    // PASSIVE never waits for the writer. A checkpoint that
                    // fails leaves the pages in the log, read from there, for
                    // the next checkpoint or the last connection's close.
                    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                }
            })?;
        Ok(Some(Checkpoints {
            committed: Some(committed),
            thread: Some(thread),
        }))
    }

    /// Waits for the background checkpoints to end and gives checkpoints back
    /// to the writer (SQLite's default: at commit, past 1000 pages of log).
    pub fn end_background_checkpoints(&self, checkpoints: Option<Checkpoints>) -> Result<()> {
        if let Some(checkpoints) = checkpoints {
            drop(checkpoints);
            self.conn.pragma_update(None, "wal_autocheckpoint", 1000)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrating_twice_changes_nothing() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("twice.db");
        let first = Store::open(&path, Access::ReadWrite).unwrap();
        let version = |s: &Store| applied_version(&s.conn).unwrap();
        assert_eq!(version(&first), Some(known_version()));
        first
            .conn
            .execute(
                "INSERT INTO process (host, pid, worker) VALUES ('h', 1, 'MiqGenericWorker')",
                [],
            )
            .unwrap();
        drop(first);
        let second = Store::open(&path, Access::ReadWrite).unwrap();
        let history: i64 = second
            .conn
            .query_row("SELECT COUNT(*) FROM refinery_schema_history", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(history, known_version());
        let kept: String = second
            .conn
            .query_row("SELECT worker FROM process", [], |r| r.get(0))
            .unwrap();
        assert_eq!(kept, "MiqGenericWorker");
        let mode: String = second
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let read_only = Store::open(&path, Access::ReadOnly).unwrap();
        assert!(read_only.conn.execute("DELETE FROM process", []).is_err());
    }

    /// A database at schema version 1 (dumps recorded as events only) migrates
    /// forward: each dump event becomes its dump row, the prefix read from its
    /// name, and the `events` view still lists it.
    #[test]
    fn version_1_dump_events_become_dump_rows() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("v1.db");
        let mut conn = Connection::open(&path).unwrap();
        embedded::migrations::runner()
            .set_target(refinery::Target::Version(1))
            .run(&mut conn)
            .unwrap();
        conn.execute_batch(
            "INSERT INTO event (host, pid, ts_us, kind, size_bytes, detail) VALUES
                 ('a', 54823, 1488347288000000, 'dump', 613,
                  'file=metrics_processor_wrkr_1488347288_54823.dump.gz size=613'),
                 ('a', 7, 1488521514000000, 'dump', 1438, 'file=x_y_1488521514_7.dump size=1438');",
        )
        .unwrap();
        drop(conn);
        let store = Store::open(&path, Access::ReadWrite).unwrap();
        let rows: Vec<(String, i64, i64, String, i64, Option<i64>)> = store
            .conn
            .prepare("SELECT host, pid, ts_us, prefix, size_bytes, file_id FROM dump ORDER BY pid")
            .unwrap()
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            rows,
            [
                ("a".into(), 7, 1488521514000000, "x_y".into(), 1438, None),
                (
                    "a".into(),
                    54823,
                    1488347288000000,
                    "metrics_processor_wrkr".into(),
                    613,
                    None
                ),
            ]
        );
        let listed: Vec<String> = store
            .conn
            .prepare("SELECT kind || ' ' || detail FROM events ORDER BY pid")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            listed,
            [
                "dump file=x_y_1488521514_7.dump size=1438",
                "dump file=metrics_processor_wrkr_1488347288_54823.dump.gz size=613"
            ]
        );
        let left: i64 = store
            .conn
            .query_row("SELECT COUNT(*) FROM event", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0, "dumps are no longer event rows");
    }
}
