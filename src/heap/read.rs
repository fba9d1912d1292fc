//! Reading a dump's lines into what is stored of it: every object line is
//! kept as a small fixed record and its references as addresses; once the
//! last line is in, objects are sorted by address, walked from the ROOT lines
//! (class pointers as edges) to tell live from garbage, and summed per site
//! (type, class, `file:line`) and per generation.

use std::collections::HashMap;
use std::io::{self, Read};

use super::hash::FastMap;
use super::line::{for_each_reference, read_line, Line, ObjectLine, T_CLASS, T_ICLASS, T_MODULE};
use super::table::{ObjectTable, ROOT_PARENT, UNTRACED};

/// Lines longer than this are skipped as bad (a 300 k-element Array is 5 MB).
pub const MAX_LINE: usize = 256 << 20;

/// One object line, as kept while the dump is read.
#[derive(Clone, Copy)]
struct Raw {
    address: u64,
    class: u64,
    memsize: u64,
    edges_start: u32,
    edges_len: u32,
    file: u32,
    line: u32,
    generation: u32,
    kind: u8,
    tracer: bool,
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

    fn text(&self, id: u32) -> Option<String> {
        (id > 0).then(|| String::from_utf8_lossy(&self.names[id as usize - 1]).into_owned())
    }
}

/// A dump read line by line; `finish` turns it into [`DumpContent`].
#[derive(Default)]
pub struct DumpReader {
    objects: Vec<Raw>,
    edges: Vec<u64>,
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

impl DumpReader {
    /// Reads a whole dump from `bytes` (already inflated).
    pub fn read_all(mut bytes: impl Read) -> io::Result<DumpContent> {
        let mut reader = DumpReader::default();
        let mut buf = vec![0u8; 4 << 20];
        let mut filled = 0;
        let mut skipping = false;
        loop {
            if filled == buf.len() {
                if buf.len() >= MAX_LINE {
                    // One line longer than any Ruby writes: skip to its end.
                    reader.bad(true);
                    skipping = true;
                    filled = 0;
                } else {
                    buf.resize(buf.len() * 2, 0);
                }
            }
            let n = match bytes.read(&mut buf[filled..]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                break;
            }
            let start = filled;
            filled += n;
            let mut line_start = 0;
            let mut search = start;
            while let Some(i) = memchr::memchr(b'\n', &buf[search..filled]) {
                let end = search + i;
                if skipping {
                    skipping = false;
                } else {
                    reader.line(&buf[line_start..end]);
                }
                line_start = end + 1;
                search = line_start;
            }
            buf.copy_within(line_start..filled, 0);
            filled -= line_start;
        }
        if filled > 0 && !skipping {
            // The last line has no newline: the file was not closed (or cut).
            let last = &buf[..filled];
            match read_line(last) {
                Line::Bad => reader.bad(true),
                _ => reader.line(last),
            }
        }
        Ok(reader.finish())
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
        self.lines += 1;
        match read_line(line) {
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
        let edges_start = self.edges.len() as u32;
        let edges = &mut self.edges;
        for_each_reference(o.references, |a| edges.push(a));
        let file = o.file.map_or(0, |f| self.files.id(f));
        let mut tracer = false;
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
            }
        }
        self.objects.push(Raw {
            address: o.address,
            class: o.class.unwrap_or(0),
            memsize: o.memsize,
            edges_start,
            edges_len: self.edges.len() as u32 - edges_start,
            file,
            line: o.line,
            generation: o.generation.unwrap_or(UNTRACED),
            kind: o.kind,
            tracer,
        });
    }

