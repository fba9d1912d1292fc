//! One line of an `ObjectSpace.dump_all` dump, read as bytes: the fields later
//! questions need, found by the order Ruby writes them in, never by parsing
//! the whole line as JSON (file, method, struct and class names are written
//! without escaping, and Ruby 3.0–3.1 can leave NUL bytes in a line).

use memchr::memmem::Finder;
use std::sync::LazyLock;

/// The object types Ruby writes, in a fixed order (their index is stored).
pub const TYPES: [&str; 22] = [
    "NONE", "OBJECT", "CLASS", "ICLASS", "MODULE", "FLOAT", "STRING", "REGEXP", "ARRAY", "HASH",
    "STRUCT", "BIGNUM", "FILE", "DATA", "MATCH", "COMPLEX", "RATIONAL", "SYMBOL", "IMEMO", "NODE",
    "ZOMBIE", "UNKNOWN",
];
pub const T_NONE: u8 = 0;
pub const T_CLASS: u8 = 2;
pub const T_ICLASS: u8 = 3;
pub const T_MODULE: u8 = 4;
pub const T_DATA: u8 = 13;
pub const T_IMEMO: u8 = 18;

/// The allocation tracer's own object; it reports ~88 bytes per traced object.
pub const TRACER_STRUCT: &[u8] = b"ObjectTracing/allocation_info_tracer";

/// What one line is.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    Root(RootLine<'a>),
    Object(ObjectLine<'a>),
    /// A line of a kind not needed (SHAPE), or a free slot (`NONE`).
    Skipped,
    /// Not a line of the shape Ruby writes: torn, NUL bytes, an unknown type.
    Bad,
}

#[derive(Debug, PartialEq, Eq)]
pub struct RootLine<'a> {
    pub category: &'a [u8],
    /// `"0x..", "0x.."`: the inside of the references list.
    pub references: &'a [u8],
}

#[derive(Debug, PartialEq, Eq)]
pub struct ObjectLine<'a> {
    pub address: u64,
    pub kind: u8,
    pub class: Option<u64>,
    pub references: &'a [u8],
    pub file: Option<&'a [u8]>,
    pub line: u32,
    pub generation: Option<u32>,
    pub memsize: u64,
    /// CLASS / MODULE / ICLASS / DATA only: the fields that name them.
    pub named: Option<Named<'a>>,
}

/// What a class, module or DATA line says of itself.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Named<'a> {
    pub name: Option<&'a [u8]>,
    pub real_class_name: Option<&'a [u8]>,
    pub superclass: Option<u64>,
    pub singleton: bool,
    pub tracer: bool,
}

/// Keys looked for forwards in the few lines that name a class or a DATA struct.
struct Keys {
    name: Finder<'static>,
    real_class_name: Finder<'static>,
    superclass: Finder<'static>,
    singleton: Finder<'static>,
    struct_: Finder<'static>,
}

static KEYS: LazyLock<Keys> = LazyLock::new(|| Keys {
    name: Finder::new(b"\"name\":\""),
    real_class_name: Finder::new(b"\"real_class_name\":\""),
    superclass: Finder::new(b"\"superclass\":\"0x"),
    singleton: Finder::new(b"\"singleton\":true"),
    struct_: Finder::new(b"\"struct\":\""),
});

/// A key of every object line, with the offset of a byte of it that is rare
/// near where it is looked for (`:`, `{`, `[`): a search for that byte, then a
/// comparison, finds the same occurrence a substring search would.
struct Key<const N: usize> {
    bytes: &'static [u8; N],
    anchor: usize,
}

const CLASS: Key<11> = Key {
    bytes: b"\"class\":\"0x",
    anchor: 7,
};
const REFERENCES: Key<14> = Key {
    bytes: b"\"references\":[",
    anchor: 13,
};
const FLAGS: Key<11> = Key {
    bytes: b", \"flags\":{",
    anchor: 10,
};
const MEMSIZE: Key<12> = Key {
    bytes: b", \"memsize\":",
    anchor: 11,
};
const GENERATION: Key<15> = Key {
    bytes: b", \"generation\":",
    anchor: 14,
};
const LINE: Key<9> = Key {
    bytes: b", \"line\":",
    anchor: 8,
};
const FILE: Key<8> = Key {
    bytes: b"\"file\":\"",
    anchor: 6,
};

