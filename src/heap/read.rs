//! Reading a dump's lines into what is stored of it: every object line is
//! kept as a small fixed record, its references (and class pointer) as
//! addresses, its site as first read (type, class pointer, `file:line`) as a
//! small id. Once the last line is in, objects are put in address order
//! (Ruby writes each heap page in order: the pages are sorted, not the
//! objects), walked from the ROOT lines to tell live from garbage, and summed
//! per site (type, class name, `file:line`) and per generation.

use std::io::{self, BufRead};

use super::hash::FastMap;
use super::line::{
    for_each_reference, read_line, read_line_without_nul, Line, ObjectLine, T_CLASS, T_ICLASS,
    T_IMEMO, T_MODULE,
};
use super::table::{ObjectTable, ROOT_PARENT, UNTRACED};

mod parallel;
use parallel::{parse_threads, BLOCK};
pub use parallel::{Blocks, CopiedBlocks};

/// Lines longer than this are skipped as bad (a 300 k-element Array is 5 MB).
pub const MAX_LINE: usize = 256 << 20;
/// Objects past this many are counted as bad lines: parents are 31-bit indexes.
const MAX_OBJECTS: usize = ROOT_PARENT as usize - 1;

/// One object line, as kept while the dump is read: 24 bytes.
#[derive(Clone, Copy)]
struct Raw {
    address: u64,
    /// Its memsize, or `BIG_MEMSIZE` when that is in `DumpReader::big_memsizes`.
    memsize: u32,
    /// Where its edges start in `DumpReader::edges`; they end where the next
    /// object's start.
    edges_start: u32,
    /// Its site as read (an index into `DumpReader::protos`), or `TRACER`.
    proto: u32,
    generation: u32,
}

const BIG_MEMSIZE: u32 = u32::MAX;
const TRACER: u32 = u32::MAX;

/// A site as a line states it: the class is a pointer still to be named
/// (or, for a named class or module, its own name's id in `own_names`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct ProtoSite {
    kind: u8,
    own_name: bool,
    class: u64,
    file: u32,
    line: u32,
}

/// What a class or module line says of itself, for naming its instances.
struct ClassLine {
    name: Option<Box<[u8]>>,
    real_class_name: Option<Box<[u8]>>,
    superclass: Option<u64>,
    singleton: bool,
    kind: u8,
    file: u32,
    line: u32,
}

/// Interned byte strings (paths, class names): id 0 is "none".
#[derive(Default)]
struct Names {
    ids: FastMap<Box<[u8]>, u32>,
    names: Vec<Box<[u8]>>,
    last: Option<u32>,
}

impl Names {
    fn id(&mut self, name: &[u8]) -> u32 {
        if let Some(last) = self.last {
            if &*self.names[last as usize - 1] == name {
                return last;
            }
        }
        let id = match self.ids.get(name) {
            Some(&id) => id,
            None => {
                self.names.push(name.into());
                let id = self.names.len() as u32;
                self.ids.insert(name.into(), id);
                id
            }
        };
        self.last = Some(id);
        id
    }

    fn bytes(&self, id: u32) -> &[u8] {
        if id == 0 {
            &[]
        } else {
            &self.names[id as usize - 1]
        }
    }

    fn text(&self, id: u32) -> Option<String> {
        (id > 0).then(|| String::from_utf8_lossy(&self.names[id as usize - 1]).into_owned())
    }
}

/// A dump read line by line; `finish` turns it into [`DumpContent`].
#[derive(Default)]
pub struct DumpReader {
    objects: Vec<Raw>,
    /// Memsizes of 4 GiB or more, by object index.
    big_memsizes: FastMap<u32, u64>,
    /// References, then the class pointer, of every object in turn.
    edges: Vec<u64>,
    protos: FastMap<ProtoSite, u32>,
    proto_sites: Vec<ProtoSite>,
    own_names: Names,
    roots: Vec<(u32, u64)>,
    root_names: Vec<String>,
    classes: FastMap<u64, ClassLine>,
    files: Names,
    lines: u64,
    bad_lines: u64,
    first_bad_line: Option<u64>,
}

/// Totals of one dump. "Live" is reachable from the ROOT lines; the
/// allocation tracer's own object is in none of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DumpTotals {
    pub lines: u64,
    pub bad_lines: u64,
    pub first_bad_line: Option<u64>,
    pub objects: u64,
    pub bytes: u64,
    pub garbage_objects: u64,
    pub garbage_bytes: u64,
    /// Objects (live and garbage) with and without allocation information.
    pub traced_objects: u64,
    pub untraced_objects: u64,
    pub max_generation: Option<u32>,
    pub tracer_objects: u64,
    pub tracer_bytes: u64,
}

/// One site of a dump: objects of one type and class allocated at one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub kind: &'static str,
    pub class: String,
    pub file: Option<String>,
    pub line: u32,
    /// The gem the path lies in, when it shows one (`.../gems/NAME-VERSION/...`).
    pub gem: Option<String>,
    pub objects: u64,
    pub bytes: u64,
    pub garbage_objects: u64,
    pub garbage_bytes: u64,
}

