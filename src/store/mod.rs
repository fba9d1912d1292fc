//! The database: one `Store` owns the connection. Opening sets the pragmas, then
//! applies the embedded migrations; every statement is prepared once and cached.

mod ingest;
mod select;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use regex::Regex;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

pub use ingest::{DumpFile, FileMeta, FileOutcome};
pub use select::{
    query_description, ChartSample, MarkerKind, ProcessEvent, ProcessSummary, ReportProcess,
    Selection, Table, Value, NAMED_QUERIES,
};

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// How long a writer waits for another process's write transaction.
const BUSY_TIMEOUT: Duration = Duration::from_secs(120);

pub struct Store {
    conn: Connection,
    staging: bool,
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
        let mut conn = Connection::open_with_flags(path, flags)
            .with_context(|| format!("cannot open database {shown}"))?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        register_regexp(&conn)?;
        let applied = applied_version(&conn)
            .with_context(|| format!("{shown} is not a miq-memlog database"))?;
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
                let mode: String = conn
                    .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
                    .with_context(|| format!("cannot write to database {shown}"))?;
                if !mode.eq_ignore_ascii_case("wal") {
                    bail!("cannot switch {shown} to WAL journaling (got {mode})");
                }
                conn.pragma_update(None, "synchronous", "NORMAL")?;
                conn.pragma_update(None, "foreign_keys", "ON")?;
                embedded::migrations::runner()
                    .run(&mut conn)
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
        Ok(Store {
            conn,
            staging: false,
        })
    }

    /// Quick keys, and content hash -> (path, host), of every ingested file, so
    /// unchanged files are recognised before they are parsed.
    #[allow(clippy::type_complexity)]
    pub fn ingested_files(&self) -> Result<(HashSet<String>, HashMap<String, (String, String)>)> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT quick_key, hash, path, host FROM source_file")?;
        let mut quick_keys = HashSet::new();
        let mut hashes = HashMap::new();
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            quick_keys.insert(row.get(0)?);
            hashes.insert(row.get(1)?, (row.get(2)?, row.get(3)?));
        }
        Ok((quick_keys, hashes))
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
}