impl<const N: usize> Key<N> {
    /// The start of the first occurrence in `hay`.
    #[inline]
    fn find(&self, hay: &[u8]) -> Option<usize> {
        let a = self.bytes[self.anchor];
        let mut from = self.anchor;
        while from < hay.len() {
            let c = from + memchr::memchr(a, &hay[from..])?;
            let start = c - self.anchor;
            if hay.len() - start < N {
                return None;
            }
            if hay[start..start + N] == *self.bytes {
                return Some(start);
            }
            from = c + 1;
        }
        None
    }

    /// The start of the last occurrence in `hay`.
    #[inline]
    fn rfind(&self, hay: &[u8]) -> Option<usize> {
        let a = self.bytes[self.anchor];
        // An occurrence that fits has its anchor before `upto`.
        let mut upto = (hay.len() + self.anchor + 1).checked_sub(N)?;
        while let Some(c) = memchr::memrchr(a, &hay[..upto]) {
            if c < self.anchor {
                return None;
            }
            let start = c - self.anchor;
            if hay[start..start + N] == *self.bytes {
                return Some(start);
            }
            upto = c;
        }
        None
    }
}

/// How far back from its end the allocation fields are looked for: the
/// method and file names sit there (a longer path is read as untraced).
const TAIL_WINDOW: usize = 16 * 1024;
/// Where the class pointer is looked for: right after address and type
/// (shape_id and slot_size come between from Ruby 3.3 on).
const HEAD_WINDOW: usize = 160;

/// Reads one line (without its newline).
#[inline]
pub fn read_line(line: &[u8]) -> Line<'_> {
    if memchr::memchr(0, line).is_some() {
        return Line::Bad;
    }
    read_line_without_nul(line)
}

/// Reads one line its caller knows to hold no NUL byte (found while it looked
/// for the line's end).
#[inline]
pub fn read_line_without_nul(line: &[u8]) -> Line<'_> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.len() < 2 || line[line.len() - 1] != b'}' {
        return Line::Bad;
    }
    if let Some(rest) = line.strip_prefix(b"{\"address\":\"0x") {
        return object(rest).map_or(Line::Bad, |o| o);
    }
    if let Some(rest) = line.strip_prefix(b"{\"type\":\"ROOT\", \"root\":\"") {
        let Some(end) = memchr::memchr(b'"', rest) else {
            return Line::Bad;
        };
        let category = &rest[..end];
        let references = match REFERENCES.rfind(rest) {
            Some(at) => match list(&rest[at + 14..]) {
                Some(list) => list,
                None => return Line::Bad,
            },
            None => &[],
        };
        return Line::Root(RootLine {
            category,
            references,
        });
    }
    if line.starts_with(b"{\"type\":\"SHAPE\"") {
        return Line::Skipped;
    }
    Line::Bad
}

#[inline]
fn object(rest: &[u8]) -> Option<Line<'_>> {
    let (address, rest) = hex(rest)?;
    let rest = rest.strip_prefix(b"\", \"type\":\"")?;
    let end = memchr::memchr(b'"', rest)?;
    let kind = kind_of(&rest[..end])?;
    if kind == T_NONE {
        return Some(Line::Skipped);
    }
    let body = &rest[end..];
    let head = &body[..body.len().min(HEAD_WINDOW)];
    let class = match CLASS.find(head) {
        Some(at) => Some(hex(&head[at + 11..]).or_else(|| hex(&body[at + 11..]))?.0),
        None => None,
    };
    // The tail, read backwards: flags, memsize, generation, method, line, file.
    let mut end = body.len() - 1;
    if let Some(at) = FLAGS.rfind(&body[..end]) {
        end = at;
    }
    let mut memsize = 0;
    if let Some(at) = MEMSIZE.rfind(&body[end.saturating_sub(40)..end]) {
        let at = end.saturating_sub(40) + at;
        memsize = number(&body[at + 12..end])?;
        end = at;
    }
    let tail_from = end.saturating_sub(TAIL_WINDOW);
    let mut generation = None;
    let mut file = None;
    let mut line_no = 0;
    if let Some(at) = GENERATION.rfind(&body[end.saturating_sub(40)..end]) {
        let at = end.saturating_sub(40) + at;
        generation = Some(u32::try_from(number(&body[at + 15..end])?).ok()?);
        end = at;
        if let Some(at) = LINE.rfind(&body[tail_from..end]) {
            let at = tail_from + at;
            let digits = &body[at + 9..];
            let stop = digits.iter().position(|b| !b.is_ascii_digit())?;
            line_no = u32::try_from(number(&digits[..stop])?).ok()?;
            end = at;
            if let Some(at) = FILE.rfind(&body[tail_from..end]) {
                let at = tail_from + at;
                // The path runs to the last quote before `, "line":` (unescaped).
                let value = &body[at + 8..end];
                file = Some(value.strip_suffix(b"\"")?);
                end = at.saturating_sub(2);
            }
        }
    }
    let references = if end > 0 && body[end - 1] == b']' {
        let at = REFERENCES.rfind(&body[..end])?;
        list(&body[at + 14..end])?
    } else {
        &[]
    };
    let named = match kind {
        T_CLASS | T_MODULE | T_ICLASS | T_DATA => Some(named(kind, &body[..end])),
        _ => None,
    };
    Some(Line::Object(ObjectLine {
        address,
        kind,
        class,
        references,
        file,
        line: line_no,
        generation,
        memsize,
        named,
    }))
}

