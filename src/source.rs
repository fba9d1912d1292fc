//! Input files: finding them under the paths given, telling logs from heap
//! dumps, and reading a log's bytes (plain or gzip) while hashing them.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::{self, JoinHandle};

use anyhow::{anyhow, Context, Result};
use flate2::bufread::MultiGzDecoder;
use xxhash_rust::xxh3::{xxh3_64, Xxh3};

use crate::parse::dump::{parse_dump_name, DumpName};

#[derive(Debug, Clone)]
pub enum InputKind {
    Log,
    Dump(DumpName),
}

#[derive(Debug, Clone)]
pub struct InputFile {
    pub path: PathBuf,
    /// Which of the paths given this file was found under.
    pub root: usize,
    pub size: u64,
    pub kind: InputKind,
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

fn classify(path: &Path, root: usize, size: u64) -> InputFile {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let kind = parse_dump_name(&name).map_or(InputKind::Log, InputKind::Dump);
    InputFile {
        path: path.to_path_buf(),
        root,
        size,
        kind,
    }
}

/// Files found under a folder are taken when their name holds `.log` (evm.log,
/// evm.log-20170301.gz) or is a heap dump's; files named directly are always taken.
fn wanted_in_folder(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    name.contains(".log") || parse_dump_name(&name).is_some()
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
                    found.push(classify(path, root, meta.len()));
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
                        self.found.push(classify(&path, self.root, meta.len()));
                    }
                }
                Ok(_) => {}
            }
        }
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

/// The content hash stored per file: xxh3-128 of its bytes, as hex.
pub fn content_hash(path: &Path) -> io::Result<String> {
    let mut reader = HashingReader::new(File::open(path)?, |_| {});
    io::copy(&mut reader, &mut io::sink())?;
    Ok(reader.hex_digest())
}

/// Passes bytes through while hashing them and reporting progress.
pub struct HashingReader<R, P> {
    inner: R,
    hasher: Option<Xxh3>,
    progress: P,
}

impl<R: Read, P: FnMut(u64)> HashingReader<R, P> {
    pub fn new(inner: R, progress: P) -> Self {
        HashingReader {
            inner,
            hasher: Some(Xxh3::new()),
            progress,
        }
    }

    /// Reports progress only: the bytes are hashed further down the line.
    fn counting(inner: R, progress: P) -> Self {
        HashingReader {
            inner,
            hasher: None,
            progress,
        }
    }

    pub fn hex_digest(&self) -> String {
        self.hasher.as_ref().map(hex_digest).unwrap_or_default()
    }
}

fn hex_digest(hasher: &Xxh3) -> String {
    format!("{:032x}", hasher.digest128())
}

impl<R: Read, P: FnMut(u64)> Read for HashingReader<R, P> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(hasher) = &mut self.hasher {
            hasher.update(&buf[..n]);
        }
        (self.progress)(n as u64);
        Ok(n)
    }
}

/// How the bytes of a log file were read, known once they all were.
#[derive(Debug, Clone)]
pub struct ReadSummary {
    pub hash: String,
    pub compressed: bool,
    /// The gzip stream ended early and `--accept-truncated` kept what came before.
    pub truncated: bool,
}

const BLOCK: usize = 1 << 20;
const BLOCKS_IN_FLIGHT: usize = 2;

/// Reads (and inflates) a log file on a thread of its own, handing decoded blocks
/// over a bounded channel, so inflating and parsing run side by side.
pub struct LogBytes {
    blocks: Receiver<io::Result<Vec<u8>>>,
    /// Read blocks go back to the reading thread, which fills them again instead
    /// of allocating and zeroing new ones.
    recycle: SyncSender<Vec<u8>>,
    /// A plain file's hash, taken here rather than on the reading thread: reading
    /// (copying out of the page cache) is the slower side, parsing has time to spare.
    plain_hash: Option<Xxh3>,
    current: Vec<u8>,
    at: usize,
    reader: Option<JoinHandle<io::Result<ReadSummary>>>,
}

impl LogBytes {
    pub fn open(
        path: &Path,
        accept_truncated: bool,
        progress: impl FnMut(u64) + Send + 'static,
    ) -> Result<LogBytes> {
        let mut file =
            File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let compressed = starts_with_gzip_magic(&mut file)
            .with_context(|| format!("cannot read {}", path.display()))?;
        // A few blocks of slack each way keep both threads busy; more only costs memory.
        let (tx, rx) = sync_channel(BLOCKS_IN_FLIGHT);
        let (recycle, reuse) = sync_channel(BLOCKS_IN_FLIGHT);
        let reader = thread::Builder::new()
            .name("read".into())
            .spawn(move || read_blocks(file, compressed, accept_truncated, progress, tx, reuse))?;
        Ok(LogBytes {
            blocks: rx,
            recycle,
            plain_hash: (!compressed).then(Xxh3::new),
            current: Vec::new(),
            at: 0,
            reader: Some(reader),
        })
    }

