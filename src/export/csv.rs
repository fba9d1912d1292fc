//! `export --format csv`: one row per sample, the contract users and tests rely on.

use std::io::Write;

use anyhow::Result;
use rusqlite::types::ValueRef;
use rusqlite::Row;

use crate::parse::time::push_utc_us;

pub const SAMPLE_HEADER: [&str; 18] = [
    "time",
    "host",
    "pid",
    "worker",
    "source",
    "rss",
    "pss",
    "uss",
    "vsz",
    "live",
    "old",
    "msg_id",
    "msg_class",
    "msg_method",
    "swap",
    "gc_ms",
    "msg_ms",
    "msgs",
];

/// The columns written without `--wide`: the CSV contract of every release.
pub const NARROW_COLUMNS: usize = 14;

/// Streams sample rows (in the column order of `queries/export_samples.sql`) as CSV.
pub struct SampleCsv<W: Write> {
    out: ::csv::Writer<W>,
    fields: Vec<Vec<u8>>,
}

impl<W: Write> SampleCsv<W> {
    /// With `wide`, the enrichment's columns (swap, gc_ms, msg_ms, msgs) too.
    pub fn new(out: W, wide: bool) -> Result<SampleCsv<W>> {
        let mut out = ::csv::Writer::from_writer(out);
        let width = if wide {
            SAMPLE_HEADER.len()
        } else {
            NARROW_COLUMNS
        };
        out.write_record(&SAMPLE_HEADER[..width])?;
        Ok(SampleCsv {
            out,
            fields: vec![Vec::new(); width],
        })
    }

    pub fn write_row(&mut self, row: &Row<'_>) -> Result<()> {
        for (i, field) in self.fields.iter_mut().enumerate() {
            field.clear();
            match row.get_ref(i)? {
                ValueRef::Null => {}
                ValueRef::Integer(n) if i == 0 => push_utc_us(field, n),
                ValueRef::Integer(n) => push_integer(field, n),
                ValueRef::Real(f) => write!(field, "{f}")?,
                ValueRef::Text(t) | ValueRef::Blob(t) => field.extend_from_slice(t),
            }
        }
        self.out.write_record(&self.fields)?;
        Ok(())
    }

    pub fn finish(mut self) -> Result<()> {
        self.out.flush()?;
        Ok(())
    }
}

/// Appends the decimal digits of `n`: one call per field of a million rows, so
/// without the formatting machinery.
fn push_integer(out: &mut Vec<u8>, n: i64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if n < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[at..]);
}

#[cfg(test)]
mod tests {
    use super::push_integer;

    #[test]
    fn integers_as_display_writes_them() {
        for n in [
            0,
            7,
            -7,
            10,
            195_054_560,
            i64::MAX,
            i64::MIN,
            -1_000_000_000_001,
        ] {
            let mut out = Vec::new();
            push_integer(&mut out, n);
            assert_eq!(String::from_utf8(out).unwrap(), n.to_string());
        }
    }
}
