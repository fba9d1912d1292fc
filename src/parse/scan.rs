//! Finds candidate lines in a stream of log bytes.
//!
//! Each block of whole lines (up to 1 MiB, where the input holds it) is searched
//! at once for short, rare pieces of the trigger literals (SIMD multi-literal
//! search); only a line holding a piece is checked for a whole trigger, so noise
//! lines are never split, validated or matched one by one. Lines longer than a
//! block are skipped in bounded memory unless their head holds a trigger.

use std::io::{self, BufRead, Read};

use aho_corasick::{packed, AhoCorasick};
use memchr::memmem::Finder;
use memchr::{memchr, memrchr};

use super::reader::Reader;

/// Bytes read at a time; also the longest line looked at without growing.
const BLOCK: usize = 1 << 20;
/// The longest candidate line kept whole; a longer one is rejected, not stored.
pub const MAX_CANDIDATE_LINE: usize = 16 << 20;

/// What the scanner hands on.
#[derive(Debug, PartialEq, Eq)]
pub enum Candidate<'a> {
    /// A complete line (without its `\n` or `\r\n`) that holds a trigger literal.
    Line { line_no: u64, bytes: &'a [u8] },
    /// A line with a trigger in its head but longer than [`MAX_CANDIDATE_LINE`].
    TooLong { line_no: u64 },
}

/// Totals of one scan.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Lines read, a torn last line included.
    pub lines: u64,
    /// The last line had no newline: a copy cut mid-write. It is never handed on.
    pub torn_last_line: bool,
    /// Bytes read.
    pub bytes: u64,
}

pub struct Scanner {
    prefilter: Prefilter,
    /// One finder per trigger, to confirm a line the prefilter picked.
    confirm: Vec<Finder<'static>>,
    /// Whether the head of a line starts a record of the format scanned (the
    /// reader's framing): a longer-than-buffer line is kept only then.
    starts_record: fn(&[u8]) -> bool,
}

/// Teddy (SIMD) where the CPU has it, an automaton elsewhere.
enum Prefilter {
    Packed(packed::Searcher),
    Automaton(AhoCorasick),
}

