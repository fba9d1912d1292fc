//! Reading a file's bytes, inflating gzip (told by its magic bytes, several
//! members read whole) and hashing what is on disk as it streams past: on a
//! thread of its own, so reading, inflating and parsing run side by side,
//! unless the file is small enough that the thread costs more than it saves.

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
/// A plain file's blocks after its first are smaller: the kernel copies them
/// out of the page cache into memory that stays in the core's cache until
/// they are parsed. Reading a 513 MB raw heap dump on one core took 0.76 s
/// rather than 0.86 s; inflating gains nothing from it. The first block is a
/// whole [`BLOCK`] either way, so that a file's format is told from the same
/// head whether it is plain or gzip.
const PLAIN_BLOCK: usize = 256 << 10;
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
    if block.capacity() >= PLAIN_BLOCK {
        if let Ok(mut spare) = SPARE.lock() {
            if spare.len() < SPARE_BLOCKS {
                spare.push(block);
            }
        }
    }
}

/// Files up to this size on disk are read on the thread that reads their
/// lines: starting a thread of its own cost a small file (most heap dumps, a
/// few KB) more than reading it.
const INLINE_FILE_BYTES: u64 = 256 << 10;

/// Reads (and inflates) a log file, on a thread of its own unless it is small,
/// handing decoded blocks over a bounded channel, so inflating and parsing run
/// side by side.
pub struct LogBytes {
    source: Source,
    /// A plain file's hash, taken here rather than on the reading thread: reading
    /// (copying out of the page cache) is the slower side, parsing has time to spare.
    plain_hash: Option<FileHasher>,
    current: Vec<u8>,
    at: usize,
}

/// Where the blocks come from.
enum Source {
    /// Read here, a block at a time, as they are asked for.
    Inline(BlockSource),
    /// Read ahead on the reading thread.
    Thread {
        blocks: Receiver<io::Result<Vec<u8>>>,
        reader: Option<JoinHandle<io::Result<ReadSummary>>>,
    },
    Finished,
}

impl LogBytes {
    pub fn open(
        path: &Path,
        accept_truncated: bool,
        progress: impl FnMut(u64) + Send + 'static,
    ) -> Result<LogBytes> {
        LogBytes::open_as(path, accept_truncated, progress, None)
    }

    /// [`LogBytes::open`], read here or on a thread as `inline` says (by the
    /// file's size when `None`).
    fn open_as(
        path: &Path,
        accept_truncated: bool,
        progress: impl FnMut(u64) + Send + 'static,
        inline: Option<bool>,
    ) -> Result<LogBytes> {
        let mut file =
            File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let cannot_read = || format!("cannot read {}", path.display());
        let compressed = starts_with_gzip_magic(&mut file).with_context(cannot_read)?;
        let size = file.metadata().with_context(cannot_read)?.len();
        let blocks = BlockSource::new(file, size, compressed, accept_truncated, Box::new(progress));
        let source = if inline.unwrap_or(size <= INLINE_FILE_BYTES) {
            Source::Inline(blocks)
        } else {
            // A few blocks of slack each way keep both threads busy; more only costs memory.
            let (tx, rx) = sync_channel(BLOCKS_IN_FLIGHT);
            let reader = thread::Builder::new()
                .name("read".into())
                .spawn(move || blocks.send_all(&tx))?;
            Source::Thread {
                blocks: rx,
                reader: Some(reader),
            }
        };
        Ok(LogBytes {
            source,
            plain_hash: (!compressed).then(FileHasher::new),
            current: Vec::new(),
            at: 0,
        })
    }

    /// Reads what is left of the file (for its hash) and returns what the
    /// reading found.
    pub fn finish(mut self) -> io::Result<ReadSummary> {
        let mut summary = match std::mem::replace(&mut self.source, Source::Finished) {
            Source::Inline(blocks) => blocks.finish()?,
            Source::Thread { blocks, reader } => {
                // The reading thread, told no more blocks are wanted, only hashes.
                drop(blocks);
                match reader.map(JoinHandle::join) {
                    Some(Ok(result)) => result?,
                    _ => return Err(io::Error::other("the reading thread stopped unexpectedly")),
                }
            }
            Source::Finished => return Err(io::Error::other("the file was finished already")),
        };
        if let Some(hasher) = &self.plain_hash {
            summary.hash = hasher.hex();
        }
        Ok(summary)
    }

