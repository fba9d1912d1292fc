//! Parsing one dump's lines on two threads. The calling thread takes the
//! dump in blocks, keeps the line a block ends in for the next one (as the
//! one-thread reader does), and hands the whole lines of each block to the
//! two parse threads in turn. Each turns its lines into a part (a reader of
//! its own, with its own ids of files, names and sites); the calling thread
//! merges the parts in line order, so the objects, sites, roots and counts
//! are those one reader going through the lines would have.

use std::collections::VecDeque;
use std::io::{self, BufRead};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread;

use super::{DumpContent, DumpReader, Names, ProtoSite, Raw, MAX_LINE, MAX_OBJECTS, TRACER};

/// The size of the blocks a `BufRead` is copied into.
pub(super) const BLOCK: usize = 1 << 20;
/// Jobs handed to one parse thread and not yet merged.
const JOBS_PER_THREAD: usize = 2;

/// A dump's bytes as owned blocks, each handed back once read.
pub trait Blocks {
    /// The next block (of any size but empty), `None` at the end.
    fn next_block(&mut self) -> io::Result<Option<Vec<u8>>>;
    /// A block already read, to be filled again.
    fn give_back(&mut self, _block: Vec<u8>) {}
}

impl<B: Blocks + ?Sized> Blocks for &mut B {
    fn next_block(&mut self) -> io::Result<Option<Vec<u8>>> {
        (**self).next_block()
    }

    fn give_back(&mut self, block: Vec<u8>) {
        (**self).give_back(block)
    }
}

/// Blocks copied out of a `BufRead`, `size` bytes each (the last one less).
pub struct CopiedBlocks<R> {
    bytes: R,
    size: usize,
    spare: Vec<Vec<u8>>,
}

impl<R: BufRead> CopiedBlocks<R> {
    pub fn new(bytes: R, size: usize) -> Self {
        CopiedBlocks {
            bytes,
            size: size.max(1),
            spare: Vec::new(),
        }
    }
}

impl<R: BufRead> Blocks for CopiedBlocks<R> {
    fn next_block(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut block = self.spare.pop().unwrap_or_default();
        block.clear();
        while block.len() < self.size {
            let got = match self.bytes.fill_buf() {
                Ok(got) => got,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if got.is_empty() {
                break;
            }
            let n = got.len().min(self.size - block.len());
            block.extend_from_slice(&got[..n]);
            self.bytes.consume(n);
        }
        Ok((!block.is_empty()).then_some(block))
    }

    fn give_back(&mut self, block: Vec<u8>) {
        if self.spare.len() < 2 * JOBS_PER_THREAD + 2 {
            self.spare.push(block);
        }
    }
}

/// The threads `read_all` parses on: two when the process may run on two
/// cores or more (`taskset -c 0` leaves it one).
pub(super) fn parse_threads() -> usize {
    thread::available_parallelism().map_or(1, |n| n.get().min(2))
}

/// Lines for a parse thread: `head` (a line that began in an earlier block)
/// first, then the whole lines `block[start..end]`; `tail_bad` counts a line
/// too long to keep as bad after them.
struct Job {
    head: Option<Vec<u8>>,
    block: Vec<u8>,
    start: usize,
    end: usize,
    tail_bad: bool,
    /// A part merged before, emptied, to fill again.
    part: DumpReader,
}

impl Job {
    /// Reads the job's lines into `reader`.
    fn read_into(&self, reader: &mut DumpReader) {
        if let Some(head) = &self.head {
            reader.line(head);
        }
        reader.whole_lines(&self.block[self.start..self.end]);
        if self.tail_bad {
            reader.bad(true);
        }
    }
}

fn parse(jobs: Receiver<Job>, done: SyncSender<Job>) {
    for mut job in jobs {
        let mut part = std::mem::take(&mut job.part);
        job.read_into(&mut part);
        job.part = part;
        if done.send(job).is_err() {
            return;
        }
    }
}

impl DumpReader {
    /// Reads lines each ending in a newline (the last byte of `lines`), in
    /// place: line ends and NUL bytes (a line holding one is bad) in one pass.
    pub(super) fn whole_lines(&mut self, lines: &[u8]) {
        let mut start = 0;
        let mut nul = false;
        for at in memchr::memchr2_iter(b'\n', 0, lines) {
            if lines[at] == 0 {
                nul = true;
                continue;
            }
            if nul {
                self.line(&lines[start..at]);
                nul = false;
            } else {
                self.line_without_nul(&lines[start..at]);
            }
            start = at + 1;
        }
        debug_assert_eq!(start, lines.len());
    }

