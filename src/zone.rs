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

/// One heartbeat: the line it was read on, that line's local time, and the
/// offset it reveals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat {
    pub line_no: u64,
    pub local_us: i64,
    pub offset_secs: i32,
}

const QUARTER_HOUR_US: i64 = 15 * 60 * 1_000_000;
const US: i64 = 1_000_000;

/// Heartbeats of one offset in a row fewer than this are a stale worker's,
/// not a change of the appliance's clock (unless they end or start the file
/// with a clean step).
pub const MIN_STRETCH_HEARTBEATS: usize = 3;
/// How far from the heartbeats around a clock change a line's UTC time may lie
/// (lines of several processes interleave; a heartbeat lags its line).
const SWITCH_SLACK_US: i64 = 5 * 60 * US;

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
                local_us: line_local_us,
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

    /// The runs of heartbeats agreeing on one offset, in line order, with the
    /// stale ones (short runs inside another offset's stretch) taken out; the
    /// lines of those left out.
    fn stretches(&self) -> (Vec<Run>, Vec<u64>) {
        let mut runs: Vec<Run> = Vec::new();
        for beat in &self.seen {
            match runs.last_mut() {
                Some(run) if run.offset_secs == beat.offset_secs => {
                    run.last = *beat;
                    run.count += 1;
                }
                _ => runs.push(Run {
                    offset_secs: beat.offset_secs,
                    first: *beat,
                    last: *beat,
                    count: 1,
                    lines: Vec::new(),
                }),
            }
            runs.last_mut().expect("a run").lines.push(beat.line_no);
        }
        let mut stale = Vec::new();
        loop {
            let n = runs.len();
            let short = (0..n).find(|&i| {
                let run = &runs[i];
                let at_edge = i == 0 || i + 1 == n;
                let neighbour = if i == 0 { runs.get(1) } else { runs.get(i - 1) };
                let clean_edge = at_edge
                    && neighbour.is_some_and(|o| clean_step(o.offset_secs, run.offset_secs));
                n > 1 && run.count < MIN_STRETCH_HEARTBEATS && !clean_edge
            });
            let Some(i) = short else { break };
            stale.extend(runs.remove(i).lines);
            // Runs of one offset either side of the stale one are one stretch.
            if i > 0 && i < runs.len() && runs[i - 1].offset_secs == runs[i].offset_secs {
                let next = runs.remove(i);
                let run = &mut runs[i - 1];
                run.last = next.last;
                run.count += next.count;
                run.lines.extend(next.lines);
            }
        }
        stale.sort_unstable();
        (runs, stale)
    }
}

/// A stretch of lines whose heartbeats agree on one offset.
#[derive(Debug, Clone)]
struct Run {
    offset_secs: i32,
    first: Heartbeat,
    last: Heartbeat,
    count: usize,
    lines: Vec<u64>,
}

/// A change of offset the clock makes: daylight saving (an hour, half an hour
/// on Lord Howe Island).
fn clean_step(from_secs: i32, to_secs: i32) -> bool {
    matches!((from_secs - to_secs).abs(), 1800 | 3600)
}

/// One stretch of a file's lines read with one offset, and how to place the
/// lines between its last heartbeat and the next stretch's first one.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stretch {
    offset_secs: i32,
    /// The heartbeats bounding the change to the next stretch: line and UTC
    /// time of the last one of this stretch and of the first one of the next.
    until: Option<Change>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Change {
    last_line: u64,
    last_utc_us: i64,
    next_line: u64,
    next_utc_us: i64,
    next_offset_secs: i32,
}

/// How one file's local times become UTC, and how that was decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneDecision {
    /// The zone local times are read in (the first stretch's, when the offset
    /// changes in the file).
    pub zone: Zone,
    /// Inferred from the file's heartbeats (not given, not assumed).
    pub inferred: bool,
    /// What the per-file report says, e.g. `-04:00 (inferred from 48 of 48 heartbeats)`.
    pub note: String,
    /// What the user should know (an assumption made, heartbeats that disagree).
    pub warnings: Vec<String>,
    /// Offsets per stretch of lines when the heartbeats show the clock change.
    stretches: Vec<Stretch>,
    /// Where reading is: the stretch, and whether the change after it was
    /// already passed (lines between two stretches' heartbeats are placed by
    /// their times, in line order).
    at: usize,
    switched_at: Vec<(u64, i64)>,
}

/// What kind of clock a file's local times come from, when nothing says its zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// An appliance: its zone is anyone's guess without heartbeats (UTC, warned).
    Appliance,
    /// A container: UTC unless its image set a zone.
    Container,
    /// None: every time of the file carries its zone (journald's, the
    /// enrichment's UTC lines), so no zone is decided.
    Zoned,
}

fn fixed(zone: Zone, inferred: bool, note: String, warnings: Vec<String>) -> ZoneDecision {
    ZoneDecision {
        zone,
        inferred,
        note,
        warnings,
        stretches: Vec::new(),
        at: 0,
        switched_at: Vec::new(),
    }
}

