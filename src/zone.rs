//! How a record's UTC time is decided, all in this file.
//!
//! A line's time is either UTC already (`LogTime::Utc`: the line carried its
//! zone) or the appliance's wall clock (`LogTime::Local`). For a file's local
//! times, [`decide`] makes the one decision, once the file is read whole:
//!
//! - **given**: `--tz` names a zone (IANA name, `+HH:MM`, `UTC`);
//! - **inferred** (`--tz auto`, the default): each `Last Heartbeat [.. UTC]`
//!   field of a worker status line is UTC, written seconds to a minute before
//!   the line's local time, so their difference, rounded to 15 minutes, is the
//!   appliance's offset at that line; the offset most heartbeats agree on is
//!   taken;
//! - **assumed**: a file without heartbeats is read as UTC, with a warning.
//!
//! [`ZoneDecision::utc_us`] then turns each record's time into UTC.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, Offset, TimeZone};
use chrono_tz::Tz;

use crate::parse::LogTime;

/// A zone that maps local wall-clock times to UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// A fixed offset east of UTC, in seconds.
    Fixed(i32),
    /// An IANA zone, daylight saving included.
    Named(Tz),
}

/// What `--tz` asks for on ingest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneChoice {
    /// Infer each file's offset from its `Last Heartbeat [.. UTC]` fields.
    Auto,
    Given(Zone),
}

pub const UTC: Zone = Zone::Fixed(0);

impl FromStr for Zone {
    type Err = String;

    /// `UTC`, `Z`, `+HH:MM`, `-HH:MM`, `+HHMM`, `+HH`, or an IANA name.
    fn from_str(s: &str) -> Result<Zone, String> {
        if s.eq_ignore_ascii_case("utc") || s == "Z" {
            return Ok(UTC);
        }
        if let Some(sign) = s
            .strip_prefix('+')
            .map(|r| (1, r))
            .or_else(|| s.strip_prefix('-').map(|r| (-1, r)))
        {
            let (sign, rest) = sign;
            let digits: String = rest.chars().filter(|c| *c != ':').collect();
            let ok = digits.len() == 2 || digits.len() == 4;
            if ok && digits.bytes().all(|b| b.is_ascii_digit()) {
                let hours: i32 = digits[..2].parse().unwrap_or(99);
                let minutes: i32 = if digits.len() == 4 {
                    digits[2..].parse().unwrap_or(99)
                } else {
                    0
                };
                if hours <= 14
                    && minutes < 60
                    && (rest.len() == digits.len() || rest.find(':') == Some(2))
                {
                    return Ok(Zone::Fixed(sign * (hours * 3600 + minutes * 60)));
                }
            }
            return Err(format!(
                "invalid UTC offset '{s}' (expected +HH:MM or -HH:MM)"
            ));
        }
        s.parse::<Tz>()
            .map(Zone::Named)
            .map_err(|_| format!("unknown time zone '{s}' (expected auto, UTC, +HH:MM or an IANA name such as America/New_York)"))
    }
}

impl FromStr for ZoneChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<ZoneChoice, String> {
        if s.eq_ignore_ascii_case("auto") {
            Ok(ZoneChoice::Auto)
        } else {
            s.parse().map(ZoneChoice::Given)
        }
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Zone::Fixed(0) => f.write_str("UTC"),
            Zone::Fixed(secs) => {
                let sign = if secs < 0 { '-' } else { '+' };
                let abs = secs.abs();
                write!(f, "{sign}{:02}:{:02}", abs / 3600, abs % 3600 / 60)
            }
            Zone::Named(tz) => f.write_str(tz.name()),
        }
    }
}

fn naive(us: i64) -> NaiveDateTime {
    DateTime::from_timestamp_micros(us)
        .unwrap_or_default()
        .naive_utc()
}

impl Zone {
    /// UTC µs of a local wall-clock time. In a repeated hour (clocks going back) the
    /// first occurrence is taken; a time in a skipped hour is read with the offset
    /// in force before the jump.
    pub fn local_to_utc_us(&self, local_us: i64) -> i64 {
        match *self {
            Zone::Fixed(secs) => local_us - secs as i64 * 1_000_000,
            Zone::Named(tz) => {
                let local = naive(local_us);
                match tz.from_local_datetime(&local).earliest() {
                    Some(t) => t.timestamp_micros(),
                    None => {
                        let before =
                            tz.offset_from_utc_datetime(&(local - chrono::Duration::hours(3)));
                        local_us - before.fix().local_minus_utc() as i64 * 1_000_000
                    }
                }
            }
        }
    }

    /// Local wall-clock µs ("as if UTC") of a UTC time.
    pub fn utc_to_local_us(&self, utc_us: i64) -> i64 {
        match *self {
            Zone::Fixed(secs) => utc_us + secs as i64 * 1_000_000,
            Zone::Named(tz) => {
                let offset = tz
                    .offset_from_utc_datetime(&naive(utc_us))
                    .fix()
                    .local_minus_utc();
                utc_us + offset as i64 * 1_000_000
            }
        }
    }
}