    /// Waits for the reading thread and returns what it found.
    pub fn finish(mut self) -> io::Result<ReadSummary> {
        drop(std::mem::replace(&mut self.blocks, sync_channel(0).1));
        let mut summary = match self.reader.take().map(JoinHandle::join) {
            Some(Ok(result)) => result?,
            _ => return Err(io::Error::other("the reading thread stopped unexpectedly")),
        };
        if let Some(hasher) = &self.plain_hash {
            summary.hash = hex_digest(hasher);
        }
        Ok(summary)
    }
}

/// Detects gzip by its magic bytes, then rewinds.
fn starts_with_gzip_magic(file: &mut File) -> io::Result<bool> {
    let mut magic = Vec::with_capacity(2);
    (&mut *file).take(2).read_to_end(&mut magic)?;
    file.seek(SeekFrom::Start(0))?;
    Ok(magic == [0x1f, 0x8b])
}

impl Read for LogBytes {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.at == self.current.len() {
            match self.blocks.recv() {
                Ok(Ok(block)) => {
                    if let Some(hasher) = &mut self.plain_hash {
                        hasher.update(&block);
                    }
                    let used = std::mem::replace(&mut self.current, block);
                    let _ = self.recycle.try_send(used);
                    self.at = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.current.len() - self.at);
        out[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn read_blocks(
    file: File,
    compressed: bool,
    accept_truncated: bool,
    progress: impl FnMut(u64),
    tx: SyncSender<io::Result<Vec<u8>>>,
    reuse: Receiver<Vec<u8>>,
) -> io::Result<ReadSummary> {
    let reader = if compressed {
        HashingReader::new(file, progress)
    } else {
        HashingReader::counting(file, progress)
    };
    let mut raw = BufReader::with_capacity(256 * 1024, reader);
    let mut truncated = false;
    if compressed {
        let mut gz = MultiGzDecoder::new(raw);
        match pump(&mut gz, &tx, &reuse) {
            Ok(()) => {}
            Err(e) if accept_truncated && e.kind() == io::ErrorKind::UnexpectedEof => {
                truncated = true
            }
            Err(e) => {
                let reason = if e.kind() == io::ErrorKind::UnexpectedEof {
                    format!("gzip: {e}: the file is truncated (--accept-truncated keeps the readable part)")
                } else {
                    format!("gzip: {e}")
                };
                let reason = io::Error::new(e.kind(), reason);
                let _ = tx.send(Err(io::Error::new(e.kind(), reason.to_string())));
                return Err(reason);
            }
        }
        raw = gz.into_inner();
    } else if let Err(e) = pump(&mut raw, &tx, &reuse) {
        let _ = tx.send(Err(io::Error::new(e.kind(), e.to_string())));
        return Err(e);
    }
    drop(tx);
    // Whatever the decoder left unread still belongs to the file's hash.
    io::copy(&mut raw, &mut io::sink())?;
    Ok(ReadSummary {
        hash: raw.get_ref().hex_digest(),
        compressed,
        truncated,
    })
}

/// Copies `from` into blocks on the channel until its end; stops quietly when the
/// receiving side has gone (it failed and needs no more).
fn pump(
    from: &mut impl Read,
    tx: &SyncSender<io::Result<Vec<u8>>>,
    reuse: &Receiver<Vec<u8>>,
) -> io::Result<()> {
    loop {
        let mut block = reuse.try_recv().unwrap_or_default();
        block.resize(BLOCK, 0);
        let mut len = 0;
        while len < BLOCK {
            match from.read(&mut block[len..]) {
                Ok(0) => break,
                Ok(n) => len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    if len > 0 {
                        block.truncate(len);
                        let _ = tx.send(Ok(block));
                    }
                    return Err(e);
                }
            }
        }
        if len == 0 {
            return Ok(());
        }
        block.truncate(len);
        if tx.send(Ok(block)).is_err() {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stored hash is the one `content_hash` finds again, plain or gzip.
    #[test]
    fn read_hash_is_the_content_hash() {
        for path in [
            "fixtures/trip1/appliance-a/evm.log",
            "fixtures/appliance-a/evm.log-20170303.gz",
            "fixtures/edge/long-line.log.gz",
        ] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
            let mut bytes = LogBytes::open(&path, false, |_| {}).unwrap();
            let mut text = Vec::new();
            bytes.read_to_end(&mut text).unwrap();
            let summary = bytes.finish().unwrap();
            assert_eq!(summary.hash, content_hash(&path).unwrap(), "{path:?}");
            assert_eq!(summary.compressed, path.extension().unwrap() == "gz");
            assert!(text.starts_with(b"[----] "));
        }
    }
}