fn lines_text(lines: &[u64]) -> String {
    const SHOWN: usize = 8;
    let mut text: Vec<String> = lines.iter().take(SHOWN).map(u64::to_string).collect();
    if lines.len() > SHOWN {
        text.push(format!("and {} more", lines.len() - SHOWN));
    }
    text.join(", ")
}

/// Decides the zone of a file's local times from `--tz` and its heartbeats.
///
/// With `--tz auto`, the heartbeats' offsets are taken per stretch of lines:
/// where they change by a clean step (daylight saving) and stay changed, the
/// file is read with one offset before and the other after; stale heartbeats
/// (a few in a row inside another offset's stretch) are left out with a
/// warning; offsets that disagree in any other way are a warning naming the
/// lines, and the offset most heartbeats agree on is taken for the whole file.
pub fn decide(choice: ZoneChoice, beats: &Heartbeats, clock: Clock) -> ZoneDecision {
    if clock == Clock::Zoned {
        return fixed(
            UTC,
            false,
            "UTC (no local times in the file)".to_string(),
            Vec::new(),
        );
    }
    let zone = match choice {
        ZoneChoice::Given(zone) => {
            return fixed(zone, false, format!("{zone} (given)"), Vec::new())
        }
        ZoneChoice::Auto => beats.winner(),
    };
    let Some((winner, votes)) = zone else {
        return match clock {
            Clock::Appliance => fixed(
                UTC,
                false,
                "UTC (no heartbeats: assumed)".to_string(),
                vec!["no Last Heartbeat to infer the zone from; times taken as UTC (set --tz to change)".to_string()],
            ),
            Clock::Container | Clock::Zoned => {
                fixed(UTC, false, "UTC (container clock: assumed)".to_string(), Vec::new())
            }
        };
    };
    let total = beats.total();
    let (runs, stale) = beats.stretches();
    let mut warnings = Vec::new();
    if !stale.is_empty() {
        warnings.push(format!(
            "heartbeats at lines {} disagree with the ones around them (stale workers?): left out",
            lines_text(&stale)
        ));
    }
    let steps_clean = runs
        .windows(2)
        .all(|w| clean_step(w[0].offset_secs, w[1].offset_secs));
    if runs.len() < 2 || !steps_clean {
        if runs.len() >= 2 {
            let lines: Vec<u64> = runs
                .windows(2)
                .flat_map(|w| [w[0].last.line_no, w[1].first.line_no])
                .collect();
            warnings.push(format!(
                "heartbeats disagree on the offset in a way no clock change explains (lines {}): {winner}, the offset most agree on, taken for the whole file",
                lines_text(&lines)
            ));
        }
        let note = format!("{winner} (inferred from {votes} of {total} heartbeats)");
        return fixed(winner, true, note, warnings);
    }
    let stretches: Vec<Stretch> = runs
        .iter()
        .enumerate()
        .map(|(i, run)| Stretch {
            offset_secs: run.offset_secs,
            until: runs.get(i + 1).map(|next| Change {
                last_line: run.last.line_no,
                last_utc_us: run.last.local_us - run.offset_secs as i64 * US,
                next_line: next.first.line_no,
                next_utc_us: next.first.local_us - next.offset_secs as i64 * US,
                next_offset_secs: next.offset_secs,
            }),
        })
        .collect();
    let offsets: Vec<String> = runs
        .iter()
        .map(|r| Zone::Fixed(r.offset_secs).to_string())
        .collect();
    let kept: usize = runs.iter().map(|r| r.count).sum();
    ZoneDecision {
        zone: Zone::Fixed(runs[0].offset_secs),
        inferred: true,
        note: format!(
            "{} (inferred from {kept} of {total} heartbeats)",
            offsets.join(" then ")
        ),
        warnings,
        stretches,
        at: 0,
        switched_at: Vec::new(),
    }
}

impl ZoneDecision {
    /// The UTC µs of a record's time, read on line `line_no`. Records are
    /// handed over in line order: a line between the last heartbeat of one
    /// offset and the first of the next is placed by which offset puts it
    /// between those heartbeats' times, and the first that the new offset
    /// places there switches the file to it (the fall-back hour, whose wall
    /// clock repeats, is told apart by line order).
    pub fn utc_us(&mut self, time: LogTime, line_no: u64) -> i64 {
        let local = match time {
            LogTime::Utc(us) => return us,
            LogTime::Local(us) => us,
        };
        if self.stretches.is_empty() {
            return self.zone.local_to_utc_us(local);
        }
        while let Some(change) = self.stretches[self.at].until {
            let new = local - change.next_offset_secs as i64 * US;
            let within = |utc: i64| {
                (change.last_utc_us - SWITCH_SLACK_US..=change.next_utc_us + SWITCH_SLACK_US)
                    .contains(&utc)
            };
            let old = local - self.stretches[self.at].offset_secs as i64 * US;
            let passed = line_no >= change.next_line
                || (line_no > change.last_line && within(new) && !within(old));
            if !passed {
                break;
            }
            self.at += 1;
            self.switched_at.push((line_no, new));
        }
        local - self.stretches[self.at].offset_secs as i64 * US
    }

