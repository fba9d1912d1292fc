//! File identity: which files the database already holds. A file is known by
//! its content hash (xxh3-128 of its bytes as stored on disk), whatever its
//! path; a cheap quick key (size, hash of its first and last 64 KiB) tells the
//! certainly-new files apart without reading them whole.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use anyhow::Result;
use xxhash_rust::xxh3::{xxh3_64, Xxh3};

use super::Store;

/// The hash a file is stored under, computed as its bytes stream past.
#[derive(Clone, Default)]
pub struct FileHasher(Xxh3);

impl FileHasher {
    pub fn new() -> FileHasher {
        FileHasher(Xxh3::new())
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The stored form: 32 hex digits.
    pub fn hex(&self) -> String {
        format!("{:032x}", self.0.digest128())
    }
}

/// Cheap identity: size plus a hash of the first and last 64 KiB. Files whose
/// quick key is unknown to the database are certainly new.
pub fn quick_key(path: &Path) -> io::Result<String> {
    const EDGE: u64 = 64 * 1024;
    let mut file = File::open(path)?;
    let size = file.metadata()?.len();
    let mut head = Vec::with_capacity(EDGE as usize);
    (&mut file).take(EDGE).read_to_end(&mut head)?;
    let mut tail = Vec::with_capacity(EDGE as usize);
    if size > EDGE {
        file.seek(SeekFrom::Start(size.saturating_sub(EDGE).max(EDGE)))?;
        file.take(EDGE).read_to_end(&mut tail)?;
    }
    Ok(format!(
        "{size}:{:016x}:{:016x}",
        xxh3_64(&head),
        xxh3_64(&tail)
    ))
}

/// The content hash of a whole file, as stored.
pub fn content_hash(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = FileHasher::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match file.read(&mut buf) {
            Ok(0) => return Ok(hasher.hex()),
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// What the store records about an ingested file.
#[derive(Debug, Clone)]
pub struct FileMeta {
    pub path: String,
    pub hash: String,
    pub quick_key: String,
    pub size_bytes: u64,
    pub compressed: bool,
    pub host: String,
    /// The format its content was read as (`crate::input::Format::as_str`).
    pub format: &'static str,
    /// The zone its local times were read in, as stored: `UTC`, `+02:00`,
    /// `America/New_York`.
    pub zone: String,
    pub zone_inferred: bool,
    pub partial: bool,
    pub lines: u64,
    pub rejected: u64,
    /// Lines cut by ManageIQ's message limit before their values.
    pub cut: u64,
}

/// Where a file's bytes were first ingested from, and what they were.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Earlier {
    pub path: String,
    pub host: String,
    /// The format its content was read as (`source_file.format`).
    pub format: String,
}

/// What the database knew of files when an ingest started.
#[derive(Debug, Default)]
pub struct KnownFiles {
    quick_keys: HashSet<String>,
    hashes: HashMap<String, Earlier>,
}

/// A file as the database sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// The same bytes were ingested before.
    Known(Earlier),
    /// New bytes; the quick key is stored with the file.
    New { quick_key: String },
}

impl KnownFiles {
    /// Recognises a file: by its quick key first, by its whole content only
    /// when the quick key is one the database holds.
    pub fn identify(&self, path: &Path) -> io::Result<Identity> {
        let quick_key = quick_key(path)?;
        if self.quick_keys.contains(&quick_key) {
            if let Some(earlier) = self.hashes.get(&content_hash(path)?) {
                return Ok(Identity::Known(earlier.clone()));
            }
        }
        Ok(Identity::New { quick_key })
    }
}

impl Store {
    /// Adds a file's `source_file` row (counts zero until its writer sets them),
    /// with the time span of its records when known already; returns its id.
    pub(super) fn insert_file(
        tx: &rusqlite::Transaction<'_>,
        meta: &FileMeta,
        span_us: Option<i64>,
    ) -> Result<i64> {
        tx.prepare_cached(
            "INSERT INTO source_file (path, hash, quick_key, size_bytes, compressed, host, format, tz,
                 tz_inferred, status, lines, samples_new, samples_dup, events_new, rejected, truncated,
                 first_ts_us, last_ts_us, ingested_us)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 0, 0, 0, ?12, ?13, ?14, ?14, ?15)",
        )?
        .execute(rusqlite::params![
            meta.path,
            meta.hash,
            meta.quick_key,
            meta.size_bytes as i64,
            meta.compressed,
            meta.host,
            meta.format,
            meta.zone,
            meta.zone_inferred,
            if meta.partial { "partial" } else { "complete" },
            meta.lines as i64,
            meta.rejected as i64,
            meta.cut as i64,
            span_us,
            chrono::Utc::now().timestamp_micros(),
        ])?;
        Ok(tx.last_insert_rowid())
    }

    /// The file whose bytes hash to `hash`, if one is stored (checked again
    /// inside a write: another run may have stored it meanwhile).
    pub(super) fn stored_file(
        tx: &rusqlite::Transaction<'_>,
        hash: &str,
    ) -> Result<Option<Earlier>> {
        use rusqlite::OptionalExtension;
        Ok(tx
            .prepare_cached("SELECT path, host, format FROM source_file WHERE hash = ?1")?
            .query_row([hash], |r| {
                Ok(Earlier {
                    path: r.get(0)?,
                    host: r.get(1)?,
                    format: r.get(2)?,
                })
            })
            .optional()?)
    }

    /// Every ingested file (logs and heap dumps), so unchanged files are
    /// recognised before they are read.
    pub fn known_files(&self) -> Result<KnownFiles> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT quick_key, hash, path, host, format FROM source_file WHERE heap_read = 1",
        )?;
        let mut known = KnownFiles::default();
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            known.quick_keys.insert(row.get(0)?);
            let earlier = Earlier {
                path: row.get(2)?,
                host: row.get(3)?,
                format: row.get(4)?,
            };
            known.hashes.insert(row.get(1)?, earlier);
        }
        Ok(known)
    }
}