fn named(kind: u8, fields: &[u8]) -> Named<'_> {
    let quoted = |finder: &Finder<'_>, skip: usize| {
        let at = finder.find(fields)? + skip;
        let end = memchr::memchr(b'"', &fields[at..])?;
        Some(&fields[at..at + end])
    };
    if kind == T_DATA {
        return Named {
            tracer: quoted(&KEYS.struct_, 10) == Some(TRACER_STRUCT),
            ..Named::default()
        };
    }
    Named {
        name: quoted(&KEYS.name, 8),
        real_class_name: quoted(&KEYS.real_class_name, 19),
        superclass: KEYS
            .superclass
            .find(fields)
            .and_then(|at| hex(&fields[at + 16..]).map(|(a, _)| a)),
        singleton: KEYS.singleton.find(fields).is_some(),
        tracer: false,
    }
}

/// The index of a type name in [`TYPES`].
#[inline]
fn kind_of(name: &[u8]) -> Option<u8> {
    Some(match name {
        b"NONE" => 0,
        b"OBJECT" => 1,
        b"CLASS" => 2,
        b"ICLASS" => 3,
        b"MODULE" => 4,
        b"FLOAT" => 5,
        b"STRING" => 6,
        b"REGEXP" => 7,
        b"ARRAY" => 8,
        b"HASH" => 9,
        b"STRUCT" => 10,
        b"BIGNUM" => 11,
        b"FILE" => 12,
        b"DATA" => 13,
        b"MATCH" => 14,
        b"COMPLEX" => 15,
        b"RATIONAL" => 16,
        b"SYMBOL" => 17,
        b"IMEMO" => 18,
        b"NODE" => 19,
        b"ZOMBIE" => 20,
        b"UNKNOWN" => 21,
        _ => return None,
    })
}

/// The inside of a JSON list starting at `bytes` (after its `[`), up to its `]`.
fn list(bytes: &[u8]) -> Option<&[u8]> {
    let end = memchr::memchr(b']', bytes)?;
    Some(&bytes[..end])
}

/// Lowercase hex digits up to the first other byte; at most 16.
#[inline]
fn hex(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut value = 0u64;
    let mut n = 0;
    for &b in bytes.iter().take(17) {
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => break,
        };
        value = (value << 4) | digit as u64;
        n += 1;
    }
    if n == 0 || n > 16 {
        return None;
    }
    Some((value, &bytes[n..]))
}

#[inline]
fn number(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    let mut value = 0u64;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + (b - b'0') as u64;
    }
    Some(value)
}