    /// The zone as stored per file: `-04:00`, or `-05:00 then -04:00` when the
    /// offset changed in the file.
    pub fn stored(&self) -> String {
        if self.stretches.is_empty() {
            return self.zone.to_string();
        }
        let offsets: Vec<String> = self
            .stretches
            .iter()
            .map(|s| Zone::Fixed(s.offset_secs).to_string())
            .collect();
        offsets.join(" then ")
    }

    /// What the per-file report says, once every record was placed: the note,
    /// and where the offset changed (the first line read with each new offset,
    /// and its UTC time).
    pub fn report_note(&self) -> String {
        let mut note = self.note.clone();
        for (i, (line_no, utc_us)) in self.switched_at.iter().enumerate() {
            let offset = Zone::Fixed(self.stretches[i + 1].offset_secs);
            note.push_str(&format!(
                ", {offset} from line {line_no} ({})",
                crate::parse::time::format_utc_us(*utc_us)
            ));
        }
        note
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::time::{format_utc_us, parse_datetime};
    use crate::parse::LogTime;

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

    /// A New York log across a change: heartbeats every 5 minutes, records
    /// every minute; (line, local time, true UTC) of every record.
    fn across(change_utc: &str, before: i32, after: i32) -> (Heartbeats, Vec<(u64, i64, i64)>) {
        let change = us(change_utc);
        let mut beats = Heartbeats::default();
        let mut records = Vec::new();
        let mut line = 0;
        for minute in -180..180i64 {
            let utc = change + minute * 60 * US + 7 * US;
            let offset = if utc < change { before } else { after };
            let local = utc + offset as i64 * US;
            line += 1;
            records.push((line, local, utc));
            if minute % 5 == 0 {
                line += 1;
                beats.add(line, local + 10 * US, utc - 20 * US);
            }
        }
        (beats, records)
    }

    #[test]
    fn daylight_saving_changes_are_followed_per_stretch() {
        for (change, before, after) in [
            ("2017-03-12T07:00:00.0", -5 * 3600, -4 * 3600),
            // The fall-back hour repeats local times: told apart by line order.
            ("2017-11-05T06:00:00.0", -4 * 3600, -5 * 3600),
        ] {
            let (beats, records) = across(change, before, after);
            let mut zone = decide(ZoneChoice::Auto, &beats, Clock::Appliance);
            assert!(zone.warnings.is_empty(), "{:?}", zone.warnings);
            for &(line, local, utc) in &records {
                assert_eq!(
                    format_utc_us(zone.utc_us(LogTime::Local(local), line)),
                    format_utc_us(utc),
                    "line {line}"
                );
            }
            let (first, last) = (Zone::Fixed(before), Zone::Fixed(after));
            assert_eq!(zone.stored(), format!("{first} then {last}"));
            let first_after = records.iter().find(|r| r.2 >= us(change)).unwrap();
            assert_eq!(
                zone.report_note(),
                format!(
                    "{first} then {last} (inferred from 72 of 72 heartbeats), {last} from line {} ({})",
                    first_after.0,
                    format_utc_us(first_after.2)
                )
            );
        }
    }

    #[test]
    fn stale_heartbeats_are_left_out_and_odd_ones_warned() {
        let (mut beats, _) = across("2017-08-11T12:00:00.0", -4 * 3600, -4 * 3600);
        // A hung worker: its heartbeat 20 minutes old.
        beats.add(
            1000,
            us("2017-08-11T16:00:00.0"),
            us("2017-08-11T19:40:00.0"),
        );
        let zone = decide(ZoneChoice::Auto, &beats, Clock::Appliance);
        assert_eq!(zone.zone, Zone::Fixed(-4 * 3600));
        assert_eq!(zone.warnings, ["heartbeats at lines 1000 disagree with the ones around them (stale workers?): left out"]);
        assert_eq!(zone.note, "-04:00 (inferred from 72 of 73 heartbeats)");
        // Offsets that change by no clock step: warned, the majority taken.
        let mut odd = Heartbeats::default();
        for i in 0..10 {
            odd.add(i, us("2017-08-11T16:00:00.0"), us("2017-08-11T20:00:00.0"));
        }
        for i in 10..14 {
            odd.add(i, us("2017-08-11T16:00:00.0"), us("2017-08-11T18:15:00.0"));
        }
        let zone = decide(ZoneChoice::Auto, &odd, Clock::Appliance);
        assert_eq!(zone.zone, Zone::Fixed(-4 * 3600));
        assert_eq!(zone.warnings, ["heartbeats disagree on the offset in a way no clock change explains (lines 9, 10): -04:00, the offset most agree on, taken for the whole file"]);
        // No heartbeats: a container's clock is UTC without a warning.
        let none = Heartbeats::default();
        assert!(decide(ZoneChoice::Auto, &none, Clock::Container)
            .warnings
            .is_empty());
        assert_eq!(
            decide(ZoneChoice::Auto, &none, Clock::Appliance)
                .warnings
                .len(),
            1
        );
    }
}