    /// The next block read, `None` at the end (or after an error given out).
    fn next_read(&mut self) -> Option<io::Result<Vec<u8>>> {
        match &mut self.source {
            Source::Inline(blocks) => blocks.next().transpose(),
            Source::Thread { blocks, .. } => blocks.recv().ok(),
            Source::Finished => None,
        }
    }
}

impl Drop for LogBytes {
    fn drop(&mut self) {
        give_back(std::mem::take(&mut self.current));
    }
}

/// What a file is read through: the file, hashed as it is read, and inflated
/// when it is gzip.
type Hashed = BufReader<HashingReader<File, Box<dyn FnMut(u64) + Send>>>;

enum Decoder {
    Gzip(Box<MultiGzDecoder<Hashed>>),
    Plain(Box<Hashed>),
}

/// A file's decoded bytes, a block at a time.
struct BlockSource {
    decoder: Decoder,
    compressed: bool,
    accept_truncated: bool,
    truncated: bool,
    /// A block was given out (the first one is read whole, see [`PLAIN_BLOCK`]).
    started: bool,
    /// The end was reached, or an error given out: no more blocks.
    done: bool,
    /// An error met after the bytes of the block given out before it.
    failed: Option<io::Error>,
}

impl BlockSource {
    fn new(
        file: File,
        size: u64,
        compressed: bool,
        accept_truncated: bool,
        progress: Box<dyn FnMut(u64) + Send>,
    ) -> BlockSource {
        let reader = if compressed {
            HashingReader::new(file, progress)
        } else {
            HashingReader::counting(file, progress)
        };
        // A small file needs no more buffer than it has bytes.
        let buffer = (size + 1).clamp(8 << 10, 256 << 10) as usize;
        let raw = BufReader::with_capacity(buffer, reader);
        BlockSource {
            decoder: if compressed {
                Decoder::Gzip(Box::new(MultiGzDecoder::new(raw)))
            } else {
                Decoder::Plain(Box::new(raw))
            },
            compressed,
            accept_truncated,
            truncated: false,
            started: false,
            done: false,
            failed: None,
        }
    }

    /// The next block of decoded bytes; `None` at the end, and after an error.
    fn next(&mut self) -> io::Result<Option<Vec<u8>>> {
        if let Some(e) = self.failed.take() {
            return self.end(e);
        }
        if self.done {
            return Ok(None);
        }
        let (block, error) = match &mut self.decoder {
            Decoder::Gzip(gz) => fill_block(&mut **gz, BLOCK),
            Decoder::Plain(raw) if !self.started => fill_block(&mut **raw, BLOCK),
            Decoder::Plain(raw) => fill_block(&mut **raw, PLAIN_BLOCK),
        };
        self.started = true;
        match (block, error) {
            (Some(block), error) => {
                self.failed = error;
                Ok(Some(block))
            }
            (None, None) => {
                self.done = true;
                Ok(None)
            }
            (None, Some(e)) => self.end(e),
        }
    }

    /// The end of the blocks after a read error: a gzip stream that ends
    /// early is a truncated file, kept up to there with `--accept-truncated`.
    fn end(&mut self, e: io::Error) -> io::Result<Option<Vec<u8>>> {
        self.done = true;
        if self.compressed && self.accept_truncated && e.kind() == io::ErrorKind::UnexpectedEof {
            self.truncated = true;
            return Ok(None);
        }
        Err(self.reason(e))
    }

    /// What a read error means, said for the user.
    fn reason(&self, e: io::Error) -> io::Error {
        if !self.compressed {
            return e;
        }
        let reason = if e.kind() == io::ErrorKind::UnexpectedEof {
            format!("gzip: {e}: the file is truncated (--accept-truncated keeps the readable part)")
        } else {
            format!("gzip: {e}")
        };
        io::Error::new(e.kind(), reason)
    }

