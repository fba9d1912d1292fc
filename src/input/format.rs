//! What a file holds, told from its first lines (after inflating), never from
//! its name: a rotated `evm.log-20170301.gz`, a journal export called
//! `appliance-02.txt` and a heap dump copied under another name are read for
//! what they are.

use crate::parse::{classic, container, journal};

/// The input formats miq-memlog reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// ManageIQ's classic log lines, `[----] I, [time #pid:tid]  INFO -- : message`
    /// (`evm.log`, `memlog.log`); also what a file of no known format is read
    /// as, finding nothing.
    Classic,
    /// `journalctl -o json` or `-o json-seq`.
    JournalJson,
    /// `journalctl -o short-iso`, `short-iso-precise`, `short-precise`,
    /// `short-unix`, `short`, or rsyslog's `/var/log/messages`.
    JournalText,
    /// Pods' output: ManageIQ's container logger, one JSON object per line.
    ContainerJson,
    /// `ObjectSpace.dump_all` output: one JSON object per heap slot.
    HeapDump,
}

impl Format {
    /// The name stored per file (`source_file.format`) and shown by `files`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Classic => "classic",
            Format::JournalJson => "journal-json",
            Format::JournalText => "journal-text",
            Format::ContainerJson => "container-json",
            Format::HeapDump => "heap-dump",
        }
    }
}

/// Lines looked at to tell a format; a pod's output can begin with a few
/// lines of its own start-up before the logger's first object.
const SNIFF_LINES: usize = 200;

/// What one line says of its file's format, if anything.
fn line_format(line: &[u8]) -> Option<Format> {
    if classic::starts_record(line) {
        return Some(Format::Classic);
    }
    let json = line.strip_prefix(b"\x1e").unwrap_or(line);
    if json.starts_with(b"{\"type\":\"ROOT\"")
        || json.starts_with(b"{\"address\":\"0x")
        || json.starts_with(b"{\"type\":\"SHAPE\"")
    {
        return Some(Format::HeapDump);
    }
    if container::is_record(json) {
        return Some(Format::ContainerJson);
    }
    if json.starts_with(b"{") {
        let holds = |key: &[u8]| memchr::memmem::find(json, key).is_some();
        if holds(b"\"__REALTIME_TIMESTAMP\"") || holds(b"\"__CURSOR\"") || holds(b"\"MESSAGE\"") {
            return Some(Format::JournalJson);
        }
    }
    if journal::is_text_record(line) {
        return Some(Format::JournalText);
    }
    None
}

/// Tells the format from the first bytes of a file's content: the first of
/// its first lines that shows one (journalctl's `-- Boot ... --` lines and a
/// container's start-up output show none).
pub fn sniff(head: &[u8]) -> Format {
    head.split(|&c| c == b'\n')
        .take(SNIFF_LINES)
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .find_map(line_format)
        .unwrap_or(Format::Classic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_by_content() {
        let cases: [(&[u8], Format); 12] = [
            (b"[----] I, [2017-03-01T00:00:06.137911 #1:2]  INFO -- : x\n", Format::Classic),
            (b"{\"type\":\"ROOT\", \"root\":\"vm\", \"references\":[]}\n", Format::HeapDump),
            (b"{\"address\":\"0x7f3a021bade0\", \"type\":\"ARRAY\"}\n", Format::HeapDump),
            (b"{\"__CURSOR\":\"s=1\",\"__REALTIME_TIMESTAMP\":\"1\",\"MESSAGE\":\"x\"}\n", Format::JournalJson),
            (b"\x1e{\"MESSAGE\":\"x\",\"_PID\":\"1\"}\n", Format::JournalJson),
            (b"-- Boot 01234 --\n2023-06-17T12:16:44.123456-0400 miq evm[2440]:  INFO -- evm: x\n", Format::JournalText),
            (b"Jun 17 16:16:44 miq manageiq[2469]:  INFO -- evm: MIQ(x)\n", Format::JournalText),
            (b"1687018604.123456 miq evm[2440]: x\n", Format::JournalText),
            (b"** Booting MiqGenericWorker\n{\"@timestamp\":\"2023-08-31T10:12:13.456789\",\"pid\":7}\n", Format::ContainerJson),
            // Anything else is read as a classic log (and yields what it holds: nothing).
            (b"", Format::Classic),
            (b"\x00\x00\xff", Format::Classic),
            (b"just text\nmore text\n", Format::Classic),
        ];
        for (head, format) in cases {
            assert_eq!(sniff(head), format, "{}", String::from_utf8_lossy(head));
        }
    }
}