    /// Sorts, walks and sums what was read.
    pub fn finish(mut self) -> DumpContent {
        self.objects.sort_unstable_by_key(|o| o.address);
        self.objects.dedup_by_key(|o| o.address);
        let index = AddressIndex::new(&self.objects);
        let n = self.objects.len();
        const UNSEEN: u32 = u32::MAX;
        let mut parent = vec![UNSEEN; n];
        let mut queue: Vec<u32> = Vec::with_capacity(n);
        for &(category, address) in &self.roots {
            if let Some(i) = index.find(&self.objects, address) {
                if parent[i] == UNSEEN {
                    parent[i] = ROOT_PARENT | category;
                    queue.push(i as u32);
                }
            }
        }
        let mut head = 0;
        while head < queue.len() {
            let i = queue[head] as usize;
            head += 1;
            let o = self.objects[i];
            let edges = &self.edges[o.edges_start as usize..(o.edges_start + o.edges_len) as usize];
            for &address in edges.iter().chain(std::iter::once(&o.class)) {
                if let Some(j) = index.find(&self.objects, address) {
                    if parent[j] == UNSEEN {
                        parent[j] = i as u32;
                        queue.push(j as u32);
                    }
                }
            }
        }
        drop(queue);
        self.edges = Vec::new();

        let mut totals = DumpTotals {
            lines: self.lines,
            bad_lines: self.bad_lines,
            first_bad_line: self.first_bad_line,
            ..DumpTotals::default()
        };
        let mut class_names = ClassNames::default();
        let mut site_ids: FastMap<(u8, u32, u32, u32), u32> = FastMap::default();
        let mut sites: Vec<Site> = Vec::new();
        let mut generations: HashMap<u32, (u64, u64)> = HashMap::new();
        // Live objects' new indices, for their parents.
        let mut rank = vec![0u32; n];
        let mut live = 0u32;
        let mut site_of = vec![0u32; n];
        for (i, o) in self.objects.iter().enumerate() {
            if o.tracer {
                totals.tracer_objects += 1;
                totals.tracer_bytes += o.memsize;
            } else {
                // A named class or module is shown by its own name, not as "Class".
                let own_name = match self.classes.get(&o.address) {
                    Some(ClassLine {
                        name: Some(name), ..
                    }) => Some(class_names.names.id(name)),
                    _ => None,
                };
                let class = own_name
                    .unwrap_or_else(|| class_names.id(&self.classes, &self.files, o.class, o.kind));
                let key = (o.kind, class, o.file, if o.file == 0 { 0 } else { o.line });
                let site = *site_ids.entry(key).or_insert_with(|| {
                    let file = self.files.text(o.file);
                    sites.push(Site {
                        kind: super::line::TYPES[o.kind as usize],
                        class: class_names.text(class),
                        gem: file.as_deref().and_then(gem_of),
                        file,
                        line: key.3,
                        objects: 0,
                        bytes: 0,
                        garbage_objects: 0,
                        garbage_bytes: 0,
                    });
                    sites.len() as u32 - 1
                });
                site_of[i] = site;
                let s = &mut sites[site as usize];
                if o.generation == UNTRACED {
                    totals.untraced_objects += 1;
                } else {
                    totals.traced_objects += 1;
                    totals.max_generation = totals.max_generation.max(Some(o.generation));
                }
                if parent[i] == UNSEEN {
                    totals.garbage_objects += 1;
                    totals.garbage_bytes += o.memsize;
                    s.garbage_objects += 1;
                    s.garbage_bytes += o.memsize;
                    continue;
                }
                totals.objects += 1;
                totals.bytes += o.memsize;
                s.objects += 1;
                s.bytes += o.memsize;
                if o.generation != UNTRACED {
                    let g = generations.entry(o.generation).or_default();
                    g.0 += 1;
                    g.1 += o.memsize;
                }
            }
            if parent[i] != UNSEEN {
                rank[i] = live;
                live += 1;
            }
        }
        // The tracer object is kept in the table (it can hold a path) under a
        // site of its own, after every other site.
        let tracer_site = sites.len() as u32;
        if totals.tracer_objects > 0 {
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
        let mut table = ObjectTable::default();
        for (i, o) in self.objects.iter().enumerate() {
            let p = parent[i];
            if p == UNSEEN {
                continue;
            }
            let p = if p & ROOT_PARENT != 0 {
                p
            } else {
                rank[p as usize]
            };
            let site = if o.tracer { tracer_site } else { site_of[i] };
            table.push(o.address, o.generation, site, o.memsize, p);
        }
        let mut generations: Vec<(u32, u64, u64)> = generations
            .into_iter()
            .map(|(g, (n, b))| (g, n, b))
            .collect();
        generations.sort_unstable();
        DumpContent {
            totals,
            roots: self.root_names,
            sites,
            generations,
            table,
        }
    }
}

/// Finds an object by address: objects are sorted; a map from 64 KiB page to
/// the range of objects in it narrows each search to a page's few hundred.
struct AddressIndex {
    pages: FastMap<u64, (u32, u32)>,
}

const PAGE_SHIFT: u32 = 16;

impl AddressIndex {
    fn new(objects: &[Raw]) -> AddressIndex {
        let mut pages: FastMap<u64, (u32, u32)> = FastMap::default();
        for (i, o) in objects.iter().enumerate() {
            let page = pages
                .entry(o.address >> PAGE_SHIFT)
                .or_insert((i as u32, i as u32));
            page.1 = i as u32 + 1;
        }
        AddressIndex { pages }
    }

    #[inline]
    fn find(&self, objects: &[Raw], address: u64) -> Option<usize> {
        let &(start, end) = self.pages.get(&(address >> PAGE_SHIFT))?;
        let range = &objects[start as usize..end as usize];
        range
            .binary_search_by_key(&address, |o| o.address)
            .ok()
            .map(|i| start as usize + i)
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
        if kind == super::line::T_NONE + 18 {
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
}