/// Everything stored of one dump.
#[derive(Debug, Clone, Default)]
pub struct DumpContent {
    pub totals: DumpTotals,
    /// ROOT categories, in order; a parent `ROOT_PARENT | i` is `roots[i]`.
    pub roots: Vec<String>,
    pub sites: Vec<Site>,
    /// Live objects and bytes per generation (traced objects only).
    pub generations: Vec<(u32, u64, u64)>,
    pub table: ObjectTable,
}

impl DumpContent {
    /// About the memory it holds (what its vectors and strings have room
    /// for): its share of what files read and waiting to be stored may hold.
    pub fn memory_bytes(&self) -> u64 {
        use std::mem::size_of;
        let t = &self.table;
        let table = t.address.capacity() * size_of::<u64>()
            + t.generation.capacity() * size_of::<u32>()
            + t.site.capacity() * size_of::<u32>()
            + t.memsize.capacity() * size_of::<u64>()
            + t.parent.capacity() * size_of::<u32>();
        let text = |s: &Option<String>| s.as_ref().map_or(0, String::capacity);
        let sites = self.sites.capacity() * size_of::<Site>()
            + self
                .sites
                .iter()
                .map(|s| s.class.capacity() + text(&s.file) + text(&s.gem))
                .sum::<usize>();
        let roots = self.roots.capacity() * size_of::<String>()
            + self.roots.iter().map(String::capacity).sum::<usize>();
        let generations = self.generations.capacity() * size_of::<(u32, u64, u64)>();
        (size_of::<DumpContent>() + table + sites + roots + generations) as u64
    }
}

impl DumpReader {
    /// Reads a whole dump from `bytes` (already inflated): lines are read in
    /// place in the blocks `bytes` hands out; only a line that runs across
    /// two blocks is copied.
    ///
    /// With two cores or more, the lines are parsed on two threads (see
    /// [`DumpReader::read_blocks`]); the answer is the same.
    pub fn read_all(bytes: impl BufRead) -> io::Result<DumpContent> {
        if parse_threads() < 2 {
            return Self::read_serial(bytes);
        }
        Self::read_blocks(CopiedBlocks::new(bytes, BLOCK))
    }

    /// Reads a whole dump from blocks owned and handed back ([`LogBytes`]'s,
    /// not copied), on two threads when there are two cores.
    ///
    /// [`LogBytes`]: crate::input::LogBytes
    pub fn read_owned(bytes: impl BufRead + Blocks) -> io::Result<DumpContent> {
        if parse_threads() < 2 {
            return Self::read_serial(bytes);
        }
        Self::read_blocks(bytes)
    }

