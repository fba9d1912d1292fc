//! Result tables as aligned text for people, CSV or JSON for pipes.

use std::borrow::Cow;
use std::io::Write;

use anyhow::Result;
use clap::ValueEnum;

use crate::store::{Table, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TableFormat {
    Table,
    Csv,
    Json,
}

fn cell(v: &Value) -> Cow<'_, str> {
    match v {
        Value::Null => Cow::Borrowed(""),
        Value::Integer(i) => Cow::Owned(i.to_string()),
        Value::Real(f) => Cow::Owned(f.to_string()),
        Value::Text(s) => Cow::Borrowed(s),
    }
}

/// Writes `table` to standard output.
pub fn print_table(table: &Table, format: TableFormat) -> Result<()> {
    // Buffered: stdout alone writes every line as it ends.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    write_table(&mut out, table, format)?;
    out.flush()?;
    Ok(())
}

pub fn write_table(out: &mut impl Write, table: &Table, format: TableFormat) -> Result<()> {
    match format {
        TableFormat::Table => write_aligned(out, table),
        TableFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(&table.columns)?;
            for row in &table.rows {
                for v in row {
                    w.write_field(cell(v).as_bytes())?;
                }
                w.write_record(None::<&[u8]>)?;
            }
            w.flush()?;
            Ok(())
        }
        TableFormat::Json => {
            let rows: Vec<serde_json::Value> = table
                .rows
                .iter()
                .map(|row| {
                    let object = table.columns.iter().zip(row).map(|(c, v)| {
                        let json = match v {
                            Value::Null => serde_json::Value::Null,
                            Value::Integer(i) => (*i).into(),
                            Value::Real(f) => serde_json::Number::from_f64(*f)
                                .map_or(serde_json::Value::Null, Into::into),
                            Value::Text(s) => s.clone().into(),
                        };
                        (c.clone(), json)
                    });
                    serde_json::Value::Object(object.collect())
                })
                .collect();
            serde_json::to_writer_pretty(&mut *out, &rows)?;
            writeln!(out)?;
            Ok(())
        }
    }
}

/// The characters of a cell (its bytes when it is ASCII, as most are).
fn shown_width(text: &str) -> usize {
    if text.is_ascii() {
        text.len()
    } else {
        text.chars().count()
    }
}

/// Columns padded to their widest cell; numbers right-aligned.
fn write_aligned(out: &mut impl Write, table: &Table) -> Result<()> {
    // Text cells are borrowed, numbers formatted once.
    let cells: Vec<Vec<Cow<'_, str>>> = table
        .rows
        .iter()
        .map(|r| r.iter().map(cell).collect())
        .collect();
    let mut widths: Vec<usize> = table.columns.iter().map(|c| shown_width(c)).collect();
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(shown_width(c));
        }
    }
    let numeric: Vec<bool> = (0..table.columns.len())
        .map(|i| {
            table
                .rows
                .iter()
                .all(|r| matches!(r[i], Value::Integer(_) | Value::Real(_) | Value::Null))
                && !table.rows.is_empty()
        })
        .collect();
    // One line's text, built in one buffer for every line.
    let mut text = String::new();
    let mut line = |out: &mut dyn Write, row: &[Cow<'_, str>]| -> std::io::Result<()> {
        text.clear();
        for (i, c) in row.iter().enumerate() {
            if i > 0 {
                text.push_str("  ");
            }
            let pad = widths[i] - shown_width(c);
            if numeric[i] {
                text.extend(std::iter::repeat_n(' ', pad));
                text.push_str(c);
            } else {
                text.push_str(c);
                if i + 1 < row.len() {
                    text.extend(std::iter::repeat_n(' ', pad));
                }
            }
        }
        writeln!(out, "{}", text.trim_end())
    };
    let header: Vec<Cow<'_, str>> = table
        .columns
        .iter()
        .map(|c| Cow::Borrowed(c.as_str()))
        .collect();
    line(out, &header)?;
    for row in &cells {
        line(out, row)?;
    }
    Ok(())
}