impl Zone {
    /// The UTC instants in `from_us..=to_us` at which the zone's offset changes
    /// (daylight saving), each the first µs of the new offset. Offsets are
    /// checked hourly, so changes less than an hour apart would merge.
    pub fn offset_changes(&self, from_us: i64, to_us: i64) -> Vec<i64> {
        const HOUR: i64 = 3_600_000_000;
        let offset = |t: i64| self.utc_to_local_us(t) - t;
        let mut changes = Vec::new();
        if matches!(self, Zone::Fixed(_)) {
            return changes;
        }
        let mut t = from_us;
        while t < to_us {
            let next = (t + HOUR).min(to_us);
            if offset(next) != offset(t) {
                // The first instant of the new offset, to the µs.
                let (mut lo, mut hi) = (t, next);
                while hi - lo > 1 {
                    let mid = lo + (hi - lo) / 2;
                    if offset(mid) == offset(t) {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                changes.push(hi);
            }
            t = next;
        }
        changes
    }

    /// ISO 8601 with microseconds in this zone: `...Z` for UTC, else with its offset
    /// at that instant (`2017-08-11T14:37:12.402118-04:00`).
    pub fn format_iso(&self, utc_us: i64) -> String {
        let local_us = self.utc_to_local_us(utc_us);
        let text = naive(local_us).format("%Y-%m-%dT%H:%M:%S%.6f").to_string();
        let offset_secs = ((local_us - utc_us) / 1_000_000) as i32;
        match Zone::Fixed(offset_secs) {
            UTC => format!("{text}Z"),
            fixed => format!("{text}{fixed}"),
        }
    }

    /// Local wall-clock time of a UTC time, formatted with a chrono pattern.
    pub fn format_local(&self, utc_us: i64, pattern: &str) -> String {
        naive(self.utc_to_local_us(utc_us))
            .format(pattern)
            .to_string()
    }
}

/// The heartbeats of one file: the UTC offset each one reveals, where it was seen.
#[derive(Debug, Default, Clone)]
pub struct Heartbeats {
    seen: Vec<Heartbeat>,
}

/// One heartbeat: the line it was read on and the offset it reveals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat {
    pub line_no: u64,
    pub offset_secs: i32,
}

const QUARTER_HOUR_US: i64 = 15 * 60 * 1_000_000;

impl Heartbeats {
    /// A heartbeat is written a few seconds to a minute before the line that
    /// reports it, so local line time minus heartbeat UTC is the offset plus a
    /// lag; offsets beyond ±14 h are no offset at all (a stale heartbeat).
    pub fn add(&mut self, line_no: u64, line_local_us: i64, heartbeat_utc_us: i64) {
        let delta = line_local_us - heartbeat_utc_us;
        let quarters = (delta as f64 / QUARTER_HOUR_US as f64).round() as i64;
        if quarters.abs() <= 14 * 4 {
            self.seen.push(Heartbeat {
                line_no,
                offset_secs: (quarters * 15 * 60) as i32,
            });
        }
    }

    pub fn total(&self) -> u64 {
        self.seen.len() as u64
    }

    /// The offset most heartbeats agree on, with its count; ties go to the
    /// offset closest to UTC.
    pub fn winner(&self) -> Option<(Zone, u64)> {
        let mut votes: HashMap<i32, u64> = HashMap::new();
        for beat in &self.seen {
            *votes.entry(beat.offset_secs).or_default() += 1;
        }
        votes
            .into_iter()
            .max_by_key(|(offset, n)| (*n, std::cmp::Reverse(offset.abs()), *offset))
            .map(|(offset, n)| (Zone::Fixed(offset), n))
    }
}

/// How one file's local times become UTC, and how that was decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneDecision {
    /// The zone local times are read in.
    pub zone: Zone,
    /// Inferred from the file's heartbeats (not given, not assumed).
    pub inferred: bool,
    /// What the per-file report says, e.g. `-04:00 (inferred from 48 of 48 heartbeats)`.
    pub note: String,
    /// What the user should know (an assumption made).
    pub warnings: Vec<String>,
}

/// Decides the zone of a file's local times from `--tz` and its heartbeats.
pub fn decide(choice: ZoneChoice, beats: &Heartbeats) -> ZoneDecision {
    match choice {
        ZoneChoice::Given(zone) => ZoneDecision {
            zone,
            inferred: false,
            note: format!("{zone} (given)"),
            warnings: Vec::new(),
        },
        ZoneChoice::Auto => match beats.winner() {
            Some((zone, votes)) => ZoneDecision {
                zone,
                inferred: true,
                note: format!(
                    "{zone} (inferred from {votes} of {} heartbeats)",
                    beats.total()
                ),
                warnings: Vec::new(),
            },
            None => ZoneDecision {
                zone: UTC,
                inferred: false,
                note: "UTC (no heartbeats: assumed)".to_string(),
                warnings: vec![
                    "no Last Heartbeat to infer the zone from; times taken as UTC (set --tz to change)"
                        .to_string(),
                ],
            },
        },
    }
}