    /// Reads a whole dump on the calling thread alone.
    pub fn read_serial(mut bytes: impl BufRead) -> io::Result<DumpContent> {
        let mut reader = DumpReader::default();
        // The start of a line the previous block ended in.
        let mut carry: Vec<u8> = Vec::new();
        // Within a line longer than `MAX_LINE`, already counted as bad.
        let mut skipping = false;
        loop {
            let block = match bytes.fill_buf() {
                Ok(block) => block,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if block.is_empty() {
                break;
            }
            let len = block.len();
            let mut rest = block;
            if skipping || !carry.is_empty() {
                match memchr::memchr(b'\n', rest) {
                    Some(end) => {
                        if !skipping {
                            carry.extend_from_slice(&rest[..end]);
                            reader.line(&carry);
                        }
                        carry.clear();
                        skipping = false;
                        rest = &rest[end + 1..];
                    }
                    None => {
                        if !skipping {
                            reader.carry(&mut carry, rest, &mut skipping);
                        }
                        bytes.consume(len);
                        continue;
                    }
                }
            }
            // Line ends and NUL bytes (a line holding one is bad) in one pass.
            let mut start = 0;
            let mut nul = false;
            for at in memchr::memchr2_iter(b'\n', 0, rest) {
                if rest[at] == 0 {
                    nul = true;
                    continue;
                }
                if nul {
                    reader.line(&rest[start..at]);
                    nul = false;
                } else {
                    reader.line_without_nul(&rest[start..at]);
                }
                start = at + 1;
            }
            reader.carry(&mut carry, &rest[start..], &mut skipping);
            bytes.consume(len);
        }
        if !carry.is_empty() && !skipping {
            // The last line has no newline: the file was not closed (or cut).
            reader.line(&carry);
        }
        Ok(reader.finish())
    }

    /// Keeps the start of a line for the next block, unless it is too long.
    fn carry(&mut self, carry: &mut Vec<u8>, part: &[u8], skipping: &mut bool) {
        if carry.len() + part.len() > MAX_LINE {
            // One line longer than any Ruby writes: skip to its end.
            self.bad(true);
            *skipping = true;
            *carry = Vec::new();
        } else {
            carry.extend_from_slice(part);
        }
    }

    fn bad(&mut self, counted_line: bool) {
        if counted_line {
            self.lines += 1;
        }
        self.bad_lines += 1;
        self.first_bad_line.get_or_insert(self.lines);
    }

    /// Reads one line (without its newline).
    pub fn line(&mut self, line: &[u8]) {
        self.read(read_line(line));
    }

    fn line_without_nul(&mut self, line: &[u8]) {
        self.read(read_line_without_nul(line));
    }

    #[inline]
    fn read(&mut self, read: Line<'_>) {
        self.lines += 1;
        match read {
            Line::Object(o) => self.object(o),
            Line::Root(root) => {
                let category = match self
                    .root_names
                    .iter()
                    .position(|n| n.as_bytes() == root.category)
                {
                    Some(i) => i as u32,
                    None => {
                        self.root_names
                            .push(String::from_utf8_lossy(root.category).into_owned());
                        self.root_names.len() as u32 - 1
                    }
                };
                let roots = &mut self.roots;
                for_each_reference(root.references, |a| roots.push((category, a)));
            }
            Line::Skipped => {}
            Line::Bad => self.bad(false),
        }
    }

    fn object(&mut self, o: ObjectLine<'_>) {
        let index = self.objects.len();
        let edges_start = self.edges.len();
        let edges = &mut self.edges;
        for_each_reference(o.references, |a| edges.push(a));
        // The class pointer is not among the references: an edge after them.
        if let Some(class) = o.class {
            edges.push(class);
        }
        if index >= MAX_OBJECTS || self.edges.len() > u32::MAX as usize {
            self.edges.truncate(edges_start);
            self.bad(false);
            return;
        }
        let file = o.file.map_or(0, |f| self.files.id(f));
        let mut tracer = false;
        let mut own_name = None;
        if let Some(named) = &o.named {
            tracer = named.tracer;
            if matches!(o.kind, T_CLASS | T_MODULE | T_ICLASS) {
                self.classes.insert(
                    o.address,
                    ClassLine {
                        name: named.name.map(Into::into),
                        real_class_name: named.real_class_name.map(Into::into),
                        superclass: named.superclass,
                        singleton: named.singleton,
                        kind: o.kind,
                        file,
                        line: o.line,
                    },
                );
                // A named class or module is shown by its own name, not as "Class".
                own_name = named.name.map(|name| self.own_names.id(name));
            }
        }
        let proto = if tracer {
            TRACER
        } else {
            let site = ProtoSite {
                kind: o.kind,
                own_name: own_name.is_some(),
                class: match own_name {
                    Some(id) => id as u64,
                    // IMEMO: its class field is junk (3.1) or absent (3.3).
                    None if o.kind == T_IMEMO => 0,
                    None => o.class.unwrap_or(0),
                },
                file,
                line: if file == 0 { 0 } else { o.line },
            };
            let protos = &mut self.proto_sites;
            *self.protos.entry(site).or_insert_with(|| {
                protos.push(site);
                protos.len() as u32 - 1
            })
        };
        let memsize = match u32::try_from(o.memsize) {
            Ok(m) if m != BIG_MEMSIZE => m,
            _ => {
                self.big_memsizes.insert(index as u32, o.memsize);
                BIG_MEMSIZE
            }
        };
        self.objects.push(Raw {
            address: o.address,
            memsize,
            edges_start: edges_start as u32,
            proto,
            generation: o.generation.unwrap_or(UNTRACED),
        });
    }

    /// Orders, walks and sums what was read.
    pub fn finish(self) -> DumpContent {
        let DumpReader {
            objects,
            big_memsizes,
            edges,
            proto_sites,
            own_names,
            roots,
            root_names,
            classes,
            files,
            lines,
            bad_lines,
            first_bad_line,
            ..
        } = self;
        let memsize_of = |i: usize| match objects[i].memsize {
            BIG_MEMSIZE => big_memsizes.get(&(i as u32)).copied().unwrap_or(0),
            m => m as u64,
        };

        // Positions in address order: `order[k]` is the object read `order[k]`th.
        let order = address_order(&objects);
        let n = order.len();
        let mut addresses: Vec<u64> = order.iter().map(|&i| objects[i as usize].address).collect();
        let index = AddressIndex::new(&addresses);

        // Every object's edges as positions, in address order; edges to
        // addresses no line has are dropped here, once.
        let mut targets: Vec<u32> = Vec::with_capacity(edges.len());
        let mut first: Vec<u32> = Vec::with_capacity(n + 1);
        for &i in &order {
            let i = i as usize;
            first.push(targets.len() as u32);
            let start = objects[i].edges_start as usize;
            let end = objects
                .get(i + 1)
                .map_or(edges.len(), |o| o.edges_start as usize);
            targets.extend(
                edges[start..end]
                    .iter()
                    .filter_map(|&a| index.find(&addresses, a).map(|j| j as u32)),
            );
        }
        first.push(targets.len() as u32);
        drop(edges);

        // Breadth first from the ROOT lines: `parent` is on a shortest path.
        const UNSEEN: u32 = u32::MAX;
        let mut parent = vec![UNSEEN; n];
        let mut queue: Vec<u32> = Vec::with_capacity(n);
        for &(category, address) in &roots {
            if let Some(k) = index.find(&addresses, address) {
                if parent[k] == UNSEEN {
                    parent[k] = ROOT_PARENT | category;
                    queue.push(k as u32);
                }
            }
        }
        drop(roots);
        drop(index);
        let mut head = 0;
        while head < queue.len() {
            let k = queue[head];
            head += 1;
            let range = first[k as usize] as usize..first[k as usize + 1] as usize;
            for &j in &targets[range] {
                if parent[j as usize] == UNSEEN {
                    parent[j as usize] = k;
                    queue.push(j);
                }
            }
        }
        drop(targets);
        drop(first);
        // A live object's index among the live ones, for its children.
        let mut rank = queue;
        rank.clear();
        let mut live = 0u32;
        for &p in &parent {
            rank.push(live);
            live += (p != UNSEEN) as u32;
        }

        // Sites as read, named: a class pointer by its class's name.
        let mut class_names = ClassNames::default();
        let mut final_ids: FastMap<(u8, u32, u32, u32), u32> = FastMap::default();
        let mut final_keys: Vec<(u8, u32, u32, u32)> = Vec::new();
        let proto_final: Vec<u32> = proto_sites
            .iter()
            .map(|p| {
                let class = if p.own_name {
                    class_names.names.id(own_names.bytes(p.class as u32))
                } else {
                    class_names.id(&classes, &files, p.class, p.kind)
                };
                let key = (p.kind, class, p.file, p.line);
                *final_ids.entry(key).or_insert_with(|| {
                    final_keys.push(key);
                    final_keys.len() as u32 - 1
                })
            })
            .collect();
        drop(final_ids);
        drop(classes);

        let mut totals = DumpTotals {
            lines,
            bad_lines,
            first_bad_line,
            ..DumpTotals::default()
        };
        // Sites are numbered as first met in address order.
        let mut site_of_final = vec![u32::MAX; final_keys.len()];
        let mut sites: Vec<Site> = Vec::new();
        let mut generations: FastMap<u32, (u64, u64)> = FastMap::default();
        let live = live as usize;
        let mut table_generation = Vec::with_capacity(live);
        let mut table_site = Vec::with_capacity(live);
        let mut table_memsize = Vec::with_capacity(live);
        let mut tracer_rows = Vec::new();
        // Live objects' addresses and parents are moved down in place.
        let mut w = 0;
        for k in 0..n {
            let i = order[k] as usize;
            let o = objects[i];
            let memsize = memsize_of(i);
            let p = parent[k];
            let site = if o.proto == TRACER {
                totals.tracer_objects += 1;
                totals.tracer_bytes += memsize;
                tracer_rows.push(w);
                TRACER
            } else {
                let f = proto_final[o.proto as usize] as usize;
                if site_of_final[f] == u32::MAX {
                    let (kind, class, file, line) = final_keys[f];
                    let file = files.text(file);
                    site_of_final[f] = sites.len() as u32;
                    sites.push(Site {
                        kind: super::line::TYPES[kind as usize],
                        class: class_names.text(class),
                        gem: file.as_deref().and_then(gem_of),
                        file,
                        line,
                        objects: 0,
                        bytes: 0,
                        garbage_objects: 0,
                        garbage_bytes: 0,
                    });
                }
                let site = site_of_final[f];
                let s = &mut sites[site as usize];
                if o.generation == UNTRACED {
                    totals.untraced_objects += 1;
                } else {
                    totals.traced_objects += 1;
                    totals.max_generation = totals.max_generation.max(Some(o.generation));
                }
                if p == UNSEEN {
                    totals.garbage_objects += 1;
                    totals.garbage_bytes += memsize;
                    s.garbage_objects += 1;
                    s.garbage_bytes += memsize;
                    continue;
                }
                totals.objects += 1;
                totals.bytes += memsize;
                s.objects += 1;
                s.bytes += memsize;
                if o.generation != UNTRACED {
                    let g = generations.entry(o.generation).or_default();
                    g.0 += 1;
                    g.1 += memsize;
                }
                site
            };
            if p == UNSEEN {
                continue;
            }
            addresses[w] = addresses[k];
            parent[w] = if p & ROOT_PARENT != 0 {
                p
            } else {
                rank[p as usize]
            };
            w += 1;
            table_generation.push(o.generation);
            table_site.push(site);
            table_memsize.push(memsize);
        }
        drop(rank);
        drop(order);
        drop(objects);
        addresses.truncate(w);
        addresses.shrink_to_fit();
        parent.truncate(w);
        parent.shrink_to_fit();
        // The tracer object is kept in the table (it can hold a path) under a
        // site of its own, after every other site.
        if totals.tracer_objects > 0 {
            let tracer_site = sites.len() as u32;
            for &row in &tracer_rows {
                if row < table_site.len() && table_site[row] == TRACER {
                    table_site[row] = tracer_site;
                }
            }
            sites.push(Site {
                kind: "DATA",
                class: String::from_utf8_lossy(super::line::TRACER_STRUCT).into_owned(),
                file: None,
                line: 0,
                gem: None,
                objects: 0,
                bytes: 0,
                garbage_objects: 0,
                garbage_bytes: 0,
            });
        }
        let table = ObjectTable {
            address: addresses,
            generation: table_generation,
            site: table_site,
            memsize: table_memsize,
            parent,
        };
        let mut generations: Vec<(u32, u64, u64)> = generations
            .into_iter()
            .map(|(g, (n, b))| (g, n, b))
            .collect();
        generations.sort_unstable();
        DumpContent {
            totals,
            roots: root_names,
            sites,
            generations,
            table,
        }
    }
}

/// The objects' indexes in address order, each address once (the first line
/// with it kept). Ruby writes heap pages one after another, each in address
/// order, so the runs of rising addresses are put in order whole; only when
/// runs overlap are the objects sorted one by one.
fn address_order(objects: &[Raw]) -> Vec<u32> {
    const PAGE_GAP: u64 = 1 << 16;
    let mut runs: Vec<(u64, u64, u32, u32)> = Vec::new();
    let mut start = 0;
    for i in 1..=objects.len() {
        // A page ends where addresses fall or jump further than a page: two
        // pages far apart may follow each other rising.
        if i == objects.len()
            || objects[i].address <= objects[i - 1].address
            || objects[i].address - objects[i - 1].address > PAGE_GAP
        {
            runs.push((
                objects[start].address,
                objects[i - 1].address,
                start as u32,
                i as u32,
            ));
            start = i;
        }
    }
    runs.sort_unstable();
    if runs.windows(2).all(|w| w[0].1 < w[1].0) {
        let mut order = Vec::with_capacity(objects.len());
        for &(_, _, start, end) in &runs {
            order.extend(start..end);
        }
        return order;
    }
    let mut order: Vec<u32> = (0..objects.len() as u32).collect();
    order.sort_by_key(|&i| objects[i as usize].address);
    order.dedup_by_key(|i| objects[*i as usize].address);
    order
}

/// Finds an object's position by address in the sorted addresses: a bitmap
/// per 64 KiB block, one bit per 8 bytes, and the count of objects before
/// each word of it (Ruby's slots are 8-byte aligned); a binary search within
/// the block when some address is not.
enum AddressIndex {
    Bits {
        blocks: FastMap<u64, u32>,
        words: Vec<u64>,
        before: Vec<u32>,
    },
    Pages {
        pages: FastMap<u64, (u32, u32)>,
    },
}

const BLOCK_SHIFT: u32 = 16;
const WORDS_PER_BLOCK: usize = 1 << (BLOCK_SHIFT - 3 - 6);

impl AddressIndex {
    fn new(addresses: &[u64]) -> AddressIndex {
        if addresses.iter().all(|a| a & 7 == 0) {
            let mut blocks: FastMap<u64, u32> = FastMap::default();
            let mut words: Vec<u64> = Vec::new();
            let mut before: Vec<u32> = Vec::new();
            for (k, &a) in addresses.iter().enumerate() {
                let block = *blocks.entry(a >> BLOCK_SHIFT).or_insert_with(|| {
                    words.resize(words.len() + WORDS_PER_BLOCK, 0);
                    before.resize(before.len() + WORDS_PER_BLOCK, u32::MAX);
                    (words.len() / WORDS_PER_BLOCK - 1) as u32
                });
                let slot = ((a & ((1 << BLOCK_SHIFT) - 1)) >> 3) as usize;
                let w = block as usize * WORDS_PER_BLOCK + slot / 64;
                words[w] |= 1 << (slot % 64);
                // Addresses rise: the first object of a word sets its count.
                if before[w] == u32::MAX {
                    before[w] = k as u32;
                }
            }
            return AddressIndex::Bits {
                blocks,
                words,
                before,
            };
        }
        let mut pages: FastMap<u64, (u32, u32)> = FastMap::default();
        for (i, &a) in addresses.iter().enumerate() {
            let page = pages
                .entry(a >> BLOCK_SHIFT)
                .or_insert((i as u32, i as u32));
            page.1 = i as u32 + 1;
        }
        AddressIndex::Pages { pages }
    }