    /// Sends every block, then the summary; stops sending quietly when the
    /// receiving side has gone (it failed, or needs no more).
    fn send_all(mut self, tx: &SyncSender<io::Result<Vec<u8>>>) -> io::Result<ReadSummary> {
        loop {
            match self.next() {
                Ok(Some(block)) => {
                    if tx.send(Ok(block)).is_err() {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let _ = tx.send(Err(io::Error::new(e.kind(), e.to_string())));
                    return Err(e);
                }
            }
        }
        self.finish()
    }

    /// Hashes what is left unread of the file and says how it was read.
    fn finish(self) -> io::Result<ReadSummary> {
        let mut raw = match self.decoder {
            Decoder::Gzip(gz) => gz.into_inner(),
            Decoder::Plain(raw) => *raw,
        };
        // Whatever the decoder left unread still belongs to the file's hash.
        io::copy(&mut raw, &mut io::sink())?;
        Ok(ReadSummary {
            hash: raw.get_ref().hex_digest(),
            compressed: self.compressed,
            truncated: self.truncated,
        })
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
            match self.next_read() {
                Some(Ok(block)) => {
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
                Some(Err(e)) => return Err(e),
                None => return Ok(false),
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

/// Reads `from` into one block (a spare one, filled again without zeroing;
/// grown, zeroed, only as the file needs), up to `most` bytes: the block,
/// `None` at the end, and the error that stopped it, if one did, after the
/// bytes read before it.
fn fill_block(from: &mut impl Read, most: usize) -> (Option<Vec<u8>>, Option<io::Error>) {
    let mut block = spare_block();
    let mut len = 0;
    let mut error = None;
    loop {
        if len >= most {
            break;
        }
        if len == block.len() {
            block.resize((2 * len).clamp(MIN_BLOCK, most), 0);
        }
        let room = block.len().min(most);
        match from.read(&mut block[len..room]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    if len == 0 {
        give_back(block);
        return (None, error);
    }
    block.truncate(len);
    (Some(block), error)
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

    /// Everything one reading gives: the bytes, then the summary or the error.
    fn read_all(path: &Path, accept_truncated: bool, inline: bool) -> (Vec<u8>, String) {
        let mut bytes = LogBytes::open_as(path, accept_truncated, |_| {}, Some(inline)).unwrap();
        let mut text = Vec::new();
        let read = bytes.read_to_end(&mut text);
        let end = match read.and_then(|_| bytes.finish()) {
            Ok(s) => format!("{} {} {}", s.hash, s.compressed, s.truncated),
            Err(e) => format!("error: {e}"),
        };
        (text, end)
    }

    /// A plain file and its gzip copy show the same head, from which the
    /// format is told: a whole first block, however the rest is read.
    #[test]
    fn plain_and_gzip_copies_peek_the_same_first_block() {
        use std::io::Write;
        let lines: Vec<u8> = (0..40_000)
            .flat_map(|i| {
                format!("[----] I, line {i} of a log that is read in blocks\n").into_bytes()
            })
            .collect();
        assert!(lines.len() > 2 * BLOCK);
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("evm.log");
        std::fs::write(&plain, &lines).unwrap();
        let gzip = dir.path().join("evm.log.gz");
        let mut gz = flate2::write::GzEncoder::new(
            File::create(&gzip).unwrap(),
            flate2::Compression::fast(),
        );
        gz.write_all(&lines).unwrap();
        gz.finish().unwrap();
        for inline in [true, false] {
            let mut heads = Vec::new();
            for path in [&plain, &gzip] {
                let mut bytes = LogBytes::open_as(path, false, |_| {}, Some(inline)).unwrap();
                heads.push(bytes.peek().unwrap().to_vec());
                let mut rest = Vec::new();
                bytes.read_to_end(&mut rest).unwrap();
                assert_eq!(rest, lines, "{path:?}");
            }
            assert_eq!(heads[0].len(), BLOCK, "inline {inline}");
            assert_eq!(heads[0], heads[1], "inline {inline}");
        }
    }

    /// A file read here and on a thread gives the same bytes, hash and end:
    /// a truncated gzip kept up to its end or refused, a corrupt one refused.
    #[test]
    fn read_inline_or_on_a_thread_gives_the_same() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let truncated = dir.join("edge/truncated.log.gz");
        let cases = [
            (dir.join("trip1/appliance-a/evm.log"), false),
            (dir.join("edge/long-line.log.gz"), false),
            (truncated.clone(), true),
            (truncated.clone(), false),
            (dir.join("edge/corrupt.log.gz"), false),
        ];
        for (path, accept) in cases {
            let inline = read_all(&path, accept, true);
            assert_eq!(inline, read_all(&path, accept, false), "{path:?} {accept}");
            let (text, end) = inline;
            let name = path.file_name().unwrap().to_str().unwrap();
            match (name, accept) {
                ("truncated.log.gz", true) => {
                    assert!(end.ends_with(" true true"), "{end}");
                    assert!(!text.is_empty());
                }
                ("truncated.log.gz", false) => {
                    assert!(end.contains("the file is truncated"), "{end}")
                }
                ("corrupt.log.gz", _) => assert!(end.starts_with("error: gzip: "), "{end}"),
                _ => {
                    assert!(end.ends_with(" false"), "{end}");
                    assert_eq!(end.split(' ').next().unwrap(), content_hash(&path).unwrap());
                }
            }
        }
    }
}