/// Calls `each` with every address in a references list (`"0x1", "0x2"`).
#[inline]
pub fn for_each_reference(list: &[u8], mut each: impl FnMut(u64)) {
    let mut at = 0;
    while let Some(i) = memchr::memchr(b'x', &list[at..]) {
        at += i + 1;
        if let Some((address, _)) = hex(&list[at..]) {
            each(address);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object_of(line: &[u8]) -> ObjectLine<'_> {
        match read_line(line) {
            Line::Object(o) => o,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_a_traced_object() {
        let o = object_of(br#"{"address":"0x7f084f16a1a8", "type":"IMEMO", "class":"0x7f0852dd02a0", "imemo_type":"callcache", "references":["0x7f084f16a220", "0xab"], "file":"t.rb", "line":8, "method":"new", "generation":9, "memsize":40, "flags":{"wb_protected":true, "old":true}}"#);
        assert_eq!(o.address, 0x7f084f16a1a8);
        assert_eq!(TYPES[o.kind as usize], "IMEMO");
        assert_eq!(o.class, Some(0x7f0852dd02a0));
        assert_eq!(o.file, Some(&b"t.rb"[..]));
        assert_eq!((o.line, o.generation, o.memsize), (8, Some(9), 40));
        let mut refs = Vec::new();
        for_each_reference(o.references, |a| refs.push(a));
        assert_eq!(refs, [0x7f084f16a220, 0xab]);
    }

    #[test]
    fn reads_an_untraced_string_whose_value_looks_like_fields() {
        let o = object_of(br#"{"address":"0x10", "type":"STRING", "class":"0x20", "bytesize":40, "value":"\", \"file\":\"x.rb\", \"line\":3, \"generation\":4", "encoding":"UTF-8", "memsize":80}"#);
        assert_eq!(
            (o.file, o.line, o.generation, o.memsize),
            (None, 0, None, 80)
        );
        assert!(o.references.is_empty());
    }

    #[test]
    fn reads_classes_and_the_tracer() {
        let o = object_of(br#"{"address":"0x7f0852e2c140", "type":"CLASS", "class":"0x7f084f187f28", "superclass":"0x7f0852e2c4b0", "real_class_name":"Class", "singleton":true, "references":["0x7f0852e2c4b0"], "memsize":752, "flags":{"old":true}}"#);
        let n = o.named.unwrap();
        assert!(n.singleton);
        assert_eq!(n.real_class_name, Some(&b"Class"[..]));
        assert_eq!(n.superclass, Some(0x7f0852e2c4b0));
        let o = object_of(br#"{"address":"0x1", "type":"DATA", "class":"0x2", "struct":"ObjectTracing/allocation_info_tracer", "references":["0x3"], "memsize":2056, "flags":{"marked":true}}"#);
        assert!(o.named.unwrap().tracer);
    }

    #[test]
    fn kinds_are_the_types_indices() {
        for (i, t) in TYPES.iter().enumerate() {
            assert_eq!(kind_of(t.as_bytes()), Some(i as u8));
        }
        assert_eq!(kind_of(b"OBJECTS"), None);
    }

    #[test]
    fn keys_are_found_as_a_substring_search_finds_them() {
        let hay = br#"x, "line":1, "line":2:, "line"::"file":"a:b"file":"c", "line":3, "memsize":4, "flags":{"class":"0x1" "references":[", "generation":5, "references":["#;
        fn check<const N: usize>(key: Key<N>, hay: &[u8]) {
            assert!(b":{[".contains(&key.bytes[key.anchor]));
            for from in 0..hay.len() {
                for to in from..=hay.len() {
                    let h = &hay[from..to];
                    let first = h.windows(N).position(|w| w == key.bytes);
                    let last = h.windows(N).rposition(|w| w == key.bytes);
                    assert_eq!(key.find(h), first);
                    assert_eq!(key.rfind(h), last);
                }
            }
        }
        check(LINE, hay);
        check(FILE, hay);
        check(MEMSIZE, hay);
        check(FLAGS, hay);
        check(CLASS, hay);
        check(REFERENCES, hay);
        check(GENERATION, hay);
    }

    #[test]
    fn tells_bad_lines() {
        for bad in [
            &b"{\"address\":\"0x7f08"[..],
            b"{\"address\":\"0x10\", \"type\":\"STRING\", \"method\":\"h\x00\"}",
            b"{\"address\":\"0xzz\", \"type\":\"STRING\"}",
            b"{\"address\":\"0x10\", \"type\":\"WHATEVER\"}",
            b"not json",
            b"",
        ] {
            assert_eq!(
                read_line(bad),
                Line::Bad,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(read_line(b"{\"type\":\"SHAPE\", \"id\":1}"), Line::Skipped);
        let root = read_line(br#"{"type":"ROOT", "root":"vm", "references":["0x1", "0x2"]}"#);
        assert_eq!(
            root,
            Line::Root(RootLine {
                category: b"vm",
                references: br#""0x1", "0x2""#
            })
        );
    }
}