    #[inline]
    fn find(&self, addresses: &[u64], address: u64) -> Option<usize> {
        match self {
            AddressIndex::Bits {
                blocks,
                words,
                before,
            } => {
                if address & 7 != 0 {
                    return None;
                }
                let block = *blocks.get(&(address >> BLOCK_SHIFT))? as usize;
                let slot = ((address & ((1 << BLOCK_SHIFT) - 1)) >> 3) as usize;
                let w = block * WORDS_PER_BLOCK + slot / 64;
                let word = words[w];
                let bit = 1u64 << (slot % 64);
                if word & bit == 0 {
                    return None;
                }
                Some(before[w] as usize + (word & (bit - 1)).count_ones() as usize)
            }
            AddressIndex::Pages { pages } => {
                let &(start, end) = pages.get(&(address >> BLOCK_SHIFT))?;
                addresses[start as usize..end as usize]
                    .binary_search(&address)
                    .ok()
                    .map(|i| start as usize + i)
            }
        }
    }
}

/// Class names, resolved once per class: named classes by their name, an
/// object with a singleton class by its real class, anonymous classes by
/// their own `file:line`.
#[derive(Default)]
struct ClassNames {
    by_address: FastMap<u64, u32>,
    names: Names,
}

impl ClassNames {
    fn id(
        &mut self,
        classes: &FastMap<u64, ClassLine>,
        files: &Names,
        class: u64,
        kind: u8,
    ) -> u32 {
        if kind == T_IMEMO {
            // IMEMO: its class field is junk (3.1) or absent (3.3).
            return 0;
        }
        if let Some(&id) = self.by_address.get(&class) {
            return id;
        }
        let name = resolve(classes, files, class);
        let id = self.names.id(name.as_bytes());
        self.by_address.insert(class, id);
        id
    }