    /// Reads a whole dump from `blocks`, its lines parsed on two threads.
    pub fn read_blocks(mut blocks: impl Blocks) -> io::Result<DumpContent> {
        let mut reader = DumpReader::default();
        let mut merge = Merge::default();
        let mut carry: Vec<u8> = Vec::new();
        let mut skipping = false;
        let mut failed = None;
        thread::scope(|scope| {
            let mut to: Vec<SyncSender<Job>> = Vec::new();
            let mut from: Vec<Receiver<Job>> = Vec::new();
            for _ in 0..2 {
                let (job_tx, job_rx) = sync_channel(JOBS_PER_THREAD);
                let (done_tx, done_rx) = sync_channel(JOBS_PER_THREAD);
                thread::Builder::new()
                    .name("parse-lines".into())
                    .spawn_scoped(scope, move || parse(job_rx, done_tx))
                    .expect("a parse thread");
                to.push(job_tx);
                from.push(done_rx);
            }
            // Jobs handed out and not merged, by the thread each went to.
            let mut pending: VecDeque<usize> = VecDeque::new();
            let mut parts: Vec<DumpReader> = Vec::new();
            let mut heads: Vec<Vec<u8>> = Vec::new();
            let mut next = 0;
            let take_back = |thread: usize,
                             reader: &mut DumpReader,
                             merge: &mut Merge,
                             parts: &mut Vec<DumpReader>,
                             heads: &mut Vec<Vec<u8>>,
                             blocks: &mut dyn FnMut(Vec<u8>)| {
                let mut job = from[thread].recv().expect("a parse thread ended early");
                let mut part = std::mem::take(&mut job.part);
                if !merge.merge(reader, &mut part) {
                    // Past what a part can be merged into: read it again here,
                    // line by line, as one reader would.
                    job.read_into(reader);
                }
                part.clear();
                parts.push(part);
                if let Some(mut head) = job.head.take() {
                    head.clear();
                    heads.push(head);
                }
                blocks(job.block);
            };
            loop {
                let block = match blocks.next_block() {
                    Ok(Some(block)) => block,
                    Ok(None) => break,
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                };
                let mut start = 0;
                let mut head = None;
                let mut tail_bad = false;
                let mut end = 0;
                let mut whole = true;
                if skipping || !carry.is_empty() {
                    match memchr::memchr(b'\n', &block) {
                        Some(at) => {
                            if !skipping {
                                carry.extend_from_slice(&block[..at]);
                                let spare = heads.pop().unwrap_or_default();
                                head = Some(std::mem::replace(&mut carry, spare));
                            }
                            carry.clear();
                            skipping = false;
                            start = at + 1;
                        }
                        None => {
                            if !skipping {
                                tail_bad = keep(&mut carry, &block, &mut skipping);
                            }
                            whole = false;
                        }
                    }
                }
                if whole {
                    end = memchr::memrchr(b'\n', &block[start..]).map_or(start, |i| start + i + 1);
                    tail_bad = keep(&mut carry, &block[end..], &mut skipping);
                } else {
                    start = 0;
                }
                let thread = next % 2;
                next += 1;
                if pending.len() >= 2 * JOBS_PER_THREAD {
                    let oldest = pending.pop_front().unwrap();
                    take_back(
                        oldest,
                        &mut reader,
                        &mut merge,
                        &mut parts,
                        &mut heads,
                        &mut |b| blocks.give_back(b),
                    );
                }
                let job = Job {
                    head,
                    block,
                    start,
                    end,
                    tail_bad,
                    part: parts.pop().unwrap_or_default(),
                };
                to[thread].send(job).expect("a parse thread ended early");
                pending.push_back(thread);
            }
            while let Some(oldest) = pending.pop_front() {
                take_back(
                    oldest,
                    &mut reader,
                    &mut merge,
                    &mut parts,
                    &mut heads,
                    &mut |b| blocks.give_back(b),
                );
            }
            drop(to);
        });
        if let Some(e) = failed {
            return Err(e);
        }
        if !carry.is_empty() && !skipping {
            // The last line has no newline: the file was not closed (or cut).
            reader.line(&carry);
        }
        Ok(reader.finish())
    }

