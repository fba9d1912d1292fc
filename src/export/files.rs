//! Output files: written whole or not at all, named so they stay in their folder.

use std::collections::HashSet;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};

use crate::zone::Zone;

/// Writes `path` through a `.partial` sibling renamed into place once complete,
/// so a failed run never leaves a half-written file under the final name.
pub fn write_whole(path: &Path, write: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = std::path::PathBuf::from(tmp);
    let file =
        fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let mut out = BufWriter::with_capacity(1 << 16, file);
    let written = write(&mut out).and_then(|()| Ok(out.flush()?));
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e.context(format!("writing {}", path.display())));
    }
    drop(out);
    fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// Creates the output folder (and its parents) if needed.
pub fn ensure_dir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("cannot create folder {}", dir.display()))
}

/// Keeps a name to letters, digits, `-`, `_` and `.`; anything else (path
/// separators, spaces, `:`) becomes `_`, and a leading `.` too, so a name can
/// never leave the output folder or hide.
pub fn safe_name(text: &str) -> String {
    let mut name: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.starts_with('.') || name.is_empty() {
        name.insert(0, '_');
    }
    name
}

/// `<host>_<YYYYMMDD of first row>_<pid>[_from_<YYYYMMDDHHMM>][_to_<YYYYMMDDHHMM>]`,
/// dates in `zone`.
fn file_stem(
    host: &str,
    pid_or_label: &str,
    first_us: i64,
    from_us: Option<i64>,
    to_us: Option<i64>,
    zone: Zone,
) -> String {
    let mut stem = format!(
        "{host}_{}_{pid_or_label}",
        zone.format_local(first_us, "%Y%m%d")
    );
    if let Some(f) = from_us {
        stem.push_str(&format!("_from_{}", zone.format_local(f, "%Y%m%d%H%M")));
    }
    if let Some(t) = to_us {
        stem.push_str(&format!("_to_{}", zone.format_local(t, "%Y%m%d%H%M")));
    }
    safe_name(&stem)
}

/// Names the output files of one run: `file_stem` names, made unique. A second
/// process with the same host, date and pid (a pid reused by another worker type)
/// gets its worker type appended.
pub struct FileNamer {
    used: HashSet<String>,
    from_us: Option<i64>,
    to_us: Option<i64>,
    zone: Zone,
}

impl FileNamer {
    pub fn new(from_us: Option<i64>, to_us: Option<i64>, zone: Zone) -> FileNamer {
        FileNamer {
            used: HashSet::new(),
            from_us,
            to_us,
            zone,
        }
    }

    pub fn name(&mut self, host: &str, pid_or_label: &str, first_us: i64, worker: &str) -> String {
        let stem = file_stem(
            host,
            pid_or_label,
            first_us,
            self.from_us,
            self.to_us,
            self.zone,
        );
        let mut candidate = stem.clone();
        if self.used.contains(&candidate) {
            candidate = safe_name(&format!("{stem}_{worker}"));
        }
        let mut n = 2;
        while self.used.contains(&candidate) {
            candidate = format!("{stem}_{n}");
            n += 1;
        }
        self.used.insert(candidate.clone());
        candidate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_inside_the_folder() {
        assert_eq!(safe_name("../../etc/passwd"), "_.._.._etc_passwd");
        assert_eq!(safe_name(".hidden"), "_.hidden");
        assert_eq!(safe_name("app liance/a:1"), "app_liance_a_1");
        assert_eq!(safe_name(""), "_");
        assert_eq!(
            safe_name("appliance-a_20170301_2922"),
            "appliance-a_20170301_2922"
        );
    }
}