    fn text(&self, id: u32) -> String {
        self.names.text(id).unwrap_or_default()
    }
}

fn resolve(classes: &FastMap<u64, ClassLine>, files: &Names, class: u64) -> String {
    let mut at = class;
    for _ in 0..64 {
        let Some(c) = classes.get(&at) else {
            return if at == class && class == 0 {
                String::new()
            } else {
                "(unknown class)".to_string()
            };
        };
        if let Some(name) = &c.name {
            return String::from_utf8_lossy(name).into_owned();
        }
        if c.singleton {
            if let Some(real) = &c.real_class_name {
                return String::from_utf8_lossy(real).into_owned();
            }
            match c.superclass {
                Some(s) => {
                    at = s;
                    continue;
                }
                None => return "(singleton class)".to_string(),
            }
        }
        let what = if c.kind == T_MODULE {
            "Module"
        } else {
            "Class"
        };
        return match files.text(c.file) {
            Some(file) => format!("#<{what}:{file}:{}>", c.line),
            None => format!("#<{what}:anonymous>"),
        };
    }
    "(unknown class)".to_string()
}

/// The gem a path lies in: the folder after the last `/gems/`, when the path
/// goes on below it (`/usr/share/gems/gems/rack-2.2.4/lib/rack.rb` -> `rack-2.2.4`).
pub fn gem_of(path: &str) -> Option<String> {
    let at = path.rfind("/gems/")? + 6;
    let rest = &path[at..];
    let end = rest.find('/')?;
    let gem = &rest[..end];
    (!gem.is_empty()).then(|| gem.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gems_are_read_from_paths() {
        assert_eq!(
            gem_of("/usr/share/gems/gems/rack-2.2.4/lib/rack.rb").as_deref(),
            Some("rack-2.2.4")
        );
        assert_eq!(
            gem_of("/opt/bundle/ruby/3.1.0/bundler/gems/manageiq-abc123/app/x.rb").as_deref(),
            Some("manageiq-abc123")
        );
        assert_eq!(gem_of("app/models/x.rb"), None);
        assert_eq!(gem_of("/x/gems/"), None);
    }

    #[test]
    fn garbage_is_what_the_roots_do_not_reach() {
        let dump = br#"{"type":"ROOT", "root":"vm", "references":["0x100"]}
{"address":"0x100", "type":"ARRAY", "class":"0x900", "length":1, "references":["0x128"], "file":"a.rb", "line":1, "generation":5, "memsize":40}
{"address":"0x128", "type":"STRING", "class":"0x950", "bytesize":1, "value":"x", "file":"a.rb", "line":2, "generation":6, "memsize":40}
{"address":"0x150", "type":"STRING", "class":"0x950", "bytesize":1, "value":"y", "file":"a.rb", "line":2, "generation":6, "memsize":40}
{"address":"0x900", "type":"CLASS", "class":"0x990", "name":"Array", "memsize":200}
{"address":"0x950", "type":"CLASS", "class":"0x990", "name":"String", "memsize":200}
{"address":"0x990", "type":"CLASS", "name":"Class", "memsize":200}
{"address":"0x998", "type":"DATA", "class":"0x900", "struct":"ObjectTracing/allocation_info_tracer", "memsize":9000}
{"address":"0x9a0", "type":"STRI
"#;
        let content = DumpReader::read_all(&dump[..]).unwrap();
        let t = &content.totals;
        assert_eq!((t.lines, t.bad_lines, t.first_bad_line), (9, 1, Some(9)));
        // The strings' class is reached through the class pointer only.
        assert_eq!((t.objects, t.bytes), (5, 680));
        assert_eq!((t.garbage_objects, t.garbage_bytes), (1, 40));
        assert_eq!((t.tracer_objects, t.tracer_bytes), (1, 9000));
        assert_eq!((t.traced_objects, t.untraced_objects), (3, 3));
        assert_eq!(t.max_generation, Some(6));
        let strings = content
            .sites
            .iter()
            .find(|s| s.class == "String" && s.line == 2)
            .unwrap();
        assert_eq!((strings.objects, strings.garbage_objects), (1, 1));
        assert_eq!(content.generations, vec![(5, 1, 40), (6, 1, 40)]);
        assert_eq!(content.table.len(), 5);
        assert_eq!(content.table.parent[0], ROOT_PARENT);
        assert_eq!(content.table.parent[1], 0);
    }

    /// A small graph: ROOT -> array 0x10000 -> (hash 0x20000 -> string
    /// 0x10050, string 0x10028); string 0x20028 unreachable; four classes.
    /// `offset` shifts every address (4: not 8-byte aligned).
    fn graph_lines(offset: u64) -> Vec<String> {
        let a = |x: u64| format!("0x{:x}", x + offset);
        vec![
            format!(
                r#"{{"address":"{}", "type":"HASH", "class":"{}", "size":1, "references":["{}"], "file":"g.rb", "line":3, "generation":7, "memsize":160, "flags":{{"wb_protected":true}}}}"#,
                a(0x20000),
                a(0x30050),
                a(0x10050)
            ),
            format!(
                r#"{{"address":"{}", "type":"STRING", "class":"{}", "bytesize":1, "value":"x", "file":"g.rb", "line":4, "generation":7, "memsize":40}}"#,
                a(0x20028),
                a(0x30000)
            ),
            format!(
                r#"{{"address":"{}", "type":"CLASS", "class":"{}", "name":"String", "memsize":1000}}"#,
                a(0x30000),
                a(0x30078)
            ),
            format!(
                r#"{{"address":"{}", "type":"CLASS", "class":"{}", "name":"Array", "memsize":1000}}"#,
                a(0x30028),
                a(0x30078)
            ),
            format!(
                r#"{{"address":"{}", "type":"CLASS", "class":"{}", "name":"Hash", "memsize":1000}}"#,
                a(0x30050),
                a(0x30078)
            ),
            format!(
                r#"{{"address":"{}", "type":"CLASS", "name":"Class", "memsize":1000}}"#,
                a(0x30078)
            ),
            format!(
                r#"{{"address":"{}", "type":"ARRAY", "class":"{}", "length":2, "references":["{}", "{}"], "file":"g.rb", "line":1, "generation":6, "memsize":5000000000}}"#,
                a(0x10000),
                a(0x30028),
                a(0x20000),
                a(0x10028)
            ),
            format!(
                r#"{{"address":"{}", "type":"STRING", "class":"{}", "bytesize":1, "value":"y", "file":"g.rb", "line":2, "generation":6, "memsize":40}}"#,
                a(0x10028),
                a(0x30000)
            ),
            format!(
                r#"{{"address":"{}", "type":"STRING", "class":"{}", "bytesize":1, "value":"z", "file":"g.rb", "line":3, "generation":7, "memsize":40}}"#,
                a(0x10050),
                a(0x30000)
            ),
        ]
    }

    fn read_lines(root: &str, lines: &[String]) -> DumpContent {
        let text = format!("{root}\n{}\n", lines.join("\n"));
        DumpReader::read_all(text.as_bytes()).unwrap()
    }

    /// Pages out of order, lines in any order, a line repeated, addresses
    /// not 8-byte aligned: the same table, worked out by hand.
    #[test]
    fn objects_are_put_in_address_order_however_the_lines_come() {
        let live = [
            0x10000, 0x10028, 0x10050, 0x20000, 0x30000, 0x30028, 0x30050, 0x30078,
        ];
        // Breadth first: the array's references, then its class; the hash
        // before the string that comes after it in the array.
        let parents = [ROOT_PARENT, 0, 3, 0, 1, 0, 3, 5];
        for offset in [0, 4] {
            let root = format!(
                r#"{{"type":"ROOT", "root":"vm", "references":["0x{:x}"]}}"#,
                0x10000 + offset
            );
            let pages = graph_lines(offset);
            let mut shuffled = pages.clone();
            shuffled.swap(0, 7);
            shuffled.swap(2, 5);
            let mut repeated = pages.clone();
            repeated.insert(3, pages[1].replace("\"y\"", "\"second copy\""));
            // A later copy of a line is not read: its memsize would show.
            repeated.push(pages[6].replace("5000000000", "1"));
            for (what, lines) in [
                ("pages", &pages),
                ("shuffled", &shuffled),
                ("repeated", &repeated),
            ] {
                let c = read_lines(&root, lines);
                let t = &c.table;
                let want: Vec<u64> = live.iter().map(|a| a + offset).collect();
                assert_eq!(t.address, want, "{what} {offset}");
                assert_eq!(t.parent, parents, "{what} {offset}");
                assert_eq!(t.memsize[0], 5_000_000_000, "{what} {offset}");
                assert_eq!(
                    (c.totals.objects, c.totals.bytes),
                    (8, 5_000_000_000 + 40 + 40 + 160 + 4000),
                    "{what} {offset}"
                );
                assert_eq!((c.totals.garbage_objects, c.totals.garbage_bytes), (1, 40));
                let site = |i: usize| &c.sites[t.site[i] as usize];
                assert_eq!(
                    (site(0).kind, site(0).class.as_str(), site(0).line),
                    ("ARRAY", "Array", 1)
                );
                assert_eq!(
                    (site(2).kind, site(2).class.as_str(), site(2).line),
                    ("STRING", "String", 3)
                );
                assert_eq!(
                    (
                        site(7).kind,
                        site(7).class.as_str(),
                        site(7).file.as_deref()
                    ),
                    ("CLASS", "Class", None)
                );
                let unreached = c
                    .sites
                    .iter()
                    .find(|s| s.kind == "STRING" && s.line == 4)
                    .unwrap();
                assert_eq!(
                    (unreached.objects, unreached.garbage_objects),
                    (0, 1),
                    "{what} {offset}"
                );
                assert_eq!(c.generations, vec![(6, 2, 5_000_000_040), (7, 2, 200)]);
            }
        }
    }

    /// Blocks of any size, lines split across them: what is read is the same.
    #[test]
    fn lines_split_across_blocks_read_the_same() {
        let mut text =
            String::from("{\"type\":\"ROOT\", \"root\":\"vm\", \"references\":[\"0x10000\"]}\n");
        for line in graph_lines(0) {
            text.push_str(&line);
            text.push_str("\r\n");
        }
        text.push_str(
            "{\"address\":\"0x40000\", \"type\":\"STRING\", \"method\":\"a\0b\", \"memsize\":40}\n",
        );
        text.push_str("{\"address\":\"0x40028\", \"type\":\"STRI");
        let whole = DumpReader::read_all(text.as_bytes()).unwrap();
        assert_eq!(
            (
                whole.totals.lines,
                whole.totals.bad_lines,
                whole.totals.first_bad_line
            ),
            (12, 2, Some(11))
        );
        assert_eq!(whole.table.len(), 8);
        for block in 1..=80 {
            let c =
                DumpReader::read_all(io::BufReader::with_capacity(block, text.as_bytes())).unwrap();
            assert_eq!(c.totals, whole.totals, "blocks of {block}");
            assert_eq!(c.sites, whole.sites, "blocks of {block}");
            assert_eq!(c.generations, whole.generations, "blocks of {block}");
            assert_eq!(c.table, whole.table, "blocks of {block}");
        }
    }

    /// Lines parsed on two threads in blocks of any size read as on one
    /// thread: roots, sites, classes named in another block, bad lines
    /// (torn, NUL, too long) and the last line without its newline.
    #[test]
    fn two_threads_read_as_one() {
        let mut text: Vec<u8> = Vec::new();
        for round in 0..6u64 {
            let offset = round << 20;
            text.extend_from_slice(
                format!(
                    "{{\"type\":\"ROOT\", \"root\":\"{}\", \"references\":[\"0x{:x}\"]}}\n",
                    ["vm", "machine_context", "global_list"][round as usize % 3],
                    0x10000 + offset
                )
                .as_bytes(),
            );
            if round == 2 || round == 4 {
                text.extend_from_slice(
                    b"{\"type\":\"ROOT\", \"root\":\"bad\xff\", \"references\":[\"0x10000\"]}\n",
                );
                text.extend_from_slice(b"not json\n\n");
            }
            for (i, line) in graph_lines(offset).iter().enumerate() {
                if round == 3 && i == 2 {
                    text.extend_from_slice(
                        b"{\"address\":\"0x9\", \"type\":\"STRING\", \"method\":\"a\0b\"}\n",
                    );
                }
                text.extend_from_slice(line.as_bytes());
                text.push(b'\n');
            }
            // The same class address again, later: the later line names it.
            text.extend_from_slice(format!(
                "{{\"address\":\"0x{:x}\", \"type\":\"CLASS\", \"name\":\"Again{round}\", \"memsize\":8}}\n",
                0x30000
            )
            .as_bytes());
        }
        text.extend_from_slice(b"{\"address\":\"0x40028\", \"type\":\"STRI");
        let serial = DumpReader::read_serial(&text[..]).unwrap();
        assert!(serial.totals.bad_lines >= 4);
        assert!(serial.roots.len() >= 4);
        let same = |c: &DumpContent, what: &str| {
            assert_eq!(c.totals, serial.totals, "{what}");
            assert_eq!(c.roots, serial.roots, "{what}");
            assert_eq!(c.sites, serial.sites, "{what}");
            assert_eq!(c.generations, serial.generations, "{what}");
            assert_eq!(c.table, serial.table, "{what}");
        };
        for block in (1..=64).chain([100, 333, 1000, 5000]) {
            let c = DumpReader::read_blocks(CopiedBlocks::new(&text[..], block)).unwrap();
            same(&c, &format!("blocks of {block}"));
        }
        same(&DumpReader::read_all(&text[..]).unwrap(), "read_all");
    }
}
