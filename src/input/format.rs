//! What a file holds, told from its first bytes (after inflating), never from
//! its name: a rotated `evm.log-20170301.gz` and a heap dump copied under
//! another name are read for what they are.

/// The input formats miq-memlog reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// ManageIQ's classic log lines, `[----] I, [time #pid:tid]  INFO -- : message`
    /// (`evm.log`); also what a file of no known format is read as, finding nothing.
    Classic,
    /// `ObjectSpace.dump_all` output: one JSON object per heap slot.
    HeapDump,
}

impl Format {
    /// The name stored per file (`source_file.format`) and shown by `files`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Classic => "classic",
            Format::HeapDump => "heap-dump",
        }
    }
}

/// Tells the format from the first bytes of a file's content.
pub fn sniff(head: &[u8]) -> Format {
    let first = head.trim_ascii_start();
    if first.starts_with(b"{\"type\":\"ROOT\"")
        || first.starts_with(b"{\"address\":\"0x")
        || first.starts_with(b"{\"type\":\"SHAPE\"")
    {
        return Format::HeapDump;
    }
    Format::Classic
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_by_content() {
        assert_eq!(
            sniff(b"[----] I, [2017-03-01T00:00:06.137911 #1:2]  INFO -- : x\n"),
            Format::Classic
        );
        assert_eq!(
            sniff(b"{\"type\":\"ROOT\", \"root\":\"vm\", \"references\":[]}\n"),
            Format::HeapDump
        );
        assert_eq!(
            sniff(b"{\"address\":\"0x7f3a021bade0\", \"type\":\"ARRAY\"}\n"),
            Format::HeapDump
        );
        // Anything else is read as a classic log (and yields what it holds: nothing).
        assert_eq!(sniff(b""), Format::Classic);
        assert_eq!(sniff(b"\x00\x00\xff"), Format::Classic);
    }
}
