//! Reading a file's bytes on a thread of its own, inflating gzip (told by its
//! magic bytes, several members read whole) and hashing what is on disk as it
//! streams past, so reading, inflating and parsing run side by side.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Mutex;
use std::thread::{self, JoinHandle};

use anyhow::{Context, Result};
use flate2::bufread::MultiGzDecoder;

use crate::store::files::FileHasher;

/// Passes bytes through while hashing them and reporting progress.
struct HashingReader<R, P> {
    inner: R,
    hasher: Option<FileHasher>,
    progress: P,
}

impl<R: Read, P: FnMut(u64)> HashingReader<R, P> {
    fn new(inner: R, progress: P) -> Self {
        HashingReader {
            inner,
            hasher: Some(FileHasher::new()),
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

    fn hex_digest(&self) -> String {
        self.hasher
            .as_ref()
            .map(FileHasher::hex)
            .unwrap_or_default()
    }
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
/// The least a block grows by.
const MIN_BLOCK: usize = 64 << 10;
const BLOCKS_IN_FLIGHT: usize = 2;
/// Blocks kept for reuse, by any file's reading thread.
const SPARE_BLOCKS: usize = 12;

/// Blocks read and done with. A fresh block costs the faulting in and zeroing
/// of its pages; for the many small files of a run (heap dumps of a few
/// hundred KB) that was most of the cost of reading them, so blocks go back
/// here to be filled again by whichever file is read next.
static SPARE: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

fn spare_block() -> Vec<u8> {
    SPARE
        .lock()
        .ok()
        .and_then(|mut spare| spare.pop())
        .unwrap_or_default()
}

/// Keeps a block done with for reuse, up to [`SPARE_BLOCKS`] of them.
fn give_back(block: Vec<u8>) {
    if block.capacity() >= BLOCK {
        if let Ok(mut spare) = SPARE.lock() {
            if spare.len() < SPARE_BLOCKS {
                spare.push(block);
            }
        }
    }
}

/// Reads (and inflates) a log file on a thread of its own, handing decoded blocks
/// over a bounded channel, so inflating and parsing run side by side.
pub struct LogBytes {
    blocks: Receiver<io::Result<Vec<u8>>>,
    /// A plain file's hash, taken here rather than on the reading thread: reading
    /// (copying out of the page cache) is the slower side, parsing has time to spare.
    plain_hash: Option<FileHasher>,
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
        let reader = thread::Builder::new()
            .name("read".into())
            .spawn(move || read_blocks(file, compressed, accept_truncated, progress, tx))?;
        Ok(LogBytes {
            blocks: rx,
            plain_hash: (!compressed).then(FileHasher::new),
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
            summary.hash = hasher.hex();
        }
        Ok(summary)
    }
}

impl Drop for LogBytes {
    fn drop(&mut self) {
        give_back(std::mem::take(&mut self.current));
    }
}

/// Detects gzip by its magic bytes, then rewinds.
fn starts_with_gzip_magic(file: &mut File) -> io::Result<bool> {
    let mut magic = Vec::with_capacity(2);
    (&mut *file).take(2).read_to_end(&mut magic)?;
    file.seek(SeekFrom::Start(0))?;
    Ok(magic == [0x1f, 0x8b])
}

/// Whether a file is gzip, by its magic bytes.
pub fn is_gzip(path: &Path) -> io::Result<bool> {
    starts_with_gzip_magic(&mut File::open(path)?)
}

impl LogBytes {
    /// Makes the next block current unless bytes of the current one are left;
    /// false at the end of the file.
    fn fill(&mut self) -> io::Result<bool> {
        while self.at == self.current.len() {
            match self.blocks.recv() {
                Ok(Ok(block)) => {
                    if let Some(hasher) = &mut self.plain_hash {
                        hasher.update(&block);
                    }
                    let used = std::mem::replace(&mut self.current, block);
                    // Empty when `next_block` took it (it comes back by `give_back`).
                    if used.capacity() > 0 {
                        give_back(used);
                    }
                    self.at = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(false),
            }
        }
        Ok(true)
    }

    /// The bytes about to be read, without consuming them: at the start of a
    /// file, its first block (1 MiB, or all of a smaller file).
    pub fn peek(&mut self) -> io::Result<&[u8]> {
        self.fill()?;
        Ok(&self.current[self.at..])
    }
}

/// The blocks as they come, owned: a heap dump's lines are parsed on other
/// threads, which hand each block back once done with it.
impl crate::heap::read::Blocks for LogBytes {
    fn next_block(&mut self) -> io::Result<Option<Vec<u8>>> {
        if !self.fill()? {
            return Ok(None);
        }
        let mut block = std::mem::take(&mut self.current);
        if self.at > 0 {
            block.drain(..self.at);
        }
        self.at = 0;
        Ok(Some(block))
    }

    fn give_back(&mut self, block: Vec<u8>) {
        give_back(block);
    }
}

/// The blocks as they come, read in place (no copy into a buffer of the reader's).
impl BufRead for LogBytes {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.fill()?;
        Ok(&self.current[self.at..])
    }

    fn consume(&mut self, n: usize) {
        self.at = (self.at + n).min(self.current.len());
    }
}

impl Read for LogBytes {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if !self.fill()? {
            return Ok(0);
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
        match pump(&mut gz, &tx) {
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
    } else if let Err(e) = pump(&mut raw, &tx) {
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
fn pump(from: &mut impl Read, tx: &SyncSender<io::Result<Vec<u8>>>) -> io::Result<()> {
    loop {
        // A spare block's bytes up to its length were written before: filled
        // again without zeroing; it grows (zeroed) only as the file needs.
        let mut block = spare_block();
        let mut len = 0;
        loop {
            if len == block.len() {
                if len >= BLOCK {
                    break;
                }
                block.resize((2 * len).clamp(MIN_BLOCK, BLOCK), 0);
            }
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
    use crate::store::files::content_hash;

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