    /// Empties a part for the next lines, keeping what it has allocated.
    fn clear(&mut self) {
        self.objects.clear();
        self.big_memsizes.clear();
        self.edges.clear();
        self.protos.clear();
        self.proto_sites.clear();
        self.own_names.clear();
        self.roots.clear();
        self.root_names.clear();
        self.classes.clear();
        self.files.clear();
        self.lines = 0;
        self.bad_lines = 0;
        self.first_bad_line = None;
    }
}

/// Keeps the start of a line for the next block, unless it is too long;
/// true when it is (a bad line, counted when it is met).
fn keep(carry: &mut Vec<u8>, part: &[u8], skipping: &mut bool) -> bool {
    if carry.len() + part.len() > MAX_LINE {
        *skipping = true;
        *carry = Vec::new();
        true
    } else {
        carry.extend_from_slice(part);
        false
    }
}

impl Names {
    fn clear(&mut self) {
        self.ids.clear();
        self.names.clear();
        self.last = None;
    }
}

/// Scratch maps from a part's ids to the reader's.
#[derive(Default)]
struct Merge {
    files: Vec<u32>,
    own_names: Vec<u32>,
    protos: Vec<u32>,
    roots: Vec<u32>,
}

impl Merge {
    /// Appends `part` to `reader` as if its lines had been read by it; false
    /// (and nothing merged) when that would pass the reader's limits.
    fn merge(&mut self, reader: &mut DumpReader, part: &mut DumpReader) -> bool {
        // A category not in UTF-8 is never met again by one reader (it
        // compares the bytes with the category as stored, made UTF-8).
        if reader.objects.len() + part.objects.len() > MAX_OBJECTS
            || reader.edges.len() + part.edges.len() > u32::MAX as usize
            || part.root_names.iter().any(|n| n.contains('\u{FFFD}'))
        {
            return false;
        }
        let remap = |to: &mut Vec<u32>, names: &Names, into: &mut Names| {
            to.clear();
            to.push(0);
            to.extend(names.names.iter().map(|n| into.id(n)));
        };
        remap(&mut self.files, &part.files, &mut reader.files);
        remap(&mut self.own_names, &part.own_names, &mut reader.own_names);
        self.protos.clear();
        for p in &part.proto_sites {
            let site = ProtoSite {
                file: self.files[p.file as usize],
                class: if p.own_name {
                    self.own_names[p.class as usize] as u64
                } else {
                    p.class
                },
                ..*p
            };
            let protos = &mut reader.proto_sites;
            self.protos
                .push(*reader.protos.entry(site).or_insert_with(|| {
                    protos.push(site);
                    protos.len() as u32 - 1
                }));
        }
        self.roots.clear();
        for name in part.root_names.drain(..) {
            let i = match reader.root_names.iter().position(|n| *n == name) {
                Some(i) => i,
                None => {
                    reader.root_names.push(name);
                    reader.root_names.len() - 1
                }
            };
            self.roots.push(i as u32);
        }
        reader
            .roots
            .extend(part.roots.iter().map(|&(c, a)| (self.roots[c as usize], a)));
        for (address, mut class) in part.classes.drain() {
            class.file = self.files[class.file as usize];
            reader.classes.insert(address, class);
        }
        let objects_before = reader.objects.len() as u32;
        let edges_before = reader.edges.len() as u32;
        reader.big_memsizes.extend(
            part.big_memsizes
                .iter()
                .map(|(&i, &m)| (i + objects_before, m)),
        );
        reader.edges.extend_from_slice(&part.edges);
        reader.objects.extend(part.objects.iter().map(|o| Raw {
            edges_start: o.edges_start + edges_before,
            proto: if o.proto == TRACER {
                TRACER
            } else {
                self.protos[o.proto as usize]
            },
            ..*o
        }));
        if reader.first_bad_line.is_none() {
            reader.first_bad_line = part.first_bad_line.map(|l| reader.lines + l);
        }
        reader.lines += part.lines;
        reader.bad_lines += part.bad_lines;
        true
    }
}
