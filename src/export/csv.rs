//! `export --format csv`: one row per sample, the contract users and tests rely on.

use std::io::Write;

use anyhow::Result;
use rusqlite::types::ValueRef;
use rusqlite::Row;

use crate::parse::time::push_utc_us;

pub const SAMPLE_HEADER: [&str; 14] = [
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
];

/// Streams sample rows (in the column order of `queries/export_samples.sql`) as CSV.
pub struct SampleCsv<W: Write> {
    out: ::csv::Writer<W>,
    fields: Vec<Vec<u8>>,
}

impl<W: Write> SampleCsv<W> {
    pub fn new(out: W) -> Result<SampleCsv<W>> {
        let mut out = ::csv::Writer::from_writer(out);
        out.write_record(SAMPLE_HEADER)?;
        Ok(SampleCsv {
            out,
            fields: vec![Vec::new(); SAMPLE_HEADER.len()],
        })
    }

    pub fn write_row(&mut self, row: &Row<'_>) -> Result<()> {
        for (i, field) in self.fields.iter_mut().enumerate() {
            field.clear();
            match row.get_ref(i)? {
                ValueRef::Null => {}
                ValueRef::Integer(n) if i == 0 => push_utc_us(field, n),
                ValueRef::Integer(n) => write!(field, "{n}")?,
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
