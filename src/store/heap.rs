//! Reading heap dumps back: per dump what its content holds and the process's
//! memory at its time (`dumps`), and per dump its sites and live objects for
//! the window diff (`heap`), without the dump files.

use anyhow::{Context, Result};
use rusqlite::{named_params, OptionalExtension};

use super::select::named;
use super::{Selection, Store};
use crate::heap::diff::{HeapDump, SiteKey};
use crate::heap::ObjectTable;

/// One dump with its content's totals (None where its content was not read)
/// and the sample nearest its time.
#[derive(Debug, Clone, PartialEq)]
pub struct DumpRow {
    pub dump_id: i64,
    pub host: String,
    pub pid: i64,
    pub ts_us: i64,
    pub file_name: String,
    pub content: Option<DumpTotalsRow>,
    pub nearest: Option<NearestSample>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpTotalsRow {
    pub objects: i64,
    pub bytes: i64,
    pub garbage_objects: i64,
    pub garbage_bytes: i64,
    pub traced_objects: i64,
    pub untraced_objects: i64,
    pub max_generation: Option<i64>,
    pub tracer_objects: i64,
    pub tracer_bytes: i64,
    pub lines: i64,
    pub bad_lines: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NearestSample {
    pub ts_us: i64,
    pub rss_bytes: Option<i64>,
    pub pss_bytes: Option<i64>,
    pub worker: String,
}

impl Store {
    /// The selected dumps, oldest first per host and pid; a worker regex keeps
    /// the dumps whose nearest sample's process matches it.
    pub fn heap_dumps(&self, sel: &Selection) -> Result<Vec<DumpRow>> {
        let mut stmt = self.conn.prepare_cached(named("heap_dumps"))?;
        let params = sel.params();
        let bound = params.bind(&stmt);
        let mut rows = stmt.query(bound.as_slice())?;
        let mut dumps = Vec::new();
        while let Some(r) = rows.next()? {
            let objects: Option<i64> = r.get("objects")?;
            let content = match objects {
                Some(objects) => Some(DumpTotalsRow {
                    objects,
                    bytes: r.get("bytes")?,
                    garbage_objects: r.get("garbage_objects")?,
                    garbage_bytes: r.get("garbage_bytes")?,
                    traced_objects: r.get("traced_objects")?,
                    untraced_objects: r.get("untraced_objects")?,
                    max_generation: r.get("max_generation")?,
                    tracer_objects: r.get("tracer_objects")?,
                    tracer_bytes: r.get("tracer_bytes")?,
                    lines: r.get("lines")?,
                    bad_lines: r.get("bad_lines")?,
                }),
                None => None,
            };
            dumps.push(DumpRow {
                dump_id: r.get("dump_id")?,
                host: r.get("host")?,
                pid: r.get("pid")?,
                ts_us: r.get("ts_us")?,
                file_name: r.get("file_name")?,
                content,
                nearest: None,
            });
        }
        drop(rows);
        let mut near = self.conn.prepare_cached(named("heap_nearest_sample"))?;
        for d in &mut dumps {
            d.nearest = near
                .query_row(
                    named_params! {":host": d.host, ":pid": d.pid, ":ts_us": d.ts_us},
                    |r| {
                        Ok(NearestSample {
                            ts_us: r.get(0)?,
                            rss_bytes: r.get(1)?,
                            pss_bytes: r.get(2)?,
                            worker: r.get(3)?,
                        })
                    },
                )
                .optional()?;
        }
        if let Some(worker) = &sel.worker {
            dumps.retain(|d| {
                d.nearest.as_ref().is_some_and(|n| {
                    worker.is_match(&n.worker) || worker.is_match(&format!("{}::Runner", n.worker))
                })
            });
        }
        Ok(dumps)
    }

    /// One dump's sites and live objects, as the diff reads them.
    pub fn heap_dump_objects(&self, row: &DumpRow) -> Result<Option<HeapDump>> {
        let Some(content) = &row.content else {
            return Ok(None);
        };
        let mut stmt = self.conn.prepare_cached(named("heap_sites"))?;
        let mut sites = Vec::new();
        let mut rows = stmt.query(named_params! {":dump_id": row.dump_id})?;
        while let Some(r) = rows.next()? {
            sites.push(SiteKey {
                kind: r.get(1)?,
                class: r.get(2)?,
                file: r.get(3)?,
                line: r.get(4)?,
                gem: r.get(5)?,
            });
        }
        drop(rows);
        let (blob, roots): (Vec<u8>, String) = self
            .conn
            .prepare_cached(named("heap_table"))?
            .query_row(named_params! {":dump_id": row.dump_id}, |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        let table = ObjectTable::decode(&blob)
            .with_context(|| format!("the stored object table of {} is damaged", row.file_name))?;
        Ok(Some(HeapDump {
            ts_us: row.ts_us,
            objects: content.objects as u64,
            bytes: content.bytes as u64,
            untraced_objects: content.untraced_objects as u64,
            roots: roots.split(',').map(str::to_string).collect(),
            sites,
            table,
            rss_bytes: row.nearest.as_ref().and_then(|n| n.rss_bytes),
        }))
    }

    /// Queue messages a process delivered after `from_us` up to `to_us`, from
    /// its samples; None when it has no samples there.
    pub fn heap_messages(
        &self,
        host: &str,
        pid: i64,
        from_us: i64,
        to_us: i64,
    ) -> Result<Option<i64>> {
        let (samples, messages): (i64, i64) = self
            .conn
            .prepare_cached(named("heap_messages"))?
            .query_row(
                named_params! {":host": host, ":pid": pid, ":from_us": from_us, ":to_us": to_us},
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
        Ok((samples > 0).then_some(messages))
    }
}
