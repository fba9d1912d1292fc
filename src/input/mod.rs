//! Input files: finding them under the paths given (`discover`), telling their
//! formats apart by their first bytes (`format`), and reading their bytes,
//! plain or gzip, while hashing them (`bytes`).

mod bytes;
mod format;

pub use bytes::{is_gzip, LogBytes, ReadSummary};
pub use format::{sniff, Format};

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::anyhow;

use crate::parse::dump_name::parse_dump_name;

/// A file to ingest; what it holds is told by its content once it is opened.
#[derive(Debug, Clone)]
pub struct InputFile {
    pub path: PathBuf,
    /// Which of the paths given this file was found under.
    pub root: usize,
    pub size: u64,
}

impl InputFile {
    pub fn shown(&self) -> String {
        self.path.display().to_string()
    }

    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

fn input(path: &Path, root: usize, size: u64) -> InputFile {
    InputFile {
        path: path.to_path_buf(),
        root,
        size,
    }
}

/// Files found under a folder are taken when their name holds `.log` (evm.log,
/// evm.log-20170301.gz, memlog.log, pod output saved as `.log`), `journal` or
/// `.json` (journal exports), `messages` (rsyslog), or is a heap dump's; files
/// named directly are always taken. What a file is comes from its content.
fn wanted_in_folder(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    [".log", "journal", "messages", ".json"]
        .iter()
        .any(|part| name.contains(part))
        || parse_dump_name(&name).is_some()
}

/// Expands the paths given into input files, folders walked recursively in name
/// order. A path that cannot be read is an error of its own; the rest go on.
pub fn discover(paths: &[PathBuf]) -> (Vec<InputFile>, Vec<anyhow::Error>) {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    let mut seen_files = HashSet::new();
    let mut seen_dirs = HashSet::new();
    for (root, path) in paths.iter().enumerate() {
        match fs::metadata(path) {
            Err(e) => errors.push(anyhow!("{}: {e}", path.display())),
            Ok(meta) if meta.is_dir() => {
                let mut walk = Walk {
                    root,
                    seen_dirs: &mut seen_dirs,
                    seen_files: &mut seen_files,
                    found: &mut found,
                    errors: &mut errors,
                };
                walk.dir(path);
            }
            Ok(meta) => {
                if seen_files.insert(fs::canonicalize(path).unwrap_or_else(|_| path.clone())) {
                    found.push(input(path, root, meta.len()));
                }
            }
        }
    }
    (found, errors)
}

struct Walk<'a> {
    root: usize,
    seen_dirs: &'a mut HashSet<PathBuf>,
    seen_files: &'a mut HashSet<PathBuf>,
    found: &'a mut Vec<InputFile>,
    errors: &'a mut Vec<anyhow::Error>,
}

impl Walk<'_> {
    fn dir(&mut self, dir: &Path) {
        // Symbolic links are followed; a folder reached twice (a link loop) is walked once.
        let canonical = fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        if !self.seen_dirs.insert(canonical) {
            return;
        }
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => return self.errors.push(anyhow!("{}: {e}", dir.display())),
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            match fs::metadata(&path) {
                Err(e) => self.errors.push(anyhow!("{}: {e}", path.display())),
                Ok(meta) if meta.is_dir() => self.dir(&path),
                Ok(meta) if meta.is_file() && wanted_in_folder(&path) => {
                    if self
                        .seen_files
                        .insert(fs::canonicalize(&path).unwrap_or_else(|_| path.clone()))
                    {
                        self.found.push(input(&path, self.root, meta.len()));
                    }
                }
                Ok(_) => {}
            }
        }
    }
}
