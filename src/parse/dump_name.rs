//! Heap-dump file names: `<prefix>_<epoch>_<pid>.dump[.gz]`, epoch in UTC seconds.

/// A dump file's identity, read from its name alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpName {
    pub prefix: String,
    pub utc_us: i64,
    pub pid: i64,
}

/// Parses a dump file name; `None` if the name is not of that shape.
pub fn parse_dump_name(name: &str) -> Option<DumpName> {
    let stem = name
        .strip_suffix(".dump.gz")
        .or_else(|| name.strip_suffix(".dump"))?;
    let (rest, pid) = stem.rsplit_once('_')?;
    let (prefix, epoch) = rest.rsplit_once('_')?;
    let number = |s: &str| -> Option<i64> {
        if s.is_empty() || s.len() > 12 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let pid = number(pid)?;
    let epoch = number(epoch)?;
    if prefix.is_empty() || pid == 0 {
        return None;
    }
    Some(DumpName {
        prefix: prefix.to_string(),
        utc_us: epoch.checked_mul(1_000_000)?,
        pid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_dump_names() {
        let d = parse_dump_name("metrics_processor_wrkr_1488347288_54823.dump.gz").unwrap();
        assert_eq!(d.prefix, "metrics_processor_wrkr");
        assert_eq!(d.utc_us, 1_488_347_288_000_000);
        assert_eq!(d.pid, 54823);
        let d = parse_dump_name("generic_1488347288_7.dump").unwrap();
        assert_eq!((d.prefix.as_str(), d.pid), ("generic", 7));
    }

    #[test]
    fn refuses_other_names() {
        for name in [
            "evm.log-20170301.gz",
            "x_1488347288_54823.dump.bz2",
            "_1488347288_54823.dump",
            "x_14883x7288_54823.dump",
            "x_1488347288_.dump",
            "1488347288_54823.dump",
            "x_1488347288_0.dump",
        ] {
            assert_eq!(parse_dump_name(name), None, "{name}");
        }
    }
}
