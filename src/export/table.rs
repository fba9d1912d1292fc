//! Result tables as aligned text for people, CSV or JSON for pipes.

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

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Integer(i) => i.to_string(),
        Value::Real(f) => f.to_string(),
        Value::Text(s) => s.clone(),
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
                w.write_record(row.iter().map(cell))?;
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

/// Columns padded to their widest cell; numbers right-aligned.
fn write_aligned(out: &mut impl Write, table: &Table) -> Result<()> {
    let cells: Vec<Vec<String>> = table
        .rows
        .iter()
        .map(|r| r.iter().map(cell).collect())
        .collect();
    let mut widths: Vec<usize> = table.columns.iter().map(|c| c.chars().count()).collect();
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
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
    let line = |out: &mut dyn Write, row: &[String]| -> std::io::Result<()> {
        let mut text = String::new();
        for (i, c) in row.iter().enumerate() {
            if i > 0 {
                text.push_str("  ");
            }
            let pad = widths[i] - c.chars().count();
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
    line(out, &table.columns)?;
    for row in &cells {
        line(out, row)?;
    }
    Ok(())
}
