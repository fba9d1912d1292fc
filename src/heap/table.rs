//! The live objects of one dump, as stored: sorted by address, each with its
//! generation, its site (an index into the dump's site rows), its memsize and
//! its parent on a shortest path from a ROOT. Varints, addresses and parents
//! as differences, so a live object costs a few bytes; what the window diff,
//! the holders and the root paths read back without the dump file.

/// A parent that is a ROOT category rather than an object (`| category`).
pub const ROOT_PARENT: u32 = 1 << 31;
/// No allocation information (the object predates tracing, or moved).
pub const UNTRACED: u32 = u32::MAX;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectTable {
    pub address: Vec<u64>,
    /// `UNTRACED` when the object has no allocation information.
    pub generation: Vec<u32>,
    pub site: Vec<u32>,
    pub memsize: Vec<u64>,
    /// Index of the parent object, or `ROOT_PARENT | category`.
    pub parent: Vec<u32>,
}

impl ObjectTable {
    pub fn len(&self) -> usize {
        self.address.len()
    }

    pub fn is_empty(&self) -> bool {
        self.address.is_empty()
    }

    pub fn push(&mut self, address: u64, generation: u32, site: u32, memsize: u64, parent: u32) {
        self.address.push(address);
        self.generation.push(generation);
        self.site.push(site);
        self.memsize.push(memsize);
        self.parent.push(parent);
    }

    /// The index of the object at `address` with `generation`, if present.
    pub fn find(&self, address: u64, generation: u32) -> Option<usize> {
        let at = self.address.binary_search(&address).ok()?;
        (self.generation[at] == generation).then_some(at)
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len() * 8 + 8);
        put(&mut out, self.len() as u64);
        let mut previous = 0u64;
        for i in 0..self.len() {
            put(&mut out, self.address[i].wrapping_sub(previous));
            previous = self.address[i];
            put(&mut out, self.generation[i].wrapping_add(1) as u64);
            put(&mut out, self.site[i] as u64);
            put(&mut out, self.memsize[i]);
            let parent = self.parent[i];
            let code = if parent & ROOT_PARENT != 0 {
                ((parent & !ROOT_PARENT) as u64) << 1
            } else {
                (zigzag(parent as i64 - i as i64) << 1) | 1
            };
            put(&mut out, code);
        }
        out
    }

    /// Reads an encoded table back; `None` if the bytes are not one.
    pub fn decode(bytes: &[u8]) -> Option<ObjectTable> {
        let mut at = 0;
        let n = usize::try_from(get(bytes, &mut at)?).ok()?;
        if n > bytes.len() {
            return None;
        }
        let mut table = ObjectTable {
            address: Vec::with_capacity(n),
            generation: Vec::with_capacity(n),
            site: Vec::with_capacity(n),
            memsize: Vec::with_capacity(n),
            parent: Vec::with_capacity(n),
        };
        let mut previous = 0u64;
        for i in 0..n {
            previous = previous.wrapping_add(get(bytes, &mut at)?);
            let generation = (get(bytes, &mut at)? as u32).wrapping_sub(1);
            let site = u32::try_from(get(bytes, &mut at)?).ok()?;
            let memsize = get(bytes, &mut at)?;
            let code = get(bytes, &mut at)?;
            let parent = if code & 1 == 0 {
                ROOT_PARENT | u32::try_from(code >> 1).ok()?
            } else {
                let p = i as i64 + unzigzag(code >> 1);
                u32::try_from(p).ok().filter(|&p| (p as usize) < n)?
            };
            table.push(previous, generation, site, memsize, parent);
        }
        (at == bytes.len()).then_some(table)
    }
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn put(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let b = *bytes.get(*at)?;
        *at += 1;
        if shift > 63 {
            return None;
        }
        v |= ((b & 0x7f) as u64) << shift;
        if b < 0x80 {
            return Some(v);
        }
        shift += 7;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_reads_back_as_written() {
        let mut t = ObjectTable::default();
        t.push(0x7f00_0000_0028, UNTRACED, 3, 40, ROOT_PARENT | 2);
        t.push(0x7f00_0000_0050, 17, 0, 1 << 40, 0);
        t.push(0x7f00_1000_0000, 0, 9, 0, 1);
        let bytes = t.encode();
        assert_eq!(ObjectTable::decode(&bytes), Some(t.clone()));
        assert_eq!(t.find(0x7f00_0000_0050, 17), Some(1));
        assert_eq!(t.find(0x7f00_0000_0050, 16), None);
        assert_eq!(ObjectTable::decode(&bytes[..bytes.len() - 1]), None);
        assert_eq!(ObjectTable::decode(&[0xff; 12]), None);
    }
}