impl Prefilter {
    fn new(pieces: &[&'static [u8]]) -> Prefilter {
        let mut builder = packed::Config::new().builder();
        for piece in pieces {
            builder.add(piece);
        }
        match builder.build() {
            Some(searcher) => Prefilter::Packed(searcher),
            None => Prefilter::Automaton(
                AhoCorasick::new(pieces).expect("prefilter literals build an automaton"),
            ),
        }
    }

    /// The start of the first piece at or after `at`.
    fn find_from(&self, hay: &[u8], at: usize) -> Option<usize> {
        match self {
            Prefilter::Packed(s) => s.find_in(hay, aho_corasick::Span::from(at..hay.len())),
            Prefilter::Automaton(a) => a.find(aho_corasick::Input::new(hay).range(at..)),
        }
        .map(|m| m.start())
    }
}

impl Default for Scanner {
    /// The scanner of classic `evm.log` lines.
    fn default() -> Self {
        Reader::Classic.scanner()
    }
}

impl Scanner {
    /// A scanner handing on the lines that hold one of `triggers`, found through
    /// `prefilter`: pieces such that every trigger holds one.
    pub fn new(
        prefilter: &[&'static [u8]],
        triggers: &[&'static [u8]],
        starts_record: fn(&[u8]) -> bool,
    ) -> Scanner {
        debug_assert!(triggers.iter().all(|t| prefilter
            .iter()
            .any(|p| memchr::memmem::find(t, p).is_some())));
        Scanner {
            prefilter: Prefilter::new(prefilter),
            confirm: triggers.iter().map(|t| Finder::new(*t)).collect(),
            starts_record,
        }
    }

    /// Reads `input` to its end, calling `on_candidate` for each candidate line in order.
    ///
    /// Whole lines are searched in the input's own blocks, in place; only a
    /// line running across two blocks, or longer than a block of the
    /// scanner's (1 MiB), is copied into a buffer of its own.
    pub fn scan<R: BufRead>(
        &self,
        mut input: R,
        mut on_candidate: impl FnMut(Candidate<'_>),
    ) -> io::Result<ScanStats> {
        let mut stats = ScanStats::default();
        let mut buf = vec![0u8; BLOCK];
        let mut len = 0;
        let mut eof = false;
        loop {
            if len == 0 && !eof {
                // At a line's start: the whole lines of the next BLOCK bytes
                // (a line of BLOCK bytes or more has no end among them, and is
                // dealt with below), searched where they are.
                let block = match input.fill_buf() {
                    Ok(block) => block,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                let window = &block[..block.len().min(BLOCK)];
                if window.is_empty() {
                    eof = true;
                } else if let Some(i) = memrchr(b'\n', window) {
                    let lines = &window[..i + 1];
                    self.scan_lines(lines, stats.lines, &mut on_candidate);
                    stats.lines += bytecount::count(lines, b'\n') as u64;
                    let n = lines.len();
                    stats.bytes += n as u64;
                    input.consume(n);
                    continue;
                }
            }
            // Into the buffer: up to the end of the line begun (or to the
            // buffer's end), so that what follows is read in place again.
            while len < buf.len() && !eof {
                let block = match input.fill_buf() {
                    Ok(block) => block,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                if block.is_empty() {
                    eof = true;
                    break;
                }
                let room = &block[..block.len().min(buf.len() - len)];
                let (take, ended) = match memchr(b'\n', room) {
                    Some(i) => (i + 1, true),
                    None => (room.len(), false),
                };
                buf[len..len + take].copy_from_slice(&room[..take]);
                len += take;
                stats.bytes += take as u64;
                input.consume(take);
                if ended {
                    break;
                }
            }
            let complete = match memrchr(b'\n', &buf[..len]) {
                Some(i) => i + 1,
                None if eof => 0,
                None => {
                    // A line longer than the buffer: grow for a candidate, else skip it.
                    let head = &buf[..len];
                    let candidate = (self.starts_record)(head) && self.holds_trigger(head);
                    if candidate && buf.len() < MAX_CANDIDATE_LINE {
                        buf.resize(buf.len() * 2, 0);
                        continue;
                    }
                    stats.lines += 1;
                    if candidate {
                        on_candidate(Candidate::TooLong {
                            line_no: stats.lines,
                        });
                    }
                    let (rest, found_end) = skip_line(&mut input, &mut buf, &mut stats)?;
                    if !found_end {
                        stats.torn_last_line = true;
                        return Ok(stats);
                    }
                    len = rest;
                    shrink(&mut buf, len);
                    continue;
                }
            };
            self.scan_lines(&buf[..complete], stats.lines, &mut on_candidate);
            stats.lines += bytecount::count(&buf[..complete], b'\n') as u64;
            if eof {
                if complete < len {
                    stats.lines += 1;
                    stats.torn_last_line = true;
                }
                return Ok(stats);
            }
            buf.copy_within(complete..len, 0);
            len -= complete;
            shrink(&mut buf, len);
        }
    }

    /// Whether `bytes` hold a whole trigger literal.
    fn holds_trigger(&self, bytes: &[u8]) -> bool {
        self.prefilter.find_from(bytes, 0).is_some() && self.confirm(bytes)
    }

    fn confirm(&self, bytes: &[u8]) -> bool {
        self.confirm.iter().any(|f| f.find(bytes).is_some())
    }

    /// Hands on each line of `region` (whole lines, ending in `\n`) that holds a trigger.
    fn scan_lines(
        &self,
        region: &[u8],
        lines_before: u64,
        on_candidate: &mut impl FnMut(Candidate<'_>),
    ) {
        let mut counted_to = 0;
        let mut line_no = lines_before;
        let mut at = 0;
        while at < region.len() {
            let Some(hit) = self.prefilter.find_from(region, at) else {
                break;
            };
            let start = memrchr(b'\n', &region[..hit]).map_or(0, |i| i + 1);
            let end = memchr(b'\n', &region[hit..]).map_or(region.len(), |i| hit + i);
            at = end + 1;
            let bytes = &region[start..end];
            if !self.confirm(bytes) {
                continue;
            }
            line_no += bytecount::count(&region[counted_to..start], b'\n') as u64;
            counted_to = start;
            let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
            on_candidate(Candidate::Line {
                line_no: line_no + 1,
                bytes,
            });
        }
    }
}

/// Gives back what a long line grew the buffer to, once its bytes are gone.
fn shrink(buf: &mut Vec<u8>, len: usize) {
    if buf.len() > BLOCK && len <= BLOCK / 2 {
        buf.truncate(BLOCK);
        buf.shrink_to_fit();
    }
}

/// Discards input up to and including the next newline. The bytes after it are
/// moved to the front of `buf`; returns how many, and whether a newline was found.
fn skip_line<R: Read>(
    input: &mut R,
    buf: &mut [u8],
    stats: &mut ScanStats,
) -> io::Result<(usize, bool)> {
    loop {
        let n = match input.read(buf) {
            Ok(0) => return Ok((0, false)),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        stats.bytes += n as u64;
        if let Some(i) = memchr(b'\n', &buf[..n]) {
            buf.copy_within(i + 1..n, 0);
            return Ok((n - i - 1, true));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_all(input: impl BufRead) -> (Vec<(u64, String)>, ScanStats) {
        let mut found = Vec::new();
        let stats = Scanner::default()
            .scan(input, |c| match c {
                Candidate::Line { line_no, bytes } => {
                    found.push((line_no, String::from_utf8_lossy(bytes).into_owned()))
                }
                Candidate::TooLong { line_no } => found.push((line_no, "<too long>".into())),
            })
            .unwrap();
        (found, stats)
    }

    /// What the scanner finds in `input`, the same whatever blocks it comes
    /// in: all at once, in blocks larger than the scanner's, and in small
    /// reads that cut lines anywhere.
    fn candidates(input: &[u8]) -> (Vec<(u64, String)>, ScanStats) {
        let whole = scan_all(input);
        let large = scan_all(io::BufReader::with_capacity(3 * BLOCK + 5, input));
        assert_eq!(large, whole, "blocks of 3 MiB");
        for step in [4096, 65_537] {
            let trickle = io::BufReader::new(Trickle { data: input, step });
            assert_eq!(scan_all(trickle), whole, "reads of {step} bytes");
        }
        whole
    }

    /// A reader that hands out at most `step` bytes per read, to cross block edges.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(out.len()).min(self.data.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn finds_candidate_lines_with_their_numbers() {
        let input = b"noise\n[----] a Memory Info XXXX 1\nnoise\r\nx Process Info: Process info: twice\r\nlast exceeded limit [ torn";
        let (found, stats) = candidates(input);
        assert_eq!(
            found,
            vec![
                (2, "[----] a Memory Info XXXX 1".to_string()),
                (4, "x Process Info: Process info: twice".to_string()),
            ]
        );
        assert_eq!(stats.lines, 5);
        assert!(stats.torn_last_line);
        assert_eq!(stats.bytes, input.len() as u64);
    }

    #[test]
    fn same_result_whatever_the_read_sizes() {
        let mut input = Vec::new();
        for i in 0..5000 {
            input
                .extend_from_slice(format!("[----] line {i} {}\n", "n".repeat(i % 700)).as_bytes());
            if i % 97 == 0 {
                input.extend_from_slice(format!("[----] Worker started: {i}\n").as_bytes());
            }
        }
        let (whole, stats) = candidates(&input);
        assert_eq!(whole.len(), 52);
        assert_eq!(stats.lines, 5052);
        assert!(!stats.torn_last_line);
        for step in [1, 7, 4096, 65_537] {
            let mut found = Vec::new();
            let s = Scanner::default()
                .scan(io::BufReader::new(Trickle { data: &input, step }), |c| {
                    if let Candidate::Line { line_no, bytes } = c {
                        found.push((line_no, String::from_utf8_lossy(bytes).into_owned()));
                    }
                })
                .unwrap();
            assert_eq!(found, whole, "step {step}");
            assert_eq!(s, stats);
        }
    }

    #[test]
    fn long_lines_are_skipped_or_kept_by_their_head() {
        let mut input = Vec::new();
        input.extend_from_slice(b"[----] short Worker started: a\n");
        input.extend_from_slice(&vec![b'x'; 5 * BLOCK + 3]);
        input.extend_from_slice(b" Memory Info XXXX deep inside noise\n");
        let long_candidate = format!("[----] Memory Info XXXX {}", "y".repeat(3 * BLOCK));
        input.extend_from_slice(long_candidate.as_bytes());
        input.extend_from_slice(b"\n[----] after Worker started: b\n");
        let (found, stats) = candidates(&input);
        assert_eq!(found.len(), 3);
        assert_eq!(found[0].0, 1);
        assert_eq!(found[1], (3, long_candidate));
        assert_eq!(found[2], (4, "[----] after Worker started: b".to_string()));
        assert_eq!(stats.lines, 4);
    }

    #[test]
    fn candidates_beyond_the_limit_are_reported_too_long() {
        let mut input = b"[----] Memory Info XXXX ".to_vec();
        input.extend_from_slice(&vec![b'z'; MAX_CANDIDATE_LINE + 10]);
        input.extend_from_slice(b"\n[----] Worker started: c\nnoise");
        let (found, stats) = candidates(&input);
        assert_eq!(
            found,
            vec![
                (1, "<too long>".to_string()),
                (2, "[----] Worker started: c".to_string())
            ]
        );
        assert_eq!(stats.lines, 3);
        assert!(stats.torn_last_line);
    }

    #[test]
    fn empty_and_newline_only_inputs() {
        assert_eq!(candidates(b"").1, ScanStats::default());
        let (found, stats) = candidates(b"\n\n");
        assert!(found.is_empty());
        assert_eq!((stats.lines, stats.torn_last_line), (2, false));
    }
}