impl ZoneDecision {
    /// The UTC µs of a record's time, read on line `line_no`.
    pub fn utc_us(&self, time: LogTime, _line_no: u64) -> i64 {
        match time {
            LogTime::Utc(us) => us,
            LogTime::Local(us) => self.zone.local_to_utc_us(us),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::time::{format_utc_us, parse_datetime};

    fn us(s: &str) -> i64 {
        parse_datetime(s.as_bytes()).unwrap().0
    }

    #[test]
    fn parses_and_names_zones() {
        assert_eq!("UTC".parse::<Zone>().unwrap(), UTC);
        assert_eq!("+05:30".parse::<Zone>().unwrap(), Zone::Fixed(19800));
        assert_eq!("-0400".parse::<Zone>().unwrap(), Zone::Fixed(-14400));
        assert_eq!("-04".parse::<Zone>().unwrap(), Zone::Fixed(-14400));
        assert_eq!("+05:30".parse::<Zone>().unwrap().to_string(), "+05:30");
        assert_eq!("-04:00".parse::<Zone>().unwrap().to_string(), "-04:00");
        assert_eq!(
            "America/New_York".parse::<Zone>().unwrap().to_string(),
            "America/New_York"
        );
        assert_eq!("auto".parse::<ZoneChoice>().unwrap(), ZoneChoice::Auto);
        for bad in ["+25:00", "+5:3", "-04:0", "Mars/Olympus", "+ab:cd", ""] {
            assert!(bad.parse::<Zone>().is_err(), "{bad}");
        }
    }

    #[test]
    fn converts_with_daylight_saving() {
        let ny: Zone = "America/New_York".parse().unwrap();
        let summer = ny.local_to_utc_us(us("2017-08-11T19:06:20.000000"));
        assert_eq!(format_utc_us(summer), "2017-08-11T23:06:20.000000Z");
        let winter = ny.local_to_utc_us(us("2017-03-01T19:06:20.000000"));
        assert_eq!(format_utc_us(winter), "2017-03-02T00:06:20.000000Z");
        assert_eq!(ny.utc_to_local_us(summer), us("2017-08-11T19:06:20.000000"));
        // 02:30 does not exist on 2017-03-12 in New York: read with the EST offset.
        let gap = ny.local_to_utc_us(us("2017-03-12T02:30:00.000000"));
        assert_eq!(format_utc_us(gap), "2017-03-12T07:30:00.000000Z");
        // 01:30 happens twice on 2017-11-05: the first (EDT) is taken.
        let twice = ny.local_to_utc_us(us("2017-11-05T01:30:00.000000"));
        assert_eq!(format_utc_us(twice), "2017-11-05T05:30:00.000000Z");
        let fixed = Zone::Fixed(-14400);
        assert_eq!(fixed.local_to_utc_us(0), 14_400_000_000);
        assert_eq!(fixed.utc_to_local_us(14_400_000_000), 0);
    }

    #[test]
    fn infers_offsets_from_heartbeats() {
        let mut votes = Heartbeats::default();
        assert_eq!(votes.winner(), None);
        // EDT: line 19:06:20 local, heartbeat 23:06:19 UTC.
        votes.add(1, us("2017-08-11T19:06:20.0"), us("2017-08-11T23:06:19.0"));
        votes.add(2, us("2017-08-11T19:11:20.0"), us("2017-08-11T23:10:31.0"));
        // A hung worker's stale heartbeat votes elsewhere and loses.
        votes.add(3, us("2017-08-11T19:16:20.0"), us("2017-08-11T22:46:00.0"));
        assert_eq!(votes.winner(), Some((Zone::Fixed(-4 * 3600), 2)));
        assert_eq!(votes.total(), 3);
        let mut india = Heartbeats::default();
        india.add(1, us("2017-08-11T10:00:40.0"), us("2017-08-11T04:30:00.0"));
        assert_eq!(india.winner().unwrap().0.to_string(), "+05:30");
    }

    #[test]
    fn finds_daylight_saving_changes() {
        let ny: Zone = "America/New_York".parse().unwrap();
        let from = us("2017-03-01T00:00:00.0");
        let to = us("2017-11-30T00:00:00.0");
        let changes: Vec<String> = ny
            .offset_changes(from, to)
            .into_iter()
            .map(format_utc_us)
            .collect();
        assert_eq!(
            changes,
            ["2017-03-12T07:00:00.000000Z", "2017-11-05T06:00:00.000000Z"]
        );
        assert!(ny
            .offset_changes(from, us("2017-03-12T06:59:59.0"))
            .is_empty());
        assert!(Zone::Fixed(3600).offset_changes(from, to).is_empty());
    }
}
