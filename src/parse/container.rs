//! Container JSON: what pods write to STDOUT (`oc logs`, `kubectl logs`), one
//! object per line from ManageIQ's container logger:
//! `{"@timestamp":"2023-08-31T10:12:13.456789","hostname":"generic-7f9c..","pid":7,"tid":"94d4","service":"evm","level":"info","message":"MIQ(...) ..."}`
//! (nil fields dropped; 2020 versions have no `service`, a trailing space inside
//! `@timestamp` and `<`/`>` escaped). `hostname` is the pod's name: a process
//! is (pod, pid), pids being small and the same in every pod. Lines that are
//! not such objects (a container's own start-up output) are not records.

use std::borrow::Cow;

use serde::Deserialize;

use super::journal::Framed;
use super::message::LineMeta;
use super::time::parse_datetime;
use super::LogTime;

#[derive(Deserialize)]
struct Entry<'a> {
    #[serde(rename = "@timestamp", borrow)]
    timestamp: Cow<'a, str>,
    #[serde(borrow)]
    hostname: Option<Cow<'a, str>>,
    pid: i64,
    #[serde(borrow)]
    service: Option<Cow<'a, str>>,
    #[serde(borrow)]
    message: Cow<'a, str>,
}

/// Whether a line is one of the container logger's objects.
pub fn is_record(line: &[u8]) -> bool {
    line.starts_with(b"{\"@timestamp\":")
}

/// One line of a pod's output; `Ok(None)` for lines that are not the logger's.
pub fn frame(line: &[u8], line_no: u64) -> Result<Option<Framed>, &'static str> {
    if !is_record(line) {
        return Ok(None);
    }
    let entry: Entry<'_> =
        serde_json::from_slice(line).map_err(|_| "malformed container JSON record")?;
    let stamp = entry.timestamp.trim_end();
    let (us, used) = parse_datetime(stamp.as_bytes()).ok_or("malformed @timestamp")?;
    if used != stamp.len() {
        return Err("malformed @timestamp");
    }
    // The pod's clock; miq-memlog's own lines (service miq_memlog) are UTC.
    let time = if entry.service.as_deref() == Some("miq_memlog") {
        LogTime::Utc(us)
    } else {
        LogTime::Local(us)
    };
    if entry.pid < 0 {
        return Err("negative value");
    }
    Ok(Some(Framed {
        meta: LineMeta {
            line_no,
            time,
            pid: entry.pid,
        },
        host: entry.hostname.map(Cow::into_owned),
        message: super::journal::first_line(entry.message.as_bytes()).to_vec(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_and_new_shapes() {
        let new = br#"{"@timestamp":"2023-08-31T10:12:13.456789","hostname":"generic-7f9c6d-abcde","pid":7,"tid":"94d4","service":"evm","level":"info","message":"MIQ(MiqGenericWorker::Runner#do_work) Memory Info XXXX (nil) => {Live: 1, Old: 2, RSS: 3, PSS: 4}"}"#;
        let f = frame(new, 4).unwrap().unwrap();
        assert_eq!(f.host.as_deref(), Some("generic-7f9c6d-abcde"));
        assert_eq!((f.meta.pid, f.meta.line_no), (7, 4));
        assert_eq!(
            f.meta.time,
            LogTime::Local(parse_datetime(b"2023-08-31T10:12:13.456789").unwrap().0)
        );
        assert!(f
            .message
            .starts_with(b"MIQ(MiqGenericWorker::Runner#do_work) Memory Info"));
        let old = br#"{"@timestamp":"2020-06-01T10:12:13.456789 ","hostname":"generic-1","pid":7,"tid":"2ac4","level":"info","message":"MIQ(X#y) (#\u003cMiqQueue id: 1\u003e)"}"#;
        let f = frame(old, 1).unwrap().unwrap();
        assert_eq!(f.message, b"MIQ(X#y) (#<MiqQueue id: 1>)");
        assert!(frame(b"** Booting MiqGenericWorker with PID: 7", 1)
            .unwrap()
            .is_none());
        assert!(frame(b"{\"@timestamp\":\"x\",\"pid\":1,\"message\":\"\"}", 1).is_err());
    }
}
